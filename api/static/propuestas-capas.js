// What the proposals page draws on the map, over the platform's vector tiles:
//   zonas        the zoning being looked at (a proposal's result, or the zoning as of a
//                date) as GeoJSON, coloured by zone family exactly as the main map does
//                (the fill colour expression and the legend come from /styles/mapa);
//   diferencias  the diff of a proposal or between two versions (zones by «cambio»,
//                added and removed parts);
//   problemas    validation problems, in red, where they are.
// The zoning of the tiles (the version in force) shows when no GeoJSON zoning does.

import { el } from "./mapa-format.js";

const EMPTY = { type: "FeatureCollection", features: [] };
const ZONES = "zonas";
const DIFF = "diferencias";
const PROBLEMS = "problemas";
const RED = "#d50000";

export const CHANGE_COLOURS = {
  creada: "#2e7d32", modificada: "#ef6c00", eliminada: "#6a1b9a",
  agregada: "#66bb6a", quitada: "#e53935",
};
const CHANGE_TITLES = {
  creada: "Zona creada", modificada: "Zona modificada", eliminada: "Zona eliminada",
  agregada: "Superficie agregada", quitada: "Superficie quitada",
};

function tileLayersOf(map, name) {
  return map.getStyle().layers.filter((l) => l.metadata?.["secplac:capa"] === name);
}

function setVisible(map, ids, visible) {
  for (const id of ids) map.setLayoutProperty(id, "visibility", visible ? "visible" : "none");
}

/**
 * Set up the page's sources and layers on a loaded map. Returns the functions the other
 * modules use to show zonings, diffs, problems and the selection.
 */
export function zoningLayers(map, config) {
  const style = map.getStyle();
  const zoningTiles = tileLayersOf(map, config.capa);
  const familyColour = zoningTiles.find((l) => l.type === "fill")?.paint["fill-color"] ?? "#bdbdbd";
  const legend = style.metadata?.["secplac:leyendas"]?.[config.capa];
  const keep = new Set([config.capa, ...config.capas_contexto]);
  for (const l of style.layers) {
    const name = l.metadata?.["secplac:capa"];
    if (name && !keep.has(name)) map.setLayoutProperty(l.id, "visibility", "none");
  }

  map.addSource(ZONES, { type: "geojson", data: EMPTY, promoteId: "codigo" });
  map.addSource(DIFF, { type: "geojson", data: EMPTY });
  map.addSource(PROBLEMS, { type: "geojson", data: EMPTY });
  map.addLayer({ id: "zonas-relleno", type: "fill", source: ZONES,
    paint: { "fill-color": familyColour, "fill-opacity": 0.55 } });
  map.addLayer({ id: "zonas-borde", type: "line", source: ZONES,
    paint: { "line-color": "#4e342e", "line-width": 1.2 } });
  map.addLayer({ id: "zonas-seleccion", type: "line", source: ZONES,
    filter: ["in", ["get", "codigo"], ["literal", []]],
    paint: { "line-color": "#0d47a1", "line-width": 4 } });
  const byChange = ["match", ["coalesce", ["get", "parte"], ["get", "cambio"]],
    ...Object.entries(CHANGE_COLOURS).flat(), "#9e9e9e"];
  map.addLayer({ id: "diferencias-zonas", type: "fill", source: DIFF,
    filter: ["has", "cambio"], paint: { "fill-color": byChange, "fill-opacity": 0.35 } });
  for (const part of ["agregada", "quitada"]) {
    map.addImage(`rayado-${part}`, hatch(CHANGE_COLOURS[part]), { pixelRatio: 2 });
  }
  map.addLayer({ id: "diferencias-partes", type: "fill", source: DIFF,
    filter: ["has", "parte"], paint: { "fill-pattern": ["concat", "rayado-", ["get", "parte"]] } });
  map.addLayer({ id: "diferencias-borde", type: "line", source: DIFF,
    filter: ["!=", ["get", "parte"], "quitada"],
    paint: { "line-color": byChange, "line-width": 2.5 } });
  map.addLayer({ id: "diferencias-quitada", type: "line", source: DIFF,
    filter: ["==", ["get", "parte"], "quitada"],
    paint: { "line-color": byChange, "line-width": 2.5, "line-dasharray": [2, 1] } });
  map.addLayer({ id: "problemas-relleno", type: "fill", source: PROBLEMS,
    filter: ["in", ["geometry-type"], ["literal", ["Polygon", "MultiPolygon"]]],
    paint: { "fill-color": RED, "fill-opacity": 0.35 } });
  map.addLayer({ id: "problemas-linea", type: "line", source: PROBLEMS,
    paint: { "line-color": RED, "line-width": 3 } });
  map.addLayer({ id: "problemas-punto", type: "circle", source: PROBLEMS,
    filter: ["==", ["geometry-type"], "Point"],
    paint: { "circle-color": RED, "circle-radius": 7, "circle-stroke-color": "#fff",
      "circle-stroke-width": 2 } });

  const zoneLayers = ["zonas-relleno", "zonas-borde", "zonas-seleccion"];
  const diffLayers = ["diferencias-zonas", "diferencias-partes", "diferencias-borde",
    "diferencias-quitada"];
  let zones = EMPTY;

  return {
    /** Show a zoning (FeatureCollection) instead of the tiles; null shows the tiles. */
    showZones(collection) {
      zones = collection ?? EMPTY;
      map.getSource(ZONES).setData(zones);
      setVisible(map, zoningTiles.map((l) => l.id), !collection);
      setVisible(map, zoneLayers, !!collection);
    },
    zones: () => zones,
    zone: (code) => zones.features.find((f) => f.properties.codigo === code) ?? null,
    /** The code of the zone drawn at a screen point, or null. */
    zoneAt(point) {
      const hit = map.queryRenderedFeatures(point, { layers: ["zonas-relleno"] })[0];
      return hit ? hit.properties.codigo : null;
    },
    setSelection(codes) {
      map.setFilter("zonas-seleccion", ["in", ["get", "codigo"], ["literal", codes]]);
    },
    showDiff(collection) {
      map.getSource(DIFF).setData(collection ?? EMPTY);
      setVisible(map, diffLayers, !!collection);
    },
    /** Problems as the API gives them ({tipo, mensaje, zonas, geometria}). */
    showProblems(problems) {
      const features = (problems ?? []).filter((p) => p.geometria).map((p, i) => ({
        type: "Feature", id: i, geometry: p.geometria,
        properties: { tipo: p.tipo, mensaje: p.mensaje } }));
      map.getSource(PROBLEMS).setData({ type: "FeatureCollection", features });
    },
    /** Reload the vector tiles (after a new zoning version is applied). */
    reloadTiles() {
      const source = map.getSource("secplac");
      if (source?.tiles) source.setTiles([...source.tiles]);
    },
    familyLegend: () => legendNode(legend?.titulo ?? "Zonificación", legend?.entradas ?? []),
    diffLegend: () => legendNode("Diferencias", Object.entries(CHANGE_COLOURS).map(
      ([key, color]) => ({ etiqueta: CHANGE_TITLES[key], color,
        rayado: key === "agregada" || key === "quitada" }))),
  };
}

/** A 16×16 diagonal hatch of `colour` (added and removed parts of a diff, drawn over
 * the colour of their zone's change). */
function hatch(colour) {
  const size = 16;
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = size;
  const ctx = canvas.getContext("2d");
  ctx.strokeStyle = colour;
  ctx.lineWidth = 3;
  ctx.beginPath();
  for (const offset of [-size, 0, size]) {
    ctx.moveTo(offset, size);
    ctx.lineTo(offset + size, 0);
  }
  ctx.stroke();
  return ctx.getImageData(0, 0, size, size);
}

function legendNode(title, entries) {
  return el("div", { class: "leyenda" }, el("strong", {}, title),
    el("ul", {}, ...entries.map((e) => el("li", {},
      el("span", { class: `muestra muestra-area${e.rayado ? " muestra-rayada" : ""}`,
        style: `--color: ${e.color}`, "aria-hidden": "true" }), e.etiqueta))));
}

/** The bounding box [w, s, e, n] of a GeoJSON geometry. */
export function bboxOf(geometry) {
  const box = [Infinity, Infinity, -Infinity, -Infinity];
  const visit = (c) => {
    if (typeof c[0] === "number") {
      box[0] = Math.min(box[0], c[0]); box[1] = Math.min(box[1], c[1]);
      box[2] = Math.max(box[2], c[0]); box[3] = Math.max(box[3], c[1]);
    } else c.forEach(visit);
  };
  visit(geometry.coordinates);
  return box;
}

/** Zoom the map to a geometry (with room around it). */
export function fitTo(map, geometry, maxZoom = 17) {
  fitBox(map, bboxOf(geometry), maxZoom);
}

/** Zoom the map to GeoJSON features. */
export function fitToFeatures(map, features, maxZoom = 17) {
  const boxes = features.filter((f) => f.geometry).map((f) => bboxOf(f.geometry));
  fitBox(map, [Math.min(...boxes.map((b) => b[0])), Math.min(...boxes.map((b) => b[1])),
    Math.max(...boxes.map((b) => b[2])), Math.max(...boxes.map((b) => b[3]))], maxZoom);
}

function fitBox(map, [w, s, e, n], maxZoom) {
  if (!Number.isFinite(w)) return;
  map.fitBounds([[w, s], [e, n]], { padding: 60, maxZoom, duration: 0 });
}

/** A small tooltip with the code and name of the zone under the pointer. */
export function zoneTooltip(map) {
  const tip = new maplibregl.Popup({ closeButton: false, closeOnClick: false,
    className: "tooltip-zona", offset: 12 });
  map.on("mousemove", "zonas-relleno", (event) => {
    const p = event.features[0]?.properties;
    if (!p) return;
    tip.setLngLat(event.lngLat).setDOMContent(el("span", {}, el("strong", {}, p.codigo),
      p.nombre ? ` · ${p.nombre}` : "")).addTo(map);
  });
  map.on("mouseleave", "zonas-relleno", () => tip.remove());
  return tip;
}

/** The map of the editing pages (proposals, projects): Spanish controls, metric scale. */
export function createMap(style) {
  const m = new maplibregl.Map({
    container: "mapa", style, maxZoom: 20, attributionControl: { compact: true },
    locale: { "NavigationControl.ZoomIn": "Acercar", "NavigationControl.ZoomOut": "Alejar",
      "NavigationControl.ResetBearing": "Orientar al norte",
      "AttributionControl.ToggleAttribution": "Mostrar u ocultar las fuentes" },
  });
  m.addControl(new maplibregl.NavigationControl(), "top-right");
  m.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-left");
  m.on("error", (event) => console.error("Error del mapa:", event.error?.message));
  return m;
}

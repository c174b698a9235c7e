// The location of a project drawn with terra-draw (npm packages terra-draw and
// terra-draw-maplibre-gl-adapter, served by this server): points, lines or polygons, as
// many parts as needed, all of one type (several parts become a MultiPoint,
// MultiLineString or MultiPolygon). An existing location is loaded part by part, so its
// vertices can be dragged («Editar vértices»), parts deleted or added.

const PRECISION = 7; // decimals of a degree (about 1 cm), as the API writes them
const TYPES = { point: "Point", linestring: "LineString", polygon: "Polygon" };
const NAMES = { Point: "punto", LineString: "línea", Polygon: "polígono" };
const GUIDES = ["selectionPoint", "midPoint", "coordinatePoint", "closingPoint",
  "snappingPoint", "currentlyDrawing"];

const round = (c) => [Number(c[0].toFixed(PRECISION)), Number(c[1].toFixed(PRECISION))];

/** The single parts of a (Multi) geometry: [{type, coordinates}]. */
export function partsOf(geometry) {
  if (!geometry) return [];
  if (geometry.type.startsWith("Multi")) {
    const type = geometry.type.slice(5);
    return geometry.coordinates.map((coordinates) => ({ type, coordinates }));
  }
  return [geometry];
}

function rounded(part) {
  if (part.type === "Point") return round(part.coordinates);
  if (part.type === "LineString") return part.coordinates.map(round);
  return part.coordinates.map((ring) => ring.map(round));
}

/** A GeoJSON geometry from parts of one type (one part: single; more: Multi). */
export function geometryOf(parts) {
  if (parts.length === 1) return parts[0];
  return { type: `Multi${parts[0].type}`, coordinates: parts.map((p) => p.coordinates) };
}

function newDraw(map) {
  const { TerraDraw, TerraDrawPointMode, TerraDrawLineStringMode, TerraDrawPolygonMode,
    TerraDrawSelectMode } = window.terraDraw;
  const { TerraDrawMapLibreGLAdapter } = window.terraDrawMaplibreGlAdapter;
  const editable = { draggable: true, coordinates: { draggable: true, midpoints: true,
    deletable: true } };
  return new TerraDraw({
    adapter: new TerraDrawMapLibreGLAdapter({ map, coordinatePrecision: PRECISION }),
    modes: [
      new TerraDrawPointMode({ styles: { pointColor: "#d84315", pointWidth: 7,
        pointOutlineColor: "#ffffff", pointOutlineWidth: 2 } }),
      new TerraDrawLineStringMode({ styles: { lineStringColor: "#d84315",
        lineStringWidth: 4, closingPointColor: "#d84315", closingPointWidth: 6 } }),
      new TerraDrawPolygonMode({ styles: { fillColor: "#ff7043", fillOpacity: 0.3,
        outlineColor: "#d84315", outlineWidth: 3, closingPointColor: "#d84315" } }),
      new TerraDrawSelectMode({
        keyEvents: { deselect: "Escape", delete: "Delete", rotate: null, scale: null },
        flags: { point: { feature: { draggable: true } }, linestring: { feature: editable },
          polygon: { feature: editable } },
        styles: { selectedPolygonColor: "#ff7043", selectedPolygonFillOpacity: 0.3,
          selectedPolygonOutlineColor: "#bf360c", selectedLineStringColor: "#bf360c",
          selectedPointColor: "#bf360c", selectionPointColor: "#ffffff",
          selectionPointOutlineColor: "#bf360c", midPointColor: "#ffab91" },
      }),
    ],
  });
}

/**
 * The drawing of a location on `map`, with its toolbar (buttons data-modo and
 * data-accion). `onChange(status)` gets a Spanish summary after every change.
 */
export function locationDrawing(map, toolbar, { onChange = () => {} } = {}) {
  const draw = newDraw(map);
  draw.start();
  draw.setMode("static");
  let active = false;
  let kept = null; // a location terra-draw cannot edit (e.g. a polygon with holes)

  const parts = () => draw.getSnapshot().filter((f) => TYPES[f.properties.mode] ===
    f.geometry.type && !GUIDES.some((flag) => f.properties[flag]));

  function setMode(mode) {
    draw.setMode(mode);
    for (const b of toolbar.querySelectorAll("[data-modo]")) {
      b.setAttribute("aria-pressed", String(b.dataset.modo === mode));
    }
    document.body.dataset.modoDibujo = mode;
  }

  function status() {
    const found = parts();
    const types = [...new Set(found.map((f) => f.geometry.type))];
    document.body.dataset.partes = String(found.length);
    if (kept && !found.length) {
      return "Se conserva la ubicación actual (no editable en el mapa: dibuje una nueva " +
        "para reemplazarla).";
    }
    if (!found.length) return "Sin ubicación: elija Punto, Línea o Polígono y dibuje en el mapa.";
    if (types.length > 1) {
      return `${found.length} partes de tipos distintos: un proyecto usa un solo tipo.`;
    }
    return `${found.length} parte(s): ${NAMES[types[0]]}.`;
  }

  const changed = () => onChange(status());
  draw.on("change", () => { if (active) changed(); });
  draw.on("finish", () => { if (active) changed(); });

  for (const button of toolbar.querySelectorAll("[data-modo]")) {
    button.addEventListener("click", () => setMode(button.dataset.modo));
  }
  toolbar.querySelector("[data-accion=borrar-parte]").addEventListener("click", () => {
    const selected = parts().filter((f) => f.properties.selected).map((f) => f.id);
    if (selected.length) draw.removeFeatures(selected);
    changed();
  });
  toolbar.querySelector("[data-accion=borrar-todo]").addEventListener("click", () => {
    draw.clear();
    kept = null;
    setMode("static");
    changed();
  });

  return {
    get active() {
      return active;
    },
    /** Start drawing, with the parts of `geometry` (lon/lat GeoJSON, or null) loaded. */
    start(geometry) {
      active = true;
      kept = null;
      toolbar.hidden = false;
      draw.clear();
      setMode("static");
      const features = partsOf(geometry).map((part) => ({
        id: draw.getFeatureId(), type: "Feature",
        geometry: { type: part.type, coordinates: rounded(part) },
        properties: { mode: Object.keys(TYPES).find((m) => TYPES[m] === part.type) } }));
      if (features.length) {
        const results = draw.addFeatures(features);
        if (results.some((r) => !r.valid)) {
          draw.clear();
          kept = geometry;
        }
        setMode(kept ? "static" : "select");
        if (!kept && features.length === 1) draw.selectFeature(features[0].id);
      }
      changed();
    },
    stop() {
      active = false;
      kept = null;
      draw.clear();
      setMode("static");
      toolbar.hidden = true;
      delete document.body.dataset.partes;
    },
    /** {geometry} drawn, or {problem} in Spanish when it cannot be sent. */
    result() {
      const found = parts().map((f) => f.geometry);
      if (!found.length) {
        return kept ? { geometry: kept } : { problem: "dibuje la ubicación del proyecto en " +
          "el mapa (punto, línea o polígono) y termine la figura antes de guardar" };
      }
      if (new Set(found.map((g) => g.type)).size > 1) {
        return { problem: "mezcla puntos, líneas y polígonos; un proyecto con varios " +
          "lugares debe usar un solo tipo (borre las partes del otro tipo)" };
      }
      return { geometry: geometryOf(found) };
    },
    draw,
  };
}

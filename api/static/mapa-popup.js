// Feature information: a click on the map shows the attributes of the feature on top,
// with the Spanish titles and units of the layer's queryables (its declared fields); the
// other features and visible rasters at that point are listed below it. A parcel also
// shows the norms of the PRC zone under the clicked point, fetched from the OGC API with
// a CQL2 S_INTERSECTS filter.

import { el, formatValue, getJSON } from "./mapa-format.js";
import { isLayerVisible } from "./mapa-layers.js";

const HIGHLIGHT = "seleccion";
const POINTS = ["Point", "MultiPoint"];
const schemas = new Map();

/** The declared fields of a layer (title, type, unit, codes) from its queryables. */
export function layerSchema(config, layer) {
  if (!schemas.has(layer)) {
    const url = `${config.colecciones}/${encodeURIComponent(layer)}/queryables`;
    schemas.set(layer, getJSON(url).then((doc) => doc.properties ?? {}).catch(() => ({})));
  }
  return schemas.get(layer);
}

function layerTitle(map, layer) {
  return map.getStyle().metadata?.["secplac:leyendas"]?.[layer]?.titulo ?? layer;
}

function valueNode(value) {
  if (!Array.isArray(value)) return value;
  return value.length ? el("ul", { class: "lista" }, ...value.map((v) => el("li", {}, v)))
    : "sin dato";
}

/** Rows of an attribute table, in the order the layer declares its fields. */
function attributeTable(properties, schema, skip = []) {
  const names = Object.keys(schema).filter((n) => n !== "geom" && !skip.includes(n));
  for (const n of Object.keys(properties)) {
    if (!names.includes(n) && !skip.includes(n)) names.push(n);
  }
  return el("table", { class: "atributos" }, el("tbody", {}, ...names.map((n) => {
    const fieldSchema = schema[n] ?? {};
    return el("tr", { dataset: { campo: n } },
      el("th", { scope: "row" }, fieldSchema.title ?? n),
      el("td", {}, valueNode(formatValue(properties[n], fieldSchema))));
  })));
}

// -- what is under the cursor --------------------------------------------------------------

function fillOpacity(map, layer) {
  const value = map.getPaintProperty(layer.id, "fill-opacity");
  return typeof value === "number" ? value : 1;
}

let clickable = null;

/** Style layers a click can hit: filled areas under the point; lines, points and the
 * outline of unfilled areas (the urban limit) a few pixels around it. Computed once: the
 * style's layers do not change, only their visibility (hidden ones are never hit). */
function clickableLayers(map) {
  if (clickable) return clickable;
  const all = map.getStyle().layers;
  const style = all.filter((l) => l.metadata?.["secplac:capa"]);
  const transparent = new Set(style.filter((l) => l.type === "fill" && fillOpacity(map, l) === 0)
    .map((l) => l.metadata["secplac:capa"]));
  const areas = style.filter((l) => l.type === "fill" && fillOpacity(map, l) > 0);
  const near = style.filter((l) => l.type === "circle" || (l.type === "line" &&
    (!JSON.stringify(l.filter ?? "").includes("Polygon") ||
     transparent.has(l.metadata["secplac:capa"]))));
  clickable = { areas: areas.map((l) => l.id), near: near.map((l) => l.id),
    order: new Map(all.map((l, i) => [l.id, i])) };
  return clickable;
}

/** Features at a screen point, the one drawn on top first, each feature once. */
export function featuresAt(map, point) {
  const { areas, near, order } = clickableLayers(map);
  const found = [
    ...map.queryRenderedFeatures(point, { layers: areas }),
    ...map.queryRenderedFeatures([[point.x - 5, point.y - 5], [point.x + 5, point.y + 5]],
      { layers: near }),
  ].sort((a, b) => order.get(b.layer.id) - order.get(a.layer.id));
  const seen = new Set();
  const hits = [];
  for (const f of found) {
    const layer = f.layer.metadata["secplac:capa"];
    const key = `${layer}:${f.id}`;
    if (seen.has(key)) continue;
    seen.add(key);
    hits.push({ layer, fid: f.id, properties: f.properties,
      labelField: f.layer.metadata["secplac:etiqueta"] });
  }
  return hits;
}

// -- highlight of the feature shown ----------------------------------------------------------

/**
 * Outline one feature of the vector tiles (or nothing when `hit` is null). Drawn from the
 * tiles themselves, filtered by the feature's id, so a large polygon shows no tile seams.
 */
export function highlight(map, hit) {
  for (const suffix of ["borde", "punto"]) {
    if (map.getLayer(`${HIGHLIGHT}-${suffix}`)) map.removeLayer(`${HIGHLIGHT}-${suffix}`);
  }
  const drawn = hit && map.getStyle().layers.find(
    (l) => l.metadata?.["secplac:capa"] === hit.layer && l.source);
  if (!drawn || hit.fid === undefined || hit.fid === null) return;
  const common = { source: drawn.source, "source-layer": drawn["source-layer"],
    minzoom: drawn.minzoom ?? 0 };
  const same = ["==", ["id"], hit.fid];
  map.addLayer({ ...common, id: `${HIGHLIGHT}-borde`, type: "line",
    filter: ["all", same, ["!", ["in", ["geometry-type"], ["literal", POINTS]]]],
    paint: { "line-color": "#00e5ff", "line-width": 4, "line-opacity": 0.9 } });
  map.addLayer({ ...common, id: `${HIGHLIGHT}-punto`, type: "circle",
    filter: ["all", same, ["in", ["geometry-type"], ["literal", POINTS]]],
    paint: { "circle-radius": 11, "circle-color": "rgba(0,0,0,0)",
      "circle-stroke-color": "#00e5ff", "circle-stroke-width": 3 } });
}

// -- the popup -------------------------------------------------------------------------------

async function zoneNorms(config, lngLat) {
  const { zonas } = config.normas_de_zona;
  const point = `POINT(${lngLat.lng.toFixed(7)} ${lngLat.lat.toFixed(7)})`;
  const url = `${config.colecciones}/${encodeURIComponent(zonas)}/items?limit=5&filter=` +
    encodeURIComponent(`S_INTERSECTS(geom, ${point})`);
  const [doc, schema] = await Promise.all([getJSON(url), layerSchema(config, zonas)]);
  return { zones: doc.features ?? [], schema };
}

function normsSection(map, config, lngLat) {
  const section = el("section", { class: "normas", "aria-live": "polite" },
    el("p", { class: "nota" }, "Buscando las normas urbanísticas de la zona…"));
  zoneNorms(config, lngLat).then(({ zones, schema }) => {
    if (!zones.length) {
      section.replaceChildren(el("p", { class: "nota" },
        "Este punto no está en una zona del Plan Regulador Comunal (área rural o sin " +
        "zonificación cargada)."));
      return;
    }
    section.replaceChildren(...zones.map((zone) => {
      const p = zone.properties;
      return el("div", { class: "zona" },
        el("h3", {}, `Normas urbanísticas — zona ${p.codigo ?? ""}`),
        p.nombre ? el("p", { class: "zona-nombre" }, p.nombre) : null,
        attributeTable(p, schema, ["codigo", "nombre"]));
    }), el("p", { class: "nota" }, "Normas de la zona en el punto consultado. El " +
      "Certificado de Informaciones Previas (CIP) de la DOM es el documento oficial."));
  }).catch((error) => {
    section.replaceChildren(el("p", { class: "error" },
      `No se pudieron obtener las normas de la zona: ${error.message}`));
  });
  return section;
}

function rasterSection(rasters, lngLat) {
  if (!rasters.length) return null;
  const list = el("ul", { class: "valores-raster" });
  for (const raster of rasters) {
    const item = el("li", {}, `${raster.titulo}: consultando…`);
    list.append(item);
    const url = `${raster.enlaces.valor}?lon=${lngLat.lng.toFixed(7)}&lat=${lngLat.lat.toFixed(7)}`;
    getJSON(url).then((v) => {
      item.textContent = v.valor === null || v.valor === undefined
        ? `${raster.titulo}: sin datos en este punto`
        : `${raster.titulo}: ${formatValue(v.valor, { type: "number", "x-unidad": v.unidad })}`;
    }).catch((error) => { item.textContent = `${raster.titulo}: ${error.message}`; });
  }
  return el("section", {}, el("h3", {}, "Valores en el punto"), list);
}

/** The card of one feature: heading, attributes, zone norms for a parcel. */
async function featureCard(map, config, hit, lngLat) {
  const schema = await layerSchema(config, hit.layer);
  const label = hit.labelField ? hit.properties[hit.labelField] : null;
  const title = layerTitle(map, hit.layer);
  const heading = label ? `${title}: ${label}` : title;
  const isParcel = hit.layer === config.normas_de_zona.predios;
  return el("article", { class: "entidad", dataset: { capa: hit.layer, fid: hit.fid } },
    el("h2", {}, heading),
    attributeTable(hit.properties, schema),
    isParcel ? normsSection(map, config, lngLat) : null,
    el("p", { class: "enlace-ficha" }, el("a", {
      href: `${config.colecciones}/${encodeURIComponent(hit.layer)}/items/${hit.fid}?f=html`,
      target: "_blank", rel: "noopener" }, "Ver la entidad en la API")));
}

function othersList(map, hits, current, show) {
  const others = hits.filter((h) => h !== current);
  if (!others.length) return null;
  return el("section", { class: "otras" }, el("h3", {}, "También en este punto"),
    el("ul", {}, ...others.map((h) => {
      const label = h.labelField ? h.properties[h.labelField] : null;
      return el("li", {}, el("button", { type: "button", class: "enlace",
        onclick: () => show(h) }, `${layerTitle(map, h.layer)}${label ? `: ${label}` : ""}`));
    })));
}

/**
 * Open the popup for `hits` (features at `lngLat`, top first) and the visible rasters.
 */
export function openPopup(map, config, popup, lngLat, hits, rasters) {
  const content = el("div", { class: "ficha" });
  const show = async (hit) => {
    highlight(map, hit);
    const card = hit ? await featureCard(map, config, hit, lngLat) : null;
    content.replaceChildren(...[rasterSection(rasters, lngLat), card,
      othersList(map, hits, hit, show)].filter(Boolean));
  };
  popup.setLngLat(lngLat).setDOMContent(content).addTo(map);
  // The card grows as its parts arrive: place the popup again so that it stays in view.
  new ResizeObserver(() => { if (popup.isOpen()) popup.setLngLat(popup.getLngLat()); })
    .observe(content);
  return show(hits[0] ?? null);
}

/** Wire the click handler; `isBusy()` true (measuring) turns it off. */
export function enableFeatureInfo(map, config, { rasters, isBusy }) {
  const popup = new maplibregl.Popup({ maxWidth: "400px", className: "popup-entidad" });
  popup.on("close", () => highlight(map, null));
  map.on("click", (event) => {
    if (isBusy()) return;
    const hits = featuresAt(map, event.point);
    const visibleRasters = rasters().filter((r) => r.version !== null &&
      isLayerVisible(map, r.nombre));
    if (!hits.length && !visibleRasters.length) {
      popup.remove();
      return;
    }
    openPopup(map, config, popup, event.lngLat, hits, visibleRasters);
  });
  map.on("mousemove", (event) => {
    if (isBusy()) return;
    const { areas, near } = clickableLayers(map);
    const over = map.queryRenderedFeatures(event.point, { layers: [...areas, ...near] });
    map.getCanvas().style.cursor = over.length ? "pointer" : "";
  });
  return popup;
}

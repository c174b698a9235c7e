// The investment page (/inversion/mapa): a choropleth of investment per inhabitant (or
// another indicator) by planning sector, census zone or PRC zone, over the platform's own
// style with only its context layers shown; filters, legend, a popup per unit, the need
// ranking and the budget execution chart. Everything comes from this server.

import { el, formatNumber, getJSON, notify } from "./mapa-format.js";

const config = JSON.parse(document.getElementById("configuracion").textContent);
const SOURCE = "inversion";
const FILL = "inversion-relleno";
const MONEY = new Set(["monto_clp", "monto_por_habitante", "monto_ejecutado_clp"]);
const RANKING_COLUMNS = [
  ["ranking", "N.º"], ["nombre", "Unidad"], ["poblacion", "Población"],
  ["monto_por_habitante", "$ por hab."], ["indice_necesidad", "Necesidad"],
  ["monto_por_habitante_relativo", "vs. media"],
];

const $ = (id) => document.getElementById(id);
const UNIT_TITLES = Object.fromEntries(config.unidades);
let map;
let current = { unidad: null, data: null };

function formatValue(column, value) {
  if (value === null || value === undefined) return "sin dato";
  if (MONEY.has(column)) return `$ ${formatNumber(value, 0)}`;
  if (column === "ranking" || column === "n_proyectos") return String(value);
  return formatNumber(value);
}

function options(select, entries, { empty } = {}) {
  const items = empty ? [["", empty], ...entries] : entries;
  select.replaceChildren(...items.map(([value, label]) => el("option", { value }, label)));
}

function buildForm() {
  options($("unidad"), config.unidades);
  options($("columna"), config.indicadores);
  options($("anio"), config.anios.map((y) => [String(y), String(y)]), { empty: "Todos" });
  options($("fuente"), config.fuentes.map(([c, t]) => [c, `${c} — ${t}`]),
    { empty: "Todas" });
  options($("sector"), config.sectores.map((s) => [s, s]), { empty: "Todos" });
  options($("etapa"), config.etapas.map((s) => [s, s]), { empty: "Todas" });
  options($("por"), config.agrupaciones);
  $("filtros-inversion").addEventListener("change", () => reload().catch(failed));
  $("por").addEventListener("change", chart);
}

function params() {
  const query = new URLSearchParams();
  for (const name of ["unidad", "anio", "fuente", "sector", "etapa"]) {
    if ($(name).value) query.set(name, $(name).value);
  }
  return query;
}

function colourExpression(legend) {
  const column = legend.columna;
  if (!legend.clases.length) return legend.sin_dato;
  const step = ["step", ["get", column], legend.clases[0].color];
  for (const c of legend.clases.slice(1)) step.push(c.desde, c.color);
  return ["case", ["!=", ["typeof", ["get", column]], "number"], legend.sin_dato, step];
}

function drawLegend(legend) {
  const rows = legend.clases.map((c) => [c.etiqueta, c.color]);
  rows.push(["Sin dato (sin población)", legend.sin_dato]);
  $("leyenda").replaceChildren(
    el("strong", {}, legend.titulo),
    el("ul", {}, rows.map(([label, colour]) => el("li", {},
      el("span", { class: "muestra", style: `--color:${colour}` }), label))),
    el("p", { class: "nota" }, `${UNIT_TITLES[current.unidad]}: ` +
      `${current.data.features.length} unidades. Clases por cuantiles.`));
}

function drawRanking(rows) {
  const head = el("tr", {}, RANKING_COLUMNS.map(([c, t]) =>
    el("th", { class: c === "nombre" ? "" : "num", scope: "col" }, t)));
  const body = rows.map((row) => el("tr", { dataset: { codigo: row.codigo },
    onclick: () => focusUnit(row.codigo) }, RANKING_COLUMNS.map(([c]) =>
    el("td", { class: c === "nombre" ? "" : "num" },
      c === "nombre" ? row.nombre : formatValue(c, row[c])))));
  $("ranking").replaceChildren(el("table", { class: "ranking" },
    el("thead", {}, head), el("tbody", {}, body)));
}

function chart() {
  const query = new URLSearchParams({ por: $("por").value });
  if ($("anio").value) query.set("anio", $("anio").value);
  $("grafico-ejecucion").src = `${config.ejecucion}?${query}`;
}

function bounds(features) {
  const box = new maplibregl.LngLatBounds();
  const walk = (c) => (typeof c[0] === "number" ? box.extend(c) : c.forEach(walk));
  for (const f of features) if (f.geometry) walk(f.geometry.coordinates);
  return box;
}

function focusUnit(codigo) {
  const feature = current.data.features.find((f) => f.id === codigo);
  if (!feature) return;
  map.setFilter("inversion-seleccion", ["==", ["get", "codigo"], codigo]);
  for (const tr of $("ranking").querySelectorAll("tbody tr")) {
    tr.classList.toggle("activa", tr.dataset.codigo === codigo);
  }
  map.fitBounds(bounds([feature]), { padding: 60, maxZoom: 15, duration: 0 });
}

function popupContent(props) {
  const rows = config.columnas
    .filter(([c]) => c !== "codigo" && c !== "nombre")
    .map(([c, title]) => el("tr", {}, el("th", {}, title), el("td", {}, formatValue(c, props[c]))));
  return el("div", { class: "ficha-inversion" }, el("h3", {}, props.nombre),
    el("p", { class: "nota" }, String(props.nombre).includes(props.codigo)
      ? UNIT_TITLES[current.unidad] : `${UNIT_TITLES[current.unidad]} ${props.codigo}`),
    el("table", {}, rows));
}

let requests = 0;

async function reload() {
  const mine = ++requests;
  document.body.dataset.cargando = "si";
  const query = params();
  const column = $("columna").value;
  const [data, ranking] = await Promise.all([
    getJSON(`${config.territorio}?${query}&columna=${encodeURIComponent(column)}`),
    getJSON(`${config.ranking}?${query}`),
  ]);
  if (mine !== requests) return; // a newer choice is on its way
  const unitChanged = current.unidad !== data.unidad;
  current = { unidad: data.unidad, data };
  map.getSource(SOURCE).setData(data);
  map.setPaintProperty(FILL, "fill-color", colourExpression(data.leyenda));
  map.setFilter("inversion-seleccion", ["==", ["get", "codigo"], ""]);
  drawLegend(data.leyenda);
  drawRanking(ranking.filas);
  chart();
  if (unitChanged && data.features.length) {
    map.fitBounds(bounds(data.features), { padding: 30, duration: 0 });
  }
  document.body.dataset.unidad = data.unidad;
  delete document.body.dataset.cargando;
}

function addLayers() {
  const keep = new Set(config.capas_contexto);
  for (const l of map.getStyle().layers) {
    const name = l.metadata?.["secplac:capa"];
    if (name && !keep.has(name)) map.setLayoutProperty(l.id, "visibility", "none");
  }
  map.addSource(SOURCE, { type: "geojson", data: { type: "FeatureCollection", features: [] },
    promoteId: "codigo" });
  map.addLayer({ id: FILL, type: "fill", source: SOURCE,
    paint: { "fill-color": config.sin_dato, "fill-opacity": 0.75 } });
  map.addLayer({ id: "inversion-borde", type: "line", source: SOURCE,
    paint: { "line-color": "#37474f", "line-width": 1 } });
  map.addLayer({ id: "inversion-seleccion", type: "line", source: SOURCE,
    filter: ["==", ["get", "codigo"], ""], paint: { "line-color": "#b71c1c", "line-width": 3 } });
  const popup = new maplibregl.Popup({ maxWidth: "360px" });
  map.on("click", FILL, (e) => {
    const props = e.features[0]?.properties;
    if (!props) return;
    const full = current.data.features.find((f) => f.id === props.codigo)?.properties ?? props;
    popup.setLngLat(e.lngLat).setDOMContent(popupContent(full)).addTo(map);
  });
  map.on("mouseenter", FILL, () => { map.getCanvas().style.cursor = "pointer"; });
  map.on("mouseleave", FILL, () => { map.getCanvas().style.cursor = ""; });
}

function failed(error) {
  console.error(error);
  delete document.body.dataset.cargando;
  notify(error.message);
}

async function start() {
  buildForm();
  map = new maplibregl.Map({
    container: "mapa", style: config.estilo, maxZoom: 18, attributionControl: { compact: true },
    canvasContextAttributes: { preserveDrawingBuffer: true },
    locale: { "NavigationControl.ZoomIn": "Acercar", "NavigationControl.ZoomOut": "Alejar",
      "NavigationControl.ResetBearing": "Orientar al norte", "Popup.Close": "Cerrar",
      "AttributionControl.ToggleAttribution": "Mostrar u ocultar las fuentes" },
  });
  window.mapa = map; // for the planners' console and the browser tests
  map.addControl(new maplibregl.NavigationControl(), "top-right");
  map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-left");
  map.on("error", (event) => console.error("Error del mapa:", event.error?.message));
  await new Promise((resolve) => {
    if (map.isStyleLoaded()) resolve();
    else map.once("style.load", resolve);
  });
  addLayers();
  await reload();
  document.body.dataset.estado = "listo";
}

start().catch((error) => {
  console.error(error);
  document.body.dataset.estado = "error";
  notify(`La página no se pudo iniciar: ${error.message}`, { seconds: 0 });
});

// The investment projects page (/proyectos/mapa): every project of the registry on the
// map (its vector tiles, coloured by stage), filters and table, each project's panel with
// its territorial profile, and for editors the form that creates and edits projects with
// their funding and their location drawn on the map. This module holds the page's state
// and wires the parts:
//   proyectos-api.js         the registry API (token, If-Match, Spanish errors)
//   proyectos-lista.js       filters (API) and the table of projects
//   proyectos-ficha.js       the panel of a project and its territorial profile
//   proyectos-formulario.js  the form (fields from the layer declaration, funding rows)
//   proyectos-dibujo.js      terra-draw: the location as points, lines or polygons

import { el } from "./mapa-format.js";
import { createMap, fitTo } from "./propuestas-capas.js";
import { renderSession } from "./propuestas-lista.js";
import { ApiError, projectsApi } from "./proyectos-api.js";
import { locationDrawing } from "./proyectos-dibujo.js";
import { renderProfile, renderProject } from "./proyectos-ficha.js";
import { projectForm } from "./proyectos-formulario.js";
import { projectList } from "./proyectos-lista.js";

const config = JSON.parse(document.getElementById("configuracion").textContent);
const api = projectsApi(config.proyectos);
const $ = (id) => document.getElementById(id);
const EMPTY = { type: "FeatureCollection", features: [] };
const HIGHLIGHT = "#d50000";

const state = { user: null, can: {}, project: null, etag: null, shown: [], filtered: false,
  editing: undefined };
let map;
let list;
let drawing;
let form = null;
let projectLayers = [];

let busyCount = 0;

/** Run `task`; while any runs, body[data-ocupado] is "si" (the browser tests wait on it). */
async function busy(task) {
  busyCount += 1;
  document.body.dataset.ocupado = "si";
  try {
    return await task();
  } finally {
    busyCount -= 1;
    if (!busyCount) document.body.dataset.ocupado = "no";
  }
}

function message(text, kind = "error", extra = null) {
  const box = $("mensaje");
  box.className = `mensaje mensaje-${kind}`;
  box.replaceChildren(el("span", { class: "texto" }, text), extra ? " " : "", extra ?? "",
    el("button", { type: "button", class: "cerrar", "aria-label": "Cerrar mensaje",
      onclick: () => { box.hidden = true; } }, "×"));
  box.hidden = false;
  box.scrollIntoView({ block: "nearest" });
}

function clearMessage() {
  $("mensaje").hidden = true;
}

// -- the map ----------------------------------------------------------------------------------

/** Show on the map exactly the projects of the table (and not the one being edited). */
function applyMapFilter() {
  const conditions = [];
  if (state.filtered) conditions.push(["in", ["get", "codigo"], ["literal", state.shown]]);
  if (state.editing) conditions.push(["!=", ["get", "codigo"], state.editing]);
  for (const { id, base } of projectLayers) {
    map.setFilter(id, conditions.length ? ["all", base ?? true, ...conditions] : base);
  }
}

function highlight(geometry) {
  map.getSource("seleccion").setData(geometry
    ? { type: "FeatureCollection", features: [{ type: "Feature", geometry, properties: {} }] }
    : EMPTY);
}

function reloadTiles() {
  const source = map.getSource(config.capa);
  if (source?.tiles) source.setTiles([...source.tiles]);
}

function setUpMap() {
  const style = map.getStyle();
  projectLayers = style.layers.filter((l) => l.metadata?.["secplac:capa"] === config.capa)
    .map((l) => ({ id: l.id, base: l.filter }));
  map.addSource("seleccion", { type: "geojson", data: EMPTY });
  map.addLayer({ id: "seleccion-relleno", type: "fill", source: "seleccion",
    filter: ["==", ["geometry-type"], "Polygon"],
    paint: { "fill-color": HIGHLIGHT, "fill-opacity": 0.15 } });
  map.addLayer({ id: "seleccion-linea", type: "line", source: "seleccion",
    filter: ["!=", ["geometry-type"], "Point"],
    paint: { "line-color": HIGHLIGHT, "line-width": 4 } });
  map.addLayer({ id: "seleccion-punto", type: "circle", source: "seleccion",
    filter: ["==", ["geometry-type"], "Point"],
    paint: { "circle-radius": 11, "circle-color": "rgba(0,0,0,0)",
      "circle-stroke-color": HIGHLIGHT, "circle-stroke-width": 3 } });
  const ids = projectLayers.map((l) => l.id);
  map.on("click", (event) => {
    if (drawing.active) return;
    const { x, y } = event.point;
    const hit = map.queryRenderedFeatures([[x - 4, y - 4], [x + 4, y + 4]], { layers: ids })[0];
    if (hit) openProject(hit.properties.codigo);
  });
  map.on("mousemove", (event) => {
    if (drawing.active) return;
    const hit = map.queryRenderedFeatures(event.point, { layers: ids }).length;
    map.getCanvas().style.cursor = hit ? "pointer" : "";
  });
  const legend = style.metadata?.["secplac:leyendas"]?.[config.capa];
  $("leyenda-mapa").replaceChildren(el("div", { class: "leyenda" },
    el("strong", {}, `${legend.titulo}: ${legend.campo.toLowerCase()}`),
    el("ul", {}, ...legend.entradas.map((e) => el("li", {}, el("span", {
      class: "muestra muestra-area", style: `--color: ${e.color}`, "aria-hidden": "true" }),
    e.etiqueta)))));
  $("capas-referencia").replaceChildren(...Object.entries(config.capas_opcionales).map(
    ([name, title]) => el("label", { class: "fila" }, el("input", { type: "checkbox",
      dataset: { capa: name }, onchange: (event) => {
        for (const l of style.layers.filter((s) => s.metadata?.["secplac:capa"] === name)) {
          map.setLayoutProperty(l.id, "visibility", event.target.checked ? "visible" : "none");
        }
      } }), ` ${title}`)));
}

// -- a project --------------------------------------------------------------------------------

function showDetail(on) {
  $("detalle").hidden = !on;
  map.resize();
}

function setUrl(codigo) {
  const url = codigo ? `${window.location.pathname}?codigo=${encodeURIComponent(codigo)}`
    : window.location.pathname;
  window.history.replaceState(null, "", url);
}

function openProject(codigo) {
  return busy(() => loadProject(codigo));
}

async function loadProject(codigo, { keepMessage = false } = {}) {
  if (form) closeForm();
  if (!keepMessage) clearMessage();
  let answer;
  try {
    answer = await api.get(codigo);
  } catch (error) {
    message(error.text ?? error.message, "error");
    return;
  }
  Object.assign(state, { project: answer.data, etag: answer.etag });
  showProject();
  fitTo(map, state.project.geometria);
  await loadProfile(codigo);
}

function showProject() {
  const p = state.project;
  renderProject($("contenido-detalle"), p, { config, can: state.can,
    urls: { ficha: api.fichaUrl(p.codigo), pdf: api.fichaPdfUrl(p.codigo) },
    onEdit: () => openForm(state.project),
    onDelete: () => busy(deleteProject),
    onAttach: (file, description) => busy(() => attach(file, description)) });
  showDetail(true);
  highlight(p.geometria);
  list.setCurrent(p.codigo);
  setUrl(p.codigo);
  document.body.dataset.proyecto = p.codigo;
}

async function loadProfile(codigo) {
  const box = $("perfil");
  delete document.body.dataset.perfil;
  try {
    const perfil = await api.profile(codigo);
    if (state.project?.codigo !== codigo || !box.isConnected) return;
    renderProfile(box, perfil, { onOpen: openProject });
    document.body.dataset.perfil = codigo;
  } catch (error) {
    if (box.isConnected) {
      box.replaceChildren(el("p", { class: "error" }, error.text ?? error.message));
    }
  }
}

function closeDetail() {
  if (form) closeForm();
  Object.assign(state, { project: null, etag: null });
  showDetail(false);
  highlight(null);
  list.setCurrent(null);
  setUrl(null);
  delete document.body.dataset.proyecto;
}

async function deleteProject() {
  const codigo = state.project.codigo;
  try {
    await api.remove(codigo, state.etag);
  } catch (error) {
    failed(error, codigo);
    return;
  }
  closeDetail();
  message(`Proyecto ${codigo} eliminado.`, "exito");
  reloadTiles();
  await list.refresh({ allYears: true });
}

async function attach(file, description) {
  const codigo = state.project.codigo;
  try {
    await api.attach(codigo, file, description);
  } catch (error) {
    failed(error, codigo);
    return;
  }
  await loadProject(codigo, { keepMessage: true });
  message(`Documento «${file.name}» adjuntado al proyecto ${codigo}.`, "exito");
  $("seccion-adjuntos").open = true;
}

/** Explain a failed write; a conflict (412) offers to load the current version. */
function failed(error, codigo) {
  if (!(error instanceof ApiError)) throw error;
  if (error.status === 412) {
    document.body.dataset.conflicto = codigo;
    message(error.text, "error", el("button", { type: "button", id: "recargar-proyecto",
      onclick: () => busy(() => loadProject(codigo)) }, "Cargar la versión actual"));
  } else if (error.status === 401 || error.status === 403) {
    message(error.status === 401 ? "Su sesión expiró o no ha ingresado." : error.text,
      "error", el("a", { href: window.sesion.urlIngreso() }, "Ingresar"));
  } else {
    message(error.text, "error");
  }
}

// -- the form ---------------------------------------------------------------------------------

function openForm(project) {
  clearMessage();
  state.editing = project?.codigo ?? null;
  document.body.dataset.formulario = project ? "editar" : "nuevo";
  delete document.body.dataset.conflicto;
  form = projectForm($("contenido-detalle"), config, project, {
    onSubmit: (body) => busy(() => save(body)),
    onCancel: () => (project ? busy(() => loadProject(project.codigo)) : closeDetail()),
    drawingHelp: "Dibuje en el mapa con la barra de herramientas: Punto (un clic), Línea " +
      "(un clic por vértice; clic de nuevo en el último para terminar) o Polígono (clic en " +
      "el primer punto para cerrarlo). Puede dibujar varias partes del mismo tipo; «Editar " +
      "vértices» permite mover los puntos de una parte y borrarla.",
  });
  if (!project) {
    Object.assign(state, { project: null, etag: null });
    list.setCurrent(null);
    setUrl(null);
  }
  showDetail(true);
  highlight(null);
  applyMapFilter();
  drawing.start(project?.geometria ?? null);
}

function closeForm() {
  form = null;
  state.editing = undefined;
  delete document.body.dataset.formulario;
  drawing.stop();
  applyMapFilter();
}

async function save(body) {
  clearMessage();
  form.clearProblems();
  const location = drawing.result();
  if (location.problem) {
    form.showProblems([{ campo: "geometria", mensaje: location.problem }]);
    message("El proyecto no se guardó: falta su ubicación en el mapa.", "error");
    return;
  }
  body.geometria = location.geometry;
  const creating = !state.project;
  form.setBusy(true);
  let answer;
  try {
    answer = creating ? await api.create(body)
      : await api.update(state.project.codigo, state.etag, body);
  } catch (error) {
    form?.setBusy(false);
    if (error instanceof ApiError && error.status === 422) {
      form.showProblems(error.problems);
      message(error.text, "error");
    } else if (error instanceof ApiError && error.status === 409) {
      form.showProblems([{ campo: "codigo", mensaje: error.message }]);
      message(error.text, "error");
    } else {
      failed(error, body.codigo);
    }
    return;
  }
  closeForm();
  Object.assign(state, { project: answer.data, etag: answer.etag });
  showProject();
  const warnings = answer.data.advertencias;
  message(`Proyecto ${answer.data.codigo} ${creating ? "creado" : "guardado"}.` +
    (warnings.length ? ` Advertencias: ${warnings.join(" ")}` : ""),
  warnings.length ? "aviso" : "exito");
  reloadTiles();
  await list.refresh({ allYears: true });
  await loadProfile(answer.data.codigo);
}

// -- set-up -----------------------------------------------------------------------------------

async function start() {
  document.body.dataset.ocupado = "no";
  const wanted = new URLSearchParams(window.location.search).get("codigo");
  state.user = renderSession($("sesion"));
  const role = state.user?.rol;
  state.can = { edit: config.roles_edicion.includes(role),
    delete: config.roles_eliminacion.includes(role) };
  map = createMap(config.estilo);
  window.mapa = map; // for the planners' console and the browser tests
  await new Promise((resolve) => {
    if (map.isStyleLoaded()) resolve();
    else map.once("style.load", resolve);
  });
  setUpMap();
  drawing = locationDrawing(map, $("herramientas"), { onChange: (text) => {
    document.body.dataset.estadoDibujo = text;
    form?.setDrawingStatus(text);
  } });
  window.dibujo = drawing.draw;
  list = projectList(api, config, { busy, message, onOpen: openProject,
    onShown: (codes, filtered) => {
      Object.assign(state, { shown: codes, filtered });
      applyMapFilter();
    } });
  $("nuevo-proyecto").hidden = !state.can.edit;
  $("nuevo-proyecto").addEventListener("click", () => openForm(null));
  $("cerrar-detalle").addEventListener("click", () => closeDetail());
  await busy(() => list.refresh({ allYears: true }));
  if (wanted) await openProject(wanted);
  document.body.dataset.estado = "listo";
}

start().catch((error) => {
  console.error(error);
  document.body.dataset.estado = "error";
  message(`La página no se pudo iniciar: ${error.message}`);
});

// The zoning proposals page (/propuestas/mapa): the map with the platform's own style
// and tiles, the proposals of the SECPLAC workflow and their editing, review and
// application. This module holds the page's state and wires the parts:
//   propuestas-api.js           the proposals API (token, If-Match, Spanish errors)
//   propuestas-lista.js         login state, list of proposals, new proposal
//   propuestas-capas.js         zonings, diffs and problems drawn on the map
//   propuestas-dibujo.js        terra-draw with snapping to the zones
//   propuestas-herramientas.js  the editing tools (dividir, redibujar, crear, …)
//   propuestas-normas.js        the norms form from the layer's queryables
//   propuestas-revision.js      proposal panel, validation, impact, workflow buttons
//   propuestas-historia.js      zoning as of a date, and diff between versions

import { el } from "./mapa-format.js";
import { ApiError, proposalsApi } from "./propuestas-api.js";
import { createMap, fitTo, fitToFeatures, zoneTooltip, zoningLayers } from "./propuestas-capas.js";
import { createDrawing } from "./propuestas-dibujo.js";
import { editingTools } from "./propuestas-herramientas.js";
import { zoningHistory } from "./propuestas-historia.js";
import { newProposalForm, proposalList, renderSession } from "./propuestas-lista.js";
import { normsForm, normsTable } from "./propuestas-normas.js";
import { diffSummary, renderImpact, renderProposal, renderValidation }
  from "./propuestas-revision.js";

const config = JSON.parse(document.getElementById("configuracion").textContent);
const api = proposalsApi(config);
const $ = (id) => document.getElementById(id);

const state = {
  user: null, proposal: null, etag: null, can: {}, selected: [], schema: {},
  validation: null, rejected: [], diffShown: false,
};
let map;
let layers;
let tools;
let list;

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

const SUCCESS = {
  enviar: "Propuesta enviada a revisión.", revisar: "Propuesta tomada en revisión.",
  solicitar_cambios: "Se devolvió la propuesta a su autor con la solicitud de cambios.",
  aprobar: "Propuesta aprobada.", rechazar: "Propuesta rechazada.",
  rebase: "Propuesta actualizada a la zonificación vigente.",
};

// -- messages and what the map shows ---------------------------------------------------------

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

function setView(label, { diff = false } = {}) {
  $("vista").textContent = label;
  const problems = el("div", { class: "leyenda" }, el("ul", {}, el("li", {},
    el("span", { class: "muestra muestra-area", style: "--color: #d50000" }),
    "Problema de validación")));
  $("leyenda-mapa").replaceChildren(layers.familyLegend(), diff ? layers.diffLegend() : "",
    state.proposal ? problems : "");
}

function showProblems() {
  const found = [...state.rejected, ...(state.validation?.errores ?? []),
    ...(state.validation?.avisos ?? [])];
  layers.showProblems(found);
  renderValidation(state.validation, { rejected: state.rejected,
    onShow: (p) => fitTo(map, p.geometria) });
}

// -- the selected zone ------------------------------------------------------------------------

function select(codes) {
  state.selected = codes.filter((c) => layers.zone(c));
  layers.setSelection(state.selected);
  const box = $("zona-seleccionada");
  document.body.dataset.seleccion = state.selected.join(",");
  if (state.selected.length !== 1) {
    box.hidden = state.selected.length === 0;
    box.replaceChildren(el("p", {}, `${state.selected.length} zonas elegidas: ` +
      state.selected.join(", ")));
    return;
  }
  const code = state.selected[0];
  const zone = layers.zone(code).properties;
  const editable = !!state.proposal && state.can.edit;
  box.replaceChildren(
    el("h3", {}, `Zona ${code}`),
    el("p", { class: "nota" }, [zone.nombre, zone.familia].filter(Boolean).join(" · ")),
    editable ? normsForm(state.schema, zone, { onSubmit: (normas) => {
      if (!Object.keys(normas).length) {
        message("No cambió ninguna norma.", "aviso");
        return;
      }
      write((etag) => api.change(state.proposal.id, etag, { op: "normas", codigo: code, normas }),
        { select: [code], success: `Normas de ${code} guardadas.` });
    } }) : normsTable(state.schema, zone));
  box.hidden = false;
}

// -- the open proposal ------------------------------------------------------------------------

async function refreshProposal() {
  const p = state.proposal;
  state.can = renderProposal(p, state.user, state.schema);
  tools.enable(state.can.edit);
  const [zones, validation] = await Promise.all([api.zoning(p.id), api.validation(p.id)]);
  if (state.proposal?.id !== p.id) return;
  layers.showZones(zones);
  state.validation = validation;
  showProblems();
  select(state.selected);
  setView(`Propuesta ${p.id} (${p.estado_titulo}): zonificación resultante`,
    { diff: state.diffShown });
  if ($("seccion-impacto").open) await loadImpact();
  else $("impacto").replaceChildren(el("p", { class: "nota" },
    "Abra esta sección para calcular el impacto."));
  if (state.diffShown) layers.showDiff(await api.diff(p.id));
  document.body.dataset.revision = state.etag ?? "";
}

function openProposal(id) {
  return busy(() => loadProposal(id));
}

async function loadProposal(id) {
  clearMessage();
  closeProposal({ keepMessage: true });
  try {
    const { data, etag } = await api.get(id);
    Object.assign(state, { proposal: data, etag, selected: [], rejected: [] });
  } catch (error) {
    message(error.text ?? error.message, "error");
    return;
  }
  window.history.replaceState(null, "", `#propuesta=${id}`);
  $("seccion-propuesta").hidden = false;
  $("seccion-lista").open = false;
  list.setCurrent(id);
  await refreshProposal();
}

async function reloadProposal() {
  const { data, etag } = await api.get(state.proposal.id);
  Object.assign(state, { proposal: data, etag, rejected: [] });
  await refreshProposal();
}

function closeProposal({ keepMessage = false } = {}) {
  if (!keepMessage) clearMessage();
  Object.assign(state, { proposal: null, etag: null, selected: [], validation: null,
    rejected: [], diffShown: false });
  tools?.enable(false);
  $("seccion-propuesta").hidden = true;
  $("zona-seleccionada").hidden = true;
  $("ver-diferencias").setAttribute("aria-pressed", "false");
  layers.showZones(null);
  layers.showDiff(null);
  layers.showProblems([]);
  list?.setCurrent(null);
  delete document.body.dataset.estadoPropuesta;
  if (window.location.hash) window.history.replaceState(null, "", window.location.pathname);
  setView("Zonificación vigente (teselas de la plataforma)");
}

/** Run one write; on success keep the new version and ETag, on failure explain it. */
function write(call, options = {}) {
  return busy(() => writeNow(call, options));
}

async function writeNow(call, { select: codes, success } = {}) {
  clearMessage();
  try {
    const { data, etag } = await call(state.etag);
    Object.assign(state, { proposal: data, etag, rejected: [] });
    if (codes) state.selected = codes;
    await refreshProposal();
    if (success) message(success, "exito");
    await list.refresh();
    return true;
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.status === 412) {
      message(`${error.text} Se cargó la versión actual de la propuesta.`, "error");
      await reloadProposal();
    } else if (error.status === 401) {
      message("Su sesión expiró o no ha ingresado.", "error", el("a",
        { href: window.sesion.urlIngreso() }, "Ingresar de nuevo"));
    } else {
      message(error.text, "error");
      state.rejected = error.problems ?? [];
      showProblems();
    }
    return false;
  }
}

async function loadImpact() {
  const p = state.proposal;
  $("impacto").replaceChildren(el("p", { class: "nota" }, "Calculando el impacto…"));
  try {
    const [impact, diff] = await Promise.all([api.impact(p.id), api.diff(p.id)]);
    if (state.proposal?.id !== p.id) return;
    renderImpact(impact);
    $("impacto").prepend(el("h4", {}, "Zonas que cambian"), diffSummary(diff));
  } catch (error) {
    $("impacto").replaceChildren(el("p", { class: "error" }, error.text ?? error.message));
  }
}

async function toggleDiff() {
  state.diffShown = !state.diffShown;
  $("ver-diferencias").setAttribute("aria-pressed", String(state.diffShown));
  const diff = state.diffShown ? await api.diff(state.proposal.id) : null;
  layers.showDiff(diff);
  if (diff?.features.length) fitToFeatures(map, diff.features);
  document.body.dataset.diferencias = diff ? String(diff.features.length) : "";
  setView($("vista").textContent, { diff: state.diffShown });
}

async function act(action) {
  const id = state.proposal.id;
  const nota = $("nota-accion").value.trim() || undefined;
  let done;
  if (action === "aplicar") {
    done = await write((etag) => api.apply(id, etag));
    if (done) {
      message(`Propuesta aplicada: la zonificación vigente es ahora la versión ` +
        `${state.proposal.version_aplicada}.`, "exito");
      layers.reloadTiles();
      await zoningHistory(api, $("historia"), historyView());
    }
  } else if (action === "rebase") {
    done = await write((etag) => api.rebase(id, etag), { success: SUCCESS.rebase });
  } else {
    done = await write((etag) => api.act(id, etag, action, nota), { success: SUCCESS[action] });
  }
  if (done) $("nota-accion").value = "";
}

// -- set-up -----------------------------------------------------------------------------------

function historyView() {
  return {
    busy,
    zoning(collection, label) {
      closeProposal();
      layers.showZones(collection);
      setView(label);
    },
    diff(collection, label) {
      closeProposal();
      layers.showDiff(collection);
      document.body.dataset.diferencias = String(collection.features.length);
      setView(label, { diff: true });
    },
    current: () => closeProposal(),
    message,
  };
}

function referenceLayers() {
  const style = map.getStyle().layers;
  $("capas-referencia").replaceChildren(...Object.entries(config.capas_opcionales).map(
    ([name, title]) => el("label", { class: "fila" }, el("input", { type: "checkbox",
      dataset: { capa: name }, onchange: (event) => {
        for (const l of style.filter((s) => s.metadata?.["secplac:capa"] === name)) {
          map.setLayoutProperty(l.id, "visibility", event.target.checked ? "visible" : "none");
        }
      } }), ` ${title}`)));
}

function wireButtons() {
  $("cerrar-propuesta").addEventListener("click", () => closeProposal());
  $("deshacer").addEventListener("click", () => write(
    (etag) => api.undo(state.proposal.id, etag), { success: "Se deshizo el último cambio." }));
  $("ver-diferencias").addEventListener("click", () => busy(toggleDiff));
  $("seccion-impacto").addEventListener("toggle", () => {
    if ($("seccion-impacto").open && state.proposal) busy(loadImpact);
  });
  for (const button of document.querySelectorAll("#acciones [data-accion]")) {
    button.addEventListener("click", () => busy(() => act(button.dataset.accion)));
  }
  $("form-comentario").addEventListener("submit", (event) => busy(async () => {
    event.preventDefault();
    const text = $("texto-comentario");
    try {
      const { data, etag } = await api.comment(state.proposal.id, text.value.trim());
      Object.assign(state, { proposal: data, etag });
      text.value = "";
      renderProposal(data, state.user, state.schema);
    } catch (error) {
      message(error.text ?? error.message, "error");
    }
  }));
}

async function start() {
  document.body.dataset.ocupado = "no";
  const wanted = /propuesta=(\d+)/.exec(window.location.hash);
  state.user = renderSession($("sesion"));
  map = createMap(config.estilo);
  window.mapa = map; // for the planners' console and the browser tests
  // The style is enough to start (tiles keep loading): its layers and metadata are read.
  const styleLoaded = new Promise((resolve) => {
    if (map.isStyleLoaded()) resolve();
    else map.once("style.load", resolve);
  });
  const [queryables] = await Promise.all([api.queryables(), styleLoaded]);
  state.schema = queryables.properties ?? {};
  layers = zoningLayers(map, config);
  zoneTooltip(map);
  const draw = createDrawing(map, () => layers.zones());
  window.dibujo = draw;
  window.zonasMostradas = () => layers.zones(); // the zoning on the map (browser tests)
  tools = editingTools({
    map, draw, layers, panel: $("panel-herramienta"), toolbar: $("herramientas"),
    schema: () => state.schema, selection: () => state.selected, select, message,
    submit: (operation, codes) => write(
      (etag) => api.change(state.proposal.id, etag, operation), { select: codes }),
  });
  list = proposalList(api, { onOpen: openProposal });
  newProposalForm(api, state.user, { message, onCreated: async (id) => {
    await list.refresh();
    await openProposal(id);
  } });
  wireButtons();
  referenceLayers();
  closeProposal();
  await list.refresh();
  await zoningHistory(api, $("historia"), historyView());
  if (wanted) await openProposal(Number(wanted[1]));
  document.body.dataset.estado = "listo";
}

start().catch((error) => {
  console.error(error);
  document.body.dataset.estado = "error";
  message(`La página no se pudo iniciar: ${error.message}`);
});

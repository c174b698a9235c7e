// The open proposal in the side panel: its header (state, author, base version, rebase
// and conflicts), validation problems, list of changes, comments and history, the
// workflow buttons each role may use, and the impact report for reviewers.

import { el, formatNumber } from "./mapa-format.js";

const DATE = new Intl.DateTimeFormat("es-CL", { dateStyle: "short", timeStyle: "short" });
export const formatDate = (iso) => (iso ? DATE.format(new Date(iso)) : "");

const OPERATION_TITLES = {
  crear: "crear", geometria: "redibujar", normas: "normas", dividir: "dividir",
  fusionar: "fusionar", eliminar: "eliminar",
};

/** What the user may do with the proposal (the server checks it again). */
export function permissions(user, p) {
  const role = user?.rol;
  const staff = (...roles) => !!role && (role === "admin" || roles.includes(role));
  const author = !!user && p.autor === user.usuario;
  const draft = p.estado === "borrador";
  return {
    edit: staff("editor") && draft && (author || role === "admin"),
    comment: staff("editor", "revisor"),
    enviar: staff("editor") && author && draft,
    revisar: staff("revisor") && !author && p.estado === "enviada",
    solicitar_cambios: staff("revisor") && !author && ["enviada", "en_revision"].includes(p.estado),
    aprobar: staff("revisor") && !author && ["enviada", "en_revision"].includes(p.estado),
    rechazar: staff("revisor") && !author && ["enviada", "en_revision"].includes(p.estado),
    rebase: staff("editor") && draft && (author || role === "admin") && p.requiere_rebase,
    aplicar: role === "admin" && p.estado === "aprobada",
  };
}

function describeChange(c, schema) {
  const op = OPERATION_TITLES[c.op] ?? c.op;
  const norms = Object.keys(c.normas ?? {}).map((n) => schema[n]?.title ?? n).join(", ");
  const detail = {
    dividir: `${c.codigo} → ${c.codigo} y ${c.nuevo_codigo}`,
    fusionar: `${(c.codigos ?? []).join(" + ")} → ${c.codigo ?? c.codigos?.[0]}`,
    eliminar: `${c.codigo}${c.destino ? ` (superficie a ${c.destino})` : ""}`,
    normas: `${c.codigo}: ${norms}`,
  }[c.op] ?? c.codigo;
  return `${op}: ${detail}`;
}

/** Header, changes and comments of proposal `p`. */
export function renderProposal(p, user, schema = {}) {
  document.getElementById("propuesta-titulo").textContent = `Propuesta ${p.id}: ${p.titulo}`;
  document.getElementById("propuesta-datos").textContent =
    `Estado: ${p.estado_titulo} · autor: ${p.autor} · sobre la versión ${p.version_base} ` +
    `de la zonificación (vigente: ${p.version_vigente}) · última modificación ` +
    `${formatDate(p.actualizada)} por ${p.actualizada_por}`;
  document.getElementById("propuesta-justificacion").textContent = p.justificacion || "";
  document.body.dataset.estadoPropuesta = p.estado;
  const notes = [];
  if (p.requiere_rebase) {
    notes.push(el("p", { class: "aviso" }, "La zonificación vigente cambió desde que se " +
      `creó esta propuesta (versión ${p.version_base} → ${p.version_vigente}): debe ` +
      "actualizarse antes de enviarla o aprobarla."));
  }
  for (const c of p.conflictos ?? []) {
    notes.push(el("p", { class: "aviso conflicto" }, `Conflicto con la propuesta ${c.id} ` +
      `«${c.titulo}» (${c.autor}, ${c.estado.replace("_", " ")}): ambas cambian ` +
      `${c.zonas_comunes.join(", ")}.`));
  }
  if (p.version_aplicada) {
    notes.push(el("p", { class: "aviso exito" },
      `Aplicada como versión ${p.version_aplicada} de la zonificación.`));
  }
  document.getElementById("propuesta-avisos").replaceChildren(...notes);

  const can = permissions(user, p);
  document.getElementById("n-cambios").textContent = `(${p.cambios.length})`;
  document.getElementById("cambios").replaceChildren(...(p.cambios.length
    ? p.cambios.map((c) => el("li", { dataset: { op: c.op } }, describeChange(c, schema),
      el("span", { class: "nota" }, ` — ${c.autor}, ${formatDate(c.creado)}`)))
    : [el("li", { class: "nota" }, "Sin cambios todavía.")]));
  document.getElementById("deshacer").hidden = !(can.edit && p.cambios.length);

  const entries = [
    ...p.comentarios.map((c) => ({ when: c.creada, node: el("li", { class: "comentario" },
      el("strong", {}, c.autor), c.tipo && c.tipo !== "comentario" ? ` (${c.tipo})` : "",
      `: ${c.texto}`, el("span", { class: "nota" }, ` — ${formatDate(c.creada)}`)) })),
    ...p.transiciones.map((t) => ({ when: t.cuando, node: el("li", { class: "transicion" },
      `${t.por}: ${t.desde.replace("_", " ")} → ${t.hacia.replace("_", " ")}`,
      t.nota ? ` («${t.nota}»)` : "", el("span", { class: "nota" }, ` — ${formatDate(t.cuando)}`)) })),
  ].sort((a, b) => new Date(a.when) - new Date(b.when));
  document.getElementById("comentarios").replaceChildren(...(entries.length
    ? entries.map((e) => e.node) : [el("li", { class: "nota" }, "Sin comentarios.")]));
  document.getElementById("form-comentario").hidden = !can.comment;

  let any = false;
  for (const button of document.querySelectorAll("#acciones [data-accion]")) {
    button.hidden = !can[button.dataset.accion];
    any ||= !button.hidden;
  }
  document.getElementById("acciones").hidden = !any;
  return can;
}

/** The validation list: errors and warnings; a click zooms to the problem. */
export function renderValidation(result, { onShow, rejected = [] }) {
  const list = document.getElementById("validacion");
  const item = (p, kind) => el("li", { class: `problema ${kind}`, dataset: { tipo: kind } },
    el("span", { class: "etiqueta-problema" }, kind === "error" ? "Error" : "Aviso"), " ",
    p.mensaje,
    p.geometria ? el("button", { type: "button", class: "enlace", onclick: () => onShow(p) },
      " ver en el mapa") : null);
  const nodes = [];
  if (rejected.length) {
    nodes.push(el("li", { class: "nota" }, "Problemas del último cambio (no se guardó):"));
    nodes.push(...rejected.map((p) => item(p, "error")));
  }
  if (result) {
    nodes.push(...result.errores.map((p) => item(p, "error")));
    nodes.push(...result.avisos.map((p) => item(p, "aviso")));
    if (result.valida && !result.avisos.length) {
      nodes.push(el("li", { class: "valida" }, "Sin errores de validación."));
    } else if (result.valida) {
      nodes.push(el("li", { class: "valida" }, "Sin errores (solo avisos para la revisión)."));
    }
  }
  list.replaceChildren(...nodes);
}

const COLUMN_TITLES = {
  rol: "Rol", destino: "Destino", lote_m2: "Lote (m²)", zona_antes: "Zona antes",
  zona_despues: "Zona después", delta_edificable_m2: "Δ edificable (m²)",
  delta_ocupacion_m2: "Δ ocupación (m²)", delta_viviendas: "Δ viviendas",
  predios_cambian_zona: "Predios que cambian de zona",
  predios_cambian_normas: "Predios que cambian de normas", superficie_m2: "Superficie (m²)",
  edificable_antes_m2: "Edificable antes (m²)", edificable_despues_m2: "Edificable después (m²)",
  ocupacion_antes_m2: "Ocupación antes (m²)", ocupacion_despues_m2: "Ocupación después (m²)",
  viviendas_antes: "Viviendas antes", viviendas_despues: "Viviendas después",
  clase_oguc: "Clase OGUC", antes: "Antes", despues: "Después", uso: "Uso", sector: "Sector",
  nombre: "Nombre", codigo: "Código", area_m2: "Superficie (m²)", tipo: "Tipo",
  nivel: "Nivel",
};
const title = (key) => COLUMN_TITLES[key] ?? key.replaceAll("_", " ");
const cell = (v) => (typeof v === "number" ? formatNumber(v)
  : Array.isArray(v) ? v.join(", ") || "—" : v ?? "—");

function table(rows, limit = 50) {
  if (!rows.length) return el("p", { class: "nota" }, "Ninguno.");
  const keys = Object.keys(rows[0]);
  return el("div", { class: "tabla-desplazable" }, el("table", { class: "tabla-impacto" },
    el("thead", {}, el("tr", {}, ...keys.map((k) => el("th", {}, title(k))))),
    el("tbody", {}, ...rows.slice(0, limit).map((r) =>
      el("tr", {}, ...keys.map((k) => el("td", {}, cell(r[k])))))),
    rows.length > limit ? el("caption", {}, `Primeras ${limit} de ${formatNumber(rows.length, 0)} filas.`)
      : null));
}

/** The impact report: the Spanish summary, totals and tables. */
export function renderImpact(impact) {
  const totals = el("table", { class: "atributos totales" }, el("tbody", {},
    ...Object.entries(impact.totales).map(([k, v]) =>
      el("tr", {}, el("th", { scope: "row" }, title(k)), el("td", {}, cell(v)))),
    el("tr", {}, el("th", { scope: "row" }, "Población estimada en el área modificada"),
      el("td", {}, formatNumber(impact.poblacion_afectada, 0)))));
  document.getElementById("impacto").replaceChildren(
    el("p", { id: "resumen-impacto", class: "resumen" }, impact.resumen),
    el("h4", {}, "Totales"), totals,
    el("h4", {}, `Predios afectados (${formatNumber(impact.predios.length, 0)}` +
      `${impact.predios_truncado ? " o más" : ""})`), table(impact.predios),
    el("h4", {}, "Cabida en zonas de riesgo"), table(impact.capacidad_en_riesgo),
    el("h4", {}, "Usos de suelo que cambian de conformidad"), table(impact.usos_de_suelo),
    el("h4", {}, "Proyectos de inversión que cambian de compatibilidad"),
    table(impact.proyectos));
}

/** Diff summary under the impact: one line per changed zone. */
export function diffSummary(diff) {
  const zones = diff.features.filter((f) => f.properties.cambio);
  return el("ul", { id: "resumen-diferencias", class: "resumen-diferencias" },
    ...zones.map(({ properties: p }) => el("li", { dataset: { cambio: p.cambio } },
      el("strong", {}, p.codigo), ` ${p.cambio}`,
      p.agregado_m2 ? ` · +${formatNumber(p.agregado_m2, 0)} m²` : "",
      p.quitado_m2 ? ` · −${formatNumber(p.quitado_m2, 0)} m²` : "",
      ...Object.values(p.normas_cambiadas ?? {}).map((n) =>
        el("div", { class: "nota" }, `${n.titulo}: ${cell(n.antes)} → ${cell(n.despues)}`)))));
}

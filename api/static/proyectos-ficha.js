// The panel of one project: its fields, progress, funding by source and year with totals
// and warnings, stage history, attachments, links to its dossier, and its territorial
// profile (GET /proyectos/{codigo}/perfil). Figures carry data-dato / data-valor with the
// API's value, so that what is shown can be checked against the API.

import { el, formatNumber } from "./mapa-format.js";
import { money } from "./proyectos-lista.js";

const DATE = new Intl.DateTimeFormat("es-CL", { dateStyle: "short", timeStyle: "short" });

function formatDate(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : DATE.format(date);
}

function figure(key, value, text) {
  return el("span", { class: "dato", dataset: { dato: key, valor: value ?? "" } },
    text ?? (value ?? "sin dato"));
}

/** A value of a form field as a planner reads it (codes with their meaning, units). */
function fieldText(field, value) {
  if (value === null || value === undefined || value === "") return "sin dato";
  const option = field.opciones?.find((o) => o.valor === value);
  if (option) return option.etiqueta;
  if (field.unidad === "CLP") return money(value);
  if (field.tipo === "entero" || field.tipo === "decimal") {
    return `${formatNumber(Number(value))}${field.unidad ? ` ${field.unidad}` : ""}`;
  }
  if (field.tipo === "fecha") return String(value).split("-").reverse().join("-");
  return String(value);
}

function progress(key, title, percent) {
  const known = percent !== null && percent !== undefined && Number.isFinite(Number(percent));
  const value = known ? Math.max(0, Math.min(100, Number(percent))) : 0;
  return el("div", { class: "avance", dataset: { dato: key, valor: known ? percent : "" } },
    el("span", { class: "avance-titulo" }, title),
    el("span", { class: "barra", role: "progressbar", "aria-label": title,
      "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": known ? value : undefined },
    el("span", { class: "relleno", style: `width: ${value}%` })),
    el("span", { class: "avance-valor" }, known ? `${formatNumber(Number(percent), 1)} %`
      : "sin dato"));
}

function fundingTable(project, config) {
  const amounts = config.montos;
  const warn = (f) => f.ejecutado > f.aprobado;
  const rows = [...project.financiamiento].sort((a, b) =>
    a.fuente.localeCompare(b.fuente) || a.anio - b.anio);
  const bySource = new Map();
  for (const f of rows) {
    const sum = bySource.get(f.fuente) ?? Object.fromEntries(amounts.map((a) => [a.nombre, 0]));
    for (const a of amounts) sum[a.nombre] += f[a.nombre];
    bySource.set(f.fuente, sum);
  }
  const cells = (values) => amounts.map((a) => el("td", { class: "numero",
    dataset: { monto: a.nombre, valor: values[a.nombre] } }, money(values[a.nombre])));
  return el("div", { class: "tabla-desplazable" }, el("table",
    { id: "tabla-financiamiento", class: "tabla-impacto" },
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Fuente"),
      el("th", { scope: "col" }, "Año"),
      ...amounts.map((a) => el("th", { scope: "col", class: "numero" }, a.titulo)))),
    el("tbody", {}, ...(rows.length ? rows.map((f) => el("tr", {
      class: warn(f) ? "advertencia" : "", dataset: { fuente: f.fuente, anio: f.anio },
      title: warn(f) ? "El monto ejecutado supera el aprobado" : undefined },
    el("td", {}, f.fuente), el("td", {}, String(f.anio)), ...cells(f)))
      : [el("tr", {}, el("td", { colspan: 2 + amounts.length, class: "nota" },
        "Sin financiamiento registrado."))])),
    el("tfoot", {},
      ...(bySource.size > 1 ? [...bySource].map(([source, sum]) => el("tr",
        { class: "subtotal", dataset: { subtotal: source } },
        el("th", { scope: "row", colspan: 2 }, `Total ${source}`), ...cells(sum))) : []),
      el("tr", { class: "total", dataset: { total: "" } },
        el("th", { scope: "row", colspan: 2 }, "Total"), ...cells(project.totales)))));
}

function attachments(project, can, onAttach) {
  const list = el("ul", { id: "adjuntos", class: "adjuntos" },
    ...(project.adjuntos.length ? project.adjuntos.map((a) => el("li", {},
      el("a", { href: a.url, download: a.nombre }, a.nombre),
      ` (${formatNumber(a.bytes / 1024, 1)} kB)`, a.descripcion ? ` — ${a.descripcion}` : "",
      el("span", { class: "nota" }, ` ${a.subido_por}, ${formatDate(a.subido)}`)))
      : [el("li", { class: "nota" }, "Sin documentos adjuntos.")]));
  if (!can.edit) return list;
  const file = el("input", { type: "file", id: "archivo-adjunto", name: "archivo", required: true });
  const description = el("input", { id: "descripcion-adjunto", name: "descripcion",
    maxlength: 1000 });
  const form = el("form", { id: "form-adjunto", class: "formulario", onsubmit: (event) => {
    event.preventDefault();
    if (file.files.length) onAttach(file.files[0], description.value.trim());
  } }, el("label", { for: "archivo-adjunto" }, "Adjuntar un documento o foto"), file,
  el("label", { for: "descripcion-adjunto" }, "Descripción (opcional)"), description,
  el("div", { class: "fila-botones" }, el("button", { type: "submit" }, "Adjuntar")));
  return el("div", {}, list, form);
}

function deleteControls(project, onDelete) {
  const confirm = el("div", { id: "confirmar-eliminacion", class: "mensaje mensaje-aviso",
    hidden: true },
  el("span", { class: "texto" }, `¿Eliminar el proyecto ${project.codigo} con su ` +
    "financiamiento, historial y adjuntos? No se puede deshacer."),
  el("button", { type: "button", class: "peligro", id: "confirmar-eliminar",
    onclick: () => onDelete() }, "Sí, eliminar"),
  el("button", { type: "button", onclick: () => { confirm.hidden = true; } }, "Cancelar"));
  const button = el("button", { type: "button", id: "eliminar-proyecto", class: "peligro",
    onclick: () => { confirm.hidden = false; } }, "Eliminar");
  return [button, confirm];
}

/**
 * Show `project` (GET /proyectos/{codigo}) in `container`. `can` = {edit, delete};
 * handlers: onEdit(), onDelete(), onAttach(file, descripcion).
 */
export function renderProject(container, project, { config, can, urls, onEdit, onDelete,
  onAttach }) {
  const approved = project.totales.aprobado;
  const spent = approved ? (100 * project.totales.ejecutado) / approved : null;
  const [deleteButton, confirm] = can.delete ? deleteControls(project, onDelete) : [null, null];
  container.replaceChildren(...[
    el("h2", { id: "titulo-proyecto" }, `${project.codigo} · ${project.nombre}`),
    el("p", { class: "nota" }, el("span", { class: "estado", id: "etapa-proyecto" },
      project.etapa), ` ${project.sector}`,
    project.fuentes?.length ? ` · ${project.fuentes.join(", ")}` : ""),
    el("div", { class: "fila-botones" },
      el("a", { href: urls.ficha, id: "enlace-ficha", target: "_blank" }, "Ficha del proyecto"),
      el("a", { href: urls.pdf, id: "enlace-ficha-pdf" }, "Ficha en PDF"),
      can.edit ? el("button", { type: "button", id: "editar-proyecto", class: "principal",
        onclick: onEdit }, "Editar") : null, deleteButton),
    confirm,
    el("h3", {}, "Avance"),
    progress("avance_fisico", "Físico", project.avance_fisico),
    progress("avance_financiero", "Financiero", project.avance_financiero),
    progress("ejecucion", "Ejecutado / aprobado", spent),
    el("h3", {}, "Financiamiento por fuente y año"),
    fundingTable(project, config),
    project.advertencias.length ? el("ul", { id: "advertencias", class: "validacion" },
      ...project.advertencias.map((w) => el("li", { class: "problema aviso" }, w))) : null,
    el("details", { id: "seccion-datos" }, el("summary", {}, "Datos del proyecto"),
      el("table", { class: "atributos" }, el("tbody", {}, ...config.campos.map((f) =>
        el("tr", { dataset: { campo: f.nombre } }, el("th", { scope: "row" }, f.titulo),
          el("td", {}, fieldText(f, project[f.nombre]))))))),
    el("details", { id: "seccion-historial" }, el("summary", {}, "Historial de etapas"),
      el("ol", { id: "historial", class: "comentarios" }, ...project.historial.map((h) =>
        el("li", {}, el("strong", {}, h.etapa), ` — ${formatDate(h.fecha)}, ${h.usuario}`,
          h.nota ? el("span", { class: "nota" }, ` (${h.nota})`) : null)))),
    el("details", { id: "seccion-adjuntos" }, el("summary", {},
      `Adjuntos (${project.adjuntos.length})`), attachments(project, can, onAttach)),
    el("h3", {}, "Perfil territorial"),
    el("div", { id: "perfil", class: "perfil" }, el("p", { class: "nota" }, "Calculando el perfil…")),
    el("p", { class: "nota" }, `Creado por ${project.creado_por} el ` +
      `${formatDate(project.creado)}; última modificación de ${project.modificado_por} el ` +
      `${formatDate(project.modificado)} (versión ${project.version}).`),
  ].filter(Boolean));
}

function list(id, items, empty) {
  return el("ul", { id, class: "lista-perfil" },
    ...(items.length ? items : [el("li", { class: "nota" }, empty)]));
}

const pct = (value) => `${formatNumber(Number(value), 1)} %`;
const meters = (value) => `${formatNumber(Number(value), 0)} m`;

/** The territorial profile in `container`; `onOpen(codigo)` opens a nearby project. */
export function renderProfile(container, perfil, { onOpen }) {
  const zones = perfil.zonas_prc;
  const port = perfil.puerto;
  const territory = perfil.territorio;
  const served = perfil.poblacion_servida;
  const rasters = perfil.rasters ?? {};
  const stat = (layer, key) => rasters[layer]?.[key];
  container.replaceChildren(
    el("h4", {}, "Zonas del Plan Regulador"),
    el("p", {}, `Uso del proyecto (${perfil.proyecto.clase_oguc ?? "sin clase OGUC"}): `,
      figure("uso_permitido", zones.uso_permitido)),
    list("perfil-zonas", zones.zonas.map((z) => el("li", { dataset: { zona: z.codigo,
      porcentaje: z.porcentaje, uso: z.uso } },
    el("strong", {}, z.codigo), ` ${z.nombre ?? ""} — ${pct(z.porcentaje)} — `,
    el("span", { class: `uso uso-${z.uso.replace(" ", "-")}` }, z.uso))),
    "Fuera de las zonas del PRC."),
    el("h4", {}, "Riesgos"),
    list("perfil-riesgos", perfil.riesgos.zonas.map((r) => el("li", { dataset: {
      tipo: r.tipo, nivel: r.nivel, porcentaje: r.porcentaje } },
    `${r.tipo} (${r.nivel}) — ${pct(r.porcentaje)}`)), "No toca zonas de riesgo."),
    el("p", { class: "nota" }, "Elevación media ",
      figure("elevacion_media", stat("elevacion", "media"),
        stat("elevacion", "media") == null ? "sin dato" : meters(stat("elevacion", "media"))),
      " · pendiente máxima ", figure("pendiente_max", stat("pendiente", "max"),
        stat("pendiente", "max") == null ? "sin dato"
          : `${formatNumber(stat("pendiente", "max"), 1)}°`),
      " · tsunami máx. ", figure("tsunami_max", stat("profundidad_tsunami", "max"),
        stat("profundidad_tsunami", "max") == null ? "sin inundación"
          : `${formatNumber(stat("profundidad_tsunami", "max"), 1)} m`)),
    el("h4", {}, "Puerto"),
    el("ul", { class: "lista-perfil" },
      el("li", {}, "Ruta de acceso más cercana: ", port.ruta_cercana
        ? [port.ruta_cercana.nombre, " a ", figure("distancia_ruta_m",
          port.ruta_cercana.distancia_m, meters(port.ruta_cercana.distancia_m))]
        : "sin rutas"),
      el("li", {}, `Banda de camiones (${port.banda_camiones.ancho_m} m): `,
        figure("banda_camiones", String(port.banda_camiones.dentro),
          port.banda_camiones.dentro ? `dentro (${port.banda_camiones.rutas.join(", ")})`
            : "fuera")),
      el("li", {}, "Terminal más cercano: ", port.terminal_cercano
        ? [port.terminal_cercano.nombre, " a ", figure("distancia_terminal_m",
          port.terminal_cercano.distancia_m, meters(port.terminal_cercano.distancia_m))]
        : "sin terminales")),
    el("h4", {}, "Territorio y población servida"),
    list("perfil-zonas-censales", territory.zonas_censales.map((z) => el("li",
      { dataset: { geocodigo: z.geocodigo } }, `Zona censal ${z.geocodigo} — ` +
      `${pct(z.porcentaje)} (${formatNumber(z.poblacion, 0)} hab.)`)), "Sin zona censal."),
    list("perfil-sectores", territory.sectores.map((s) => el("li",
      { dataset: { sector: s.codigo } }, `Sector ${s.nombre} (${s.codigo}) — ` +
      pct(s.porcentaje))), "Sin sector de planificación."),
    el("p", {}, "Población a 500 m: ", figure("poblacion_500", served.radio_500_m.poblacion,
      formatNumber(served.radio_500_m.poblacion, 0)), " · a 1 km: ",
    figure("poblacion_1000", served.radio_1000_m.poblacion,
      formatNumber(served.radio_1000_m.poblacion, 0))),
    el("h4", {}, "Predios y uso de suelo"),
    el("p", {}, figure("predios", perfil.predios.total, formatNumber(perfil.predios.total, 0)),
      " predio(s); superficie afectada ", figure("superficie_afectada_m2",
        perfil.predios.superficie_afectada_m2,
        `${formatNumber(perfil.predios.superficie_afectada_m2 ?? 0, 0)} m²`)),
    list("perfil-usos", perfil.uso_de_suelo.usos.map((u) => el("li", {},
      `${u.uso} — ${pct(u.porcentaje)}`)), "Sin uso de suelo registrado."),
    el("h4", {}, `Proyectos a menos de ${perfil.proyectos_cercanos.radio_m} m`),
    list("perfil-cercanos", perfil.proyectos_cercanos.proyectos.map((o) => el("li",
      { dataset: { codigo: o.codigo, relacion: o.relacion } },
      el("button", { type: "button", class: "enlace", onclick: () => onOpen(o.codigo) },
        o.codigo), ` ${o.nombre} (${o.sector}, ${o.etapa}) — ${meters(o.distancia_m)} — `,
      el("span", { class: `relacion relacion-${o.relacion.replace(" ", "-")}` }, o.relacion))),
    "Ninguno."));
}

// The filters of the portfolio (funding source, stage, sector, first year with funding,
// text) and the table of the projects they leave. Source, stage, sector and text are
// asked to the API (GET /proyectos?fuente=&etapa=&sector=&q=), so the table and the map
// show exactly what the API answers; the year is applied to those rows here.

import { el, formatNumber } from "./mapa-format.js";

const ALL = "";

/** An amount in CLP as written in Chile ($ 1.500.000), or a dash. */
export function money(value) {
  return value === null || value === undefined ? "—" : `$ ${formatNumber(Number(value), 0)}`;
}

/** An amount in millions of pesos (MM$), as planning tables write it: 1.554,7. */
function millions(value) {
  return value === null || value === undefined ? "—" : formatNumber(Number(value) / 1e6, 1);
}

function options(select, entries) {
  select.replaceChildren(el("option", { value: ALL }, "Todas"),
    ...entries.map(([value, label]) => el("option", { value }, label)));
}

/**
 * The filters form and the table. `onOpen(codigo)` opens a project; `onShown(codes,
 * filtered)` gets the codes in the table after every change (filtered: any filter set);
 * `busy(task)` runs a task while the page shows it is working.
 */
export function projectList(api, config, { onOpen, onShown, message, busy }) {
  const form = document.getElementById("filtros");
  const body = document.querySelector("#tabla-proyectos tbody");
  const summary = document.getElementById("resumen-lista");
  let current = null;
  let asked = 0;

  options(form.fuente, config.fuentes.map((f) => [f.codigo, `${f.codigo} — ${f.nombre}`]));
  options(form.etapa, config.etapas.map((e) => [e, e]));
  options(form.sector, config.sectores.map((s) => [s, s]));
  options(form.anio, []);

  function filters() {
    return { fuente: form.fuente.value, etapa: form.etapa.value, sector: form.sector.value,
      q: form.q.value.trim() };
  }

  function years(rows) {
    const chosen = form.anio.value;
    const found = [...new Set(rows.map((r) => r.anio).filter((y) => y !== null))]
      .sort((a, b) => a - b);
    options(form.anio, found.map((y) => [String(y), String(y)]));
    form.anio.value = found.map(String).includes(chosen) ? chosen : ALL;
  }

  function row(p) {
    return el("tr", { dataset: { codigo: p.codigo, etapa: p.etapa },
      class: p.codigo === current ? "actual" : "", onclick: () => onOpen(p.codigo) },
    el("td", { class: "codigo" }, el("button", { type: "button", class: "enlace abrir" },
      p.codigo)),
    el("td", {}, p.nombre, el("span", { class: "nota sector" }, p.sector)),
    el("td", {}, el("span", { class: "estado" }, p.etapa)),
    el("td", { class: "numero", title: money(p.monto_clp),
      dataset: { valor: p.monto_clp ?? "" } }, millions(p.monto_clp)),
    el("td", { class: "numero", title: money(p.monto_ejecutado_clp),
      dataset: { valor: p.monto_ejecutado_clp ?? "" } }, millions(p.monto_ejecutado_clp)));
  }

  async function refresh({ allYears = false } = {}) {
    const ask = ++asked;
    const wanted = filters();
    let rows;
    try {
      if (allYears) years(await api.list());
      rows = await api.list(wanted);
    } catch (error) {
      if (ask === asked) message(error.text ?? error.message, "error");
      return;
    }
    if (ask !== asked) return; // a later change is being answered
    const year = form.anio.value;
    if (year) rows = rows.filter((r) => String(r.anio) === year);
    const total = rows.reduce((s, r) => s + (r.monto_clp ?? 0), 0);
    const spent = rows.reduce((s, r) => s + (r.monto_ejecutado_clp ?? 0), 0);
    summary.textContent = rows.length
      ? `${rows.length} proyecto(s) · costo total ${money(total)} · ejecutado ${money(spent)}`
      : "Ningún proyecto cumple los filtros.";
    body.replaceChildren(...rows.map(row));
    const filtered = Object.values(wanted).some(Boolean) || !!year;
    document.body.dataset.proyectos = String(rows.length);
    onShown(rows.map((r) => r.codigo), filtered);
  }

  let typing;
  form.addEventListener("change", () => busy(refresh));
  form.q.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => busy(refresh), 300);
  });
  form.addEventListener("submit", (event) => event.preventDefault());
  form.addEventListener("reset", () => setTimeout(() => busy(refresh)));

  return {
    refresh,
    setCurrent(codigo) {
      current = codigo;
      for (const tr of body.querySelectorAll("tr")) {
        tr.classList.toggle("actual", tr.dataset.codigo === codigo);
      }
    },
  };
}

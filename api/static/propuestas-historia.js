// The zoning through time: a slider between the first and the current zoning version
// (from the layer's history, /capas/zoning) shows the zoning as of the chosen instant
// (/collections/zoning/items?datetime=…), and two version pickers show what changed
// between them (/zonificacion/diferencias?desde=…&hasta=…).

import { el } from "./mapa-format.js";
import { formatDate } from "./propuestas-revision.js";

const FULL = new Intl.DateTimeFormat("es-CL", { dateStyle: "long", timeStyle: "medium" });

/**
 * Fill the «Historia» section. `show.zoning(collection, label)` and
 * `show.diff(collection, label)` put the result on the map; `show.current()` goes back
 * to the zoning in force.
 */
export async function zoningHistory(api, container, show) {
  let versions;
  try {
    versions = (await api.history()).historial ?? [];
  } catch (error) {
    container.replaceChildren(el("p", { class: "error" }, error.text ?? error.message));
    return null;
  }
  versions = versions.filter((v) => v.vigente_desde)
    .sort((a, b) => new Date(a.vigente_desde) - new Date(b.vigente_desde));
  if (!versions.length) {
    container.replaceChildren(el("p", { class: "nota" }, "La zonificación no tiene versiones."));
    return null;
  }
  // The first whole millisecond of each version (the API gives microseconds).
  const since = (v) => Math.floor(new Date(v.vigente_desde).getTime()) + 1;
  const first = since(versions[0]);
  const last = Math.max(first + 1000, since(versions.at(-1)));
  const versionAt = (t) => versions.filter((v) => since(v) <= t).at(-1);

  const marks = el("datalist", { id: "marcas-versiones" },
    ...versions.map((v) => el("option", { value: since(v),
      label: `v${v.version}` })));
  const slider = el("input", { type: "range", id: "fecha-zonificacion", min: first, max: last,
    step: 1, value: last, list: "marcas-versiones",
    "aria-describedby": "fecha-elegida" });
  const chosen = el("output", { id: "fecha-elegida", for: "fecha-zonificacion" });
  const label = () => {
    const t = Number(slider.value);
    const v = versionAt(t);
    return `${FULL.format(new Date(t))} — versión ${v?.version ?? "?"}`;
  };
  chosen.textContent = label();
  slider.addEventListener("input", () => { chosen.textContent = label(); });

  async function showAt(t) {
    const instant = new Date(t).toISOString();
    document.body.dataset.historia = "cargando";
    try {
      const items = await api.zoningAt(instant);
      show.zoning(items, `Zonificación al ${FULL.format(new Date(t))} ` +
        `(versión ${versionAt(t)?.version ?? "?"})`);
      document.body.dataset.historia = instant;
    } catch (error) {
      show.message(error.text ?? error.message, "error");
      document.body.dataset.historia = "error";
    }
  }
  slider.addEventListener("change", () => show.busy(() => showAt(Number(slider.value))));

  const options = (selected) => versions.map((v) => el("option",
    { value: v.version, selected: v.version === selected },
    `versión ${v.version} (${formatDate(v.vigente_desde)})`));
  const from = el("select", { id: "version-desde" },
    ...options(versions.at(-2)?.version ?? versions[0].version));
  const to = el("select", { id: "version-hasta" }, ...options(versions.at(-1).version));
  const compare = el("button", { type: "button", id: "comparar-versiones",
    onclick: () => show.busy(async () => {
      if (from.value === to.value) {
        show.message("Elija dos versiones distintas para compararlas.", "aviso");
        return;
      }
      try {
        const diff = await api.versionsDiff(from.value, to.value);
        show.diff(diff, `Diferencias entre las versiones ${from.value} y ${to.value}`);
      } catch (error) {
        show.message(error.text ?? error.message, "error");
      }
    }) }, "Ver diferencias");

  container.replaceChildren(
    el("p", { class: "nota" }, `${versions.length} versión(es) de la zonificación; ` +
      "mueva el control para ver la vigente en cada fecha."),
    el("label", { for: "fecha-zonificacion" }, "Zonificación vigente al"), slider, marks, chosen,
    el("div", { class: "fila-botones" },
      el("button", { type: "button", id: "ver-vigente", onclick: () => {
        slider.value = last;
        chosen.textContent = label();
        show.current();
      } }, "Volver a la vigente")),
    el("h4", {}, "Comparar versiones"),
    el("div", { class: "comparar" }, el("label", { for: "version-desde" }, "Desde"), from,
      el("label", { for: "version-hasta" }, "Hasta"), to, compare));
  return { showAt, versions };
}

// The layer switcher and legends, built from the style's metadata (never hard-coded):
// "secplac:temas" gives the themes and their layers, "secplac:leyendas" each layer's
// Spanish title and legend, and every style layer names its platform layer in
// metadata["secplac:capa"]. Raster layers also get an opacity slider.

import { el } from "./mapa-format.js";

const BASE_MAP = "mapa-base";

/** The style layers that draw the platform layer `name`. */
export function styleLayersOf(map, name) {
  return map.getStyle().layers.filter((l) => l.metadata && l.metadata["secplac:capa"] === name);
}

export function isLayerVisible(map, name) {
  return styleLayersOf(map, name).some(
    (l) => (map.getLayoutProperty(l.id, "visibility") ?? "visible") !== "none");
}

/** Show or hide every style layer of a platform layer, and tick its box. */
export function setLayerVisible(map, name, visible) {
  for (const l of styleLayersOf(map, name)) {
    map.setLayoutProperty(l.id, "visibility", visible ? "visible" : "none");
  }
  const box = document.querySelector(`input[data-capa="${CSS.escape(name)}"]`);
  if (box) {
    box.checked = visible;
    box.closest(".capa")?.classList.toggle("activa", visible);
  }
}

/** Names of every switchable layer, in the switcher's order. */
export function layerNames(map) {
  const themes = map.getStyle().metadata?.["secplac:temas"] ?? {};
  const names = Object.values(themes).flat();
  return styleLayersOf(map, BASE_MAP).length ? [BASE_MAP, ...names] : names;
}

export function visibleLayers(map) {
  return layerNames(map).filter((name) => isLayerVisible(map, name));
}

function swatch(kind, color) {
  return el("span", { class: `muestra muestra-${kind}`, style: `--color: ${color}`,
    "aria-hidden": "true" });
}

/** A legend as a list of swatches, or a colour ramp for rasters. */
function legendNode(legend) {
  if (!legend || !legend.entradas) return null;
  if (legend.tipo === "rampa") {
    const colors = legend.entradas.map((e) => e.color).join(", ");
    return el("div", { class: "leyenda leyenda-rampa" },
      el("span", { class: "rampa", style: `background: linear-gradient(to right, ${colors})`,
        "aria-hidden": "true" }),
      el("span", { class: "rampa-etiquetas" },
        ...legend.entradas.map((e) => el("span", {}, e.etiqueta))));
  }
  return el("div", { class: "leyenda" },
    legend.campo ? el("span", { class: "leyenda-campo" }, legend.campo) : null,
    el("ul", {}, ...legend.entradas.map((e) =>
      el("li", {}, swatch(legend.tipo, e.color), e.etiqueta))));
}

function minZoom(map, name) {
  return Math.max(0, ...styleLayersOf(map, name).map((l) => l.minzoom ?? 0));
}

function opacitySlider(map, name) {
  const ids = styleLayersOf(map, name).map((l) => l.id);
  const start = Math.round(100 * (map.getPaintProperty(ids[0], "raster-opacity") ?? 1));
  const output = el("output", {}, `${start} %`);
  const input = el("input", {
    type: "range", min: 0, max: 100, step: 5, value: start, dataset: { opacidad: name },
    "aria-label": "Opacidad",
    oninput: () => {
      for (const id of ids) map.setPaintProperty(id, "raster-opacity", input.value / 100);
      output.textContent = `${input.value} %`;
    },
  });
  return el("label", { class: "opacidad" }, "Opacidad ", input, output);
}

/** "contorno" for an area layer drawn as an outline only (the urban limit). */
function legendKind(map, name, legend) {
  const fills = styleLayersOf(map, name).filter((l) => l.type === "fill");
  return fills.length && fills.every((l) => map.getPaintProperty(l.id, "fill-opacity") === 0)
    ? { ...legend, tipo: "contorno" } : legend;
}

function layerItem(map, name, legend, { raster, onChange }) {
  const title = legend?.titulo ?? name;
  const visible = isLayerVisible(map, name);
  const box = el("input", {
    type: "checkbox", checked: visible, dataset: { capa: name },
    onchange: () => { setLayerVisible(map, name, box.checked); onChange(); },
  });
  const zoomNote = el("span", { class: "nota-zoom", dataset: { minzoom: minZoom(map, name) } },
    `visible desde el nivel de zoom ${minZoom(map, name)}: acerque el mapa`);
  const item = el("li", { class: `capa${visible ? " activa" : ""}` },
    el("label", { class: "capa-titulo" }, box, " ", title),
    zoomNote,
    raster ? raster.availability : null,
    el("div", { class: "capa-detalle" },
      legendNode(legend && legendKind(map, name, legend)),
      raster ? opacitySlider(map, name) : null));
  if (raster && raster.missing) box.disabled = true;
  return item;
}

function updateZoomNotes(map) {
  for (const note of document.querySelectorAll(".nota-zoom")) {
    note.hidden = map.getZoom() >= Number(note.dataset.minzoom);
  }
}

/**
 * Fill `container` with the switcher: one group per theme, each layer with a checkbox,
 * its legend and, for rasters (listed by /rasters), an opacity slider.
 */
export function buildLayerSwitcher(map, container, { rasters = [], onChange = () => {} }) {
  const style = map.getStyle();
  const themes = style.metadata?.["secplac:temas"] ?? {};
  const legends = style.metadata?.["secplac:leyendas"] ?? {};
  const rasterInfo = new Map(rasters.map((r) => [r.nombre, r]));
  const groups = [];
  if (styleLayersOf(map, BASE_MAP).length) {
    groups.push(el("fieldset", { class: "tema" }, el("legend", {}, "Mapa base"),
      el("ul", {}, layerItem(map, BASE_MAP,
        { titulo: "Mapa base en línea (requiere internet)" }, { onChange }))));
  }
  for (const [theme, names] of Object.entries(themes)) {
    const items = names.filter((n) => styleLayersOf(map, n).length).map((name) => {
      const isRaster = styleLayersOf(map, name).every((l) => l.type === "raster");
      let raster = null;
      if (isRaster) {
        const info = rasterInfo.get(name);
        const missing = !info || info.version === null;
        raster = { missing, availability: missing
          ? el("span", { class: "nota" }, "sin datos cargados") : null };
      }
      return layerItem(map, name, legends[name], { raster, onChange });
    });
    if (items.length) {
      groups.push(el("fieldset", { class: "tema" }, el("legend", {}, theme),
        el("ul", {}, ...items)));
    }
  }
  container.replaceChildren(...groups);
  updateZoomNotes(map);
  map.on("zoomend", () => updateZoomNotes(map));
}

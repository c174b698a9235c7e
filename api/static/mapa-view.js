// The view in the URL, so that a link shows the same map: the hash holds the centre and
// zoom, the visible layers and the project filters, e.g.
//   /mapa#mapa=16.50/-33.59120/-71.61230&capas=comunas,zoning,parcels&etapa=diseño
// It is rewritten as the planner moves the map and read again when the hash changes.
// Also: copy the link of the view, and export the view as a PNG image.

import { el, notify } from "./mapa-format.js";

const VIEW_KEY = "mapa";
const LAYERS_KEY = "capas";

/** The state written in a hash: {zoom, center: [lon, lat], layers: [...], filters: {...}}. */
export function parseHash(hash) {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  const state = { filters: {} };
  const view = (params.get(VIEW_KEY) ?? "").split("/").map(Number);
  if (view.length === 3 && view.every(Number.isFinite) && Math.abs(view[1]) <= 90 &&
      Math.abs(view[2]) <= 180 && view[0] >= 0 && view[0] <= 24) {
    state.zoom = view[0];
    state.center = [view[2], view[1]];
  }
  if (params.has(LAYERS_KEY)) {
    state.layers = params.get(LAYERS_KEY).split(",").map((s) => s.trim()).filter(Boolean);
  }
  for (const [key, value] of params) {
    if (key !== VIEW_KEY && key !== LAYERS_KEY) state.filters[key] = value;
  }
  return state;
}

/** The hash of a state (the inverse of parseHash). */
export function formatHash({ zoom, center, layers, filters = {} }) {
  const parts = [`${VIEW_KEY}=${zoom.toFixed(2)}/${center[1].toFixed(5)}/${center[0].toFixed(5)}`];
  if (layers) parts.push(`${LAYERS_KEY}=${layers.map(encodeURIComponent).join(",")}`);
  for (const [key, value] of Object.entries(filters)) {
    parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(value)}`);
  }
  return `#${parts.join("&")}`;
}

/**
 * Keep the URL hash in step with the map. `layers` = {get(), set(names)} and
 * `filters` = {get(), set(state)} give and apply the rest of the state.
 */
export function syncHash(map, { layers, filters }) {
  let written = window.location.hash;
  const apply = (state) => {
    if (state.center) map.jumpTo({ center: state.center, zoom: state.zoom });
    if (state.layers) layers.set(state.layers);
    if (filters) filters.set(state.filters);
  };
  const write = () => {
    const c = map.getCenter();
    const hash = formatHash({ zoom: map.getZoom(), center: [c.lng, c.lat],
      layers: layers.get(), filters: filters ? filters.get() : {} });
    if (hash !== written) {
      written = hash;
      window.history.replaceState(null, "", hash);
    }
  };
  window.addEventListener("hashchange", () => {
    if (window.location.hash === written) return;
    written = window.location.hash;
    apply(parseHash(written));
  });
  map.on("moveend", write);
  apply(parseHash(window.location.hash));
  return { write };
}

/** Copy the link of the current view; where the clipboard is not allowed, show it. */
export async function shareView() {
  const url = window.location.href;
  try {
    await navigator.clipboard.writeText(url);
    notify("Enlace de esta vista copiado al portapapeles.");
  } catch {
    const field = el("input", { type: "text", readonly: true, value: url, size: 60,
      "aria-label": "Enlace de esta vista" });
    notify(el("span", {}, "Copie el enlace de esta vista: ", field), { seconds: 0 });
    field.select();
  }
}

function timestamp(date) {
  const two = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())}` +
    ` ${two(date.getHours())}:${two(date.getMinutes())}`;
}

/**
 * The current view as a PNG data URL: the map's canvas (kept after drawing by
 * preserveDrawingBuffer) with a footer naming the map, the date and the sources.
 */
export function viewImage(map) {
  const source = map.getCanvas();
  const footer = 40 * window.devicePixelRatio;
  const canvas = document.createElement("canvas");
  canvas.width = source.width;
  canvas.height = source.height + footer;
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(source, 0, 0);
  ctx.fillStyle = "#263238";
  ctx.font = `${13 * window.devicePixelRatio}px sans-serif`;
  ctx.textBaseline = "middle";
  const y = source.height + footer / 2;
  ctx.fillText(`Mapa territorial de San Antonio — SECPLAC · ${timestamp(new Date())}`,
    10 * window.devicePixelRatio, y - 7 * window.devicePixelRatio);
  ctx.fillStyle = "#546e7a";
  ctx.font = `${11 * window.devicePixelRatio}px sans-serif`;
  ctx.fillText("Fuentes: SECPLAC San Antonio; INE Censo 2017. Datos de demostración salvo " +
    "comunas y zonas censales.", 10 * window.devicePixelRatio, y + 9 * window.devicePixelRatio);
  return canvas.toDataURL("image/png");
}

/** Download the current view as a PNG file. */
export function exportPng(map) {
  map.once("render", () => {
    const link = el("a", { href: viewImage(map),
      download: `mapa-san-antonio-${timestamp(new Date()).replace(/[ :]/g, "-")}.png` });
    document.body.append(link);
    link.click();
    link.remove();
  });
  map.triggerRepaint();
}

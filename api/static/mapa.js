// The planners' web map (/mapa): MapLibre with the platform's own style, tiles and data,
// all served by this server (works without internet). This module builds the map and
// wires the parts, each in its own module:
//   mapa-layers.js   layer switcher and legends from the style's metadata
//   mapa-popup.js    feature attributes on click, zone norms of a parcel
//   mapa-search.js   search box (GET /buscar) with zoom to the result
//   mapa-filters.js  filters of the investment projects
//   mapa-measure.js  distance and area measurement
//   mapa-view.js     view in the URL hash, share link, PNG export

import { getJSON, notify } from "./mapa-format.js";
import { buildFilters } from "./mapa-filters.js";
import { buildLayerSwitcher, layerNames, setLayerVisible, visibleLayers }
  from "./mapa-layers.js";
import { enableMeasure } from "./mapa-measure.js";
import { enableFeatureInfo, highlight, layerSchema, openPopup } from "./mapa-popup.js";
import { enableSearch } from "./mapa-search.js";
import { exportPng, parseHash, shareView, syncHash } from "./mapa-view.js";

const config = JSON.parse(document.getElementById("configuracion").textContent);

const SPANISH_CONTROLS = {
  "AttributionControl.ToggleAttribution": "Mostrar u ocultar las fuentes",
  "AttributionControl.MapFeedback": "Comentarios sobre el mapa",
  "FullscreenControl.Enter": "Pantalla completa",
  "FullscreenControl.Exit": "Salir de pantalla completa",
  "GeolocateControl.FindMyLocation": "Mi ubicación",
  "GeolocateControl.LocationNotAvailable": "Ubicación no disponible",
  "NavigationControl.ResetBearing": "Orientar al norte",
  "NavigationControl.ZoomIn": "Acercar",
  "NavigationControl.ZoomOut": "Alejar",
  "ScrollZoomBlocker.CtrlMessage": "Use Ctrl + rueda del ratón para acercar o alejar",
  "TouchPanBlocker.Message": "Use dos dedos para mover el mapa",
  "Popup.Close": "Cerrar",
};

function createMap() {
  const start = parseHash(window.location.hash);
  const map = new maplibregl.Map({
    container: "mapa",
    style: config.estilo,
    ...(start.center ? { center: start.center, zoom: start.zoom } : {}),
    canvasContextAttributes: { preserveDrawingBuffer: true },
    attributionControl: { compact: true },
    locale: SPANISH_CONTROLS,
    maxZoom: 20,
  });
  map.addControl(new maplibregl.NavigationControl(), "top-right");
  map.addControl(new maplibregl.FullscreenControl(), "top-right");
  map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-left");
  map.on("error", (event) => {
    const message = event.error?.message ?? "";
    console.error("Error del mapa:", message);
    notify("Parte del mapa no se pudo cargar. Revise la conexión con el servidor.");
  });
  return map;
}

async function loadRasters() {
  try {
    return await getJSON(config.rasters);
  } catch (error) {
    notify(`No se pudo obtener la lista de rasters: ${error.message}`);
    return [];
  }
}

/** Zoom to a search result, switch its layer on and open its card. */
async function showSearchHit(map, popup, hit) {
  const [w, s, e, n] = hit.bbox;
  setLayerVisible(map, hit.capa, true);
  const bounds = [[w, s], [e, n]];
  if (w === e && s === n) map.jumpTo({ center: [w, s], zoom: 17 });
  else map.fitBounds(bounds, { padding: 60, maxZoom: 18, duration: 0 });
  try {
    const item = await getJSON(
      `${config.colecciones}/${encodeURIComponent(hit.capa)}/items/${hit.fid}`);
    const [lng, lat] = hit.punto; // on the feature: its zone is the zone of this point
    const style = map.getStyle().layers.find((l) => l.metadata?.["secplac:capa"] === hit.capa);
    await openPopup(map, config, popup, { lng, lat }, [{
      layer: hit.capa, fid: hit.fid, properties: item.properties,
      labelField: style?.metadata["secplac:etiqueta"],
    }], []);
  } catch (error) {
    highlight(map, null);
    notify(error.message);
  }
}

async function start() {
  const map = createMap();
  window.mapa = map; // for the planners' console and the browser tests
  const [rasters] = await Promise.all([loadRasters(), map.once("load")]);
  // Sources stay one click away (the "i" button) instead of covering the scale.
  map.getContainer().querySelector(".maplibregl-compact-show")
    ?.classList.remove("maplibregl-compact-show");

  let hash = null;
  const changed = () => hash && hash.write();
  buildLayerSwitcher(map, document.getElementById("selector-capas"), { rasters,
    onChange: changed });

  const filterForms = [];
  for (const [layer, fields] of Object.entries(config.filtros)) {
    const schema = await layerSchema(config, layer);
    filterForms.push(buildFilters(map, document.getElementById("filtros-proyectos"), layer,
      fields, schema, { onChange: changed }));
  }
  const filters = filterForms.length ? {
    get: () => Object.assign({}, ...filterForms.map((f) => f.get())),
    set: (state) => filterForms.forEach((f) => f.set(state)),
  } : null;

  const measure = enableMeasure(map, {
    distanceButton: document.getElementById("medir-distancia"),
    areaButton: document.getElementById("medir-area"),
    output: document.getElementById("medicion"),
  });
  const popup = enableFeatureInfo(map, config, { rasters: () => rasters,
    isBusy: measure.isActive });
  enableSearch(config, document.getElementById("busqueda"),
    { onSelect: (hit) => showSearchHit(map, popup, hit) });

  hash = syncHash(map, {
    layers: {
      get: () => visibleLayers(map),
      set: (names) => layerNames(map).forEach((n) => setLayerVisible(map, n, names.includes(n))),
    },
    filters,
  });
  hash.write();

  document.getElementById("exportar-png").addEventListener("click", () => exportPng(map));
  document.getElementById("compartir").addEventListener("click", shareView);
  document.body.dataset.estado = "listo";
}

start().catch((error) => {
  console.error(error);
  document.body.dataset.estado = "error";
  notify(`El mapa no se pudo iniciar: ${error.message}`, { seconds: 0 });
});

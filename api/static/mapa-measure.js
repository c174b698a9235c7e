// Measuring distances and areas on the map, on the WGS 84 ellipsoid.
//
// Distances add up segments measured with the ellipsoid's radii of curvature at each
// segment's mid-latitude; areas use the ellipsoidal Lambert cylindrical equal-area
// projection (areas preserved exactly) and the shoelace formula. For the distances of a
// comuna (segments of a few km) both agree with geodesic computations (pyproj.Geod) to
// better than 0.01 %, as tests/api/test_viewer.py checks.

import { el, formatNumber } from "./mapa-format.js";

const A = 6378137;
const F = 1 / 298.257223563;
const E2 = F * (2 - F);
const E = Math.sqrt(E2);
const RAD = Math.PI / 180;

/** Length in metres of the segment between two [lon, lat] points. */
export function segmentLength(p, q) {
  const phi = ((p[1] + q[1]) / 2) * RAD;
  const w = 1 - E2 * Math.sin(phi) ** 2;
  const meridional = (A * (1 - E2)) / w ** 1.5;
  const normal = A / Math.sqrt(w);
  const dy = meridional * (q[1] - p[1]) * RAD;
  const dx = normal * Math.cos(phi) * (q[0] - p[0]) * RAD;
  return Math.hypot(dx, dy);
}

/** Length in metres of a line of [lon, lat] points. */
export function lineLength(points) {
  let total = 0;
  for (let i = 1; i < points.length; i += 1) total += segmentLength(points[i - 1], points[i]);
  return total;
}

function authalicQ(phi) {
  const s = Math.sin(phi);
  return (1 - E2) * (s / (1 - E2 * s * s) - Math.log((1 - E * s) / (1 + E * s)) / (2 * E));
}

/** Area in m² of a polygon given as a ring of [lon, lat] points (closed or not). */
export function polygonArea(ring) {
  if (ring.length < 3) return 0;
  const lat0 = ring.reduce((sum, p) => sum + p[1], 0) / ring.length;
  const k0 = Math.cos(lat0 * RAD) / Math.sqrt(1 - E2 * Math.sin(lat0 * RAD) ** 2);
  const xy = ring.map(([lon, lat]) => [A * k0 * lon * RAD, (A * authalicQ(lat * RAD)) / (2 * k0)]);
  let twice = 0;
  for (let i = 0; i < xy.length; i += 1) {
    const [x1, y1] = xy[i];
    const [x2, y2] = xy[(i + 1) % xy.length];
    twice += x1 * y2 - x2 * y1;
  }
  return Math.abs(twice) / 2;
}

export function formatLength(metres) {
  return metres < 1000 ? `${formatNumber(metres, 1)} m`
    : `${formatNumber(metres / 1000, 3)} km`;
}

export function formatArea(squareMetres) {
  return squareMetres < 10000 ? `${formatNumber(squareMetres, 1)} m²`
    : `${formatNumber(squareMetres / 10000, 2)} ha (${formatNumber(squareMetres, 0)} m²)`;
}

const SOURCE = "medicion";

function drawing(points, mode, cursor) {
  const line = cursor ? [...points, cursor] : points;
  const features = points.map((p) => ({ type: "Feature", properties: {},
    geometry: { type: "Point", coordinates: p } }));
  if (line.length >= 2) {
    const coords = mode === "area" && line.length >= 3 ? [...line, line[0]] : line;
    features.push({ type: "Feature", properties: {},
      geometry: { type: "LineString", coordinates: coords } });
  }
  if (mode === "area" && line.length >= 3) {
    features.push({ type: "Feature", properties: {},
      geometry: { type: "Polygon", coordinates: [[...line, line[0]]] } });
  }
  return { type: "FeatureCollection", features };
}

function ensureLayers(map) {
  if (map.getSource(SOURCE)) return;
  map.addSource(SOURCE, { type: "geojson", data: drawing([], null) });
  map.addLayer({ id: `${SOURCE}-area`, type: "fill", source: SOURCE,
    filter: ["==", ["geometry-type"], "Polygon"],
    paint: { "fill-color": "#ff6f00", "fill-opacity": 0.15 } });
  map.addLayer({ id: `${SOURCE}-linea`, type: "line", source: SOURCE,
    filter: ["==", ["geometry-type"], "LineString"],
    paint: { "line-color": "#ff6f00", "line-width": 3, "line-dasharray": [2, 1] } });
  map.addLayer({ id: `${SOURCE}-vertices`, type: "circle", source: SOURCE,
    filter: ["==", ["geometry-type"], "Point"],
    paint: { "circle-radius": 4, "circle-color": "#ffffff", "circle-stroke-color": "#ff6f00",
      "circle-stroke-width": 2 } });
}

/** The text of a measurement of `points` ([lon, lat]) in `mode` ("distancia" | "area"). */
export function describe(points, mode) {
  if (mode === "area") {
    if (points.length < 3) return "Área: agregue al menos tres puntos.";
    return `Área: ${formatArea(polygonArea(points))} · perímetro: ` +
      formatLength(lineLength([...points, points[0]]));
  }
  if (points.length < 2) return "Distancia: agregue al menos dos puntos.";
  return `Distancia: ${formatLength(lineLength(points))}`;
}

/**
 * Wire the two measure buttons. Clicks add points, a double click (or Entrar) ends,
 * Esc cancels. Returns { isActive() } so that feature popups stay quiet meanwhile.
 */
export function enableMeasure(map, { distanceButton, areaButton, output }) {
  let mode = null;
  let points = [];
  const buttons = { distancia: distanceButton, area: areaButton };

  const render = (cursor) => {
    ensureLayers(map);
    map.getSource(SOURCE).setData(drawing(points, mode, cursor));
  };
  const report = (finished) => {
    const clear = el("button", { type: "button", onclick: () => stop(true) }, "Borrar medición");
    const help = finished ? null : el("span", { class: "nota" },
      "Clic: agregar punto · doble clic o Entrar: terminar · Esc: cancelar");
    output.replaceChildren(el("strong", { class: "resultado" },
      describe(points, output.dataset.modo)), " ", help, clear);
    output.hidden = false;
  };
  const stop = (clear) => {
    mode = null;
    for (const b of Object.values(buttons)) b.setAttribute("aria-pressed", "false");
    map.getCanvas().style.cursor = "";
    map.doubleClickZoom.enable();
    if (clear) {
      points = [];
      render(null);
      output.hidden = true;
    } else {
      render(null);
      report(true);
    }
  };
  const start = (newMode) => {
    const same = mode === newMode;
    stop(true);
    if (same) return;
    mode = newMode;
    output.dataset.modo = newMode;
    buttons[newMode].setAttribute("aria-pressed", "true");
    map.doubleClickZoom.disable();
    map.getCanvas().style.cursor = "crosshair";
    report(false);
  };

  distanceButton.addEventListener("click", () => start("distancia"));
  areaButton.addEventListener("click", () => start("area"));
  map.on("click", (event) => {
    if (!mode) return;
    const p = [event.lngLat.lng, event.lngLat.lat];
    const last = points[points.length - 1];
    if (last && last[0] === p[0] && last[1] === p[1]) return;
    points.push(p);
    render(null);
    report(false);
  });
  map.on("mousemove", (event) => {
    if (mode && points.length) render([event.lngLat.lng, event.lngLat.lat]);
  });
  map.on("dblclick", (event) => {
    if (!mode) return;
    event.preventDefault();
    stop(false);
  });
  document.addEventListener("keydown", (event) => {
    if (!mode) return;
    if (event.key === "Escape") stop(true);
    if (event.key === "Enter") stop(false);
  });
  return { isActive: () => mode !== null };
}

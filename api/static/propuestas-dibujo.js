// Drawing and editing zones with terra-draw (npm packages terra-draw and
// terra-draw-maplibre-gl-adapter, served by this server):
//   dividir    draw a cut line across the selected zone;
//   redibujar  drag the selected zone's vertices, add one from a mid-point, delete one
//              with a right click;
//   crear      draw a new zone (it takes its area from the zones under it);
//   fusionar   pick several neighbouring zones and merge them;
//   eliminar   delete the selected zone, its area going to a neighbour.
// Every vertex drawn or moved snaps to the vertices, or else to the edges, of the zones
// on screen within a few pixels, so that the zoning stays a clean partition.

import { el } from "./mapa-format.js";

const SNAP_PX = 12;
const PRECISION = 8; // decimals of a degree: about 1 mm, as the API writes them

const round = (v) => Number(v.toFixed(PRECISION));

/** Polygons of a (Multi)Polygon geometry, as arrays of rings. */
export function polygonsOf(geometry) {
  if (!geometry) return [];
  return geometry.type === "Polygon" ? [geometry.coordinates]
    : geometry.type === "MultiPolygon" ? geometry.coordinates : [];
}

const ringIndex = new WeakMap();

/** Every ring of a zoning with its bounding box (cached per FeatureCollection). */
function ringsOf(zones) {
  if (!ringIndex.has(zones)) {
    const rings = [];
    for (const f of zones.features) {
      for (const polygon of polygonsOf(f.geometry)) {
        for (const ring of polygon) {
          const xs = ring.map((c) => c[0]);
          const ys = ring.map((c) => c[1]);
          rings.push({ ring, box: [Math.min(...xs), Math.min(...ys), Math.max(...xs),
            Math.max(...ys)] });
        }
      }
    }
    ringIndex.set(zones, rings);
  }
  return ringIndex.get(zones);
}

const overlaps = (a, b) => a[0] <= b[2] && b[0] <= a[2] && a[1] <= b[3] && b[1] <= a[3];

function closestOnSegment(p0, p1, q) {
  const dx = p1.x - p0.x;
  const dy = p1.y - p0.y;
  const len = dx * dx + dy * dy;
  const t = len ? Math.max(0, Math.min(1, ((q.x - p0.x) * dx + (q.y - p0.y) * dy) / len)) : 0;
  return { x: p0.x + t * dx, y: p0.y + t * dy };
}

/** terra-draw's custom snapping: the nearest zone vertex within SNAP_PX pixels, else
 * the nearest point of a zone edge, else no snapping. */
export function zoneSnapper(map, zonesOf) {
  return (event) => {
    const q = { x: event.containerX, y: event.containerY };
    const a = map.unproject([q.x - SNAP_PX, q.y + SNAP_PX]);
    const b = map.unproject([q.x + SNAP_PX, q.y - SNAP_PX]);
    const box = [a.lng, a.lat, b.lng, b.lat];
    const near = ringsOf(zonesOf()).filter((r) => overlaps(r.box, box)).map((r) => r.ring);
    let best = null;
    let bestDistance = SNAP_PX;
    for (const ring of near) {
      for (const c of ring) {
        if (!overlaps([c[0], c[1], c[0], c[1]], box)) continue;
        const p = map.project(c);
        const d = Math.hypot(p.x - q.x, p.y - q.y);
        if (d < bestDistance) [best, bestDistance] = [c, d];
      }
    }
    if (best) return [best[0], best[1]];
    bestDistance = SNAP_PX * 0.75;
    for (const ring of near) {
      for (let i = 1; i < ring.length; i++) {
        const [c0, c1] = [ring[i - 1], ring[i]];
        const segment = [Math.min(c0[0], c1[0]), Math.min(c0[1], c1[1]),
          Math.max(c0[0], c1[0]), Math.max(c0[1], c1[1])];
        if (!overlaps(segment, box)) continue;
        const p = closestOnSegment(map.project(c0), map.project(c1), q);
        const d = Math.hypot(p.x - q.x, p.y - q.y);
        if (d < bestDistance) [best, bestDistance] = [p, d];
      }
    }
    if (!best) return undefined;
    const ll = map.unproject([best.x, best.y]);
    return [round(ll.lng), round(ll.lat)];
  };
}

/** A started terra-draw instance on `map`, idle ("static" mode). */
export function createDrawing(map, zonesOf) {
  const { TerraDraw, TerraDrawLineStringMode, TerraDrawPolygonMode, TerraDrawSelectMode } =
    window.terraDraw;
  const { TerraDrawMapLibreGLAdapter } = window.terraDrawMaplibreGlAdapter;
  const snapping = { toCustom: zoneSnapper(map, zonesOf) };
  const draw = new TerraDraw({
    adapter: new TerraDrawMapLibreGLAdapter({ map, coordinatePrecision: PRECISION }),
    modes: [
      new TerraDrawLineStringMode({ snapping, styles: {
        lineStringColor: "#0d47a1", lineStringWidth: 3, closingPointColor: "#0d47a1",
        closingPointWidth: 6, snappingPointColor: "#ff6f00" } }),
      new TerraDrawPolygonMode({ snapping, styles: {
        fillColor: "#1565c0", fillOpacity: 0.25, outlineColor: "#0d47a1", outlineWidth: 3,
        closingPointColor: "#0d47a1", snappingPointColor: "#ff6f00" } }),
      new TerraDrawSelectMode({
        // The zone being reshaped stays selected; keys never delete or rotate it.
        allowManualDeselection: false,
        keyEvents: { deselect: null, delete: null, rotate: null, scale: null },
        flags: { polygon: { feature: { draggable: false, coordinates: {
          draggable: true, midpoints: true, deletable: true, snappable: snapping } } } },
        styles: { selectedPolygonColor: "#1565c0", selectedPolygonFillOpacity: 0.25,
          selectedPolygonOutlineColor: "#0d47a1", selectedPolygonOutlineWidth: 3,
          selectionPointColor: "#ffffff", selectionPointOutlineColor: "#0d47a1",
          selectionPointWidth: 5, midPointColor: "#90caf9" },
      }),
    ],
  });
  draw.start();
  draw.setMode("static");
  return draw;
}

function ringArea(ring) {
  let sum = 0;
  for (let i = 1; i < ring.length; i++) {
    sum += ring[i - 1][0] * ring[i][1] - ring[i][0] * ring[i - 1][1];
  }
  return Math.abs(sum / 2);
}

/** Zones sharing at least one vertex with `code` (neighbours in a partition). */
export function neighbours(zones, code) {
  const key = (c) => `${c[0].toFixed(7)},${c[1].toFixed(7)}`;
  const own = zones.features.find((f) => f.properties.codigo === code);
  if (!own) return [];
  const mine = new Set(polygonsOf(own.geometry).flat(2).map(key));
  return zones.features.filter((f) => f.properties.codigo !== code &&
    polygonsOf(f.geometry).some((p) => p.some((r) => r.some((c) => mine.has(key(c))))))
    .map((f) => f.properties.codigo).sort();
}

/** The zone's polygons with the index of the largest (the one edited by «redibujar»). */
export function largestPolygon(geometry) {
  const polygons = polygonsOf(geometry);
  let index = 0;
  polygons.forEach((p, i) => { if (ringArea(p[0]) > ringArea(polygons[index][0])) index = i; });
  return { polygons, index };
}

/** A free code for the zone split off `code` («ZH-1-B», else «ZH-1-C»…). */
export function freeCode(zones, code) {
  const taken = new Set(zones.features.map((f) => f.properties.codigo));
  for (const letter of "BCDEFGHJKLMNPQRSTUVWXYZ") {
    if (!taken.has(`${code}-${letter}`)) return `${code}-${letter}`;
  }
  return `${code}-N`;
}

/** Help text and buttons for the tool panel. */
export function toolHelp(title, text, ...controls) {
  return [el("h3", {}, title), el("p", { class: "nota" }, text), ...controls];
}

"""Street blocks (manzanas): rotated grids of rectangles laid over each zone of the PRC and,
for large cadastres, over the rural comuna; blocks lie wholly inside their patch, so
neighbouring patches are separated by streets."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from gis.demo.common import polygonal
from gis.demo.partition import voronoi_split

# family: (block length range, block width range, street width, nominal lot m², ochavos)
BLOCK_SPECS = {
    "residencial": ((80.0, 130.0), (40.0, 60.0), 14.0, 260.0, True),
    "mixta": ((90.0, 120.0), (50.0, 70.0), 16.0, 320.0, True),
    "centro": ((85.0, 110.0), (70.0, 95.0), 16.0, 280.0, True),
    "equipamiento": ((100.0, 160.0), (60.0, 100.0), 16.0, 1_500.0, True),
    "industrial": ((150.0, 260.0), (90.0, 140.0), 20.0, 2_500.0, False),
    "portuaria": ((120.0, 200.0), (60.0, 100.0), 20.0, 4_000.0, False),
}
TRIM_STEPS = 6
MIN_TRIM = 2
"""Blocks cut by a patch edge keep at least MIN_TRIM sixths of their length."""
RURAL = "rural"
RURAL_STREET = 20.0
RURAL_PATCH_KM2 = 2.5
"""Mean size of the rural patches, each with its own grid orientation."""


@dataclass
class Blocks:
    """Rectangular blocks: corner ``origin``, unit axes ``u`` (length) and ``v`` (width)."""

    origin: np.ndarray
    u: np.ndarray
    v: np.ndarray
    length: np.ndarray
    width: np.ndarray
    zone: np.ndarray
    """Row of the zoning table the block lies in (-1 for rural patches)."""
    family: np.ndarray
    patch: np.ndarray
    row: np.ndarray
    """Grid row of the block in its patch (names the streets)."""
    col: np.ndarray
    chamfer: np.ndarray
    """Whether the block's corner lots get an ochavo."""
    lot_area: np.ndarray
    """Nominal lot area (m²) of the block's family."""

    def __len__(self) -> int:
        return len(self.origin)

    @property
    def area(self) -> np.ndarray:
        """Block areas (m²)."""
        return self.length * self.width

    def corners(self) -> np.ndarray:
        """(n, 4, 2) corner coordinates, counter-clockwise."""
        o, lu = self.origin, self.u * self.length[:, None]
        wv = self.v * self.width[:, None]
        return np.stack([o, o + lu, o + lu + wv, o + wv], axis=1)

    def polygons(self) -> np.ndarray:
        """Block rectangles as shapely polygons."""
        return shapely.polygons(self.corners())

    def take(self, idx: np.ndarray) -> Blocks:
        """The blocks at ``idx``."""
        return Blocks(**{k: getattr(self, k)[idx] for k in self.__dataclass_fields__})

    @staticmethod
    def concat(parts: list[Blocks]) -> Blocks:
        """Blocks of several parts, in order."""
        fields = Blocks.__dataclass_fields__
        return Blocks(**{k: np.concatenate([getattr(p, k) for p in parts]) for k in fields})


def grid_in_patch(patch: shapely.Geometry, length: float, width: float, street: float,
                  angle: float, offset: np.ndarray) -> tuple[np.ndarray, ...]:
    """Blocks of a rotated grid inside ``patch`` shrunk by half a street.

    Grid cells wholly inside are kept; cells cut by the edge are trimmed to the longest
    run of sixths of their length (over the full width or one half of it) that fits.

    Parameters
    ----------
    patch : Polygon or MultiPolygon
    length, width : float
        Block size (m) along the grid's two axes.
    street : float
        Street width (m).
    angle : float
        Grid orientation (radians from east).
    offset : array of 2 floats in [0, 1)
        Grid phase, as a fraction of the pitch.

    Returns
    -------
    origin, u, v, length, width, row, col : numpy arrays
    """
    u = np.array([np.cos(angle), np.sin(angle)])
    v = np.array([-np.sin(angle), np.cos(angle)])
    xy = shapely.get_coordinates(patch)
    pu, pv = xy @ u, xy @ v
    pitch = np.array([length + street, width + street])
    start = np.floor(np.array([pu.min(), pv.min()]) / pitch) - 1 + offset
    stop = np.ceil(np.array([pu.max(), pv.max()]) / pitch) + 1
    grid_c, grid_r = np.meshgrid(np.arange(start[0], stop[0]), np.arange(start[1], stop[1]))
    cc, rr = grid_c.ravel(), grid_r.ravel()
    ou, ov = cc * pitch[0] + street / 2, rr * pitch[1] + street / 2
    inner = patch.buffer(-street / 2, join_style="mitre")
    shapely.prepare(inner)
    rect = _rects(ou, ov, np.full(len(ou), length), np.full(len(ou), width), u, v)
    touch = shapely.intersects(inner, rect)
    ou, ov, rr, cc = ou[touch], ov[touch], rr[touch], cc[touch]
    s0, s1, h0, h1 = _trim(inner, ou, ov, length, width, u, v)
    keep = s1 > s0
    piece = length / TRIM_STEPS
    ou = ou[keep] + s0[keep] * piece
    ov = ov[keep] + h0[keep] * width / 2
    n = int(keep.sum())
    return (ou[:, None] * u + ov[:, None] * v, np.tile(u, (n, 1)), np.tile(v, (n, 1)),
            (s1 - s0)[keep] * piece, (h1 - h0)[keep] * width / 2,
            (rr[keep] - rr.min()).astype(np.int64), (cc[keep] - cc.min()).astype(np.int64))


def _rects(ou: np.ndarray, ov: np.ndarray, length: np.ndarray, width: np.ndarray,
           u: np.ndarray, v: np.ndarray) -> np.ndarray:
    o = ou[:, None] * u + ov[:, None] * v
    lu, wv = length[:, None] * u, width[:, None] * v
    return shapely.polygons(np.stack([o, o + lu, o + lu + wv, o + wv], axis=1))


def _trim(inner: shapely.Geometry, ou: np.ndarray, ov: np.ndarray, length: float,
          width: float, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, ...]:
    """Best sub-rectangle of each cell: sixths [s0, s1) of the length, halves [h0, h1) of
    the width, all inside ``inner``; s0 == s1 when nothing fits."""
    n, piece = len(ou), length / TRIM_STEPS
    fits = np.zeros((n, TRIM_STEPS, 2), bool)
    for half in range(2):
        for step in range(TRIM_STEPS):
            sub = _rects(ou + step * piece, ov + half * width / 2, np.full(n, piece),
                         np.full(n, width / 2), u, v)
            fits[:, step, half] = shapely.contains(inner, sub)
    best = np.zeros((n, 4), np.int64)
    best_area = np.zeros(n)
    for h0, h1 in ((0, 2), (0, 1), (1, 2)):
        ok = np.asarray(fits[:, :, h0:h1].all(axis=2))
        for a in range(TRIM_STEPS):
            run = np.cumprod(ok[:, a:], axis=1).sum(axis=1)
            area = run * (h1 - h0) * (1.0 if h1 - h0 == 2 else 0.9)
            better = (run >= MIN_TRIM) & (area > best_area)
            best[better] = np.column_stack([np.full(better.sum(), a), a + run[better],
                                            np.full(better.sum(), h0),
                                            np.full(better.sum(), h1)])
            best_area[better] = area[better]
    return best[:, 0], best[:, 1], best[:, 2], best[:, 3]


def _patch_blocks(patch: shapely.Geometry, spec: tuple, angle: float, zone: int,
                  family: str, patch_id: int, gen: np.random.Generator) -> Blocks | None:
    (l0, l1), (w0, w1), street, lot_area, chamfer = spec
    length, width = gen.uniform(l0, l1), gen.uniform(w0, w1)
    origin, u, v, lengths, widths, row, col = grid_in_patch(patch, length, width, street,
                                                            angle, gen.uniform(0, 1, 2))
    n = len(origin)
    if n == 0:
        return None
    return Blocks(origin=origin, u=u, v=v, length=lengths, width=widths,
                  zone=np.full(n, zone), family=np.full(n, family, dtype=object),
                  patch=np.full(n, patch_id), row=row, col=col,
                  chamfer=np.full(n, chamfer), lot_area=np.full(n, lot_area))


def zone_angle(geom: shapely.Geometry, default: float) -> float:
    """Grid orientation for a zone: along its long axis when it is elongated (corridors,
    strips), else ``default``."""
    rect = shapely.oriented_envelope(geom)
    xy = np.asarray(rect.exterior.coords)[:3]
    sides = np.diff(xy, axis=0)
    lengths = np.hypot(sides[:, 0], sides[:, 1])
    if lengths.min() <= 0 or lengths.max() / lengths.min() < 2.0:
        return default
    long = sides[int(np.argmax(lengths))]
    return float(np.arctan2(long[1], long[0]))


def urban_blocks(zones: gpd.GeoDataFrame, gen: np.random.Generator) -> Blocks:
    """Blocks over the zones whose family is built up (not green areas or protection).

    Most zones share the town's main grid orientation (±2°); one in four is turned by up
    to 12°; elongated zones (corridors) follow their long axis.
    """
    main = np.radians(gen.uniform(5.0, 20.0))
    parts = []
    for zone, (family, geom) in enumerate(zip(zones.TIPO_ZONA, zones.geometry,
                                              strict=True)):
        turn = gen.uniform(-12, 12) if gen.random() < 0.25 else gen.normal(0, 2)
        if family not in BLOCK_SPECS:
            continue
        angle = zone_angle(geom, main + np.radians(turn))
        block = _patch_blocks(geom, BLOCK_SPECS[family], angle, zone, family, zone, gen)
        if block is not None:
            parts.append(block)
    return Blocks.concat(parts)


def rural_blocks(area: shapely.Geometry, lot_area: float, first_patch: int,
                 gen: np.random.Generator) -> Blocks:
    """Blocks over the rural comuna, sized for lots of about ``lot_area`` m²: the area is
    cut into Voronoi patches, each with its own grid orientation."""
    n_patch = max(int(area.area / (RURAL_PATCH_KM2 * 1e6)), 1)
    minx, miny, maxx, maxy = area.bounds
    pts = np.column_stack([gen.uniform(minx, maxx, 20 * n_patch),
                           gen.uniform(miny, maxy, 20 * n_patch)])
    pts = pts[shapely.contains_xy(area, pts[:, 0], pts[:, 1])][:n_patch]
    depth = float(np.clip(np.sqrt(2.5 * lot_area), 20.0, 300.0))
    width = 2 * depth
    length = float(np.clip(10 * lot_area / depth, 60.0, 800.0))
    spec = ((length * 0.85, length * 1.15), (width * 0.9, width * 1.1), RURAL_STREET,
            lot_area, False)
    parts = []
    for k, cell in enumerate(voronoi_split(area, pts)):
        cell = polygonal(cell)
        if cell.is_empty:
            continue
        block = _patch_blocks(cell, spec, gen.uniform(0, np.pi), -1, RURAL,
                              first_patch + k, gen)
        if block is not None:
            parts.append(block)
    return Blocks.concat(parts)

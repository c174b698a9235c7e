"""Synthetic terrain: a 50 m DEM (coastal plain, terraces, hills, quebradas, Maipo valley)
and the tsunami inundation depth derived from it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
import shapely
import shapely.ops
from affine import Affine
from rasterio import features
from scipy import ndimage

from gis.demo.common import UTM, rng, smooth_line
from gis.demo.geography import Geography

CELL = 50.0
NODATA = -9999.0
HILL_MAX = 230.0
"""Elevation (m) the coastal range tends to far inland."""
OCTAVES = ((40.0, 80.0), (16.0, 40.0), (7.0, 20.0), (3.0, 8.0))
"""(sigma in cells, amplitude in m) of the fractal relief of the hills."""
TSUNAMI_REACH = 2_800.0
"""Distance from the coast (m) at which the design run-up falls to zero."""


@dataclass(frozen=True)
class Terrain:
    """The DEM and what was used to shape it (EPSG:32719)."""

    dem: np.ndarray
    """Elevation (m), float32; sea and river water 0."""
    water: np.ndarray
    """True on sea and river channel cells."""
    coast_dist: np.ndarray
    """Distance to the ocean (m)."""
    transform: Affine
    quebradas: list[shapely.LineString]
    maipo_floor: np.ndarray
    """Elevation of the Maipo valley floor at each cell's nearest river point (m)."""
    maipo_dist: np.ndarray
    """Distance to the river course (m)."""
    runup: float
    """Design tsunami run-up at the coastline (m)."""

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols) of the grid."""
        return self.dem.shape

    def slope_deg(self) -> np.ndarray:
        """Terrain slope in degrees."""
        gy, gx = np.gradient(self.dem.astype(float), CELL)
        return np.degrees(np.arctan(np.hypot(gx, gy)))

    def tsunami_depth(self) -> np.ndarray:
        """Inundation depth (m) of the design tsunami; NODATA on water."""
        reach = self.runup * np.clip(1.0 - self.coast_dist / TSUNAMI_REACH, 0.0, 1.0)
        depth = np.maximum(reach - self.dem, 0.0).round(2).astype(np.float32)
        depth[self.water] = NODATA
        return depth


def grid(extent: tuple[float, float, float, float]) -> tuple[Affine, tuple[int, int]]:
    """Transform and (rows, cols) of the 50 m grid covering ``extent``."""
    minx, miny, maxx, maxy = extent
    shape = (int(round((maxy - miny) / CELL)), int(round((maxx - minx) / CELL)))
    return Affine(CELL, 0.0, minx, 0.0, -CELL, maxy), shape


def _burn(geoms: list, transform: Affine, shape: tuple[int, int]) -> np.ndarray:
    geoms = [g for g in geoms if g is not None and not g.is_empty]
    if not geoms:
        return np.zeros(shape, bool)
    return features.rasterize(geoms, out_shape=shape, transform=transform,
                              all_touched=True, dtype="uint8").astype(bool)


def _distance_to(mask: np.ndarray) -> np.ndarray:
    """Distance (m) from each cell to the nearest True cell."""
    return ndimage.distance_transform_edt(~mask) * CELL


def _ocean_distance(geo: Geography, transform: Affine, shape: tuple[int, int],
                    pad: int = 200) -> np.ndarray:
    """Distance to the ocean, computed on a grid padded ``pad`` cells to the west and
    south so that the coast beyond the study extent counts."""
    padded = Affine(CELL, 0.0, transform.c - pad * CELL, 0.0, -CELL, transform.f)
    big = _burn([geo.ocean], padded, (shape[0] + pad, shape[1] + pad))
    return _distance_to(big)[: shape[0], pad:]


def smooth_noise(gen: np.random.Generator, shape: tuple[int, int], sigma: float) -> np.ndarray:
    """Gaussian-filtered white noise, rescaled to zero mean and unit std."""
    field = ndimage.gaussian_filter(gen.standard_normal(shape), sigma, mode="reflect")
    return (field - field.mean()) / (field.std() + 1e-12)


def _smoothstep(t: np.ndarray) -> np.ndarray:
    t = np.clip(t, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def quebrada_lines(geo: Geography, gen: np.random.Generator) -> list[shapely.LineString]:
    """Courses of the quebradas: from the coast (outside the port) heading inland, and from
    the Maipo's north bank heading north; a course ends where it meets an earlier one."""
    starts, headings, lengths = [], [], []
    for frac in (0.10, 0.22, 0.66, 0.80, 0.93):
        pos = frac + gen.uniform(-0.02, 0.02)
        starts.append(np.asarray(geo.coast.interpolate(pos, normalized=True).coords[0]))
        headings.append(np.radians(gen.uniform(-15, 20)))
        lengths.append(gen.uniform(3_000, 6_500))
    for dist in (3_500.0, 7_500.0, 12_000.0):
        p = geo.maipo.interpolate(dist + gen.uniform(-500, 500))
        starts.append(np.array([p.x + 150.0, p.y + 150.0]))
        headings.append(np.radians(gen.uniform(50, 80)))
        lengths.append(gen.uniform(2_000, 4_000))
    lines: list[shapely.LineString] = []
    for start, heading, length in zip(starts, headings, lengths, strict=True):
        n = int(length / 100.0)
        ang = heading + np.clip(np.cumsum(gen.normal(0, 0.15, n)), -0.8, 0.8)
        steps = np.column_stack([np.cos(ang), np.sin(ang)]) * 100.0
        back = start - 120.0 * np.array([np.cos(heading), np.sin(heading)])
        line = shapely.LineString(smooth_line(np.vstack([back, start + np.cumsum(steps, 0)]),
                                              2))
        if lines:
            others = shapely.union_all([q.buffer(60.0) for q in lines])
            hit = shapely.intersection(line, others)
            if not hit.is_empty:
                first = min(line.project(shapely.Point(c)) for c in
                            shapely.get_coordinates(hit))
                line = shapely.ops.substring(line, 0.0, first + 60.0)
        if line.length > 500.0:
            lines.append(line)
    return lines


def _along_river(geo: Geography, transform: Affine,
                 shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Distance to the Maipo course and the river distance from the mouth of the nearest
    course point, per cell."""
    line = geo.maipo.segmentize(50.0)
    pts = shapely.get_coordinates(line)
    s = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(pts, axis=0).T))])
    burnt = np.zeros(shape, np.int32)
    r, c = rasterio.transform.rowcol(transform, pts[:, 0], pts[:, 1])
    r, c = np.asarray(r), np.asarray(c)
    ok = (r >= 0) & (r < shape[0]) & (c >= 0) & (c < shape[1])
    burnt[r[ok], c[ok]] = np.flatnonzero(ok) + 1
    dist, (ir, ic) = ndimage.distance_transform_edt(burnt == 0, return_indices=True)
    nearest = burnt[ir, ic] - 1
    return dist * CELL, s[nearest]


def build_terrain(geo: Geography, seed: int) -> Terrain:
    """Generate the DEM of the study extent.

    Land rises from the coast (0-5 m) to a terrace (~40-80 m, scarp 400-1200 m inland)
    and to hills of 200-400 m to the east; quebradas cut valleys down to the coast and
    the Maipo has a wide, flat valley floor rising slowly upstream.

    Parameters
    ----------
    geo : Geography
    seed : int

    Returns
    -------
    Terrain
    """
    gen = rng(seed, "terrain")
    transform, shape = grid(geo.extent)
    ocean = _burn([geo.ocean], transform, shape)
    water = ocean | _burn([geo.channel], transform, shape)
    d = _ocean_distance(geo, transform, shape)
    n_large = smooth_noise(gen, shape, 30)
    n_terrace = smooth_noise(gen, shape, 20)
    fractal = sum(amp * smooth_noise(gen, shape, sigma) for sigma, amp in OCTAVES)

    port_rows = np.exp(-((_row_northing(transform, shape) - 6_280_300.0) / 1_800.0) ** 2)
    plain = 0.8 + 4.0 * np.clip(d / 300.0, 0, 1)
    scarp_at = 650.0 + 250.0 * n_large + 500.0 * port_rows
    terrace = (55.0 + 15.0 * n_terrace) / (1.0 + np.exp(-(d - scarp_at) / 45.0))
    hills = HILL_MAX * (1.0 - np.exp(-np.maximum(d - 2_500.0, 0.0) / 7_000.0))
    inland = _smoothstep((d - 900.0) / 3_000.0)
    z = plain + terrace + hills + inland * fractal
    z = np.maximum(z, plain)

    quebradas = quebrada_lines(geo, gen)
    dq = _distance_to(_burn(quebradas, transform, shape))
    half = 80.0 + np.clip(d, 0, 8_000) * 0.012
    z = z - 0.45 * np.maximum(z - 2.0, 0.0) * np.exp(-(dq / half) ** 2)

    dm, along = _along_river(geo, transform, shape)
    floor = 0.8 + along * 0.0011
    width = np.clip(900.0 - along * 0.02, 600.0, 900.0)
    valley = _smoothstep((dm - 150.0) / width)
    z = np.where(z > floor, floor + (z - floor) * valley, z)

    z = np.maximum(z, 0.3)
    z[water] = 0.0
    dem = (np.round(z * 8.0) / 8.0).astype(np.float32)  # 1/8 m steps compress well
    runup = float(gen.uniform(11.5, 14.5))
    return Terrain(dem=dem, water=water, coast_dist=d.astype(np.float32),
                   transform=transform, quebradas=quebradas, maipo_floor=floor,
                   maipo_dist=dm, runup=runup)


def _row_northing(transform: Affine, shape: tuple[int, int]) -> np.ndarray:
    rows = np.arange(shape[0]) + 0.5
    return (transform.f + rows * transform.e)[:, None] * np.ones((1, shape[1]))


def write_raster(path: Path, data: np.ndarray, transform: Affine) -> Path:
    """Write a float32 GeoTIFF (EPSG:32719, nodata -9999, DEFLATE, tiled 256)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    profile = {"driver": "GTiff", "width": data.shape[1], "height": data.shape[0],
               "count": 1, "dtype": "float32", "crs": f"EPSG:{UTM}",
               "transform": transform, "nodata": NODATA, "compress": "deflate",
               "predictor": 3, "zlevel": 9, "tiled": True, "blockxsize": 256,
               "blockysize": 256}
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data.astype(np.float32), 1)
    return path

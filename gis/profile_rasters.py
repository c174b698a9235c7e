"""Raster statistics of the projects' territorial profile: elevation, slope and tsunami
depth (min / mean / max) over each project's footprint, read with rasterio.

Only the window around a footprint is read (plus one cell, so that the slope at its edge
uses real neighbours). Cells count when their centre lies inside the footprint; a
footprint too small to hold any cell centre takes the cells it touches.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from typing import Any

import numpy as np
import psycopg
import rasterio
import shapely
from rasterio.features import geometry_mask
from rasterio.windows import Window

from gis.raster_tiles import RasterNotLoadedError, current_raster

RASTERS = {"elevacion": "dem", "profundidad_tsunami": "tsunami_depth"}
"""Profile key → raster layer; the slope (``pendiente``, degrees) comes from the DEM."""


def raster_paths(conn: psycopg.Connection) -> dict[str, str | None]:
    """``{profile key: file}`` of the version in force of each raster (``None`` when the
    raster was never loaded)."""
    paths: dict[str, str | None] = {}
    for key, layer in RASTERS.items():
        try:
            paths[key] = str(current_raster(conn, layer).path)
        except RasterNotLoadedError:
            paths[key] = None
    return paths


def raster_profile(paths: dict[str, str | None],
                   footprints: dict[str, tuple[shapely.Geometry, bool]],
                   buffer_m: float) -> dict[str, dict[str, Any]]:
    """``{codigo: statistics}`` for footprints ``{codigo: (geometry, buffered)}`` in the
    storage CRS, read from the files ``paths`` (:func:`raster_paths`); a raster never
    loaded gives ``None`` for its statistics. Needs no database: it runs while the
    database computes the other sections."""
    out: dict[str, dict[str, Any]] = {
        code: {"muestra": f"buffer de {buffer_m:g} m" if buffered else "huella del proyecto"}
        for code, (_, buffered) in footprints.items()}
    for key, path in paths.items():
        dataset = _open(path) if path else None
        for code, (geom, _) in footprints.items():
            stats = footprint_stats(dataset, geom, slope=key == "elevacion") \
                if dataset else None
            out[code][key] = stats and stats["valores"]
            if key == "elevacion":
                out[code]["pendiente"] = stats and stats["pendiente"]
    return out


_local = threading.local()


def _open(path: str) -> rasterio.DatasetReader:
    """This thread's open dataset of ``path`` (a version's file is never rewritten, so an
    open dataset never goes stale; a GDAL handle belongs to the thread that opened it)."""
    cache: OrderedDict[str, rasterio.DatasetReader] | None = getattr(_local, "open", None)
    if cache is None:
        cache = _local.open = OrderedDict()
    if path not in cache:
        cache[path] = rasterio.open(path)
        while len(cache) > 4:
            cache.popitem(last=False)[1].close()
    cache.move_to_end(path)
    return cache[path]


def footprint_stats(src: rasterio.DatasetReader, geom: shapely.Geometry, *,
                    slope: bool = False) -> dict[str, Any] | None:
    """Statistics of the raster's values (and of its slope, in degrees) over ``geom``;
    ``None`` when the footprint is outside the raster."""
    window = _window(src, geom)
    if window is None:
        return None
    values = src.read(1, window=window, masked=True).astype("float64")
    transform = src.window_transform(window)
    inside = geometry_mask([geom], values.shape, transform, invert=True)
    if not inside.any():
        inside = geometry_mask([geom], values.shape, transform, invert=True, all_touched=True)
    data = values.filled(np.nan)
    result: dict[str, Any] = {"valores": summary(data[inside])}
    if slope:
        result["pendiente"] = summary(slope_degrees(data, abs(src.res[0]), abs(src.res[1]))
                                      [inside])
    return result


def _window(src: rasterio.DatasetReader, geom: shapely.Geometry) -> Window | None:
    t = src.transform
    minx, miny, maxx, maxy = geom.bounds
    col0 = math.floor((minx - t.c) / t.a) - 1
    col1 = math.ceil((maxx - t.c) / t.a) + 1
    row0 = math.floor((maxy - t.f) / t.e) - 1
    row1 = math.ceil((miny - t.f) / t.e) + 1
    col0, row0 = max(col0, 0), max(row0, 0)
    col1, row1 = min(col1, src.width), min(row1, src.height)
    if col1 <= col0 or row1 <= row0:
        return None
    return Window(col0, row0, col1 - col0, row1 - row0)


def slope_degrees(z: np.ndarray, xres: float, yres: float) -> np.ndarray:
    """Slope of a grid of elevations in degrees (NaN where a neighbour has no data)."""
    if min(z.shape) < 2:
        return np.full(z.shape, np.nan)
    dzdy, dzdx = np.gradient(z, yres, xres)
    return np.degrees(np.arctan(np.hypot(dzdx, dzdy)))


def summary(values: np.ndarray) -> dict[str, Any] | None:
    """min / media / max (2 decimals) and the number of cells with data."""
    values = values[np.isfinite(values)]
    if values.size == 0:
        return None
    return {"min": round(float(values.min()), 2), "media": round(float(values.mean()), 2),
            "max": round(float(values.max()), 2), "celdas": int(values.size)}

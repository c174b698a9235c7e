"""Shared constants and helpers of the demo generator: CRS codes, seeded RNG, geometry, I/O."""

from __future__ import annotations

import zlib
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
from pyproj import Transformer

UTM = 32719
"""Working CRS: WGS 84 / UTM zone 19S (also the platform's storage SRID)."""
WGS84 = 4326
SIRGAS_UTM = 5361
"""SIRGAS-Chile 2002 / UTM zone 19S, the CRS of the (demo) SII cadastre file."""
PSAD56_UTM = 24879
"""PSAD56 / UTM zone 19S, the legacy CRS of the (demo) PRC zoning shapefile."""
CUT = "05601"
"""Código Único Territorial of the comuna of San Antonio."""
PRC_INSTRUMENT = "PRC San Antonio 2006 (D.A. 2.906)"
FILE_DATE = "2024-01-01T00:00:00.000Z"
"""Timestamp written into file metadata, so that the same seed gives identical bytes."""


def rng(seed: int, stream: str) -> np.random.Generator:
    """Independent random generator for one concern of the generator.

    Parameters
    ----------
    seed : int
        Global seed of the run.
    stream : str
        Name of the concern (``"terrain"``, ``"cadastre"``...). Each concern draws from
        its own stream, so generating a subset of the files yields the same values.

    Returns
    -------
    numpy.random.Generator
    """
    return np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(stream.encode())]))


# --------------------------------------------------------------------------- geometry


def polygonal(geom: shapely.Geometry | None, min_area: float = 0.0) -> shapely.Geometry:
    """The polygonal part of ``geom`` (valid), dropping parts smaller than ``min_area``."""
    if geom is None or geom.is_empty:
        return shapely.Polygon()
    geom = shapely.make_valid(geom)
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    parts = [q for p in parts for q in shapely.get_parts(p) if q.area > min_area]
    if not parts:
        return shapely.Polygon()
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


def drop_holes(geom: shapely.Geometry, max_hole: float = np.inf) -> shapely.Geometry:
    """``geom`` without interior rings smaller than ``max_hole`` (all of them by default)."""
    out = []
    for p in shapely.get_parts(geom):
        keep = [r for r in p.interiors if shapely.Polygon(r).area > max_hole]
        out.append(shapely.Polygon(p.exterior, keep))
    return out[0] if len(out) == 1 else shapely.MultiPolygon(out)


def largest_part(geom: shapely.Geometry) -> shapely.Polygon:
    """The polygon of largest area of a (multi)polygon."""
    parts = shapely.get_parts(geom)
    return parts[int(np.argmax(shapely.area(parts)))]


def reproject(geoms: np.ndarray | gpd.GeoSeries, src: int, dst: int,
              decimals: int | None = None) -> np.ndarray:
    """Reproject an array of geometries with one vectorised pyproj call.

    Parameters
    ----------
    geoms : array of shapely geometries
    src, dst : int
        EPSG codes.
    decimals : int, optional
        Round output coordinates to this many decimals.

    Returns
    -------
    numpy.ndarray of shapely geometries
    """
    tr = Transformer.from_crs(src, dst, always_xy=True)

    def fn(xy: np.ndarray) -> np.ndarray:
        x, y = tr.transform(xy[:, 0], xy[:, 1])
        out = np.column_stack([x, y])
        return np.round(out, decimals) if decimals is not None else out

    return shapely.transform(np.asarray(geoms, dtype=object), fn)


def smooth_line(points: np.ndarray, iterations: int = 3) -> np.ndarray:
    """Chaikin corner cutting of a polyline (keeps both end points)."""
    pts = np.asarray(points, dtype=float)
    for _ in range(iterations):
        q = 0.75 * pts[:-1] + 0.25 * pts[1:]
        r = 0.25 * pts[:-1] + 0.75 * pts[1:]
        mid = np.empty((2 * len(q), 2))
        mid[0::2], mid[1::2] = q, r
        pts = np.vstack([pts[:1], mid, pts[-1:]])
    return pts


def wiggle_line(points: np.ndarray, gen: np.random.Generator, step: float,
                amplitude: float) -> np.ndarray:
    """Densify a polyline every ``step`` m and displace it sideways by smooth noise."""
    line = shapely.LineString(points)
    n = max(int(line.length / step), 2)
    dist = np.linspace(0, line.length, n + 1)
    pts = shapely.get_coordinates(shapely.line_interpolate_point(line, dist))
    tangent = np.gradient(pts, axis=0)
    normal = np.column_stack([-tangent[:, 1], tangent[:, 0]])
    normal /= np.linalg.norm(normal, axis=1, keepdims=True) + 1e-12
    noise = np.convolve(gen.normal(0, 1, n + 10), np.ones(10) / 10, mode="valid")
    noise *= amplitude / (np.abs(noise).max() + 1e-12)
    noise *= np.sin(np.linspace(0, np.pi, n + 1)) ** 0.5  # keep the end points fixed
    return pts + normal * noise[:, None]


# --------------------------------------------------------------------------- writers


def write_gpkg(gdf: gpd.GeoDataFrame, path: Path, layer: str,
               spatial_index: bool = False) -> Path:
    """Write a GeoPackage layer (replacing the file) with pyogrio's Arrow path.

    No spatial index by default, and an SQLite page size suited to the row count (small
    pages for small layers), to keep the committed files small; a fixed timestamp keeps
    the bytes reproducible.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    page = 1024 if len(gdf) < 1_000 else 2048 if len(gdf) < 10_000 else 8192
    pyogrio.set_gdal_config_options({"OGR_SQLITE_PRAGMA": f"page_size={page}",
                                     "OGR_CURRENT_DATE": FILE_DATE})
    try:
        pyogrio.write_dataframe(gdf, path, layer=layer, driver="GPKG", use_arrow=True,
                                layer_options={"SPATIAL_INDEX":
                                               "YES" if spatial_index else "NO"})
    finally:
        pyogrio.set_gdal_config_options({"OGR_SQLITE_PRAGMA": None, "OGR_CURRENT_DATE": None})
    return path


def write_geojson(gdf: gpd.GeoDataFrame, path: Path, precision: int = 7) -> Path:
    """Write a GeoJSON file in EPSG:4326 with ``precision`` decimals."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    gdf = gdf.to_crs(WGS84) if gdf.crs is not None and gdf.crs.to_epsg() != WGS84 else gdf
    pyogrio.write_dataframe(gdf, path, driver="GeoJSON",
                            layer_options={"COORDINATE_PRECISION": str(precision),
                                           "RFC7946": "NO", "WRITE_BBOX": "NO"})
    return path

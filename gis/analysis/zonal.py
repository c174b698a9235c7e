"""Raster zonal statistics of elevation (DEM), slope and tsunami depth per parcel, PRC
zone, planning sector or census zone, and the land below the tsunami safety elevation.

The unit geometries come from PostGIS (clipped to the area analysed); the rasters are
read with rasterio once per call, over the window covering every unit, and the
statistics of all units are taken together (one rasterisation, grouped sums): no loop
over units. A cell counts for a unit when its centre lies inside it; a unit smaller than
one cell (most parcels on a 50 m DEM), or holding no cell centre, takes the cell under
its point on surface. Slope (degrees) is computed from the DEM's neighbouring cells.

Coverage: ``fraccion_cubierta_*`` is the share of a unit's cells that have data. When a
raster covers only part of the area analysed, the result says so in
``attrs["avisos"]`` (and a :class:`RasterCoverageWarning`), with the covered fraction in
``attrs["cobertura"]``; when it covers none of it, :class:`RasterCoverageError`.

Examples
--------
>>> raster_statistics(settings, por="sector")                          # doctest: +SKIP
>>> land_below_safe_elevation(settings, area="Llolleo", por="zona")    # doctest: +SKIP
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
import psycopg
import rasterio
import shapely
from psycopg import sql
from rasterio.features import rasterize
from rasterio.windows import Window

from gis.analysis.common import (
    AnalysisArea,
    AnalysisInputError,
    AreaInput,
    Connectable,
    LayerChoice,
    analysis_transaction,
    area_condition,
    describe,
    fetch_frame,
    geometry_column,
    layer_version,
    load_area,
    resolve_area,
    session,
    sql_sections,
    typed,
)
from gis.crs import STORAGE_CRS
from gis.profile_rasters import slope_degrees
from gis.raster_tiles import current_raster
from layers import get_layer

SQL = sql_sections("analysis_zonal")
TSUNAMI_SAFE_ELEVATION_M = 30.0
"""Ground at or above this elevation is treated as safe from tsunami (evacuation rule)."""
FULL_COVERAGE = 0.995
"""Covered fractions below this are reported as partial coverage."""
MAX_WINDOW_CELLS = 200_000_000
RASTERS = {"dem": "dem", "tsunami_depth": "tsunami"}
"""Raster layer → prefix of its columns."""
UNITS = {"predio": ("rol", "direccion"), "zona": ("zona", "nombre"),
         "sector": ("sector", "nombre"), "zona_censal": ("geocodigo", "distrito")}
"""``por`` → its key and name columns."""

STAT_COLUMNS = {
    "superficie_m2": "float64", "celdas_dem": "int64", "elevacion_min_m": "float64",
    "elevacion_media_m": "float64", "elevacion_max_m": "float64",
    "pendiente_media_grados": "float64", "pendiente_max_grados": "float64",
    "fraccion_cubierta_dem": "float64", "superficie_bajo_cota_m2": "float64",
    "porcentaje_bajo_cota": "float64", "tsunami_media_m": "float64",
    "tsunami_max_m": "float64", "fraccion_cubierta_tsunami": "float64",
}
BELOW_COLUMNS = ("superficie_m2", "superficie_bajo_cota_m2", "porcentaje_bajo_cota",
                 "elevacion_min_m", "elevacion_media_m", "fraccion_cubierta_dem")


class RasterCoverageError(AnalysisInputError):
    """A raster that covers none of the area analysed."""


class RasterCoverageWarning(UserWarning):
    """A raster that covers only part of the area analysed."""


@dataclass
class Units:
    """What the statistics are taken over, in the storage CRS."""

    keys: list[Any]
    names: list[Any]
    area: np.ndarray
    x: np.ndarray
    y: np.ndarray
    shapes: list[tuple[shapely.Geometry, int]] = field(default_factory=list)
    """(geometry, 1-based unit number) of the units to rasterise."""
    geometry: np.ndarray | None = None
    """Output geometries (shapely), when asked for."""


def raster_statistics(conn_or_settings: Connectable, *, area: AreaInput | None = None,
                      version: int | None = None, fecha: date | datetime | str | None = None,
                      por: str = "sector", rasters: tuple[str, ...] = ("dem", "tsunami_depth"),
                      geometria: bool = True) -> pd.DataFrame:
    """Elevation, slope, tsunami depth and land below :data:`TSUNAMI_SAFE_ELEVATION_M`
    per unit of ``area``.

    Parameters
    ----------
    conn_or_settings : an open psycopg connection, or the settings to open one.
    area : None (whole comuna), a sector code or name, a census geocódigo, or a polygon.
    version, fecha : with ``por="zona"``, the zoning version by number or in force on a
        date (refused with other units).
    por : ``"predio"``, ``"zona"`` (PRC), ``"sector"`` (planning) or ``"zona_censal"``.
    rasters : the rasters to read, among ``"dem"`` and ``"tsunami_depth"`` (the columns of
        the others stay empty).
    geometria : a GeoDataFrame with each unit's geometry (zones, sectors and census zones
        clipped to the area); else a DataFrame.

    Returns
    -------
    One row per unit with part of it in the area, ordered by its key:

    - ``rol`` / ``zona`` / ``sector`` / ``geocodigo``: the unit's code.
    - ``direccion`` / ``nombre`` / ``nombre`` / ``distrito``: its name.
    - ``superficie_m2``: superficie de la unidad (dentro del área).
    - ``celdas_dem``: celdas del DEM tomadas (1 si la unidad es menor que una celda).
    - ``elevacion_min_m``, ``elevacion_media_m``, ``elevacion_max_m``: elevación (m).
    - ``pendiente_media_grados``, ``pendiente_max_grados``: pendiente (grados).
    - ``fraccion_cubierta_dem``: fracción (0–1) de las celdas de la unidad con datos del DEM.
    - ``superficie_bajo_cota_m2``: superficie bajo la cota de seguridad de tsunami
      (30 m): superficie × fracción de celdas con datos bajo esa cota.
    - ``porcentaje_bajo_cota``: el mismo en % de las celdas con datos.
    - ``tsunami_media_m``, ``tsunami_max_m``: profundidad de inundación por tsunami (m).
    - ``fraccion_cubierta_tsunami``: fracción de celdas con datos del raster de tsunami.

    Raises :class:`RasterCoverageError` when a raster asked for covers none of the area
    and :class:`gis.raster_tiles.RasterNotLoadedError` when it was never loaded.
    """
    if por not in UNITS:
        raise AnalysisInputError(f"Unidad de análisis desconocida: «{por[:40]}».",
                                 hint="Use por=" + ", ".join(f"'{u}'" for u in UNITS) + ".")
    unknown = [r for r in rasters if r not in RASTERS]
    if unknown or not rasters:
        raise AnalysisInputError(f"Rasters desconocidos: {', '.join(unknown) or 'ninguno'}.",
                                 hint="Use rasters=('dem', 'tsunami_depth') o uno de ellos.")
    if por != "zona" and (version is not None or fecha is not None):
        raise AnalysisInputError("La versión o fecha elige la zonificación: solo aplica con "
                                 "por='zona'.", hint="Quite version/fecha o use por='zona'.")
    with session(conn_or_settings) as (conn, settings):
        chosen = resolve_area(conn, settings, area)
        zoning = layer_version(conn, "zoning", version, fecha) if por == "zona" else None
        paths = {name: str(current_raster(conn, name).path) for name in rasters}
        cell_area = _cell_area(paths)
        with analysis_transaction(conn):
            units = _units(conn, chosen, zoning, por, geometria, cell_area)
    key, name = UNITS[por]
    frame = pd.DataFrame({key: units.keys, name: units.names, "superficie_m2": units.area})
    for column in STAT_COLUMNS:
        if column not in frame:
            frame[column] = 0 if column == "celdas_dem" else np.nan
    coverage: dict[str, float] = {}
    avisos: list[str] = []
    for layer, path in paths.items():
        stats = grid_statistics(path, units, slope=layer == "dem",
                                below=TSUNAMI_SAFE_ELEVATION_M if layer == "dem" else None)
        _fill(frame, RASTERS[layer], stats)
        if len(frame):
            coverage[layer] = _overall(units.area, stats["cubierta"])
            _check_coverage(layer, coverage[layer], path, chosen, avisos)
    frame = typed(frame, {key: "str", name: "str", **STAT_COLUMNS})
    frame = frame.round({c: 2 for c in STAT_COLUMNS if c != "celdas_dem"})
    if geometria:
        import geopandas as gpd

        geoms = gpd.GeoSeries(units.geometry if units.geometry is not None else [],
                              crs=STORAGE_CRS, index=frame.index)
        frame = gpd.GeoDataFrame(frame, geometry=geoms, crs=STORAGE_CRS)
    return describe(frame, f"rasters_por_{por}", chosen, zoning, rasters=list(paths),
                    cobertura=coverage, avisos=avisos,
                    cota_segura_m=TSUNAMI_SAFE_ELEVATION_M)


def land_below_safe_elevation(conn_or_settings: Connectable, *,
                              area: AreaInput | None = None, version: int | None = None,
                              fecha: date | datetime | str | None = None, por: str = "sector",
                              geometria: bool = True) -> pd.DataFrame:
    """Land below the tsunami safety elevation (:data:`TSUNAMI_SAFE_ELEVATION_M`) per
    unit, from the DEM; parameters as :func:`raster_statistics`.

    Returns
    -------
    One row per unit: its code and name (as :func:`raster_statistics`), and
    ``superficie_m2``, ``superficie_bajo_cota_m2`` (m² bajo 30 m), ``porcentaje_bajo_cota``
    (% de celdas con datos bajo 30 m), ``elevacion_min_m``, ``elevacion_media_m`` and
    ``fraccion_cubierta_dem`` (fracción de la unidad con datos del DEM).
    """
    full = raster_statistics(conn_or_settings, area=area, version=version, fecha=fecha,
                             por=por, rasters=("dem",), geometria=geometria)
    keep = [*UNITS[por], *BELOW_COLUMNS]
    if geometria:
        keep.append(full.geometry.name)
    out = full[keep].copy()
    out.attrs = {**full.attrs, "analisis": f"bajo_cota_segura_por_{por}"}
    return out


# --- units ---------------------------------------------------------------------------------

def _units(conn: psycopg.Connection, area: AnalysisArea, zoning: LayerChoice | None,
           por: str, geometria: bool, cell_area: float) -> Units:
    params: dict[str, Any] = {"area": area.wkb, "celda_m2": cell_area}
    columns = {"clave": "str", "nombre": "str", "area": "float64", "x": "float64",
               "y": "float64", "wkb": "str"}
    if por == "predio":
        load_area(conn, area)
        query = sql.SQL(SQL["predio"]).format(
            en_area=area_condition(area, "s.pt", box_of="p.geom"),
            rasterizar=sql.SQL("ST_Area(s.g) >= %(celda_m2)s"),
            geometry=geometry_column("p.geom", geometria))
        rows = fetch_frame(conn, query, params, columns, geometry=geometria)
    else:
        clipped = area.geometry is not None
        query = sql.SQL(SQL[por]).format(
            tabla=zoning.table if zoning else sql.SQL(""),
            en_area=sql.SQL("ST_Intersects(geom, ST_GeomFromWKB(%(area)s, 32719))"
                            if clipped else "true"),
            recorte=sql.SQL("ST_CollectionExtract(ST_Intersection(geom, "
                            "ST_GeomFromWKB(%(area)s, 32719)), 3)" if clipped else "geom"))
        rows = fetch_frame(conn, query, params, columns, geometry=False)
    wkb = rows["wkb"].to_numpy(dtype=object, na_value=None)
    listed = np.flatnonzero(rows["wkb"].notna().to_numpy())
    units = Units(keys=rows["clave"].tolist(), names=rows["nombre"].tolist(),
                  area=rows["area"].to_numpy(), x=rows["x"].to_numpy(), y=rows["y"].to_numpy())
    units.shapes = list(zip(shapely.from_wkb(wkb[listed]), (listed + 1).tolist(), strict=True))
    if por == "predio":
        units.geometry = rows.geometry.to_numpy() if geometria else None
    else:
        units.geometry = shapely.from_wkb(wkb)
    return units


def _cell_area(paths: dict[str, str]) -> float:
    areas = []
    for path in paths.values():
        with rasterio.open(path) as src:
            areas.append(abs(src.res[0] * src.res[1]))
    return min(areas)


# --- statistics ----------------------------------------------------------------------------

def grid_statistics(path: str, units: Units, *, slope: bool = False,
                    below: float | None = None) -> dict[str, np.ndarray]:
    """Per-unit arrays ``celdas``, ``validas``, ``cubierta`` (fraction with data), ``min``,
    ``media``, ``max`` of the raster at ``path``; with ``slope`` also
    ``pendiente_media``/``pendiente_max``; with ``below`` the fraction ``bajo`` of cells
    with data under that value."""
    n = len(units.keys)
    if n == 0:
        return {k: np.zeros(0) for k in ("celdas", "validas", "cubierta", "min", "media",
                                        "max", "pendiente_media", "pendiente_max", "bajo")}
    with rasterio.open(path) as src:
        window = _window(src.transform, units)
        if window.width * window.height > MAX_WINDOW_CELLS:
            raise AnalysisInputError(
                f"El área es demasiado grande para leer el raster a su resolución "
                f"({window.width} × {window.height} celdas).",
                hint="Analice por partes (un sector o un polígono más pequeño).")
        data = src.read(1, window=window, boundless=True, masked=True)
        data = data.astype("float64").filled(np.nan)
        transform = src.window_transform(window)
        xres, yres = abs(src.res[0]), abs(src.res[1])
    labels = (rasterize(units.shapes, out_shape=data.shape, transform=transform, fill=0,
                        dtype="int32") if units.shapes else np.zeros(data.shape, "int32"))
    grids = {"valor": data}
    if slope:
        grids["pendiente"] = slope_degrees(data, xres, yres)
    flat = labels.ravel()
    taken = flat > 0
    index = flat[taken] - 1
    picked = {k: g.ravel()[taken] for k, g in grids.items()}
    # units holding no cell centre: the cell under their point on surface
    lonely = np.flatnonzero(np.bincount(index, minlength=n) == 0)
    cols = np.floor((units.x[lonely] - transform.c) / transform.a).astype("int64")
    rows = np.floor((units.y[lonely] - transform.f) / transform.e).astype("int64")
    inside = (rows >= 0) & (rows < data.shape[0]) & (cols >= 0) & (cols < data.shape[1])
    index = np.concatenate([index, lonely[inside]])
    for k, g in grids.items():
        picked[k] = np.concatenate([picked[k], g[rows[inside], cols[inside]]])
    total = np.bincount(index, minlength=n).astype("float64")
    total[lonely[~inside]] = 1  # a point outside the window: one cell without data
    out = _grouped(index, picked["valor"], n)
    out["celdas"] = total
    out["cubierta"] = np.divide(out["validas"], total, out=np.zeros(n), where=total > 0)
    if slope:
        s = _grouped(index, picked["pendiente"], n)
        out["pendiente_media"], out["pendiente_max"] = s["media"], s["max"]
    if below is not None:
        v = picked["valor"]
        low = np.bincount(index[np.isfinite(v) & (v < below)], minlength=n)
        out["bajo"] = np.divide(low, out["validas"], out=np.full(n, np.nan),
                                where=out["validas"] > 0)
    return out


def _grouped(index: np.ndarray, values: np.ndarray, n: int) -> dict[str, np.ndarray]:
    ok = np.isfinite(values)
    idx, v = index[ok], values[ok]
    valid = np.bincount(idx, minlength=n).astype("float64")
    sums = np.bincount(idx, weights=v, minlength=n)
    low, high = np.full(n, np.inf), np.full(n, -np.inf)
    np.minimum.at(low, idx, v)
    np.maximum.at(high, idx, v)
    empty = valid == 0
    low[empty] = high[empty] = np.nan
    mean = np.divide(sums, valid, out=np.full(n, np.nan), where=~empty)
    return {"validas": valid, "min": low, "media": mean, "max": high}


def _window(t: Any, units: Units) -> Window:
    """The raster window (possibly beyond the raster: read boundless) covering every
    unit and its point, plus one cell for the slope at the edges."""
    shapes = np.array([g for g, _ in units.shapes], dtype=object)
    b = shapely.bounds(shapes) if len(shapes) else np.empty((0, 4))
    minx = float(np.min(np.concatenate([units.x, b[:, 0]])))
    miny = float(np.min(np.concatenate([units.y, b[:, 1]])))
    maxx = float(np.max(np.concatenate([units.x, b[:, 2]])))
    maxy = float(np.max(np.concatenate([units.y, b[:, 3]])))
    col0 = math.floor((minx - t.c) / t.a) - 1
    col1 = math.floor((maxx - t.c) / t.a) + 2
    row0 = math.floor((maxy - t.f) / t.e) - 1
    row1 = math.floor((miny - t.f) / t.e) + 2
    return Window(col0, row0, col1 - col0, row1 - row0)


def _fill(frame: pd.DataFrame, prefix: str, stats: dict[str, np.ndarray]) -> None:
    if prefix == "dem":
        frame["celdas_dem"] = stats["celdas"].astype("int64")
        frame["elevacion_min_m"] = stats["min"]
        frame["elevacion_media_m"] = stats["media"]
        frame["elevacion_max_m"] = stats["max"]
        frame["pendiente_media_grados"] = stats["pendiente_media"]
        frame["pendiente_max_grados"] = stats["pendiente_max"]
        frame["fraccion_cubierta_dem"] = stats["cubierta"]
        frame["porcentaje_bajo_cota"] = stats["bajo"] * 100
        frame["superficie_bajo_cota_m2"] = stats["bajo"] * frame["superficie_m2"]
    else:
        frame["tsunami_media_m"] = stats["media"]
        frame["tsunami_max_m"] = stats["max"]
        frame["fraccion_cubierta_tsunami"] = stats["cubierta"]


def _overall(area: np.ndarray, covered: np.ndarray) -> float:
    total = float(area.sum())
    return float((area * covered).sum() / total) if total > 0 else float(covered.mean())


def _check_coverage(layer: str, fraction: float, path: str, area: AnalysisArea,
                    avisos: list[str]) -> None:
    title = get_layer(layer).title
    percent = f"{fraction * 100:.1f}".replace(".", ",")
    if fraction <= 0:
        with rasterio.open(path) as src:
            b = [round(v) for v in src.bounds]
        raise RasterCoverageError(
            f"El raster «{layer}» ({title}) no cubre {area.nombre} (fracción cubierta: "
            f"0 %).", hint=f"El raster abarca x {b[0]}–{b[2]}, y {b[1]}–{b[3]} "
            "(EPSG:32719): elija un área dentro de él o cargue un raster que la cubra.")
    if fraction < FULL_COVERAGE:
        message = (f"El raster «{layer}» ({title}) cubre solo el {percent} % de "
                   f"{area.nombre}: las estadísticas usan la parte cubierta.")
        avisos.append(message)
        warnings.warn(message, RasterCoverageWarning, stacklevel=3)

"""Zoning capacity (cabida): what the PRC norms allow to build on each parcel, against
what is built.

The rules (one place, also used by the proposal impact, ``gis.proposals.impact``):

- lot area: the cadastre's ``superficie_terreno``, or the polygon's area when missing;
- maximum built area: lot area × ``coef_constructibilidad``;
- maximum footprint: lot area × ``coef_ocupacion_suelo``;
- maximum dwellings: lot area (ha) × ``densidad_maxima`` (hab/ha) ÷
  :data:`layers.zoning.PEOPLE_PER_DWELLING`, not rounded, so that sums over a zone give
  the zone's capacity;
- lots: the parcels a subdivision could make, ⌊lot area ÷ ``superficie_predial_minima``⌋,
  at least 1 (an existing lot below the minimum stays a lot); none when the zone sets no
  minimum. Houses each on its own lot are bounded by both: min(dwellings, lots);
- a norm the zone does not set, or a parcel outside every zone, gives 0;
- residual built area: maximum − current built area (``superficie_construida``), ≥ 0;
- vacant land: parcels with SII destino W (sitio eriazo).

A parcel is judged by the zone holding most of its area (``gis/sql/analysis_common.sql``).

Examples
--------
>>> cabida = capacity(settings, area="S-03")                      # doctest: +SKIP
>>> cabida.edificable_residual_m2.sum()                           # doctest: +SKIP
>>> capacity_by_zone(settings, version=2)                         # doctest: +SKIP
"""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import psycopg
from psycopg import sql

from gis.analysis.common import (
    AnalysisArea,
    AreaInput,
    Connectable,
    LayerChoice,
    analysis_transaction,
    describe,
    fetch_frame,
    geometry_column,
    layer_version,
    load_area,
    parcels_join,
    resolve_area,
    run_script,
    session,
    sql_sections,
)
from gis.analysis.zone_assignment import parcel_zone_query
from layers.zoning import PEOPLE_PER_DWELLING

SQL = sql_sections("analysis_capacity")
VACANT = "W"
"""SII destino of vacant land (sitio eriazo)."""

COLUMNS = {
    "rol": "str", "destino": "str", "zona": "str", "superficie_m2": "float64",
    "edificable_max_m2": "float64", "ocupacion_max_m2": "float64",
    "viviendas_max": "float64", "lotes_max": "Int64", "construida_m2": "float64",
    "edificable_residual_m2": "float64", "eriazo": "bool",
}
ZONE_COLUMNS = {
    "zona": "str", "nombre": "str", "predios": "int64", "superficie_m2": "float64",
    "edificable_max_m2": "float64", "ocupacion_max_m2": "float64",
    "viviendas_max": "float64", "lotes_max": "Int64", "construida_m2": "float64",
    "edificable_residual_m2": "float64", "predios_eriazos": "int64",
    "superficie_eriaza_m2": "float64", "edificable_eriazo_m2": "float64",
    "viviendas_eriazo": "float64",
}


def lot_area_sql(parcel: str) -> sql.Composable:
    """SQL of the lot area of the parcel row ``parcel`` (an alias written in code)."""
    return sql.SQL(  # type: ignore[arg-type]
        f"coalesce({parcel}.superficie_terreno, ST_Area({parcel}.geom))")


def cabida_sql(lot: str, zone: str, suffix: str = "") -> sql.Composable:
    """SQL select-list items ``edificable``, ``ocupacion`` and ``viviendas`` (each with
    ``suffix``) of a lot of area ``lot`` under the norms of the zone row ``zone`` (both
    SQL expressions written in code): the rules of this module's docstring."""
    return sql.SQL(  # type: ignore[arg-type]
        f"{lot} * coalesce({zone}.coef_constructibilidad, 0) AS edificable{suffix}, "
        f"{lot} * coalesce({zone}.coef_ocupacion_suelo, 0) AS ocupacion{suffix}, "
        f"{lot} / 10000.0 * coalesce({zone}.densidad_maxima, 0) / {PEOPLE_PER_DWELLING:d}.0 "
        f"AS viviendas{suffix}")


def capacity(conn_or_settings: Connectable, *, area: AreaInput | None = None,
             version: int | None = None, fecha: date | datetime | str | None = None,
             solo_eriazos: bool = False, geometria: bool = True) -> pd.DataFrame:
    """Capacity of every parcel of ``area`` under the zoning ``version`` (or the one in
    force on ``fecha``; the current one by default).

    Parameters
    ----------
    conn_or_settings : an open psycopg connection, or the settings to open one.
    area : None (whole comuna), a sector code or name, a census geocódigo, or a polygon.
    version, fecha : the zoning version by number, or the one in force on a date.
    solo_eriazos : only vacant parcels (destino W).
    geometria : a GeoDataFrame with each parcel's polygon (EPSG:32719); else a DataFrame.

    Returns
    -------
    One row per parcel, ordered by rol:

    - ``rol``: rol SII.
    - ``destino``: código de destino SII.
    - ``zona``: zona PRC con la mayor parte del predio (vacía: fuera del PRC).
    - ``superficie_m2``: superficie del lote (terreno SII, o la del polígono).
    - ``edificable_max_m2``: superficie edificable máxima (lote × constructibilidad).
    - ``ocupacion_max_m2``: ocupación de suelo máxima (lote × coef. de ocupación).
    - ``viviendas_max``: viviendas máximas por densidad (lote en ha × densidad hab/ha ÷
      habitantes por vivienda), sin redondear.
    - ``lotes_max``: lotes que permite la superficie predial mínima (vacío si la zona no
      la fija).
    - ``construida_m2``: superficie construida actual (catastro SII; 0 si falta).
    - ``edificable_residual_m2``: edificable máxima − construida, no menor que 0.
    - ``eriazo``: el predio es sitio eriazo (destino W).
    """
    with session(conn_or_settings) as (conn, settings):
        chosen = resolve_area(conn, settings, area)
        zoning = layer_version(conn, "zoning", version, fecha)
        with analysis_transaction(conn):
            query = sql.SQL(SQL["parcels"]).format(
                capacities=_capacities(conn, chosen, zoning),  # streamed, not kept
                geometry=geometry_column("p.geom", geometria), parcels=parcels_join(geometria))
            frame = fetch_frame(conn, query, _params(solo_eriazos), COLUMNS,
                                geometry=geometria)
    return describe(frame, "cabida", chosen, zoning, solo_eriazos=solo_eriazos)


def capacity_by_zone(conn_or_settings: Connectable, *, area: AreaInput | None = None,
                     version: int | None = None, fecha: date | datetime | str | None = None,
                     geometria: bool = True) -> pd.DataFrame:
    """Capacity summed by PRC zone over the parcels of ``area``; same parameters as
    :func:`capacity`. Parcels outside every zone are left out.

    Returns
    -------
    One row per zone with parcels, ordered by code:

    - ``zona``, ``nombre``: código y nombre de la zona PRC.
    - ``predios``: predios asignados a la zona.
    - ``superficie_m2``: superficie de sus lotes.
    - ``edificable_max_m2``, ``ocupacion_max_m2``, ``viviendas_max``, ``lotes_max``,
      ``construida_m2``, ``edificable_residual_m2``: sumas de las columnas de
      :func:`capacity` (``lotes_max`` vacío si la zona no fija superficie mínima).
    - ``predios_eriazos``: sitios eriazos (destino W) de la zona.
    - ``superficie_eriaza_m2``, ``edificable_eriazo_m2``, ``viviendas_eriazo``: su
      superficie y su cabida (edificable y viviendas).

    With ``geometria``, the zone's whole polygon (EPSG:32719).
    """
    with session(conn_or_settings) as (conn, settings):
        chosen = resolve_area(conn, settings, area)
        zoning = layer_version(conn, "zoning", version, fecha)
        with analysis_transaction(conn):
            _compute(conn, chosen, zoning, False)
            query = sql.SQL(SQL["by_zone"]).format(
                zoning=zoning.table, geometry=geometry_column("z.geom", geometria))
            frame = fetch_frame(conn, query, None, ZONE_COLUMNS, geometry=geometria)
    return describe(frame, "cabida_por_zona", chosen, zoning)


def _params(only_vacant: bool) -> dict[str, object]:
    return {"eriazo": VACANT, "todos": not only_vacant}


def _capacities(conn: psycopg.Connection, area: AnalysisArea, zoning: LayerChoice
                ) -> sql.Composable:
    """The query of the capacity of every parcel of the area (loads the area first)."""
    load_area(conn, area)
    return sql.SQL(SQL["capacities"]).format(
        zoning=zoning.table, parcel_zone=parcel_zone_query(conn, area, zoning),
        cabida=cabida_sql("pz.lote", "z"))


def _compute(conn: psycopg.Connection, area: AnalysisArea, zoning: LayerChoice,
             only_vacant: bool) -> None:
    """Temporary table ``capacity``: the capacity of every parcel of the area."""
    run_script(conn, SQL["compute"], _params(only_vacant),
               capacities=_capacities(conn, area, zoning))

"""Land-use compliance: each parcel's current use against the uses its PRC zone permits
and prohibits.

A parcel's current use is the OGUC use class of its SII destino
(:data:`layers.codes.SII_DESTINO_CLASS`); its zone is the one holding most of its area
(``gis/sql/analysis_common.sql``). The verdict follows :func:`conformity`, with the rule
that decided it in words.

Examples
--------
>>> tabla = compliance(settings, area="Llolleo", fecha="2024-06-30")   # doctest: +SKIP
>>> tabla.resultado.value_counts()                                     # doctest: +SKIP
>>> compliance_summary(settings, por="sector")                         # doctest: +SKIP
"""

from __future__ import annotations

import json
from datetime import date, datetime

import pandas as pd
import psycopg
from psycopg import sql

from gis.analysis.common import (
    AnalysisArea,
    AnalysisInputError,
    AreaInput,
    Connectable,
    LayerChoice,
    analysis_transaction,
    describe,
    fetch_frame,
    geometry_column,
    layer_version,
    load_area,
    parcel_sectors,
    parcels_join,
    resolve_area,
    run_script,
    session,
    sql_sections,
)
from gis.analysis.zone_assignment import parcel_zone_query
from layers.codes import SII_DESTINO_CLASS, SII_DESTINOS

SQL = sql_sections("analysis_compliance")
VERDICTS = ("conforme", "no conforme", "no regulado")

COLUMNS = {
    "rol": "str", "direccion": "str", "destino": "str", "destino_nombre": "str",
    "clase_oguc": "str", "zona": "str", "porcentaje_zona": "float64",
    "resultado": "str", "regla": "str", "superficie_m2": "float64",
}
SUMMARY_COLUMNS = {
    "predios": "int64", "conformes": "int64", "no_conformes": "int64",
    "no_regulados": "int64", "porcentaje_no_conforme": "float64",
    "superficie_m2": "float64", "superficie_no_conforme_m2": "float64",
}
GROUPS = {"zona": ("zona", "nombre"), "sector": ("sector", "nombre")}
"""``por`` of :func:`compliance_summary` → its key columns."""


def conformity(use_class: str | None, permitted: list[str] | None,
               prohibited: list[str] | None) -> str:
    """'conforme', 'no conforme' or 'no regulado' for a use class under a zone's uses:
    prohibited wins over permitted; no class, a zone without uses, or a use the zone does
    not mention is not regulated. ``gis/sql/analysis_compliance.sql`` applies the same
    rule in the database."""
    if use_class is None or not (permitted or prohibited):
        return "no regulado"
    if use_class in (prohibited or []):
        return "no conforme"
    if use_class in (permitted or []):
        return "conforme"
    return "no regulado"


def compliance(conn_or_settings: Connectable, *, area: AreaInput | None = None,
               version: int | None = None, fecha: date | datetime | str | None = None,
               geometria: bool = True) -> pd.DataFrame:
    """Land-use compliance of every parcel of ``area`` with the zoning ``version`` (or the
    one in force on ``fecha``; the current one by default).

    Parameters
    ----------
    conn_or_settings : an open psycopg connection, or the settings to open one.
    area : None (whole comuna), a sector code or name, a census geocódigo, or a polygon
        (see :mod:`gis.analysis.common`).
    version, fecha : the zoning version by number, or the one in force on a date.
    geometria : return a GeoDataFrame with each parcel's polygon (EPSG:32719); a plain
        DataFrame when False.

    Returns
    -------
    One row per parcel, ordered by rol:

    - ``rol``: rol SII (manzana-predio, 5+5 dígitos).
    - ``direccion``: dirección del predio.
    - ``destino``: código de destino SII (H, C, I...).
    - ``destino_nombre``: nombre del destino (habitacional, comercio...).
    - ``clase_oguc``: clase de uso OGUC del destino; vacía si el PRC no lo regula
      (agrícola, forestal, otros, sitio eriazo).
    - ``zona``: zona PRC con la mayor parte de la superficie del predio; vacía si la
      mayor parte queda fuera de las zonas.
    - ``porcentaje_zona``: % de la superficie del predio dentro de esa zona.
    - ``resultado``: ``conforme``, ``no conforme`` o ``no regulado``.
    - ``regla``: la regla que decidió, p. ej. «uso residencial permitido en ZH-1»,
      «uso actividad productiva molesta prohibido en ZH-1», «zona AV-1 sin uso indicado»,
      «uso equipamiento salud no indicado en ZM-2», «predio fuera de las zonas del Plan
      Regulador», «destino sitio eriazo sin uso OGUC regulado».
    - ``superficie_m2``: superficie geométrica del predio (m²).

    ``attrs`` records the analysis, the area and the zoning version used.
    """
    with session(conn_or_settings) as (conn, settings):
        chosen = resolve_area(conn, settings, area)
        zoning = layer_version(conn, "zoning", version, fecha)
        with analysis_transaction(conn):
            query = sql.SQL(SQL["parcels"]).format(
                verdicts=_verdicts(conn, chosen, zoning),  # streamed, not kept
                geometry=geometry_column("p.geom", geometria), parcels=parcels_join(geometria))
            frame = fetch_frame(conn, query, _VERDICT_PARAMS, COLUMNS, geometry=geometria)
    return describe(frame, "cumplimiento", chosen, zoning)


def compliance_summary(conn_or_settings: Connectable, *, area: AreaInput | None = None,
                       version: int | None = None,
                       fecha: date | datetime | str | None = None, por: str = "zona",
                       geometria: bool = True) -> pd.DataFrame:
    """Compliance counts by PRC zone (``por="zona"``) or by planning sector
    (``por="sector"``) over the parcels of ``area``; same parameters as
    :func:`compliance`.

    Returns
    -------
    One row per zone (or sector) with parcels, ordered by code; parcels outside every
    zone (or sector) make a last row with an empty code:

    - ``zona`` (or ``sector``): código de la zona PRC (o del sector de planificación).
    - ``nombre``: nombre de la zona (o del sector).
    - ``predios``: predios del área asignados a ella.
    - ``conformes``, ``no_conformes``, ``no_regulados``: predios con cada resultado.
    - ``porcentaje_no_conforme``: % de predios no conformes.
    - ``superficie_m2``: superficie de esos predios (m²).
    - ``superficie_no_conforme_m2``: superficie de los predios no conformes (m²).

    With ``geometria``, the zone's (sector's) whole polygon, EPSG:32719.
    """
    if por not in GROUPS:
        raise AnalysisInputError(f"No se puede resumir por «{por[:40]}».",
                                 hint="Use por='zona' o por='sector'.")
    columns = {GROUPS[por][0]: "str", GROUPS[por][1]: "str", **SUMMARY_COLUMNS}
    with session(conn_or_settings) as (conn, settings):
        chosen = resolve_area(conn, settings, area)
        zoning = layer_version(conn, "zoning", version, fecha)
        with analysis_transaction(conn):
            _classify(conn, chosen, zoning)
            if por == "sector":
                parcel_sectors(conn)
            query = sql.SQL(SQL[{"zona": "by_zone", "sector": "by_sector"}[por]]).format(
                zoning=zoning.table, geometry=geometry_column("z.geom", geometria))
            frame = fetch_frame(conn, query, None, columns, geometry=geometria)
    return describe(frame, f"cumplimiento_por_{por}", chosen, zoning)


_VERDICT_PARAMS = {"clases": json.dumps(SII_DESTINO_CLASS),
                   "destinos": json.dumps(SII_DESTINOS)}


def _verdicts(conn: psycopg.Connection, area: AnalysisArea, zoning: LayerChoice
              ) -> sql.Composable:
    """The query of the verdict of every parcel of the area (loads the area first)."""
    load_area(conn, area)
    return sql.SQL(SQL["verdicts"]).format(
        zoning=zoning.table, parcel_zone=parcel_zone_query(conn, area, zoning))


def _classify(conn: psycopg.Connection, area: AnalysisArea, zoning: LayerChoice) -> None:
    """Temporary table ``compliance``: the verdict of every parcel of the area."""
    run_script(conn, SQL["classify"], _VERDICT_PARAMS, verdicts=_verdicts(conn, area, zoning))

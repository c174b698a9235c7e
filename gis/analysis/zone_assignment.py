"""The PRC zone of each parcel: the overlay of the cadastre with a zoning version that
land-use compliance and zoning capacity both start from.

A parcel belongs to the zone holding most of its area, provided that share is not smaller
than the part of the parcel outside every zone (else it is outside the PRC:
``gis/sql/analysis_parcel_zones.sql``). For a million parcels the overlay takes seconds,
so it is kept: ``profiles.parcel_zones`` holds it per zoning version, stamped in
``profiles.derived_state`` with the revisions it was computed from, and rebuilt on the
first analysis after the cadastre or that version changed (as the residential weights of
:func:`gis.profile.ensure_residential_weights` are). A small area (a parcel, a few blocks)
never triggers the rebuild: when the stored overlay is not current its parcels are
overlaid on the spot.

Examples
--------
>>> with connect(settings) as conn, conn.transaction():          # doctest: +SKIP
...     zoning = layer_version(conn, "zoning")
...     ensure_parcel_zones(conn, zoning)                        # current afterwards
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from gis.analysis.common import (
    COMMON_SQL,
    PIECE_VERTICES,
    AnalysisArea,
    LayerChoice,
    area_box,
    area_condition,
    run_script,
    sql_sections,
)
from gis.tiles import revisions

SQL = sql_sections("analysis_parcel_zones")
PARCEL_ZONES_LOCK = 0x5EC_0002
"""Advisory lock of the rebuild (one session rebuilds; the others wait, then read it)."""

SMALL_AREA_M2 = 250_000.0
"""Areas whose bounding box is smaller than this (25 ha: a parcel, a few blocks) narrow
the parcels of each zone piece to the box through the index, and are overlaid on the spot
rather than rebuilding the stored overlay; larger ones are not (for a sector the box
condition misleads the planner's estimates)."""


def parcel_zone_query(conn: psycopg.Connection, area: AnalysisArea, zoning: LayerChoice
                      ) -> sql.Composable:
    """A subquery (parenthesised) of every parcel of the area: fid, rol, direccion,
    destino, construida, avaluo, area, lote, zona, porcentaje_zona (zone under ``zoning``,
    NULL outside the PRC). Call :func:`gis.analysis.common.load_area` first, inside a
    transaction; the subquery is valid until it ends."""
    from gis.analysis.capacity import lot_area_sql  # the capacity rules import this module

    if ensure_parcel_zones(conn, zoning, build=not _is_small(area)):
        zones: sql.Composable = sql.SQL(
            "(SELECT fid, zona, porcentaje_zona FROM profiles.parcel_zones "
            "WHERE version = {})").format(sql.Literal(zoning.version))
    else:  # a small area while the stored overlay is not current
        _zone_pieces(conn, zoning)
        run_script(conn, SQL["local"], {}, zone_of_parcel=_zone_of_parcel(area))
        zones = sql.SQL("local_zones")
    return sql.SQL("({})").format(sql.SQL(SQL["parcel_zone"]).format(
        en_area=area_condition(area, "s.pt", box_of="p.geom"),
        lote=lot_area_sql("p"), zones=zones))


def ensure_parcel_zones(conn: psycopg.Connection, zoning: LayerChoice, *,
                        build: bool = True) -> bool:
    """Whether ``profiles.parcel_zones`` holds the current overlay of the cadastre with
    ``zoning``, rebuilding it first when ``build`` (call inside a transaction).

    The overlay of a version is current when the cadastre has not changed since, and, for
    the version in force, the zoning layer neither (an edit may change it in place)."""
    name, wanted = _stamp(conn, zoning)
    if _stored_stamp(conn, name) == wanted:
        return True
    if not build:
        return False
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (PARCEL_ZONES_LOCK,))
    if _stored_stamp(conn, name) == wanted:  # built meanwhile by another session
        return True
    _zone_pieces(conn, zoning)
    run_script(conn, SQL["store"], {"version": zoning.version},
               zone_of_parcel=_zone_of_parcel(None))
    conn.execute("INSERT INTO profiles.derived_state (name, revisiones) VALUES (%s, %s) "
                 "ON CONFLICT (name) DO UPDATE SET revisiones = EXCLUDED.revisiones, "
                 "calculado = now()", (name, Jsonb(wanted)))
    return True


def _stamp(conn: psycopg.Connection, zoning: LayerChoice) -> tuple[str, dict[str, Any]]:
    revs = revisions(conn, ("parcels", "zoning"))
    wanted: dict[str, Any] = {"parcels": revs["parcels"], "version": zoning.version,
                              "piezas": PIECE_VERTICES}
    if zoning.in_force:
        wanted["zoning"] = revs["zoning"]
    return f"parcel_zones:{zoning.version}", wanted


def _stored_stamp(conn: psycopg.Connection, name: str) -> dict[str, Any] | None:
    row = conn.execute("SELECT revisiones FROM profiles.derived_state WHERE name = %s",
                       (name,)).fetchone()
    return dict(row[0]) if row else None


def _zone_pieces(conn: psycopg.Connection, zoning: LayerChoice) -> None:
    run_script(conn, COMMON_SQL["zone_pieces"], {"vertices": PIECE_VERTICES},
               zoning=zoning.table)


def _zone_of_parcel(area: AnalysisArea | None) -> sql.Composable:
    """The overlay of the whole comuna (``area`` None), or of a small area's parcels."""
    if area is None:
        return sql.SQL(SQL["zone_of_parcel"]).format(
            pieza_en_area=sql.SQL("true"), caja_pequena=sql.SQL("true"))
    return sql.SQL(SQL["zone_of_parcel"]).format(
        pieza_en_area=area_condition(area, "z.geom"), caja_pequena=area_box("p.geom"))


def _is_small(area: AnalysisArea) -> bool:
    if area.geometry is None:
        return False
    x0, y0, x1, y1 = area.geometry.bounds
    return (x1 - x0) * (y1 - y0) <= SMALL_AREA_M2


__all__ = ["SMALL_AREA_M2", "ensure_parcel_zones", "parcel_zone_query"]

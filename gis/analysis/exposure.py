"""Hazard exposure: what lies in each hazard type and level — parcels, built area, avalúo,
population, investment projects and critical equipment.

- A parcel is exposed to a type and level when part of its area lies inside (its built
  area and avalúo count whole: a building on an exposed lot is exposed). A parcel in two
  levels counts in both.
- Population: census areal interpolation weighted by residential parcels, the weights of
  the projects' profiles (``gis.profile.ensure_residential_weights``): each census
  zone's people times the share of its residential parcel area inside the hazard; a zone
  without residential parcels by the share of its whole area.
- Critical equipment: health (destino S) and education (destino E) parcels; SII has no
  security destino, so security equipment is the current land use «equipamiento
  seguridad» (``layers.land_use``).
- Projects: investment projects (``layers.projects``) whose geometry meets the hazard.

Raster statistics (elevation, slope, tsunami depth) and the land below the tsunami safety
elevation are in :mod:`gis.analysis.zonal`.

Examples
--------
>>> exposicion = hazard_exposure(settings, area="Llolleo")        # doctest: +SKIP
>>> exposicion.query("tipo == 'tsunami'")[["nivel", "poblacion"]]   # doctest: +SKIP
"""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
from psycopg import sql

from gis.analysis.common import (
    PIECE_VERTICES,
    AnalysisArea,
    AreaInput,
    Connectable,
    analysis_transaction,
    area_condition,
    describe,
    fetch_frame,
    layer_version,
    load_area,
    resolve_area,
    run_script,
    session,
    sql_sections,
)
from gis.profile import ensure_residential_weights
from layers.codes import HAZARD_LEVELS

SQL = sql_sections("analysis_exposure")
CRITICAL_DESTINOS = {"salud": "S", "educacion": "E"}
"""SII destinos of critical equipment (health, education)."""
SECURITY_LAND_USE = "equipamiento seguridad"
"""Current land use of security equipment (police, fire brigades), absent from SII."""

COLUMNS = {
    "tipo": "str", "nivel": "str", "predios": "int64",
    "superficie_expuesta_m2": "float64", "superficie_construida_m2": "float64",
    "avaluo_total_clp": "int64", "poblacion": "float64", "proyectos": "int64",
    "monto_proyectos_clp": "int64", "equipamiento_salud": "int64",
    "equipamiento_educacion": "int64", "equipamiento_seguridad": "int64",
}


def hazard_exposure(conn_or_settings: Connectable, *, area: AreaInput | None = None,
                    version: int | None = None, fecha: date | datetime | str | None = None,
                    ) -> pd.DataFrame:
    """Exposure of ``area`` to each hazard type and level of ``layers.hazard_zones``.

    Parameters
    ----------
    conn_or_settings : an open psycopg connection, or the settings to open one.
    area : None (whole comuna), a sector code or name, a census geocódigo, or a polygon.
    version, fecha : the version of the hazard zones (``hazard_zones``) by number, or
        the one in force on a date; the current one by default.

    Returns
    -------
    One row per hazard type and level present in the layer (also with nothing exposed),
    ordered by type and level (alto, medio, bajo):

    - ``tipo``: amenaza (tsunami, inundación, remoción en masa...).
    - ``nivel``: nivel de la amenaza (alto, medio, bajo).
    - ``predios``: predios del área con parte de su superficie en la amenaza.
    - ``superficie_expuesta_m2``: superficie de esos predios dentro de la amenaza.
    - ``superficie_construida_m2``: superficie construida de esos predios (completa).
    - ``avaluo_total_clp``: avalúo fiscal total de esos predios (CLP).
    - ``poblacion``: población estimada dentro de la amenaza (Censo 2017, interpolación
      areal ponderada por predios residenciales).
    - ``proyectos``: proyectos de inversión cuya geometría toca la amenaza.
    - ``monto_proyectos_clp``: costo total de esos proyectos (CLP).
    - ``equipamiento_salud``: predios de salud (destino S) expuestos.
    - ``equipamiento_educacion``: predios de educación (destino E) expuestos.
    - ``equipamiento_seguridad``: áreas de uso actual «equipamiento seguridad» expuestas.
    """
    with session(conn_or_settings) as (conn, settings):
        chosen = resolve_area(conn, settings, area)
        hazards = layer_version(conn, "hazard_zones", version, fecha)
        with analysis_transaction(conn):
            ensure_residential_weights(conn)
            load_area(conn, chosen)
            params = {"vertices": PIECE_VERTICES, "area": chosen.wkb,
                      "salud": CRITICAL_DESTINOS["salud"],
                      "educacion": CRITICAL_DESTINOS["educacion"],
                      "seguridad": SECURITY_LAND_USE, "niveles": list(HAZARD_LEVELS)}
            run_script(conn, SQL["hazard_pieces"], params, hazards=hazards.table)
            run_script(conn, SQL["exposed_parcels"], params,
                       en_area_predio=area_condition(chosen, "s.pt", box_of="p.geom"))
            query = sql.SQL(SQL["summary"]).format(
                en_area_pieza=area_condition(chosen, "r.centro", box_of="r.geom"),
                en_area_proyecto=area_condition(chosen, "pr.geom", box_of="pr.geom"),
                en_area_uso=area_condition(chosen, "s.pt", box_of="u.geom"),
                recorte=_clip(chosen))
            frame = fetch_frame(conn, query, params, COLUMNS, geometry=False)
    return describe(frame, "exposicion_amenazas", chosen, hazards)


def _clip(area: AnalysisArea) -> sql.Composable:
    """The part of census zone ``z`` in hazard piece ``h`` (and in the area)."""
    if area.geometry is None:
        return sql.SQL("ST_Intersection(z.geom, h.geom)")
    return sql.SQL("ST_Intersection(ST_Intersection(z.geom, h.geom), "
                   "ST_GeomFromWKB(%(area)s, 32719))")


__all__ = ["CRITICAL_DESTINOS", "SECURITY_LAND_USE", "hazard_exposure"]

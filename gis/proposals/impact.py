"""Impact analysis of a zoning proposal, shown to reviewers before approval: parcels whose
zone or norms change, theoretical building capacity (cabida) before and after, population
affected, land uses and projects whose conformity changes, and new housing capacity
inside hazard zones — as tables, map layers and a Spanish paragraph for the Concejo."""

from __future__ import annotations

import re
from importlib.resources import files
from typing import Any

import geopandas as gpd
import numpy as np
import psycopg
import shapely
from psycopg import sql
from psycopg.rows import dict_row

from gis.analysis.capacity import cabida_sql, lot_area_sql
from gis.analysis.compliance import conformity
from gis.proposals.validation import changed_zones, plain_value
from layers.land_use import OGUC_CLASS as LAND_USE_CLASS
from layers.projects import OGUC_CLASS as PROJECT_CLASS
from layers.zoning import LAYER as ZONING

RISK_TYPES = ["tsunami", "inundación", "remoción en masa"]
CAPACITY_SQL = {"lote_predio": lot_area_sql("p"),
                "cabida_antes": cabida_sql("l.lote", "b", "_antes"),
                "cabida_despues": cabida_sql("l.lote", "n", "_despues")}
"""The capacity before and after, by the rules of :mod:`gis.analysis.capacity`."""
MAX_PARCEL_ROWS = 5_000


def _sections() -> dict[str, str]:
    text = files("gis").joinpath("sql/proposal_impact.sql").read_text(encoding="utf-8")
    parts = re.split(r"^-- name: (\w+)\n", text, flags=re.M)
    return {parts[i]: parts[i + 1].strip() for i in range(1, len(parts), 2)}


SECTIONS = _sections()


def _load_proposed(conn: psycopg.Connection, zones: gpd.GeoDataFrame) -> None:
    conn.execute("CREATE TEMP TABLE proposed_zones (LIKE layers.zoning) ON COMMIT DROP")
    conn.execute("ALTER TABLE proposed_zones DROP COLUMN fid")
    names = [f.name for f in ZONING.fields]
    columns = sql.SQL(", ").join(sql.Identifier(n) for n in [*names, "geom"])
    placeholders = sql.SQL(", ").join(sql.Placeholder() for _ in names)
    insert = sql.SQL("INSERT INTO proposed_zones ({}) VALUES ({}, "
                     "ST_SetSRID(ST_GeomFromWKB(%s), 32719))").format(columns, placeholders)
    rows = []
    for _, z in zones.iterrows():
        values = [plain_value(z.get(n)) for n in names]
        rows.append([*values, shapely.to_wkb(z.geometry)])
    with conn.cursor() as cur:
        cur.executemany(insert, rows)
    conn.execute("CREATE INDEX ON proposed_zones USING gist (geom)")


def proposal_impact(conn: psycopg.Connection, base_table: sql.Composable,
                    base: gpd.GeoDataFrame, proposed: gpd.GeoDataFrame) -> dict[str, Any]:
    """The impact of replacing ``base`` (stored in ``base_table``) by ``proposed``."""
    changed = changed_zones(base, proposed)
    params = {"changed": changed, "max_rows": MAX_PARCEL_ROWS,
              "risk_types": RISK_TYPES,
              "reassigned": shapely.to_wkb(reassigned_area(base, proposed, changed))}

    def run(name: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        with conn.cursor(row_factory=dict_row) as cur:
            for statement in re.split(r";\s*\n", SECTIONS[name].rstrip(";")):
                query = sql.SQL(statement).format(  # type: ignore[arg-type]
                    base=base_table, **CAPACITY_SQL)
                cur.execute(query, params if "%(" in statement else None)
                rows = cur.fetchall() if cur.description else []
        return rows

    with conn.transaction():
        conn.execute("SET LOCAL jit = off")  # JIT compiles for seconds on these plans
        _load_proposed(conn, proposed)
        run("changed_area")
        run("affected_parcels")
        totals = {k: _num(v) for k, v in run("totals")[0].items()}
        parcels = [{k: _num(v) for k, v in r.items()} for r in run("parcels")]
        population = _num(next(iter(run("population")[0].values())))
        hazards = [{k: _num(v) for k, v in r.items()} for r in run("hazard_capacity")]
        land_use = _conformity_changes(run("land_use"), "uso", LAND_USE_CLASS)
        projects = _conformity_changes(run("projects"), "sector", PROJECT_CLASS)
    result = {
        "zonas_cambiadas": changed, "totales": totals,
        "poblacion_afectada": round(population),
        "predios": parcels, "predios_truncado": len(parcels) >= MAX_PARCEL_ROWS,
        "capacidad_en_riesgo": hazards, "usos_de_suelo": land_use, "proyectos": projects,
    }
    result["resumen"] = summary(result)
    return result


def reassigned_area(base: gpd.GeoDataFrame, proposed: gpd.GeoDataFrame,
                    changed: list[str]) -> shapely.Geometry:
    """Where the zone code changes: the union of each changed zone's symmetric difference
    between before and after (norm-only changes reassign nothing)."""
    before = dict(zip(base["codigo"], base.geometry, strict=True))
    after = dict(zip(proposed["codigo"], proposed.geometry, strict=True))
    empty = shapely.GeometryCollection()
    pieces = [_or_empty(before.get(c), empty).symmetric_difference(_or_empty(after.get(c), empty))
              for c in changed]
    area = shapely.union_all([p for p in pieces if not p.is_empty]) if pieces else empty
    return area if area.area > 0.01 else shapely.Polygon()


def _or_empty(geom: shapely.Geometry | None, empty: shapely.Geometry) -> shapely.Geometry:
    return empty if geom is None else geom


def _num(v: Any) -> Any:
    if v is None or isinstance(v, str | int | bool):
        return v
    try:
        f = float(v)
    except (TypeError, ValueError):
        return v
    return round(f, 2) if np.isfinite(f) else None


def _conformity_changes(rows: list[dict[str, Any]], key: str,
                        classes: dict[str, str]) -> list[dict[str, Any]]:
    out = []
    for r in rows:
        cls = classes.get(r[key])
        before = conformity(cls, r["permitidos_antes"], r["prohibidos_antes"])
        after = conformity(cls, r["permitidos_despues"], r["prohibidos_despues"])
        if before != after:
            item = {k: v for k, v in r.items() if not k.startswith(("permitidos", "prohibidos"))}
            out.append({**{k: _num(v) for k, v in item.items()}, "clase_oguc": cls,
                        "antes": before, "despues": after})
    return out


def summary(impact: dict[str, Any]) -> str:
    """A Spanish paragraph for the Concejo Municipal."""
    t = impact["totales"]

    def n(x: float, d: int = 0) -> str:
        return f"{x:,.{d}f}".replace(",", "·").replace(".", ",").replace("·", ".")

    zones = impact["zonas_cambiadas"]
    text = [f"La propuesta modifica {len(zones)} zona(s) del Plan Regulador "
            f"({', '.join(zones[:8])}{'…' if len(zones) > 8 else ''})."]
    text.append(f"Afecta a {n(t['predios_cambian_normas'])} predios "
                f"({n(t['superficie_m2'] / 10_000, 2)} ha), de los cuales "
                f"{n(t['predios_cambian_zona'])} cambian de zona.")
    dv = t["viviendas_despues"] - t["viviendas_antes"]
    de = t["edificable_despues_m2"] - t["edificable_antes_m2"]
    text.append(f"La cabida teórica {'aumenta' if de >= 0 else 'disminuye'} en "
                f"{n(abs(de))} m² edificables y {n(abs(dv))} viviendas "
                f"({'más' if dv >= 0 else 'menos'}).")
    text.append(f"Se estima una población residente de {n(impact['poblacion_afectada'])} "
                "personas en el área modificada (Censo 2017, interpolación areal).")
    risky = sum(h["delta_viviendas"] for h in impact["capacidad_en_riesgo"])
    if risky > 0:
        text.append(f"Atención: se agregan {n(risky)} viviendas de cabida dentro de zonas de "
                    "riesgo (tsunami, inundación o remoción en masa).")
    worse = sum(1 for u in impact["usos_de_suelo"] if u["despues"] == "no conforme")
    better = sum(1 for u in impact["usos_de_suelo"] if u["despues"] == "conforme")
    if worse or better:
        text.append(f"{n(worse)} áreas de uso actual quedarían no conformes y {n(better)} "
                    "pasarían a ser conformes.")
    if impact["proyectos"]:
        text.append(f"{len(impact['proyectos'])} proyecto(s) de inversión cambian su "
                    "compatibilidad con la zona.")
    return " ".join(text)

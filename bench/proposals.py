"""Zoning proposal speed at scale: validating and computing the impact of a proposal that
changes 10 zones (target under 2 s), and applying it as a new zoning version (under 10 s),
with the 1,000,000-parcel cadastre loaded."""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

from bench.common import CACHE_DIR, BenchDatabase, machine_info, parcels_dataset
from gis.database import connect

NAME = "proposals"
DESCRIPTION = "propuesta de zonificación de 10 zonas: validación + impacto y aplicación"
TARGETS = {"validate_and_impact_s_under": 2.0, "apply_s_under": 10.0}
ZONES_CHANGED = 10


def _load(db: BenchDatabase, size: int, cache_dir: Path = CACHE_DIR) -> int:
    """Every demo layer, then the scale cadastre as the parcels in force."""
    from gis.demo.load import missing_demo_files
    from gis.ingest import ingest

    if missing_demo_files(db.settings):
        from gis.demo import generate

        generate(db.settings.raw_dir)
    db.load_demo()
    dataset = parcels_dataset(size, cache_dir=cache_dir)
    report = ingest(db.settings, "parcels", dataset.path)
    return report.features_loaded


def _users(db: BenchDatabase) -> dict[str, Any]:
    from gis.auth import create_user

    with connect(db.settings) as conn:
        people = {name: create_user(conn, name, name, role, "clave-de-benchmark-1")
                  for name, role in (("editora", "editor"), ("revisora", "revisor"),
                                     ("admin", "admin"))}
        conn.commit()
    return people


def _proposal(db: BenchDatabase, users: dict[str, Any]) -> int:
    """A proposal raising height, floors, constructibility and density in 10 zones."""
    from gis.proposals import store
    from gis.proposals.operations import Operation

    with connect(db.settings, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT codigo, altura_maxima, pisos_maximos, coef_ocupacion_suelo, "
            "densidad_maxima FROM layers.zoning WHERE familia IN ('residencial', 'mixta') "
            "ORDER BY ST_Area(geom) DESC LIMIT %s", (ZONES_CHANGED,)).fetchall()
        p = store.create_proposal(conn, users["editora"], "Densificación de 10 zonas",
                                  "Benchmark")
        for code, height, floors, occupation, density in rows:
            floors = int(floors or 2) + 1
            op = Operation("normas", codigo=code, normas={
                "altura_maxima": float(height or 7) + 3.5, "pisos_maximos": floors,
                "coef_constructibilidad": round(float(occupation or 0.5) * floors, 2),
                "densidad_maxima": round(float(density or 200) * 1.2)})
            p = store.add_change(conn, db.settings, users["editora"], p.id, p.etag, op)
        p = store.transition(conn, db.settings, users["editora"], p.id, p.etag, "enviar")
        p = store.transition(conn, db.settings, users["revisora"], p.id, p.etag, "aprobar")
        return p.id


def _validate_and_impact(db: BenchDatabase, proposal_id: int) -> tuple[float, dict[str, Any]]:
    from psycopg import sql

    from gis.proposals import store
    from gis.proposals.impact import proposal_impact

    with connect(db.settings, autocommit=True) as conn:
        start = time.perf_counter()
        p = store.get_proposal(conn, proposal_id)
        check = store.validate_proposal(conn, db.settings, p)
        base = store.base_zoning(db.settings, p.base_version)
        proposed = store.working_copy(db.settings, p)
        impact = proposal_impact(conn, sql.Identifier("layers", "zoning"), base, proposed)
        seconds = time.perf_counter() - start
    assert check.ok, check.as_json()
    return seconds, impact


def run(db: BenchDatabase, size: int, rounds: int = 3,
        cache_dir: Path = CACHE_DIR) -> dict[str, Any]:
    db.reset()
    loaded = _load(db, size, cache_dir)
    users = _users(db)
    proposal_id = _proposal(db, users)
    timings, impact = [], {}
    for _ in range(max(1, rounds)):
        seconds, impact = _validate_and_impact(db, proposal_id)
        timings.append(seconds)
    from gis.proposals import store

    with connect(db.settings, autocommit=True) as conn:
        p = store.get_proposal(conn, proposal_id)
        start = time.perf_counter()
        applied = store.apply_proposal(conn, db.settings, users["admin"], p.id, p.etag)
        apply_seconds = time.perf_counter() - start
        revision = conn.execute("SELECT revision FROM catalog.layer_revisions "
                                "WHERE layer = 'zoning'").fetchone()
    figures = {"validate_and_impact_s": round(statistics.median(timings), 3),
               "validate_and_impact_runs_s": [round(t, 3) for t in timings],
               "apply_s": round(apply_seconds, 3)}
    return {
        "benchmark": NAME, "description": DESCRIPTION, "parcels": loaded,
        "zones_changed": ZONES_CHANGED,
        "affected_parcels": impact.get("totales", {}).get("predios_cambian_normas"),
        "applied_version": applied.version_aplicada,
        "zoning_revision_after_apply": revision[0] if revision else None,
        **figures,
        "statistic": "validate_and_impact: median over the rounds, in-process (the API "
        "does the same work); apply: one run (it changes the data)",
        "targets": TARGETS,
        "met": {"validate_and_impact_s_under": figures["validate_and_impact_s"]
                < TARGETS["validate_and_impact_s_under"],
                "apply_s_under": figures["apply_s"] < TARGETS["apply_s_under"]},
        "machine": machine_info(db),
    }


def summary(result: dict[str, Any]) -> list[str]:
    met = result["met"]
    return [
        f"Predios: {result['parcels']:,}; predios afectados por la propuesta: "
        f"{result['affected_parcels']:,}".replace(",", "."),
        f"Validación + impacto: {result['validate_and_impact_s']:.2f} s (meta < 2 s: "
        f"{'cumple' if met['validate_and_impact_s_under'] else 'NO cumple'})",
        f"Aplicación (nueva versión): {result['apply_s']:.2f} s (meta < 10 s: "
        f"{'cumple' if met['apply_s_under'] else 'NO cumple'})",
    ]

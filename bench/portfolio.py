"""Territorial profile speed at scale: with the 1,000,000-parcel cadastre and 5,000
generated projects,

- one project's profile computed cold (:func:`gis.profile.project_profile`, every section,
  nothing stored; target p95 under 150 ms) over a seeded sample of projects, and the read
  of a stored, current profile (:func:`gis.profile.current_profile`);
- every profile recomputed (all sections, stored), then a zoning change: a proposal of 10
  zones applied as a new zoning version, whose load recomputes the zoning section of the
  5,000 stored profiles (target: the whole change under 60 s);
- the same sections (rasters left out on both sides) computed for the 5,000 projects by a
  straightforward geopandas implementation (:mod:`bench.profile_geopandas`: layers read
  with ``read_postgis``, overlays and spatial joins), in the same run, against the
  platform computing them in its batches: the ratio, the per-project times, and how far
  the two agree section by section.

The projects are placed like the demo portfolio (:func:`gis.demo.projects.portfolio`,
same seed: its first 150 are the demo's) and saved through the registry
(:func:`gis.portfolio.store.save_projects`), as a portfolio import would. The machine's
load average is recorded: the figures are wall times, and the machine may be shared.
"""

from __future__ import annotations

import os
import random
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from bench.common import CACHE_DIR, SEED, BenchDatabase, machine_info
from gis.database import connect

NAME = "portfolio"
DESCRIPTION = ("perfil territorial de 5.000 proyectos: uno en frío, todos tras un cambio de "
               "zonificación, y geopandas")
TARGETS = {"single_profile_p95_ms_under": 150.0, "zoning_change_s_under": 60.0}
PROJECTS = 5_000
SAMPLE = 200
"""Projects whose single profile is timed (the peer's: :data:`PEER_SAMPLE` of them)."""
PEER_SAMPLE = 50


# -- the data ---------------------------------------------------------------------------

def generated_projects(raw_dir: Path, n: int, seed: int = SEED) -> list[Any]:
    """``n`` projects placed like the demo portfolio, checked by
    :func:`gis.portfolio.record.parse_project` (geometry in the storage CRS)."""
    from gis.demo.common import UTM, WGS84, reproject
    from gis.demo.context import Context
    from gis.demo.projects import portfolio
    from gis.portfolio.record import parse_project

    ctx = Context(raw_dir, parcels=0, seed=seed)
    port = shapely.union_all(ctx.terminals.geometry.values)
    rows = portfolio(ctx.sectors, ctx.geography.coast, port, ctx.comuna, seed, n=n)
    geoms = reproject(np.array([shapely.from_wkt(r["wkt"]) for r in rows], dtype=object),
                      WGS84, UTM)
    return [parse_project({
        "codigo": r["cod_bip"], "nombre": r["nombre_proyecto"], "sector": r["sector"],
        "etapa": r["etapa"],
        "financiamiento": [{"fuente": r["fuente"], "anio": r["año"], "aprobado": r["monto"]}],
    }, geometry=g, where=f"Proyecto {i + 1}: ")
        for i, (r, g) in enumerate(zip(rows, geoms, strict=True))]


def load(db: BenchDatabase, size: int, projects: int, cache_dir: Path = CACHE_DIR
         ) -> dict[str, Any]:
    """Every demo layer, the scale cadastre, then ``projects`` generated projects saved
    through the registry (replacing the demo portfolio's)."""
    from bench.proposals import _load
    from gis.portfolio.store import save_projects

    parcels = _load(db, size, cache_dir)
    start = time.perf_counter()
    items = generated_projects(db.settings.raw_dir, projects)
    with connect(db.settings, autocommit=True) as conn:
        saved = save_projects(conn, db.settings, "benchmark", items,
                              source="cartera generada (benchmark)", profiles=False)
        count = conn.execute("SELECT count(*) FROM layers.projects").fetchone()[0]
    return {"parcels": parcels, "projects": count, "saved": saved,
            "projects_save_s": round(time.perf_counter() - start, 1)}


# -- the measures -----------------------------------------------------------------------

def _quantiles(ms: list[float]) -> dict[str, float]:
    q = statistics.quantiles(ms, n=100, method="inclusive") if len(ms) > 1 else ms * 99
    return {"p50_ms": round(q[49], 1), "p95_ms": round(q[94], 1), "max_ms": round(max(ms), 1)}


def _single_profiles(db: BenchDatabase, sample: list[str], rounds: int) -> dict[str, Any]:
    """Cold profile of each sampled project (computed, nothing stored), ``rounds`` times."""
    from gis.profile import project_profile

    runs = []
    with connect(db.settings, autocommit=True) as conn:
        project_profile(conn, db.settings, sample[0])  # opens the rasters, warms the plans
        for _ in range(max(1, rounds)):
            ms = []
            for code in sample:
                start = time.perf_counter()
                project_profile(conn, db.settings, code)
                ms.append((time.perf_counter() - start) * 1000)
            runs.append(_quantiles(ms))
    p95 = statistics.median(r["p95_ms"] for r in runs)
    best = min(runs, key=lambda r: abs(r["p95_ms"] - p95))
    return {"projects": len(sample), **best, "runs": runs}


def _stored_reads(db: BenchDatabase, sample: list[str]) -> dict[str, Any]:
    from gis.profile import current_profile

    ms = []
    with connect(db.settings, autocommit=True) as conn:
        for code in sample:
            start = time.perf_counter()
            current_profile(conn, db.settings, code)
            ms.append((time.perf_counter() - start) * 1000)
    return {"projects": len(sample), **_quantiles(ms)}


def _full_refresh(db: BenchDatabase) -> dict[str, Any]:
    """Every section of every project computed and stored (no profile stored before)."""
    from gis.profile import refresh_profiles

    with connect(db.settings, autocommit=True) as conn:
        conn.execute("DELETE FROM profiles.project_profiles")
        start = time.perf_counter()
        done = refresh_profiles(conn, db.settings)
        return {"profiles": done, "seconds": round(time.perf_counter() - start, 1)}


def _zoning_change(db: BenchDatabase) -> dict[str, Any]:
    """A proposal changing the norms of 10 zones applied as a new zoning version (as in
    :mod:`bench.proposals`): the load recomputes the zoning section of every stored
    profile before the apply returns."""
    from bench.proposals import ZONES_CHANGED, _proposal, _users
    from gis.profile import DEPENDENCIES, section_stamps, stale_sections
    from gis.proposals import store
    from gis.tiles import revisions

    users = _users(db)
    proposal_id = _proposal(db, users)
    with connect(db.settings, autocommit=True) as conn:
        p = store.get_proposal(conn, proposal_id)
        start = time.perf_counter()
        store.apply_proposal(conn, db.settings, users["admin"], p.id, p.etag)
        seconds = time.perf_counter() - start
        stamps = section_stamps(db.settings, revisions(conn, DEPENDENCIES))
        stored = conn.execute("SELECT revisiones FROM profiles.project_profiles").fetchall()
    stale = sum(1 for (stamp,) in stored if stale_sections(stamp, stamps))
    return {"zones_changed": ZONES_CHANGED, "seconds": round(seconds, 1),
            "profiles": len(stored), "profiles_not_current": stale}


def _platform_sections(db: BenchDatabase, codes: list[str], sections: tuple[str, ...]
                       ) -> tuple[float, dict[str, dict[str, Any]]]:
    """The compared sections of every project, computed in the refresh's batches (not
    stored): (seconds, profiles)."""
    from gis.profile import BATCH, _ordered, compute_sections

    out: dict[str, dict[str, Any]] = {}
    with connect(db.settings, autocommit=True) as conn:
        start = time.perf_counter()
        for i in range(0, len(codes), BATCH):
            out.update(compute_sections(conn, db.settings, codes[i:i + BATCH], sections))
        seconds = time.perf_counter() - start
    return seconds, {c: _ordered(p) for c, p in out.items()}


def _geopandas(db: BenchDatabase, codes: list[str], sample: list[str]) -> dict[str, Any]:
    """The peer over every project, its single-project times, the platform on the same
    sections, and their agreement."""
    from bench import profile_geopandas as peer
    from gis.database import create_engine

    platform_s, platform = _platform_sections(db, codes, peer.SECTIONS)
    engine = create_engine(db.settings)
    start = time.perf_counter()
    frames = peer.load_layers(engine)
    load_s = time.perf_counter() - start
    start = time.perf_counter()
    data = peer.prepare(frames)
    prepare_s = time.perf_counter() - start
    start = time.perf_counter()
    profiles = peer.profiles(data, band=db.settings.truck_route_band_m)
    compute_s = time.perf_counter() - start
    ms = []
    for code in sample:
        t0 = time.perf_counter()
        peer.profiles(data, [code], band=db.settings.truck_route_band_m)
        ms.append((time.perf_counter() - t0) * 1000)
    engine.dispose()
    pairs = [(peer.summary(platform[c]), peer.summary(profiles[c])) for c in codes]
    agreement = {s: round(sum(peer.agree(a[s], b[s], s) for a, b in pairs) / len(codes), 4)
                 for s in peer.SECTIONS}
    total_s = load_s + prepare_s + compute_s
    return {
        "sections": list(peer.SECTIONS),
        "load_s": round(load_s, 1), "prepare_s": round(prepare_s, 1),
        "compute_s": round(compute_s, 1), "total_s": round(total_s, 1),
        "platform_s": round(platform_s, 1),
        "ratio": round(total_s / platform_s, 2),
        "ratio_compute_only": round((prepare_s + compute_s) / platform_s, 2),
        "single": {"projects": len(sample), **_quantiles(ms)},
        "agreement": agreement,
    }


# -- the benchmark ----------------------------------------------------------------------

def run(db: BenchDatabase, size: int, rounds: int = 3, cache_dir: Path = CACHE_DIR, *,
        projects: int = PROJECTS, sample: int = SAMPLE, peer_sample: int = PEER_SAMPLE,
        ) -> dict[str, Any]:
    from gis.profile import ensure_residential_weights

    db.reset()
    loaded = load(db, size, projects, cache_dir)
    db.settle()
    load_before = os.getloadavg()
    with connect(db.settings, autocommit=True) as conn:
        start = time.perf_counter()
        with conn.transaction():
            ensure_residential_weights(conn)
        weights_s = time.perf_counter() - start
        codes = [r[0] for r in conn.execute("SELECT codigo FROM layers.projects ORDER BY 1")]
    picked = random.Random(SEED).sample(codes, min(sample, len(codes)))
    single = _single_profiles(db, picked, rounds)
    full = _full_refresh(db)
    stored = _stored_reads(db, picked)
    zoning = _zoning_change(db)
    compared = _geopandas(db, codes, picked[:peer_sample])
    compared["single_ratio_p50"] = round(compared["single"]["p50_ms"] / single["p50_ms"], 1)
    load_after = os.getloadavg()
    return {
        "benchmark": NAME, "description": DESCRIPTION, **loaded,
        "residential_weights_s": round(weights_s, 1),
        "single_profile": single, "stored_read": stored, "full_refresh": full,
        "zoning_change": zoning, "geopandas": compared,
        "load_average": {"before": [round(x, 2) for x in load_before],
                         "after": [round(x, 2) for x in load_after]},
        "statistic": (
            "single_profile: cold project_profile (every section, rasters included, nothing "
            "stored) of a seeded sample, one warm-up call first; percentiles of the round "
            "whose p95 is the median over the rounds. stored_read: current_profile of the "
            "same projects, all stored and current. full_refresh: refresh_profiles with no "
            "profile stored (every section of every project, stored). zoning_change: "
            "apply_proposal of 10 zones, which loads the new zoning version and recomputes "
            "the zoning section of every stored profile (one run). geopandas: the peer over "
            "every project without rasters, timed from reading the layers; platform_s: "
            "compute_sections of the same sections in the refresh's batches, not stored; "
            "ratio = peer total / platform; single: the peer per project with the layers "
            "already in memory; agreement: share of projects whose section figures agree "
            "(bench.profile_geopandas.summary / agree)"),
        "targets": TARGETS,
        "met": {"single_profile_p95_ms_under": single["p95_ms"]
                < TARGETS["single_profile_p95_ms_under"],
                "zoning_change_s_under": zoning["seconds"] < TARGETS["zoning_change_s_under"]
                and zoning["profiles"] == loaded["projects"]
                and zoning["profiles_not_current"] == 0},
        "machine": machine_info(db),
    }


def _number(value: float) -> str:
    return f"{value:,.0f}".replace(",", ".")


def summary(result: dict[str, Any]) -> list[str]:
    """Spanish lines for the console."""
    met, s, g = result["met"], result["single_profile"], result["geopandas"]
    z, f, r = result["zoning_change"], result["full_refresh"], result["stored_read"]

    def ok(key: str) -> str:
        return "cumple" if met[key] else "NO cumple"

    agree = ", ".join(f"{k} {100 * v:.1f} %" for k, v in g["agreement"].items() if v < 1)
    return [
        f"Predios: {_number(result['parcels'])}; proyectos: {_number(result['projects'])}",
        f"Perfil de un proyecto en frío ({s['projects']} proyectos): p50 {s['p50_ms']:.0f} ms, "
        f"p95 {s['p95_ms']:.0f} ms (meta < 150 ms: {ok('single_profile_p95_ms_under')})",
        f"Perfil guardado y vigente: p50 {r['p50_ms']:.1f} ms, p95 {r['p95_ms']:.1f} ms",
        f"Cambio de zonificación ({z['zones_changed']} zonas) con los "
        f"{_number(result['projects'])} perfiles al día: {z['seconds']:.1f} s "
        f"(meta < 60 s: {ok('zoning_change_s_under')})",
        f"Todos los perfiles, todas las secciones: {f['seconds']:.0f} s",
        f"geopandas (sin rásters): {g['total_s']:.0f} s (lectura {g['load_s']:.0f} s) frente a "
        f"{g['platform_s']:.0f} s de la plataforma: {g['ratio']:.1f} veces; un proyecto: "
        f"p50 {g['single']['p50_ms']:.0f} ms ({g['single_ratio_p50']:.1f} veces)",
        "Coinciden en todas las secciones" if not agree else f"Coincidencia: {agree}",
    ]

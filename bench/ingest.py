"""Ingest speed: the platform's ingest (with validation) of the generated cadastre
GeoPackage into PostGIS, against ``ogr2ogr -f PostgreSQL`` with ``PG_USE_COPY=YES`` on the
same file into the same database, in the same run.

Targets: features/s at least those of ogr2ogr (ratio ≥ 1), and the ingest's peak memory
under 4 GiB. Each tool runs as a child process once per round, the two in alternating
order, each on a freshly migrated and checkpointed database with the file in the page
cache. The platform's time is that of the ``gis.ingest.ingest`` call (its process's wall
time, interpreter start-up and imports included, is reported too); ogr2ogr's is the wall
time of its process. Memory is the peak resident set of each process alone. Reported: the
median time over the rounds, and the highest peak.

``python -m bench.ingest --child FILE`` is the platform's side: it loads FILE into the
parcels layer with the settings of the environment and prints what it did as JSON.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from psycopg import sql

from bench.common import (
    CACHE_DIR,
    MIB,
    PROJECT_ROOT,
    BenchDatabase,
    Measured,
    machine_info,
    parcels_dataset,
    run_measured,
    warm_file,
)

NAME = "ingest"
DESCRIPTION = "carga del catastro generado: plataforma (con validación) frente a ogr2ogr"
LAYER = "parcels"
OGR_SCHEMA = "bench_ogr"
OGR_TABLE = "parcels_ogr"
TARGETS = {"ratio_at_least": 1.0, "peak_rss_mib_under": 4096}
TOOLS = ("platform", "ogr2ogr")


def run(db: BenchDatabase, size: int, rounds: int = 3, cache_dir: Path = CACHE_DIR,
        ) -> dict[str, Any]:
    """Measure both loads of a ``size``-parcel cadastre; the benchmark's JSON result."""
    ogr2ogr = shutil.which("ogr2ogr")
    if ogr2ogr is None:
        raise RuntimeError("No se encontró ogr2ogr: instálelo con «make system» (gdal-bin).")
    dataset = parcels_dataset(size, cache_dir=cache_dir)
    warm_file(dataset.path)
    commands = {"platform": platform_argv(dataset.path),
                "ogr2ogr": ogr2ogr_argv(db, dataset.path, ogr2ogr)}
    envs = {"platform": _platform_env(db), "ogr2ogr": db.env()}
    tables = {"platform": sql.Identifier("layers", LAYER),
              "ogr2ogr": sql.Identifier(OGR_SCHEMA, OGR_TABLE)}
    runs: dict[str, list[Measured]] = {tool: [] for tool in TOOLS}
    calls: list[dict[str, Any]] = []
    for k in range(rounds):
        for tool in TOOLS if k % 2 == 0 else reversed(TOOLS):
            _empty(db)
            done = run_measured(commands[tool], envs[tool]).check()
            loaded = db.scalar(sql.SQL("SELECT count(*) FROM {}").format(tables[tool]))
            if loaded != size:
                raise RuntimeError(f"{tool} cargó {loaded} entidades de {size}.")
            runs[tool].append(done)
            if tool == "platform":
                calls.append(json.loads(done.stdout.strip().splitlines()[-1]))
    _empty(db)

    call_seconds = statistics.median(c["seconds"] for c in calls)
    figures = {"platform": _figures(size, call_seconds, runs["platform"]),
               "ogr2ogr": _figures(size, None, runs["ogr2ogr"])}
    figures["platform"]["features_repaired"] = calls[-1]["features_repaired"]
    for tool in TOOLS:
        figures[tool]["command"] = " ".join(
            "PG:…" if a.startswith("PG:") else a for a in commands[tool])
    ogr_rate = figures["ogr2ogr"]["features_per_s"]
    ratio = figures["platform"]["features_per_s"] / ogr_rate
    return {
        "benchmark": NAME,
        "description": DESCRIPTION,
        "features": size,
        "dataset": {
            "file": str(dataset.path), "size_mib": round(dataset.path.stat().st_size / MIB, 1),
            "seed": dataset.seed, "generation_seconds": round(dataset.generation_seconds, 2),
            "generation_cached": dataset.cached,
        },
        "rounds": rounds,
        "statistic": "seconds: median over the rounds (platform: the ingest() call; "
                     "ogr2ogr: its process); process_seconds: the process's wall time, "
                     "start-up included; peak_rss_mib: highest over the rounds",
        "platform": figures["platform"],
        "ogr2ogr": figures["ogr2ogr"],
        "ratio": round(ratio, 3),
        "ratio_with_startup": round(
            size / figures["platform"]["process_seconds"] / ogr_rate, 3),
        "targets": TARGETS,
        "met": {
            "ratio_at_least": ratio >= TARGETS["ratio_at_least"],
            "peak_rss_mib_under":
                figures["platform"]["peak_rss_mib"] < TARGETS["peak_rss_mib_under"],
        },
        "runs": [{"round": i + 1, "tool": tool, "seconds": round(m.seconds, 3),
                  "cpu_seconds": round(m.cpu_seconds, 2),
                  "peak_rss_mib": round(m.peak_rss_mib, 1)}
                 for tool in TOOLS for i, m in enumerate(runs[tool])],
        "machine": machine_info(db),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def summary(result: dict[str, Any]) -> list[str]:
    """Spanish lines for the console."""
    p, o, met = result["platform"], result["ogr2ogr"], result["met"]
    dataset = result["dataset"]
    cached = ", en caché" if dataset["generation_cached"] else ""
    return [
        f"Entidades: {_number(result['features'])} "
        f"(generación del archivo: {dataset['generation_seconds']:.1f} s{cached})",
        f"Plataforma: {p['seconds']:.1f} s, {_number(p['features_per_s'])} entidades/s "
        f"({p['process_seconds']:.1f} s con el arranque de Python), "
        f"memoria máxima {p['peak_rss_mib']:.0f} MiB",
        f"ogr2ogr:    {o['seconds']:.1f} s, {_number(o['features_per_s'])} entidades/s, "
        f"memoria máxima {o['peak_rss_mib']:.0f} MiB",
        f"Razón plataforma/ogr2ogr: {result['ratio']:.2f} (meta ≥ "
        f"{result['targets']['ratio_at_least']:g}): {_verdict(met['ratio_at_least'])}; "
        f"{result['ratio_with_startup']:.2f} con el arranque",
        f"Memoria máxima de la carga bajo {result['targets']['peak_rss_mib_under']} MiB: "
        f"{_verdict(met['peak_rss_mib_under'])}",
    ]


def ogr2ogr_argv(db: BenchDatabase, gpkg: Path, exe: str = "ogr2ogr") -> list[str]:
    """ogr2ogr into ``bench_ogr.parcels_ogr``, reprojected to the storage CRS, through COPY.
    Polygons are promoted to multipolygons, as the platform's parcels column requires."""
    return [exe, "-f", "PostgreSQL", f"PG:{db.conninfo()}", str(gpkg),
            "--config", "PG_USE_COPY", "YES",
            "-nln", f"{OGR_SCHEMA}.{OGR_TABLE}", "-lco", "GEOMETRY_NAME=geom",
            "-nlt", "PROMOTE_TO_MULTI", "-t_srs", "EPSG:32719"]


def platform_argv(gpkg: Path) -> list[str]:
    return [sys.executable, "-m", "bench.ingest", "--child", str(gpkg)]


def _platform_env(db: BenchDatabase) -> dict[str, str]:
    env = db.env()
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def _empty(db: BenchDatabase) -> None:
    db.reset()
    db.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(OGR_SCHEMA)))
    db.settle()


def _figures(features: int, seconds: float | None, measured: list[Measured],
             ) -> dict[str, Any]:
    """``seconds``: the time of the work itself, if not that of the whole process."""
    process = statistics.median(m.seconds for m in measured)
    seconds = process if seconds is None else seconds
    return {
        "seconds": round(seconds, 3),
        "features_per_s": round(features / seconds, 1),
        "process_seconds": round(process, 3),
        "cpu_seconds": round(statistics.median(m.cpu_seconds for m in measured), 2),
        "peak_rss_mib": round(max(m.peak_rss_mib for m in measured), 1),
    }


def _number(x: float) -> str:
    return f"{x:,.0f}".replace(",", ".")


def _verdict(met: bool) -> str:
    return "cumple" if met else "NO cumple"


def _child(path: Path) -> None:
    """Load ``path`` into the parcels layer (settings from the environment)."""
    from gis.ingest import IngestOptions, ingest
    from gis.settings import Settings

    start = time.perf_counter()
    report = ingest(Settings(), LAYER, path, IngestOptions())
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "features_read": report.features_read,
                      "features_loaded": report.features_loaded,
                      "features_repaired": sum(g.count for g in report.repairs),
                      "version": report.version}))


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "--child":
        sys.exit("Uso: python -m bench.ingest --child ARCHIVO")
    _child(Path(sys.argv[2]))

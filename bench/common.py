"""What every benchmark stands on: a throwaway PostGIS cluster, the scale datasets (made
once by the demo generator and cached under ``var/bench/``), measured child processes, the
machine description and the JSON results."""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from gis.localdb import DB_NAME, DB_USER, LocalCluster
from gis.settings import PROJECT_ROOT, Settings

RESULTS_DIR = PROJECT_ROOT / "bench" / "results"
CACHE_DIR = PROJECT_ROOT / "var" / "bench"
CHILE_INPUTS = PROJECT_ROOT / "data" / "raw" / "chile"
"""The real reference files the demo generator reads."""
PARCELS_FILE = Path("catastro") / "catastro_predios.gpkg"
"""Where the demo generator writes the cadastre, relative to its output folder."""
SEED = 2017
CLEAN_DB_NAME = f"{DB_NAME}_bench_clean"
DEMO_DB_NAME = f"{DB_NAME}_bench_demo"
MIB = 1024 * 1024


# -- the database ---------------------------------------------------------------------------

@dataclass
class BenchDatabase:
    """A migrated PostGIS database that a benchmark may fill and empty at will."""

    cluster: LocalCluster
    settings: Settings

    def conninfo(self) -> str:
        """libpq key/value string for outside tools (Unix socket; password in ``env``)."""
        return make_conninfo(host=str(self.cluster.socket_dir), dbname=DB_NAME, user=DB_USER)

    def env(self) -> dict[str, str]:
        """Environment of a child process that uses the database: libpq for outside tools,
        ``DATABASE_URL`` and the ``SECPLAC_*`` settings for the platform."""
        return dict(
            os.environ,
            PGPASSWORD=self.cluster.password_file.read_text().strip(),
            DATABASE_URL=self.settings.database_url or "",
            SECPLAC_PROCESSED_DIR=str(self.settings.processed_dir),
            SECPLAC_STATE_DIR=str(self.settings.state_dir),
            SECPLAC_USER=self.settings.user or "benchmark",
        )

    def execute(self, *statements: sql.SQL | sql.Composed) -> None:
        with psycopg.connect(self.settings.database_url or "", autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement)

    def scalar(self, statement: sql.SQL | sql.Composed) -> Any:
        with psycopg.connect(self.settings.database_url or "", autocommit=True) as conn:
            row = conn.execute(statement).fetchone()
            return row[0] if row else None

    def reset(self) -> None:
        """Back to the freshly migrated database (a copy of the snapshot taken after the
        migrations, whatever they create); the processed folder emptied."""
        db, clean = sql.Identifier(DB_NAME), sql.Identifier(CLEAN_DB_NAME)
        with psycopg.connect(self._maintenance_conninfo(), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(db))
            conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(db, clean))
        shutil.rmtree(self.settings.processed_dir, ignore_errors=True)

    def snapshot(self) -> None:
        """Keep the present (migrated) database as what :meth:`reset` returns to."""
        db, clean = sql.Identifier(DB_NAME), sql.Identifier(CLEAN_DB_NAME)
        with psycopg.connect(self._maintenance_conninfo(), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(clean))
            conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(clean, db))

    def load_demo(self) -> None:
        """The database reset to every demo layer loaded (:func:`gis.demo.load.load_demo`).
        The first call on a cluster loads them and keeps a copy (a template database and
        the processed files, rasters included); later calls restore that copy in seconds."""
        from gis.demo.load import load_demo

        db, demo = sql.Identifier(DB_NAME), sql.Identifier(DEMO_DB_NAME)
        processed = self.settings.processed_dir
        kept = processed.with_name(processed.name + "-demo")
        with psycopg.connect(self._maintenance_conninfo(), autocommit=True) as conn:
            have = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                (DEMO_DB_NAME,)).fetchone() is not None
            if have and kept.is_dir():
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(db))
                conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(db, demo))
                shutil.rmtree(processed, ignore_errors=True)
                shutil.copytree(kept, processed)
                return
        self.reset()
        load_demo(self.settings)
        with psycopg.connect(self._maintenance_conninfo(), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(demo))
            conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(demo, db))
        shutil.rmtree(kept, ignore_errors=True)
        shutil.copytree(processed, kept)

    def _maintenance_conninfo(self) -> str:
        return make_conninfo(self.settings.database_url or "", dbname="postgres")

    def settle(self) -> None:
        """Flush what earlier work left in memory, so that it is not charged to the next run."""
        self.execute(sql.SQL("VACUUM"), sql.SQL("CHECKPOINT"))


def load_demo_layers(settings: Settings, layers: Iterable[str]) -> None:
    """Load the demo files (generated if missing) of ``layers`` only (a few small layers
    load in seconds; :meth:`BenchDatabase.load_demo` has them all)."""
    from gis.demo.load import DEMO_FILES, missing_demo_files
    from gis.ingest import IngestOptions, ingest

    if missing_demo_files(settings):
        from gis.demo import generate

        generate(settings.raw_dir)
    wanted = set(layers)
    for f in DEMO_FILES:
        if f.layer in wanted:
            ingest(settings, f.layer, settings.raw_dir / f.path, IngestOptions(crs=f.crs))


def bench_database(cluster: LocalCluster, workdir: Path) -> BenchDatabase:
    """A :class:`BenchDatabase` on a running ``cluster``, migrated; files under ``workdir``."""
    settings = Settings(database_url=cluster.url(), state_dir=cluster.root,
                        processed_dir=workdir / "processed", user="benchmark")
    from gis import migrate

    migrate.upgrade(settings)
    db = BenchDatabase(cluster=cluster, settings=settings)
    db.snapshot()
    return db


@contextmanager
def throwaway_database() -> Iterator[BenchDatabase]:
    """A new PostGIS cluster in a temporary folder, destroyed on exit (as the tests do)."""
    root = Path(tempfile.mkdtemp(prefix="secplac-bench-pg-"))
    os.chmod(root, 0o755)
    cluster = LocalCluster(root / "pg", throwaway=True)
    try:
        cluster.init()
        yield bench_database(cluster, root)
    finally:
        cluster.destroy()
        shutil.rmtree(root, ignore_errors=True)


# -- scale datasets -------------------------------------------------------------------------

@dataclass
class Dataset:
    path: Path
    parcels: int
    seed: int
    generation_seconds: float
    """Time the demo generator took to write it (when it was made, if cached)."""
    cached: bool


def parcels_dataset(parcels: int, seed: int = SEED, cache_dir: Path = CACHE_DIR) -> Dataset:
    """The demo cadastre GeoPackage of ``parcels`` lots, generated once into
    ``cache_dir/<parcels>/`` and reused by later runs."""
    folder = cache_dir / str(parcels)
    stamp = folder / "dataset.json"
    if stamp.exists() and (folder / PARCELS_FILE).exists():
        info = json.loads(stamp.read_text())
        if info.get("seed") == seed and info.get("parcels") == parcels:
            return Dataset(folder / PARCELS_FILE, parcels, seed, info["seconds"], cached=True)
    from gis.demo import generate

    partial = cache_dir / f"{parcels}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    shutil.copytree(CHILE_INPUTS, partial / "chile")
    start = time.perf_counter()
    generate(partial, parcels=parcels, seed=seed, only={"cadastre"})
    seconds = time.perf_counter() - start
    (partial / "dataset.json").write_text(json.dumps(
        {"parcels": parcels, "seed": seed, "seconds": round(seconds, 2),
         "generated_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}, indent=2) + "\n")
    shutil.rmtree(folder, ignore_errors=True)
    partial.rename(folder)
    return Dataset(folder / PARCELS_FILE, parcels, seed, seconds, cached=False)


def warm_file(path: Path) -> None:
    """Read a file once so that every measured run finds it in the page cache."""
    with open(path, "rb") as fh:
        while fh.read(1 << 24):
            pass


# -- measured child processes ---------------------------------------------------------------

@dataclass
class Measured:
    """One child process: wall time from start to exit, CPU time (user + system) and peak
    resident memory."""

    argv: list[str]
    seconds: float
    cpu_seconds: float
    peak_rss_mib: float
    returncode: int
    stdout: str
    stderr: str

    def check(self) -> Measured:
        if self.returncode != 0:
            raise RuntimeError(f"{Path(self.argv[0]).name} terminó con código "
                               f"{self.returncode}:\n{self.stderr[-3000:]}")
        return self


_MEASURER = """
import json, os, sys, time
report, argv = sys.argv[1], sys.argv[2:]
start = time.perf_counter()
pid = os.posix_spawnp(argv[0], argv, os.environ)
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - start
with open(report, "w") as fh:
    json.dump({"seconds": seconds, "maxrss_kib": usage.ru_maxrss,
               "cpu_seconds": usage.ru_utime + usage.ru_stime,
               "returncode": os.waitstatus_to_exitcode(status)}, fh)
"""
"""Starts the measured command and reports its time and ``wait4`` resource usage.

Linux carries a process's peak RSS over ``execve`` (and a forked child starts from its
parent's resident size), so a command started straight from the benchmark, which holds
hundreds of MiB, would report at least that much. Started from this small interpreter
instead, the figure is the command's own (give or take the ~10 MiB of the interpreter).
"""


def run_measured(argv: Sequence[str], env: Mapping[str, str] | None = None) -> Measured:
    """Run ``argv`` as a grandchild through :data:`_MEASURER`; its wall time and peak RSS."""
    with tempfile.TemporaryDirectory(prefix="secplac-bench-") as tmp, \
            open(Path(tmp) / "stdout", "w+b") as out, open(Path(tmp) / "stderr", "w+b") as err:
        report = Path(tmp) / "report.json"
        done = subprocess.run([sys.executable, "-c", _MEASURER, str(report), *argv],
                              stdout=out, stderr=err, env=env)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
        if not report.exists():
            return Measured(argv=list(argv), seconds=float("nan"), cpu_seconds=float("nan"),
                            peak_rss_mib=float("nan"), returncode=done.returncode or 1,
                            stdout=stdout, stderr=stderr)
        measured = json.loads(report.read_text())
    return Measured(argv=list(argv), seconds=measured["seconds"],
                    cpu_seconds=measured["cpu_seconds"],
                    peak_rss_mib=measured["maxrss_kib"] / 1024,  # KiB on Linux
                    returncode=measured["returncode"], stdout=stdout, stderr=stderr)


# -- the machine and the results ------------------------------------------------------------

def machine_info(db: BenchDatabase | None = None) -> dict[str, Any]:
    """What the figures depend on: CPUs, memory, Python, GDAL (ogr2ogr's and the
    platform's, which may differ), PostgreSQL and PostGIS."""
    import pyogrio

    info: dict[str, Any] = {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": _cpu_model(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
                            / 1024**3, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "gdal_ogr2ogr": _ogr2ogr_version(),
        "gdal_platform": pyogrio.__gdal_version_string__,
    }
    if db is not None:
        info["postgresql"] = db.scalar(sql.SQL("SHOW server_version"))
        info["postgis"] = db.scalar(sql.SQL("SELECT postgis_lib_version()"))
    return info


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def _ogr2ogr_version() -> str | None:
    exe = shutil.which("ogr2ogr")
    if exe is None:
        return None
    done = subprocess.run([exe, "--version"], capture_output=True, text=True)
    # "GDAL 3.6.2, released 2023/01/02"
    return done.stdout.split(",")[0].removeprefix("GDAL ").strip() or None


def write_result(name: str, result: Mapping[str, Any], results_dir: Path = RESULTS_DIR) -> Path:
    """Write ``results_dir/<name>.json``."""
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / f"{name}.json"
    path.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path

"""The web servers a benchmark measures, each in its own process on a free loopback port:
the platform (``create_app`` with the benchmark database's settings) and tipg on the same
database, both under uvicorn with the same options (one worker each).

``uvicorn --factory bench.servers:platform_app`` is the platform's launcher: it builds the
settings from the environment that :func:`platform_server` gives it (``DATABASE_URL``,
``SECPLAC_*``), when uvicorn calls it, never at import time.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

from bench.common import PROJECT_ROOT, BenchDatabase
from gis.localdb import DB_NAME, DB_USER
from layers import get_layer
from layers.base import VectorLayer

if TYPE_CHECKING:
    from fastapi import FastAPI

HOST = "127.0.0.1"
WORKERS = 1
UVICORN_OPTIONS = ("--workers", str(WORKERS), "--log-level", "warning", "--no-access-log")
"""The same for both servers: one worker process, no access log."""
START_TIMEOUT = 120.0
"""tipg reads the catalog of its schemas at start-up."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def platform_app() -> FastAPI:
    """The platform's application, with the settings of this process's environment."""
    from api.app import create_app
    from gis.settings import Settings

    return create_app(Settings())


@dataclass
class Server:
    """A web server in a child process (started by :func:`running`)."""

    name: str
    argv: list[str]
    env: dict[str, str]
    port: int
    ready_path: str
    """A cheap GET that answers 200 once the server can serve."""
    settings: dict[str, Any] = field(default_factory=dict)
    """What was configured (for the results)."""
    process: subprocess.Popen[bytes] | None = None
    log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def command(self) -> str:
        return " ".join(Path(a).name if a == sys.executable else a for a in self.argv)

    def log_tail(self) -> str:
        if self.log is None:
            return ""
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-3000:]


@contextmanager
def running(server: Server, timeout: float = START_TIMEOUT) -> Iterator[Server]:
    """Start ``server``, wait until it answers, and stop it on exit."""
    # An empty working folder: tipg would read a .env file there.
    with tempfile.TemporaryDirectory(prefix=f"secplac-bench-{server.name}-") as cwd, \
            open(Path(cwd) / "server.log", "w+b") as log:
        server.log = log
        server.process = subprocess.Popen(server.argv, env=server.env, stdout=log,
                                          stderr=subprocess.STDOUT, cwd=cwd)
        try:
            _wait_ready(server, timeout)
            yield server
        finally:
            server.process.terminate()
            try:
                server.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.process.kill()
                server.process.wait()
            server.process = None


def _wait_ready(server: Server, timeout: float) -> None:
    assert server.process is not None
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=server.url, timeout=10) as client:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                raise RuntimeError(f"El servidor {server.name} terminó al iniciar "
                                   f"(código {server.process.returncode}):\n"
                                   f"{server.log_tail()}")
            try:
                if client.get(server.ready_path).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    raise RuntimeError(f"El servidor {server.name} no respondió en {timeout:.0f} s:\n"
                       f"{server.log_tail()}")


def _uvicorn_argv(app: str, port: int, *extra: str) -> list[str]:
    return [sys.executable, "-m", "uvicorn", app, "--host", HOST, "--port", str(port),
            *UVICORN_OPTIONS, *extra]


def with_project_path(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` with this project first on ``PYTHONPATH`` (for a child Python process)."""
    out = dict(env)
    out["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(PROJECT_ROOT), out.get("PYTHONPATH", "")) if p)
    return out


# -- the platform ---------------------------------------------------------------------------

def platform_server(db: BenchDatabase, port: int | None = None) -> Server:
    """The platform on ``db`` (its default settings otherwise: tile cache, pool size)."""
    port = port or free_port()
    env = with_project_path(db.env())
    settings = db.settings
    return Server(
        name="plataforma", port=port, env=env, ready_path="/conformance",
        argv=_uvicorn_argv("bench.servers:platform_app", port, "--factory"),
        settings={"tile_cache_mib": settings.tile_cache_mib,
                  "db_pool_max": settings.db_pool_max,
                  "reads_require_login": settings.reads_require_login})


# -- tipg -----------------------------------------------------------------------------------

TIPG_PACKAGE = "tipg"


def tipg_installed() -> bool:
    try:
        importlib.metadata.version(TIPG_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def tipg_version() -> str | None:
    return importlib.metadata.version(TIPG_PACKAGE) if tipg_installed() else None


def tipg_collection(layer: VectorLayer) -> str:
    """tipg's collection id of a layer table: ``schema.table``."""
    from gis.schema import LAYERS_SCHEMA

    return f"{LAYERS_SCHEMA}.{layer.name}"


def tipg_settings(layer_name: str, tile_buffer: int, tile_extent: int,
                  max_features_per_tile: int) -> dict[str, str]:
    """tipg's environment for serving only ``layers.<layer_name>`` comparably to the
    platform: the same MVT extent and buffer, layer name and properties (the declared
    fields plus ``fid``, which the platform puts in the MVT feature id), no per-tile
    feature cap below the densest tile, and no catalog refresh in the middle of a run."""
    from gis.schema import LAYERS_SCHEMA

    layer = get_layer(layer_name)
    assert isinstance(layer, VectorLayer)
    properties = ["fid", *(f.name for f in layer.fields)]
    return {
        "TIPG_DB_SCHEMAS": json.dumps([LAYERS_SCHEMA]),
        "TIPG_DB_TABLES": json.dumps([tipg_collection(layer)]),
        f"TIPG_TABLE_CONFIG__{LAYERS_SCHEMA}_{layer.name}__PROPERTIES": json.dumps(properties),
        "TIPG_TILE_RESOLUTION": str(tile_extent),
        "TIPG_TILE_BUFFER": str(tile_buffer),
        "TIPG_MAX_FEATURES_PER_TILE": str(max_features_per_tile),
        "TIPG_SET_MVT_LAYERNAME": "true",
        "TIPG_CATALOG_TTL": "0",
    }


def tipg_database_url(db: BenchDatabase) -> str:
    """``DATABASE_URL`` for tipg (pydantic's ``PostgresDsn``, then asyncpg): the Unix-socket
    folder as the percent-encoded host, since an empty host is refused by pydantic and a
    ``?host=`` query is ignored by asyncpg when the URL names one."""
    password = quote(db.cluster.password_file.read_text().strip(), safe="")
    socket_dir = quote(str(db.cluster.socket_dir), safe="")
    return f"postgresql://{DB_USER}:{password}@{socket_dir}/{DB_NAME}"


def tipg_server(db: BenchDatabase, layer_name: str, *, tile_buffer: int, tile_extent: int,
                max_features_per_tile: int, port: int | None = None) -> Server:
    """tipg 's own application (``tipg.main:app``) on ``db``, serving one layer table."""
    if not tipg_installed():
        raise RuntimeError("tipg no está instalado: ejecute «make bench» (instala el grupo "
                           "de dependencias «bench» de pyproject.toml).")
    port = port or free_port()
    settings = tipg_settings(layer_name, tile_buffer, tile_extent, max_features_per_tile)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TIPG_", "POSTGRES_", "SECPLAC_"))}
    env.update(settings, DATABASE_URL=tipg_database_url(db))
    return Server(name="tipg", port=port, env=env, ready_path="/healthz",
                  argv=_uvicorn_argv("tipg.main:app", port), settings=settings)


def versions() -> dict[str, str | None]:
    """Versions of the serving stack (the same interpreter runs both servers)."""
    out: dict[str, str | None] = {}
    for name in ("uvicorn", "fastapi", "starlette", "psycopg", "psycopg-pool", "tipg",
                 "asyncpg", "httpx"):
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


# -- CPU time of the processes measured -----------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str]:
    with open(f"/proc/{pid}/stat") as fh:
        return fh.read().rsplit(")", 1)[1].split()


def process_cpu_seconds(pid: int, children: bool = False) -> float:
    """User + system CPU time of a process (and of its children that have ended)."""
    fields = _stat(pid)
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    if children:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime
    return ticks / _TICK


def database_cpu_seconds(db: BenchDatabase) -> float:
    """CPU time of the benchmark's PostgreSQL: the postmaster, its live children (client
    backends, parallel workers…) and the children that have ended."""
    postmaster = int((db.cluster.data_dir / "postmaster.pid").read_text().split()[0])
    total = process_cpu_seconds(postmaster, children=True)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = _stat(int(entry.name))
            if int(fields[1]) == postmaster:  # ppid
                total += (int(fields[11]) + int(fields[12])) / _TICK
        except (OSError, ValueError, IndexError):
            continue  # ended meanwhile
    return total

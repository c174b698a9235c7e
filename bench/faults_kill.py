"""Loads and proposal applies killed with SIGKILL at chosen points, then the next start.

A *kill point* is ``"evento"`` or ``"evento:segundos"``: the process is killed that many
seconds after the event is seen. Events: ``inicio`` (the process was started),
``bloqueo`` (it holds the layer's load lock: the load has begun), ``copia`` (rows are being
copied), ``indice`` (the new version's indexes are being built) and ``confirmada`` (the
new version is visible in the catalog: committed). An event the process never reaches
before it ends leaves it to finish.

After each kill the drill waits for the server to roll the dead session back, runs what a
start runs (:func:`gis.ingest.leftovers.clean_leftovers`, or a real server start), and
checks that the layer is exactly its old or its new version: same rows (an order-free
checksum of every attribute and geometry), one version in force with the live feature
count, the layer's revision raised once per version, one history table per older
version, no staging table and no partial file left.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg import sql

from bench.faults import FaultBed
from bench.servers import free_port

INGEST_KILL_POINTS = ("inicio:0.5", "bloqueo", "copia", "bloqueo:0.5", "indice", "confirmada")
APPLY_KILL_POINTS = ("bloqueo", "copia", "confirmada")
_EVENTS = ("inicio", "bloqueo", "copia", "indice", "confirmada")
_POLL = """SELECT
  EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1
          AND objid = (hashtext('secplac.layer.' || %(layer)s)::bigint & 4294967295)::oid),
  EXISTS (SELECT 1 FROM pg_stat_activity WHERE state = 'active' AND query ILIKE 'COPY%%'),
  EXISTS (SELECT 1 FROM pg_stat_activity WHERE state = 'active'
          AND query ILIKE 'CREATE INDEX%%'),
  (SELECT coalesce(max(version), 0) FROM catalog.layer_versions WHERE layer = %(layer)s)"""


def secplac_command() -> list[str]:
    """The platform's command line, as installed next to this Python."""
    exe = Path(sys.executable).with_name("secplac")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "gis.cli"]


# -- the state of a layer -------------------------------------------------------------------

@dataclass(frozen=True)
class LayerState:
    rows: int
    checksum: str
    versions: int
    revision: int

    @property
    def content(self) -> tuple[int, str]:
        return self.rows, self.checksum


def layer_state(bed: FaultBed, layer: str, *, without: str | None = None) -> LayerState:
    """Rows and an order-free checksum of every field and geometry of the live table
    (``without``: leave out the zone with that code), versions and revision."""
    where = sql.SQL("WHERE codigo IS DISTINCT FROM %(without)s") if without else sql.SQL("")
    query = sql.SQL(
        "SELECT count(*), coalesce(md5(string_agg(h, '' ORDER BY h)), '') FROM "
        "(SELECT md5((to_jsonb(t) - 'fid')::text) AS h FROM {} AS t {}) AS s"
    ).format(sql.Identifier("layers", layer), where)
    with psycopg.connect(bed.settings.database_url or "", autocommit=True) as conn:
        rows, checksum = conn.execute(query, {"without": without}).fetchone()  # type: ignore[misc]
        versions, revision = conn.execute(
            "SELECT (SELECT count(*) FROM catalog.layer_versions WHERE layer = %(l)s), "
            "(SELECT coalesce(max(revision), 0) FROM catalog.layer_revisions "
            "WHERE layer = %(l)s)", {"l": layer}).fetchone()  # type: ignore[misc]
    return LayerState(int(rows), str(checksum), int(versions), int(revision))


def layer_problems(bed: FaultBed, layer: str) -> list[str]:
    """What is inconsistent in a layer's catalog, history, staging and processed files."""
    problems = []
    current = bed.query("SELECT version, feature_count, data_location, processed_file FROM "
                        "catalog.layer_versions WHERE layer = %s AND valid_to IS NULL", (layer,))
    latest = bed.query("SELECT coalesce(max(version), 0), count(*) FROM catalog.layer_versions"
                       " WHERE layer = %s", (layer,))[0]
    live = bed.query(sql.SQL("SELECT count(*) FROM {}").format(  # type: ignore[arg-type]
        sql.Identifier("layers", layer)).as_string(None))[0][0]
    if len(current) != 1 or current[0][0] != latest[0]:
        problems.append(f"versiones vigentes {[c[0] for c in current]}, última {latest[0]}")
    elif current[0][1] != live:
        problems.append(f"el catálogo dice {current[0][1]} entidades y la tabla tiene {live}")
    elif current[0][2] != f"layers.{layer}":
        problems.append(f"la versión vigente está en {current[0][2]}")
    elif current[0][3] and not Path(current[0][3]).exists():
        problems.append(f"falta el archivo procesado {current[0][3]}")
    history = bed.query("SELECT count(*) FROM pg_tables WHERE schemaname = 'history' AND "
                        "tablename LIKE %s", (f"{layer}_v%",))[0][0]
    if history != latest[1] - 1:
        problems.append(f"{history} tablas históricas para {latest[1]} versiones")
    staging = bed.query("SELECT count(*) FROM pg_tables WHERE schemaname = 'staging'")[0][0]
    if staging:
        problems.append(f"{staging} tablas provisorias")
    partial = list(bed.settings.processed_dir.glob(f"{layer}/*.partial"))
    if partial:
        problems.append(f"archivos parciales: {[p.name for p in partial]}")
    return problems


# -- killing at a point ---------------------------------------------------------------------

def _parse_point(point: str) -> tuple[str, float]:
    event, _, delay = point.partition(":")
    if event not in _EVENTS:
        raise ValueError(f"evento desconocido «{event}» (válidos: {', '.join(_EVENTS)})")
    return event, float(delay or 0)


def kill_at(bed: FaultBed, process: subprocess.Popen[bytes], layer: str, point: str,
            timeout_s: float = 300.0) -> dict[str, Any]:
    """SIGKILL ``process`` at ``point`` of its load of ``layer``; what happened."""
    event, delay = _parse_point(point)
    started = time.monotonic()
    seen_at = started if event == "inicio" else None
    with psycopg.connect(bed.settings.database_url or "", autocommit=True) as conn:
        before = conn.execute(_POLL, {"layer": layer}).fetchone()[3]  # type: ignore[index]
        while process.poll() is None and time.monotonic() - started < timeout_s:
            if seen_at is None:
                locked, copying, indexing, version = conn.execute(
                    _POLL, {"layer": layer}).fetchone()  # type: ignore[misc]
                flags = {"bloqueo": locked, "copia": copying, "indice": indexing,
                         "confirmada": version > before}
                if flags[event]:
                    seen_at = time.monotonic()
            if seen_at is not None and time.monotonic() >= seen_at + delay:
                break
            time.sleep(0.005)
        killed = process.poll() is None
        if killed:
            os.kill(process.pid, signal.SIGKILL)  # only the process this drill started
        process.wait()
        _wait_sessions_gone(conn, layer)
    return {"point": point, "killed": killed, "reached": seen_at is not None,
            "at_s": round((seen_at or started) - started + delay, 2),
            "returncode": process.returncode}


def _wait_sessions_gone(conn: psycopg.Connection, layer: str, limit_s: float = 60.0) -> None:
    """Until the dead process's sessions are rolled back and gone, and with them the
    layer's load lock (a session lock: held by a committed, idle session until it ends)."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name "
                           "IN ('secplac', 'secplac-api') AND state <> 'idle' "
                           "AND pid <> pg_backend_pid()").fetchone()
        locked = conn.execute(_POLL, {"layer": layer}).fetchone()
        if row and row[0] == 0 and locked and not locked[0]:
            return
        time.sleep(0.05)


# -- drill 2: an ingest killed ---------------------------------------------------------------

def ingest_kill_drill(bed: FaultBed, source: Path, *, layer: str = "parcels",
                      points: tuple[str, ...] = INGEST_KILL_POINTS) -> dict[str, Any]:
    """``secplac ingest`` of ``source`` killed at each of ``points``; after each, the next
    start's cleanup runs and the layer must be exactly its old or its new version.

    The two files loaded in turn are the first half of ``source`` and all of it: each
    attempt loads the one the layer does not hold, so that the old and the new version
    differ. An attempt's ``outcome`` is ``anterior`` (the layer as before, no new
    version), ``nueva`` (the file just loaded, one new version) or ``mezcla``.
    """
    from gis.ingest import ingest
    from gis.ingest.leftovers import clean_leftovers

    source = Path(source).resolve()
    folder = bed.root / "simulacro-carga"
    folder.mkdir(exist_ok=True)
    old_file = _first_half(source, folder / f"mitad{source.suffix}")
    files = {"mitad": old_file, "entero": source}
    contents: dict[tuple[int, str], str] = {}
    for name in ("entero", "mitad"):  # the layer ends on the half
        ingest(bed.settings, layer, files[name])
        contents[layer_state(bed, layer).content] = name
    attempts = []
    for point in points:
        before = layer_state(bed, layer)
        target = "entero" if contents[before.content] == "mitad" else "mitad"
        with open(folder / "secplac.log", "wb") as log:
            process = subprocess.Popen([*secplac_command(), "ingest", layer,
                                        str(files[target])], env=bed.env(), stdout=log,
                                       stderr=log, cwd=bed.root)
            kill = kill_at(bed, process, layer, point)
        if kill["returncode"] not in (0, -signal.SIGKILL):
            kill["output"] = (folder / "secplac.log").read_text(errors="replace")[-1500:]
        left = sorted(p.name for p in bed.settings.processed_dir.glob(f"{layer}/*.partial"))
        cleaned = clean_leftovers(bed.settings)
        after = layer_state(bed, layer)
        problems = layer_problems(bed, layer)
        grew = after.versions - before.versions
        if after.content == before.content and grew == 0:
            outcome = "anterior"
        elif contents.get(after.content) == target and grew == 1:
            outcome = "nueva"
        else:
            outcome = "mezcla"
            problems.append(f"contenido «{contents.get(after.content, 'desconocido')}» con "
                            f"{grew} versión(es) nueva(s)")
        if after.revision - before.revision != grew:
            problems.append(f"revisión {before.revision}→{after.revision} con {grew} "
                            "versión(es) nueva(s)")
        attempts.append({**kill, "loading": target, "outcome": outcome,
                         "partial_files_left": left, "cleanup": cleaned,
                         "problems": problems})
    return _kill_figures("ingest", layer, attempts, rows={k: c[0] for c, k in
                                                         contents.items()})


def _first_half(source: Path, target: Path) -> Path:
    import pyogrio

    total = pyogrio.read_info(source)["features"]
    frame = pyogrio.read_dataframe(source, max_features=max(1, total // 2))
    pyogrio.write_dataframe(frame, target)
    return target


def _kill_figures(kind: str, layer: str, attempts: list[dict[str, Any]],
                  **extra: Any) -> dict[str, Any]:
    return {
        "kind": kind, "layer": layer, "faults_injected": sum(a["killed"] for a in attempts),
        "faults_survived": sum(a["killed"] and not a["problems"] for a in attempts),
        "outcomes": {o: sum(a["outcome"] == o for a in attempts)
                     for o in sorted({a["outcome"] for a in attempts})},
        "mixed_versions": sum(a["outcome"] == "mezcla" for a in attempts),
        "inconsistent": sum(bool(a["problems"]) for a in attempts),
        "leftovers_cleaned": sum(len(a["cleanup"]) for a in attempts),
        "attempts": attempts, **extra,
    }


# -- drill 3: a proposal apply killed --------------------------------------------------------

_APPLY_SCRIPT = """
import sys
from gis.auth import get_user
from gis.database import connect
from gis.proposals import store
from gis.settings import Settings
settings = Settings()
proposal = int(sys.stdin.readline())
with connect(settings, autocommit=True) as conn:
    p = store.get_proposal(conn, proposal)
    store.apply_proposal(conn, settings, get_user(conn, "admin"), p.id, p.etag)
"""
"""A command that applies the proposal whose number it reads (it starts, imports, then
waits for it: the drill prepares the proposal meanwhile)."""


def apply_kill_drill(bed: FaultBed, *, points: tuple[str, ...] = APPLY_KILL_POINTS,
                     through: str = "comando") -> dict[str, Any]:
    """Approved zoning proposals applied and killed at each of ``points``: by a command
    (``through="comando"``: a process calling :func:`gis.proposals.store.apply_proposal`)
    or by the API server (``"api"``: ``secplac serve`` killed while it answers
    ``POST /propuestas/{id}/aplicar``, then started again, its start doing the cleanup).

    After each kill the zoning must be its old version (proposal still approved, and a
    second apply must then succeed) or the new one (proposal applied, naming the version),
    never a mix: every other zone byte for byte as before.
    """
    from gis.ingest.leftovers import clean_leftovers

    server: _Server | None = _Server(bed) if through == "api" else None
    attempts = []
    try:
        for n, point in enumerate(points):
            command = None if server is not None else subprocess.Popen(
                [sys.executable, "-c", _APPLY_SCRIPT], env=bed.env(), cwd=bed.root,
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            zone, old_height, new_height, proposal = _approved_proposal(bed, n)
            before = layer_state(bed, "zoning", without=zone)
            whole_before = layer_state(bed, "zoning")
            if command is None:
                process: Any = server.apply(proposal)  # type: ignore[union-attr]
            else:
                assert command.stdin is not None
                command.stdin.write(f"{proposal}\n".encode())
                command.stdin.close()
                process = command
            kill = kill_at(bed, process, "zoning", point)
            if server is not None:  # killed: its next start cleans up
                cleaned = server.start() if kill["killed"] else []
            else:
                cleaned = clean_leftovers(bed.settings)
            state, version = bed.query("SELECT estado, version_aplicada FROM "
                                       "proposals.proposals WHERE id = %s", (proposal,))[0]
            after = layer_state(bed, "zoning", without=zone)
            whole = layer_state(bed, "zoning")
            height = bed.query("SELECT altura_maxima FROM layers.zoning WHERE codigo = %s",
                               (zone,))[0][0]
            problems = layer_problems(bed, "zoning")
            if after.content != before.content:
                problems.append("cambiaron zonas que la propuesta no toca")
            outcome = _apply_outcome(state, version, whole_before, whole, height,
                                     old_height, new_height, problems)
            retried = None
            if state == "aprobada":  # not applied: applying it again must work
                retried = _apply_again(bed, server, proposal)
                if not retried:
                    problems.append("la propuesta no se pudo aplicar después de la falla")
            attempts.append({**kill, "proposal": proposal, "outcome": outcome,
                             "state": state, "cleanup": cleaned, "applied_on_retry": retried,
                             "problems": problems})
    finally:
        if server is not None:
            server.stop()
    return _kill_figures("apply", "zoning", attempts, through=through)


def _apply_outcome(state: str, version: int | None, before: LayerState, after: LayerState,
                   height: float, old: float, new: float, problems: list[str]) -> str:
    if state == "aplicada" and after.versions == before.versions + 1 and height == new \
            and version == after.versions:
        return "nueva"
    if state == "aprobada" and after.content == before.content \
            and after.versions == before.versions:
        return "anterior"
    problems.append(f"propuesta {state} (versión {version}), zoning con "
                    f"{after.versions - before.versions} versión(es) nueva(s), altura {height}")
    return "mezcla"


def _approved_proposal(bed: FaultBed, n: int) -> tuple[str, float, float, int]:
    """A proposal raising the height of the largest residential zone, approved."""
    from gis.auth import get_user
    from gis.database import connect
    from gis.proposals import store
    from gis.proposals.operations import Operation

    with connect(bed.settings, autocommit=True) as conn:
        zone, height = conn.execute(
            "SELECT codigo, altura_maxima FROM layers.zoning WHERE familia = 'residencial' "
            "ORDER BY ST_Area(geom) DESC LIMIT 1").fetchone()  # type: ignore[misc]
        new = float(height or 7.0) + 0.5
        editor, reviewer = get_user(conn, "editora"), get_user(conn, "revisora")
        p = store.create_proposal(conn, editor, f"Simulacro de falla {n + 1}", "Simulacro.")
        p = store.add_change(conn, bed.settings, editor, p.id, p.etag,
                             Operation("normas", codigo=zone, normas={"altura_maxima": new}))
        p = store.transition(conn, bed.settings, editor, p.id, p.etag, "enviar")
        p = store.transition(conn, bed.settings, reviewer, p.id, p.etag, "aprobar")
    return str(zone), float(height or 0), new, int(p.id)


def _apply_again(bed: FaultBed, server: _Server | None, proposal: int) -> bool:
    if server is None:  # the same call as the killed command, in this process
        from gis.auth import get_user
        from gis.database import connect
        from gis.proposals import store

        with connect(bed.settings, autocommit=True) as conn:
            p = store.get_proposal(conn, proposal)
            ok = store.apply_proposal(conn, bed.settings, get_user(conn, "admin"), p.id,
                                      p.etag).estado == "aplicada"
    else:
        ok = server.apply(proposal, wait=True).returncode == 0
    state = bed.query("SELECT estado FROM proposals.proposals WHERE id = %s", (proposal,))
    return ok and state[0][0] == "aplicada" and not layer_problems(bed, "zoning")


class _Server:
    """``secplac serve`` in a process of its own on a free port, restartable."""

    def __init__(self, bed: FaultBed) -> None:
        self.bed = bed
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""
        self.log = bed.root / "servidor.log"
        self.start()

    def start(self) -> list[str]:
        """Start it; the Spanish cleanup lines its start logged."""
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        offset = self.log.stat().st_size if self.log.exists() else 0
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen([*secplac_command(), "serve", "--port", str(port)],
                                            env=self.bed.env(), cwd=self.bed.root,
                                            stdout=log, stderr=log)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
            if self.process.poll() is not None:
                raise RuntimeError(f"el servidor terminó al iniciar:\n{self.log.read_text()}")
        text = self.log.read_bytes()[offset:].decode(errors="replace")
        return [line.split("carga interrumpida: ", 1)[1] for line in text.splitlines()
                if "carga interrumpida: " in line]

    def apply(self, proposal: int, *, wait: bool = False) -> _Request:
        """``POST /propuestas/{id}/aplicar`` from a thread; a handle whose process is the
        server (so that :func:`kill_at` kills the server)."""
        current = httpx.get(f"{self.url}/propuestas/{proposal}", timeout=60)
        request = _Request(self, proposal, current.json()["etag"])  # as a browser reads it
        if wait:
            request.wait()
        return request

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=60)


class _Request:
    """An apply request in flight; looks like a process to :func:`kill_at`."""

    def __init__(self, server: _Server, proposal: int, etag: str) -> None:
        assert server.process is not None
        self.server_process = server.process
        self.pid = server.process.pid
        self.status: int | None = None
        self.returncode: int | None = None

        def send() -> None:
            try:
                res = httpx.post(f"{server.url}/propuestas/{proposal}/aplicar", timeout=300,
                                 headers=server.bed.auth("admin", etag))
                self.status = res.status_code
            except httpx.HTTPError:
                self.status = 0

        self.thread = threading.Thread(target=send)
        self.thread.start()

    def poll(self) -> int | None:
        if self.server_process.poll() is not None or not self.thread.is_alive():
            self.returncode = 0 if self.status == 200 else (self.server_process.returncode
                                                            or self.status or 1)
            return self.returncode
        return None

    def wait(self) -> int:
        self.thread.join()
        self.poll()
        if self.server_process.poll() is not None:  # killed: the next one is started apart
            self.server_process.wait()
        return self.returncode or 0

"""Fault drills: PostgreSQL stopped and restarted under the API, loads and proposal applies
killed with SIGKILL, a full or read-only disk. Each drill returns its figures (faults
injected and survived, requests during the fault and their statuses, recovery time, writes
acknowledged and lost), so that ``python -m bench faults`` and the tests share them.

Every drill runs on a :class:`FaultBed`: a PostgreSQL cluster of its own (with the
production settings: ``fsync`` and synchronous commits on, so that a crash loses only
what was never acknowledged), migrated, with a few demo layers and a user of each role.
The drills live in three modules and are re-exported here:

- :func:`db_outage_drill` (this module): the database stopped (``pg_ctl -m immediate``,
  a crash for the clients) while clients read and write through the API, then started.
- :func:`ingest_kill_drill`, :func:`apply_kill_drill` (:mod:`bench.faults_kill`).
- :func:`disk_drill` (:mod:`bench.faults_disk`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg

from bench.common import load_demo_layers
from bench.servers import free_port
from gis.localdb import LocalCluster, find_bindir
from gis.settings import Settings

NAME = "faults"
DESCRIPTION = ("fallas: base detenida y reiniciada, cargas y aplicaciones interrumpidas con "
               "SIGKILL, disco lleno o de solo lectura")
TARGETS = {"outage_503_max_s_under": 5.0, "recovery_s_under": 10.0, "writes_lost": 0,
           "mixed_versions": 0, "server_errors": 0}
BED_LAYERS = ("comunas", "urban_limit", "zoning")
"""Demo layers every drill needs (small: loaded in seconds)."""
PASSWORD = "clave-de-simulacro-123"
ROLES = {"editora": "editor", "revisora": "revisor", "admin": "admin"}
DB_DOWN_TEXTS = ("La base de datos no está disponible", "No se pudo conectar a la base")


# -- the bed --------------------------------------------------------------------------------

@dataclass
class FaultBed:
    """A cluster of the drills' own (they stop it), its settings and users' tokens."""

    cluster: LocalCluster
    settings: Settings
    root: Path
    tokens: dict[str, str] = field(default_factory=dict)

    def auth(self, who: str, etag: str | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        if etag:
            headers["If-Match"] = etag
        return headers

    def env(self, **extra: str) -> dict[str, str]:
        """Environment of a platform command (``secplac ...``) on this bed."""
        return {**os.environ, "DATABASE_URL": self.settings.database_url or "",
                "SECPLAC_PROCESSED_DIR": str(self.settings.processed_dir),
                "SECPLAC_STATE_DIR": str(self.settings.state_dir),
                "SECPLAC_RAW_DIR": str(self.settings.raw_dir),
                "SECPLAC_USER": "simulacro", **extra}

    def query(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.settings.database_url or "", autocommit=True) as conn:
            return conn.execute(statement, params).fetchall()  # type: ignore[arg-type]

    def zoning_tile(self, zoom: int = 14) -> str:
        """``z/row/col`` of a WebMercatorQuad tile over the largest zone (one with data)."""
        import morecantile

        ((lon, lat),) = self.query(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Transform(ST_PointOnSurface(geom), "
            "4326) AS p FROM layers.zoning ORDER BY ST_Area(geom) DESC LIMIT 1) AS s")
        t = morecantile.tms.get("WebMercatorQuad").tile(lon, lat, zoom)
        return f"{t.z}/{t.y}/{t.x}"

    def comuna_point(self) -> dict[str, Any]:
        """A GeoJSON point (lon/lat) inside the comuna, for projects."""
        ((x, y),) = self.query("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Transform("
                               "ST_PointOnSurface(geom), 4326) AS p FROM layers.comunas "
                               "WHERE codigo_comuna = %s) AS s", (self.settings.comuna_code,))
        return {"type": "Point", "coordinates": [x, y]}


@contextmanager
def fault_bed(workdir: Path | None = None, layers: Sequence[str] = BED_LAYERS,
              ) -> Iterator[FaultBed]:
    """A new durable cluster under ``workdir`` (a temporary folder by default) with the
    demo ``layers`` loaded and one user per role; destroyed on exit."""
    from gis import migrate
    from gis.auth import create_user, issue_access_token

    own = workdir is None
    root = Path(tempfile.mkdtemp(prefix="secplac-faults-")) if own else Path(workdir)  # type: ignore[arg-type]
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o755)
    cluster = LocalCluster(root / "pg")  # not throwaway: fsync and synchronous commit on
    try:
        cluster.init()
        settings = Settings(database_url=cluster.url(), state_dir=root / "estado",
                            processed_dir=root / "processed", user="simulacro")
        migrate.upgrade(settings)
        load_demo_layers(settings, layers)
        bed = FaultBed(cluster, settings, root)
        from gis.database import connect

        with connect(settings) as conn:
            for name, role in ROLES.items():
                user = create_user(conn, name, name.title(), role, PASSWORD)
                bed.tokens[name] = issue_access_token(settings, user)
            conn.commit()
        yield bed
    finally:
        cluster.destroy()
        if own:
            shutil.rmtree(root, ignore_errors=True)


def stop_postgres(cluster: LocalCluster, mode: str = "immediate") -> None:
    """``pg_ctl stop -m fast|immediate``: immediate is a crash for the clients (no
    checkpoint, connections cut); :meth:`LocalCluster.stop` is the fast, clean one."""
    if mode == "fast":
        cluster.stop()
        return
    cluster._run_as_server_user(  # noqa: SLF001 - the same runner, another stop mode
        str(find_bindir() / "pg_ctl"), "-D", str(cluster.data_dir), "-m", mode, "-w", "stop")


# -- serving --------------------------------------------------------------------------------

@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port in a thread; yields its URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    if not server.started:
        raise RuntimeError("uvicorn no inició")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


# -- drill 1: the database stopped and started under the API --------------------------------

@dataclass
class Probe:
    kind: str
    started: float
    seconds: float
    status: int
    text: str
    code: str | None = None
    """Project code of a write."""


def _project(code: str, point: dict[str, Any]) -> dict[str, Any]:
    return {"codigo": code, "nombre": f"Simulacro de falla {code}", "sector": "áreas verdes",
            "etapa": "diseño", "tipo": "proyecto", "geometria": point,
            "financiamiento": [{"fuente": "PMU", "anio": 2026, "solicitado": 10_000_000,
                                "aprobado": 10_000_000}]}


def _call(http: httpx.Client, kind: str, method: str, url: str, code: str | None = None,
          **kwargs: Any) -> Probe:
    start = time.monotonic()
    try:
        res = http.request(method, url, **kwargs)
        status, text = res.status_code, res.text[:400]
    except httpx.HTTPError as exc:
        status, text = 0, f"{type(exc).__name__}: {exc}"
    return Probe(kind, start, time.monotonic() - start, status, text, code)


def db_outage_drill(bed: FaultBed, *, outage_s: float = 5.0, readers: int = 3,
                    acknowledged_before: int = 10, mode: str = "immediate",
                    recovery_limit_s: float = 60.0, tag: str = "A") -> dict[str, Any]:
    """Stop PostgreSQL under a serving API while clients keep reading and writing, start
    it again, and check the API answered 503 in Spanish meanwhile, came back by itself
    and lost no acknowledged write (and applied no write by halves).

    Parameters
    ----------
    bed
        Where to run; its cluster is stopped and started.
    outage_s
        How long the database stays down.
    readers
        Client threads reading (features, tiles, a project); one more thread writes.
    acknowledged_before
        Projects created (and acknowledged) before the outage.
    mode
        ``immediate`` (a crash: no checkpoint, connections cut) or ``fast``.
    tag
        Distinguishes the project codes of successive drills on one bed.
    """
    from api.app import create_app

    began = time.monotonic()
    tag = tag.upper()  # project codes are upper case (they are stored so)
    point = bed.comuna_point()
    probes: list[Probe] = []
    lock = threading.Lock()
    stop = threading.Event()
    app = create_app(bed.settings)
    with serving(app) as url, httpx.Client(base_url=url, timeout=120) as http:
        served = time.monotonic()
        acked_before = []
        for i in range(acknowledged_before):
            code = f"SIM-{tag}-{i:04d}"
            res = http.post("/proyectos", json=_project(code, point), headers=bed.auth("editora"))
            if res.status_code != 201:
                raise RuntimeError(f"no se pudo crear {code}: {res.status_code} {res.text}")
            acked_before.append(code)

        reads = [("features", "/collections/zoning/items?limit=5"),
                 ("tile", f"/collections/zoning/tiles/WebMercatorQuad/{bed.zoning_tile()}"),
                 ("project", f"/proyectos/{acked_before[0]}")]

        def reader(n: int) -> None:
            with httpx.Client(base_url=url, timeout=120) as own:
                i = n
                while not stop.is_set():
                    kind, path = reads[i % len(reads)]
                    i += 1
                    probe = _call(own, kind, "GET", path)
                    with lock:
                        probes.append(probe)
                    time.sleep(0.02)

        def writer() -> None:
            with httpx.Client(base_url=url, timeout=120) as own:
                i = 0
                while not stop.is_set():
                    code = f"SIM-{tag}-{5000 + i:04d}"
                    i += 1
                    probe = _call(own, "write", "POST", "/proyectos", code=code,
                                  json=_project(code, point), headers=bed.auth("editora"))
                    with lock:
                        probes.append(probe)
                    time.sleep(0.02)

        written = time.monotonic()
        threads = [threading.Thread(target=reader, args=(n,)) for n in range(readers)]
        threads.append(threading.Thread(target=writer))
        for t in threads:
            t.start()
        try:
            time.sleep(0.5)
            t_stop = time.monotonic()
            stop_postgres(bed.cluster, mode)
            t_down = time.monotonic()
            time.sleep(outage_s)
            t_start = time.monotonic()
            bed.cluster.start()
            t_up = time.monotonic()
            recovered = _wait_recovery(probes, lock, t_up, {k for k, _ in reads} | {"write"},
                                       recovery_limit_s)
            time.sleep(0.5)  # and it keeps working
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=180)
    result = _outage_figures(bed, probes, acked_before, t_stop, t_down, t_start, t_up,
                             recovered, mode)
    result["phases_s"] = {"serve": round(served - began, 2),
                          "writes_before": round(written - served, 2),
                          "total": round(time.monotonic() - began, 2)}
    return result


def _wait_recovery(probes: list[Probe], lock: threading.Lock, since: float,
                   kinds: set[str], limit_s: float) -> float | None:
    """Seconds from ``since`` until every kind of request started after it succeeded."""
    deadline = since + limit_s
    while time.monotonic() < deadline:
        ok: dict[str, float] = {}
        with lock:
            for p in probes:  # the first success of each kind
                if p.started >= since and 200 <= p.status < 300:
                    ok[p.kind] = min(ok.get(p.kind, p.started + p.seconds),
                                     p.started + p.seconds)
        if kinds <= set(ok):
            return max(ok.values()) - since
        time.sleep(0.05)
    return None


def _outage_figures(bed: FaultBed, probes: list[Probe], acked_before: list[str],
                    t_stop: float, t_down: float, t_start: float, t_up: float,
                    recovered: float | None, mode: str) -> dict[str, Any]:
    during = [p for p in probes if p.started >= t_stop and t_down <= p.started + p.seconds
              <= t_start]  # answered while the database was down
    statuses: dict[str, int] = {}
    for p in during:
        statuses[str(p.status)] = statuses.get(str(p.status), 0) + 1
    spanish = [p for p in during if p.status == 503 and any(t in p.text for t in DB_DOWN_TEXTS)]
    writes = [p for p in probes if p.kind == "write"]
    acked = acked_before + [p.code for p in writes if p.status == 201 and p.code]
    refused = [p.code for p in writes if p.status != 201 and p.code]
    stored = _stored_projects(bed, acked + refused)
    lost = [c for c in acked if stored.get(c) != "entero"]
    halves = [c for c, state in stored.items() if state == "a medias"]
    after = [p for p in probes if recovered is not None and p.started >= t_up + recovered]
    return {
        "mode": mode, "outage_s": round(t_start - t_down, 2),
        "stop_s": round(t_down - t_stop, 2), "start_s": round(t_up - t_start, 2),
        "requests": len(probes), "requests_during_outage": len(during),
        "statuses_during_outage": statuses,
        "spanish_503_during_outage": len(spanish),
        "outage_503_max_s": round(max((p.seconds for p in during), default=0.0), 2),
        "outage_503_median_s": round(_median([p.seconds for p in during]), 2),
        "server_errors": sum(1 for p in probes if p.status >= 500 and p.status != 503
                             or p.status == 0),
        "recovery_s": None if recovered is None else round(recovered, 2),
        "errors_after_recovery": sum(1 for p in after if not 200 <= p.status < 300),
        "writes_acknowledged": len(acked), "writes_lost": len(lost), "lost_codes": lost,
        "writes_refused": len(refused),
        "refused_but_stored": sum(1 for c in refused if stored.get(c) == "entero"),
        "writes_half_applied": len(halves),
    }


def _stored_projects(bed: FaultBed, codes: list[str]) -> dict[str, str]:
    """Per code: ``entero`` (registry, map feature and funding), ``ausente`` or ``a medias``."""
    rows = bed.query(
        "SELECT c, EXISTS (SELECT 1 FROM cartera.registro WHERE codigo = c), "
        "EXISTS (SELECT 1 FROM layers.projects WHERE codigo = c), "
        "EXISTS (SELECT 1 FROM cartera.financiamiento WHERE codigo = c) "
        "FROM unnest(%s::text[]) AS c", (codes,))
    return {c: "entero" if all(parts) else "ausente" if not any(parts) else "a medias"
            for c, *parts in rows}


def _median(values: list[float]) -> float:
    import statistics

    return statistics.median(values) if values else 0.0


# -- the benchmark ----------------------------------------------------------------------------

def __getattr__(name: str) -> Any:
    """The drills of the other fault modules, re-exported (imported on first use: they
    import this module)."""
    if name in ("ingest_kill_drill", "apply_kill_drill"):
        from bench import faults_kill

        return getattr(faults_kill, name)
    if name == "disk_drill":
        from bench import faults_disk

        return faults_disk.disk_drill
    raise AttributeError(name)


def run(db: Any, size: int, rounds: int = 1, workdir: Path | None = None,
        outage_s: float = 10.0) -> dict[str, Any]:
    """Every drill on a bed of its own (the drills stop PostgreSQL: the benchmarks' shared
    ``db`` is left alone). ``size`` parcels for the killed loads (the generated cadastre);
    ``rounds`` outages of each stop mode."""
    from bench.common import machine_info, parcels_dataset
    from bench.faults_disk import disk_drill
    from bench.faults_kill import apply_kill_drill, ingest_kill_drill

    started = time.perf_counter()
    with fault_bed(workdir) as bed:
        outages = [db_outage_drill(bed, outage_s=outage_s, mode=mode, tag=f"{mode[0]}{n}",
                                   readers=8)
                   for mode in ("immediate", "fast") for n in range(rounds)]
        dataset = parcels_dataset(size)
        kills = [ingest_kill_drill(bed, dataset.path),
                 apply_kill_drill(bed, through="comando"), apply_kill_drill(bed, through="api")]
        disks = [disk_drill(bed, mode, tag=f"D{mode[0]}") for mode in ("lleno", "solo_lectura")]
        machine = machine_info()
    return figures(outages, kills, disks, parcels=size,
                   seconds=time.perf_counter() - started, machine=machine)


def figures(outages: list[dict[str, Any]], kills: list[dict[str, Any]],
            disks: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """The totals of a set of drills, with the targets they meet."""
    statuses: dict[str, int] = {}
    for o in outages:
        for status, n in o["statuses_during_outage"].items():
            statuses[status] = statuses.get(status, 0) + n
    recoveries = [o["recovery_s"] for o in outages]
    injected = len(outages) + sum(k["faults_injected"] for k in kills) + len(disks)
    survived = (sum(o["recovery_s"] is not None and not o["writes_lost"]
                    and not o["writes_half_applied"] and not o["server_errors"]
                    for o in outages)
                + sum(k["faults_survived"] for k in kills)
                + sum(_disk_survived(d) for d in disks))
    totals = {
        "faults_injected": injected, "faults_survived": survived,
        "requests_during_outage": sum(o["requests_during_outage"] for o in outages),
        "statuses_during_outage": statuses,
        "outage_503_max_s": max((o["outage_503_max_s"] for o in outages), default=0.0),
        "recovery_s": None if None in recoveries else max(recoveries, default=0.0),
        "writes_acknowledged": sum(o["writes_acknowledged"] for o in outages),
        "writes_lost": sum(o["writes_lost"] for o in outages),
        "writes_half_applied": sum(o["writes_half_applied"] for o in outages),
        "mixed_versions": sum(k["mixed_versions"] for k in kills),
        "inconsistent_after_kill": sum(k["inconsistent"] for k in kills),
        "leftovers_cleaned": sum(k["leftovers_cleaned"] for k in kills),
        "server_errors": sum(o["server_errors"] for o in outages)
        + sum(d["server_errors"] for d in disks),
    }
    met = {
        "outage_503_max_s_under": totals["outage_503_max_s"] < TARGETS["outage_503_max_s_under"],
        "recovery_s_under": totals["recovery_s"] is not None
        and totals["recovery_s"] < TARGETS["recovery_s_under"],
        "writes_lost": totals["writes_lost"] == 0 and totals["writes_half_applied"] == 0,
        "mixed_versions": totals["mixed_versions"] == 0
        and totals["inconsistent_after_kill"] == 0,
        "server_errors": totals["server_errors"] == 0,
        "faults_survived": survived == injected,
    }
    return {"benchmark": NAME, "description": DESCRIPTION, **totals, "targets": TARGETS,
            "met": met, "outages": outages, "kills": kills, "disks": disks, **extra,
            "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


def _disk_survived(d: dict[str, Any]) -> bool:
    return (d["reads_ok"] == len(d["reads"]) and d["db_write_status"] == 201
            and d["server_errors"] == 0 and d["disk_writes_spanish"] == len(d["disk_writes"])
            and d["ingest_spanish"] and not d["ingest_traceback"] and d["zoning_unchanged"]
            and d["proposal_state_after"] == "aprobada")


def summary(result: dict[str, Any]) -> list[str]:
    """The figures in Spanish."""
    rec = result["recovery_s"]
    statuses = ", ".join(f"{n} × {s}" for s, n in sorted(result["statuses_during_outage"].items()))
    return [
        f"Fallas provocadas: {result['faults_injected']}; superadas: "
        f"{result['faults_survived']}.",
        f"Base detenida: {result['requests_during_outage']} solicitudes durante la caída "
        f"({statuses or 'ninguna'}), la más lenta en {result['outage_503_max_s']:.1f} s; "
        + (f"recuperación en {rec:.1f} s sin reiniciar la API." if rec is not None
           else "la API NO se recuperó."),
        f"Escrituras confirmadas: {result['writes_acknowledged']}; perdidas: "
        f"{result['writes_lost']}; aplicadas a medias: {result['writes_half_applied']}.",
        f"Cargas y aplicaciones interrumpidas: {result['mixed_versions']} versiones mezcladas, "
        f"{result['inconsistent_after_kill']} inconsistencias, "
        f"{result['leftovers_cleaned']} restos limpiados al iniciar.",
        f"Disco lleno o de solo lectura: {result['server_errors']} errores 500.",
    ]

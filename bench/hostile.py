"""Hostile input: every case of the corpus (``tests/hostile/corpus.py``) through its real
write path, judged by the corpus's own expectation (refused with a Spanish message, or
repaired and reported), timed, with the memory it made this process grow, and with the
stored state compared before and after.

- ``ingest`` cases: :func:`gis.ingest.ingest` into ``zoning`` (the repairable ones as a
  dry run, as ``secplac ingest --dry-run`` shows them);
- ``proyecto`` cases: ``POST /proyectos`` and, for the refused ones, ``PUT`` of an
  existing project too;
- ``propuesta`` cases: ``POST /propuestas/{id}/cambios`` of a draft proposal;
- ``adjunto`` and ``planilla`` cases: uploads (``multipart/form-data``).

The API is the platform's application under uvicorn in a thread of this process (as the
tests serve it), so that the memory it takes for an input is measured; the requests go
over real HTTP with the token of an editor who signed in through ``POST /auth/token``.
Verdicts and snapshots are the tests' own (:mod:`tests.hostile.paths`).

``python -m bench hostile`` runs the whole corpus (``size`` and ``rounds`` of the other
benchmarks do not apply).
"""

from __future__ import annotations

import tempfile
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
import shapely

from bench.common import BenchDatabase, load_demo_layers, machine_info
from bench.faults import BED_LAYERS, serving
from bench.load_edits import PASSWORD, STAFF, ensure_staff
from gis.ingest import IngestError, IngestOptions, IngestReport, ingest
from gis.settings import Settings
from tests.hostile.corpus import CASES, ORIGIN_LONLAT, WRITE_PATHS, Case
from tests.hostile.limits import DEADLINE_S, MAX_GROWTH_MB, watch
from tests.hostile.paths import (
    CODE,
    NEW_CODE,
    REPAIRED_CODE,
    api_problem,
    api_state,
    change_body,
    ingest_problem,
    ingest_state,
    project_body,
    query,
    refusals,
    target_project,
)

SCALED = False
"""On the demo data: ``--size`` and ``--rounds`` do not apply."""
NAME = "hostile"
DESCRIPTION = ("entradas hostiles: el corpus completo por cada vía de escritura (carga, "
               "proyecto, propuesta, adjunto, planilla)")
TARGETS = {"unexpected": 0, "server_errors": 0, "data_changed": 0,
           "max_seconds_under": DEADLINE_S, "max_growth_mb_under": MAX_GROWTH_MB}
PATH_LABELS = {"ingest": "carga", "proyecto": "proyecto", "propuesta": "propuesta",
               "adjunto": "adjunto", "planilla": "planilla"}
TIMEOUT = 120.0
WRITE_COUNTERS = ("auditoria", "revisiones")
"""Parts of the stored state that count accepted writes and never go back."""


@dataclass
class Attempt:
    """One input sent once through its write path, and what came of it."""

    case: str
    path: str
    method: str
    expect: str
    status: int | None
    """HTTP status (``None`` for the ingest)."""
    seconds: float
    growth_mb: float
    problem: str | None
    """Why the outcome is not what the corpus expects (``None``: it is)."""
    data_changed: bool

    @property
    def outcome(self) -> str:
        return "inesperado" if self.problem else self.expect


@dataclass
class Bench:
    """What the API attempts need: the served platform, the editor's and reviewer's
    tokens, the project and the proposal the edits are aimed at."""

    http: httpx.Client
    settings: Settings
    tokens: dict[str, str]
    proposal: int
    zone: str

    def auth(self, role: str, etag: str | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"}
        if etag:
            headers["If-Match"] = etag
        return headers

    def etag(self, url: str) -> str:
        return self.http.get(url).headers["ETag"]


# -- the attempts ---------------------------------------------------------------------------

def try_ingest(settings: Settings, case: Case) -> Attempt:
    """Load the case's file into ``zoning`` (a dry run when the corpus expects a repair)."""
    with tempfile.TemporaryDirectory(prefix="secplac-hostil-") as tmp:
        path = case.build(Path(tmp))
        before = ingest_state(settings)
        outcome: IngestError | IngestReport | Exception
        with watch() as usage, warnings.catch_warnings():
            # GDAL's and shapely's warnings about the hostile geometry, expected; where the
            # ingest turns warnings into its report, it records them under its own filter
            warnings.simplefilter("ignore")
            try:
                outcome = ingest(settings, "zoning", path,
                                 IngestOptions(dry_run=case.expect == "repaired"))
            except Exception as exc:  # noqa: BLE001 - a crash is an outcome to report
                outcome = exc
        if isinstance(outcome, IngestError | IngestReport):
            problem = ingest_problem(case, outcome)
        else:
            problem = f"falló con {type(outcome).__name__}: {outcome}"[:500]
        changed = ingest_state(settings) != before
    return Attempt(case.name, case.path, "ingest", case.expect, None,
                   usage.seconds, usage.growth_mb, problem, changed)


def try_api(bench: Bench, case: Case, method: str = "POST") -> Attempt:
    """Send the case to its endpoint with the editor's token and judge the answer."""
    url, headers, content, files = _request(bench, case, method)
    before, refused_before = api_state(bench.settings), refusals(bench.settings)
    response: httpx.Response | httpx.HTTPError
    with watch() as usage:
        try:
            response = bench.http.request(method, url, headers=headers, content=content,
                                          files=files)
        except httpx.HTTPError as exc:
            response = exc
    if isinstance(response, httpx.HTTPError):
        status = None
        problem: str | None = f"sin respuesta: {type(response).__name__}: {response}"
    else:
        status = response.status_code
        try:
            answer = response.json()
        except ValueError:
            answer = response.text[:300]
        new = refusals(bench.settings)[len(refused_before):]
        problem = api_problem(case, status, answer, new)
        if problem is None and case.expect == "repaired":
            problem = _check_and_undo_repair(bench, case, response)
    after = api_state(bench.settings)
    if case.expect == "repaired" and status == case.status:
        # an accepted repair, deleted again: its writes stay counted (the audit log and the
        # layer's revision, which keys the tile cache, only go forward); all else is back
        before, after = ({k: v for k, v in s.items() if k not in WRITE_COUNTERS}
                         for s in (before, after))
    return Attempt(case.name, case.path, method, case.expect, status, usage.seconds,
                   usage.growth_mb, problem, after != before)


def _request(bench: Bench, case: Case, method: str,
             ) -> tuple[str, dict[str, str], bytes | None, dict[str, Any] | None]:
    """URL, headers, JSON body or files of the case's request (built before the watch)."""
    if case.path in ("adjunto", "planilla"):
        name, data = case.build()
        url = f"/proyectos/{CODE}/adjuntos" if case.path == "adjunto" else "/proyectos/importar"
        return url, bench.auth("editor"), None, {
            "archivo": (name, data, "application/octet-stream")}
    json_type = {"Content-Type": "application/json"}
    if case.path == "propuesta":
        url = f"/propuestas/{bench.proposal}"
        return (f"{url}/cambios", {**bench.auth("editor", bench.etag(url)), **json_type},
                change_body(bench.zone, case.build()), None)
    if method == "PUT":
        url = f"/proyectos/{CODE}"
        return (url, {**bench.auth("editor", bench.etag(url)), **json_type},
                project_body(case.build(), CODE), None)
    code = REPAIRED_CODE if case.expect == "repaired" else NEW_CODE
    return "/proyectos", {**bench.auth("editor"), **json_type}, \
        project_body(case.build(), code), None


def _check_and_undo_repair(bench: Bench, case: Case, response: httpx.Response) -> str | None:
    """An accepted repair: what was stored is the repaired input (a point without its
    height; a file name without its folders); then it is deleted."""
    entry = response.json()
    problem = None
    if case.path == "proyecto":
        saved = entry["geometria"]
        rows = query(bench.settings, "SELECT ST_AsText(geom) FROM layers.projects "
                                     "WHERE codigo = %s", (REPAIRED_CODE,))
        if len(saved["coordinates"]) != 2 or not rows or shapely.from_wkt(rows[0][0]).has_z:
            problem = f"se guardó con altura: {saved}"
        elif max(abs(a - b) for a, b in zip(saved["coordinates"], ORIGIN_LONLAT,
                                            strict=True)) > 1e-7:
            problem = f"se guardó en otro lugar: {saved}"
        gone = bench.http.delete(f"/proyectos/{REPAIRED_CODE}", headers=bench.auth(
            "revisor", response.headers["ETag"]))
    else:
        if "/" in entry["nombre"]:
            problem = f"el nombre guardado conserva carpetas: {entry['nombre']}"
        gone = bench.http.delete(entry["url"], headers=bench.auth("editor"))
    if gone.status_code != 204:
        problem = problem or f"no se pudo borrar lo aceptado: HTTP {gone.status_code}"
    return problem


# -- set-up and the run ---------------------------------------------------------------------

def sign_in(http: httpx.Client) -> dict[str, str]:
    """Access tokens of the run's staff, by role, through the login endpoint."""
    tokens = {}
    for name, role in STAFF.items():
        res = http.post("/auth/token", data={"username": name, "password": PASSWORD})
        if res.status_code != 200:
            raise RuntimeError(f"No se pudo ingresar como {name}: HTTP {res.status_code} "
                               f"{res.text[:300]}")
        tokens[role] = res.json()["access_token"]
    return tokens


def _targets(http: httpx.Client, settings: Settings, tokens: dict[str, str]) -> Bench:
    """The project and the draft proposal the hostile edits are aimed at."""
    editor = {"Authorization": f"Bearer {tokens['editor']}"}
    created = http.post("/proyectos", json=target_project(), headers=editor)
    if created.status_code != 201:
        raise RuntimeError(f"No se pudo crear el proyecto: {created.text[:300]}")
    res = http.post("/propuestas", json={"titulo": "Entradas hostiles",
                                         "justificacion": "Medición."}, headers=editor)
    if res.status_code != 201:
        raise RuntimeError(f"No se pudo crear la propuesta: {res.text[:300]}")
    ((zone,),) = query(settings, "SELECT codigo FROM layers.zoning ORDER BY ST_Area(geom) "
                                 "DESC LIMIT 1")
    return Bench(http, settings, tokens, res.json()["id"], zone)


def run_corpus(settings: Settings, cases: Iterable[Case] = CASES,
               progress: Callable[[Attempt], None] | None = None) -> list[Attempt]:
    """Every case of ``cases`` through its write path on the database of ``settings``
    (the comuna, the urban limit and a zoning loaded); the refused project geometries
    also as an edit (``PUT``) of an existing project."""
    from api.app import create_app

    ensure_staff(settings)
    attempts: list[Attempt] = []

    def record(attempt: Attempt) -> None:
        attempts.append(attempt)
        if progress:
            progress(attempt)

    chosen = list(cases)
    for case in chosen:
        if case.path == "ingest":
            record(try_ingest(settings, case))
    if all(c.path == "ingest" for c in chosen):
        return attempts
    with serving(create_app(settings)) as url, \
            httpx.Client(base_url=url, timeout=TIMEOUT) as http:
        bench = _targets(http, settings, sign_in(http))
        for case in chosen:
            if case.path == "ingest":
                continue
            record(try_api(bench, case))
            if case.path == "proyecto" and case.expect == "refused":
                record(try_api(bench, case, "PUT"))
        gone = http.delete(f"/proyectos/{CODE}", headers=bench.auth(
            "revisor", bench.etag(f"/proyectos/{CODE}")))
        if gone.status_code != 204:
            raise RuntimeError(f"No se pudo borrar el proyecto {CODE}: {gone.text[:300]}")
    return attempts


def figures(attempts: list[Attempt]) -> dict[str, Any]:
    """Totals per write path and overall."""
    def totals(group: list[Attempt]) -> dict[str, Any]:
        slowest = max(group, key=lambda a: a.seconds, default=None)
        hungriest = max(group, key=lambda a: a.growth_mb, default=None)
        return {
            "inputs": len({a.case for a in group}), "attempts": len(group),
            "refused_as_expected": sum(a.outcome == "refused" for a in group),
            "repaired_and_reported": sum(a.outcome == "repaired" for a in group),
            "unexpected": sum(a.problem is not None for a in group),
            "server_errors": sum(a.status is not None and a.status >= 500 for a in group),
            "data_changed": sum(a.data_changed for a in group),
            "max_seconds": round(slowest.seconds, 2) if slowest else 0.0,
            "slowest": slowest.case if slowest else None,
            "max_growth_mb": round(hungriest.growth_mb, 1) if hungriest else 0.0,
            "hungriest": hungriest.case if hungriest else None,
        }

    by_path = {p: totals([a for a in attempts if a.path == p]) for p in WRITE_PATHS
               if any(a.path == p for a in attempts)}
    return {**totals(attempts), "by_path": by_path}


def prepare(db: BenchDatabase) -> None:
    """``db`` reset to the demo comuna, urban limit and zoning (what the write paths need:
    projects must lie in the comuna, proposals edit the zoning)."""
    db.reset()
    load_demo_layers(db.settings, BED_LAYERS)
    db.settle()


def run(db: BenchDatabase, size: int, rounds: int = 1, *,
        only: Iterable[str] | None = None, verbose: bool = False) -> dict[str, Any]:
    """The corpus (or the cases named in ``only``) on a fresh database with the demo
    comuna, urban limit and zoning."""
    chosen = CASES if only is None else _named(only)
    started = time.perf_counter()
    prepare(db)

    def progress(a: Attempt) -> None:
        if verbose:
            print(f"    {a.case} [{a.method}]: {a.outcome}, {a.seconds:.2f} s, "
                  f"+{a.growth_mb:.0f} MB{' — ' + a.problem if a.problem else ''}", flush=True)

    attempts = run_corpus(db.settings, chosen, progress)
    result = figures(attempts)
    met = {
        "unexpected": result["unexpected"] == 0,
        "server_errors": result["server_errors"] == 0,
        "data_changed": result["data_changed"] == 0,
        "max_seconds_under": result["max_seconds"] < DEADLINE_S,
        "max_growth_mb_under": result["max_growth_mb"] < MAX_GROWTH_MB,
        "every_input_tried": result["inputs"] == len(chosen),
    }
    return {
        "benchmark": NAME, "description": DESCRIPTION, "inputs_tried": result["inputs"],
        **result, "corpus_size": len(CASES), "targets": TARGETS, "met": met,
        "unexpected_samples": [asdict(a) for a in attempts if a.problem][:20],
        "attempts_detail": [{**asdict(a), "seconds": round(a.seconds, 3),
                             "growth_mb": round(a.growth_mb, 1)} for a in attempts],
        "seconds": round(time.perf_counter() - started, 1),
        "machine": machine_info(db), "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def _named(names: Iterable[str]) -> list[Case]:
    by_name = {c.name: c for c in CASES}
    wanted = list(names)
    unknown = [n for n in wanted if n not in by_name]
    if unknown:
        raise ValueError(f"casos desconocidos en el corpus: {', '.join(unknown)}")
    return [by_name[n] for n in wanted]


def summary(result: dict[str, Any]) -> list[str]:
    """The figures in Spanish."""
    paths = ", ".join(f"{PATH_LABELS[p]} {f['inputs']}" for p, f in result["by_path"].items())
    lines = [
        f"Entradas probadas: {result['inputs_tried']} de {result['corpus_size']} del corpus "
        f"({paths}); {result['attempts']} envíos (las geometrías rechazadas de proyecto "
        "también como edición PUT).",
        f"Rechazadas como se esperaba: {result['refused_as_expected']}; reparadas e "
        f"informadas: {result['repaired_and_reported']}; resultados inesperados: "
        f"{result['unexpected']}.",
        f"Errores 5xx: {result['server_errors']}; datos modificados: "
        f"{result['data_changed']}.",
        f"Caso más lento: {result['max_seconds']:.2f} s ({result['slowest']}); mayor "
        f"crecimiento de memoria: {result['max_growth_mb']:.0f} MB ({result['hungriest']}); "
        f"límites {DEADLINE_S:.0f} s y {MAX_GROWTH_MB:.0f} MB por entrada.",
    ]
    lines += [f"  Inesperado: {a['case']} [{a['method']}]: {a['problem']}"
              for a in result["unexpected_samples"]]
    return lines

"""Load with edits: concurrent map clients fetching vector tiles and OGC API features
while editors apply zoning proposals and an operator re-ingests a layer, on loopback.

:func:`run_load` drives a running server (``base_url``) over the database of
``settings``:

- ``clients`` readers (one asyncio task each, no think time) fetch, at random from a
  seeded set, layer tiles, whole-map tiles, pages of items (``bbox``, filters) and
  revalidations (``If-None-Match`` with an ETag the same client got before);
- an editor cycle over HTTP, as the DOM and SECPLAC would do it: create a proposal,
  rename a zone and split it (odd cycles) or merge the split part back (even cycles),
  submit, approve (another user), apply (an administrator);
- an ingest cycle: the demo planning-sectors file with one sector code changed, loaded
  by ``secplac ingest`` in a child process (or in a thread).

The edits and the checks are in :mod:`bench.load_edits`.

Freshness is checked two ways. After every acknowledged change (the apply's 200, the
ingest's exit status 0) the tiles showing the changed feature are fetched and decoded
(mapbox-vector-tile): they must hold the new state (the new zone code present, the
merged one gone, the new name, the new sector code), with an ETag different from the one
before the change, and a conditional request with the old ETag must not get a 304. And
every reader response for those tiles is decoded too: a tile whose request started after
an acknowledgement must not show an older state, a 304 must not confirm an older ETag, one
ETag must never stand for two contents, and a tile must never mix two states.

``python -m bench load`` runs it at full size on the demo data (the ``--size`` of the
other benchmarks is not used) against the platform under uvicorn (:mod:`bench.servers`).
"""

from __future__ import annotations

import asyncio
import os
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import BenchDatabase, machine_info
from bench.common import load_demo_layers as load_demo_layers  # re-exported (tests)
from bench.http_load import HEADERS, percentile
from bench.load_edits import (
    PASSWORD,
    STAFF,
    LoadState,
    Target,
    check_tile,
    editor,
    ensure_staff,
    find_target,
    ingester,
    tile_path,
)
from gis.database import connect
from gis.settings import Settings

SCALED = False
"""On the demo data: ``--size`` and ``--rounds`` do not apply."""
NAME = "load"
DESCRIPTION = ("carga con ediciones: clientes de mapa leyendo teselas y entidades mientras "
               "se aplican propuestas y se recarga una capa")
CLIENTS = 50
SECONDS = 120.0
READ_LAYERS = ("zoning", "planning_sectors", "census_zones", "land_use", "hazard_zones",
               "parcels", "port_routes", "urban_limit")
MIX = {"tile": 0.45, "map_tile": 0.2, "items": 0.2, "revalidation": 0.15}
WATCHED_SHARE = 0.15
"""Share of tile requests that go to the tiles the edits change."""
EXPECTED = {"tile": {200, 204}, "map_tile": {200, 204}, "items": {200},
            "revalidation": {200, 204, 304}}
TIMEOUT = 60.0
KEEPALIVE_S = 2.0
"""Idle connections are dropped by the client before uvicorn's 5 s keep-alive timeout:
at equal timeouts a request sent on a connection the server is closing fails (ReadError),
which browsers retry and a benchmark would count as an error of the server."""
TARGETS = {"errors": 0, "stale": 0}


# -- set-up ---------------------------------------------------------------------------------

def reader_paths(settings: Settings, rng: random.Random, count: int = 600,
                 ) -> dict[str, list[str]]:
    """Seeded paths of each kind over the comuna's zones (layers that hold data only)."""
    with connect(settings, autocommit=True) as conn:
        loaded = {r[0] for r in conn.execute(
            "SELECT layer FROM catalog.layer_versions WHERE valid_to IS NULL AND "
            "feature_count > 0")}
        points = conn.execute("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Transform("
                              "ST_PointOnSurface(geom), 4326) AS p FROM layers.zoning) AS s"
                              ).fetchall()
    layers = [lyr for lyr in READ_LAYERS if lyr in loaded]

    def near() -> tuple[float, float]:
        lon, lat = rng.choice(points)
        return lon + rng.uniform(-0.005, 0.005), lat + rng.uniform(-0.005, 0.005)

    tiles, maps, items = set(), set(), set()
    for _ in range(count):  # duplicates are left out: fewer paths where tiles are few
        layer, z = rng.choice(layers), rng.randint(11, 16)
        tiles.add(f"/collections/{layer}/tiles/WebMercatorQuad/"
                  f"{tile_path(*near(), max(z, 13) if layer == 'parcels' else z)}")
        maps.add(f"/tiles/WebMercatorQuad/{tile_path(*near(), rng.randint(11, 15))}")
    for _ in range(count // 4):
        layer, (lon, lat), r = rng.choice(layers), near(), rng.uniform(0.002, 0.02)
        items.add(f"/collections/{layer}/items?f=json&limit=100&bbox={lon - r:.5f},"
                  f"{lat - r:.5f},{lon + r:.5f},{lat + r:.5f}")
        items.add(f"/collections/{layer}/items?f=json&limit=50&offset={rng.randint(0, 20) * 10}")
    items.add("/collections/zoning/items?f=json&filter=familia%3D%27residencial%27")
    return {"tile": sorted(tiles), "map_tile": sorted(maps), "items": sorted(items)}


# -- the readers ----------------------------------------------------------------------------

async def reader(state: LoadState, client: httpx.AsyncClient, paths: dict[str, list[str]],
                 target: Target, rng: random.Random) -> None:
    kinds, weights = list(MIX), list(MIX.values())
    watched = {"tile": [p for p in target.watched if p.startswith("/collections/")],
               "map_tile": [p for p in target.watched if p.startswith("/tiles/")]}
    seen: dict[str, str] = {}
    order: list[str] = []
    while not state.stop:
        kind = rng.choices(kinds, weights)[0]
        headers: dict[str, str] = {}
        if kind == "revalidation" and order:
            path = rng.choice(order)
            headers["If-None-Match"] = seen[path]
        elif kind in ("tile", "map_tile") and rng.random() < WATCHED_SHARE:
            path = rng.choice(watched[kind])
        else:
            kind = "tile" if kind == "revalidation" else kind
            path = rng.choice(paths[kind])
        acked = dict(state.acked)
        start = time.perf_counter()
        try:
            response = await client.get(path, headers=headers)
        except httpx.HTTPError as exc:
            state.error(kind, path, f"{type(exc).__name__}: {exc}")
            continue
        state.reads.append((start, time.perf_counter()))
        state.latencies[kind].append(state.reads[-1][1] - start)
        state.statuses[kind][response.status_code] += 1
        if response.status_code not in EXPECTED[kind]:
            state.error(kind, path, f"HTTP {response.status_code}: {response.text[:200]}")
            continue
        if path in target.watched:
            state.reader_checks += 1
            check_tile(state, "lector", path, response, target.watched[path], target, acked,
                       headers.get("If-None-Match"))
        if response.status_code == 200 and kind != "items" and "etag" in response.headers:
            if path not in seen:
                order.append(path)
            seen[path] = response.headers["etag"]


# -- the run --------------------------------------------------------------------------------

def run_load(base_url: str, settings: Settings, clients: int = CLIENTS,
             seconds: float = SECONDS, *, min_applies: int = 1, min_ingests: int = 1,
             pause: float = 1.0, ingest_in_process: bool = False, seed: int = 2017,
             ) -> dict[str, Any]:
    """Load the server at ``base_url`` (the platform on the database of ``settings``,
    demo data loaded) with ``clients`` readers for at least ``seconds`` while proposals are
    applied and the planning sectors re-ingested (``secplac ingest`` in a child process,
    or in a thread when ``ingest_in_process``), ``pause`` seconds between changes.

    The run lasts until the deadline and until ``min_applies`` proposals and
    ``min_ingests`` ingests were acknowledged (at most ``3 × seconds + 120`` s). Returns
    the figures: requests held, latency per kind, errors and stale tiles (with samples)."""
    ensure_staff(settings)
    rng = random.Random(seed)
    target = find_target(settings)
    paths = reader_paths(settings, rng)
    with tempfile.TemporaryDirectory(prefix="secplac-load-") as tmp:
        return asyncio.run(_run(base_url, settings, clients, seconds, min_applies,
                                min_ingests, pause, ingest_in_process, rng, target, paths,
                                Path(tmp)))


async def _run(base_url: str, settings: Settings, clients: int, seconds: float,
               min_applies: int, min_ingests: int, pause: float, in_process: bool,
               rng: random.Random,
               target: Target, paths: dict[str, list[str]], workdir: Path) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients,
                          keepalive_expiry=KEEPALIVE_S)
    async with httpx.AsyncClient(base_url=base_url, headers=HEADERS, limits=limits,
                                 timeout=TIMEOUT) as readers_client, \
            httpx.AsyncClient(base_url=base_url, headers=HEADERS, timeout=TIMEOUT,
                              limits=httpx.Limits(keepalive_expiry=KEEPALIVE_S)) as staff:
        tokens = {}
        for name, role in STAFF.items():
            r = await staff.post("/auth/token", data={"username": name, "password": PASSWORD})
            if r.status_code != 200:
                raise RuntimeError(f"No se pudo ingresar como {name}: HTTP {r.status_code} "
                                   f"{r.text[:300]}")
            tokens[role] = r.json()["access_token"]
        await asyncio.gather(*(readers_client.get("/conformance") for _ in range(clients)))
        start, cpu = time.monotonic(), time.process_time()
        state = LoadState(deadline=start + seconds)
        cap = start + 3 * seconds + 120
        readers = [asyncio.create_task(reader(state, readers_client, paths, target,
                                              random.Random(rng.random())))
                   for _ in range(clients)]
        applied, ingested = await asyncio.gather(
            editor(state, staff, target, tokens, min_applies, cap, pause),
            ingester(state, staff, settings, target, workdir, min_ingests, cap, pause,
                     in_process))
        await asyncio.sleep(max(0.0, state.deadline - time.monotonic()))
        state.stop = True
        await asyncio.gather(*readers)
        elapsed = time.monotonic() - start
    result = figures(state, clients, seconds, elapsed, applied, ingested, target)
    return {**result, "client_cpu_seconds": round(time.process_time() - cpu, 1)}


def latency(values: list[float], seconds: float) -> dict[str, Any]:
    if not values:
        return {"count": 0}
    ms = [round(percentile(values, q) * 1000, 1) for q in (50, 95, 99)]
    return {"count": len(values), "per_s": round(len(values) / seconds, 1), "p50_ms": ms[0],
            "p95_ms": ms[1], "p99_ms": ms[2], "max_ms": round(max(values) * 1000, 1)}


def figures(state: LoadState, clients: int, seconds: float, elapsed: float, applied: int,
            ingested: int, target: Target) -> dict[str, Any]:
    kinds = {k: {**latency(v, elapsed),
                 "statuses": {str(s): n for s, n in sorted(state.statuses[k].items())}}
             for k, v in sorted(state.latencies.items())}
    reads = [x for k in MIX for x in state.latencies.get(k, [])]
    during = [b - a for a, b in state.reads if any(a < e and s < b for s, e in state.changing)]
    quiet = [b - a for a, b in state.reads if all(b <= s or e <= a for s, e in state.changing)]
    return {
        "clients": clients, "seconds_asked": seconds, "seconds": round(elapsed, 1),
        "requests": {"total": len(reads), "per_s": round(len(reads) / elapsed, 1),
                     **{k: v for k, v in latency(reads, elapsed).items() if k != "count"}},
        "by_kind": kinds,
        "reads_during_changes": latency(during, elapsed),
        "reads_between_changes": latency(quiet, elapsed),
        "changes": {"applies": applied, "ingests": ingested,
                    "zone": target.zone, "sector": target.sector_name,
                    "watched_tiles": sorted(target.watched)},
        "errors": state.error_count, "error_samples": state.errors,
        "stale": state.stale_count, "stale_samples": state.stale,
        "freshness": {"confirmations": len(state.confirmations),
                      "confirmations_ok": sum(c["ok"] for c in state.confirmations),
                      "reader_checks": state.reader_checks,
                      "unverified_304": state.unverified_304,
                      "etags_seen": sum(len(v) for v in state.etag_states.values())},
    }


# -- the benchmark --------------------------------------------------------------------------

def run(db: BenchDatabase, size: int, rounds: int = 3, *, clients: int = CLIENTS,
        seconds: float = SECONDS) -> dict[str, Any]:
    """The whole demo loaded into a fresh database, the platform under uvicorn, one run
    (``size`` and ``rounds`` of the other benchmarks do not apply)."""
    from bench.servers import (
        WORKERS,
        database_cpu_seconds,
        platform_server,
        process_cpu_seconds,
        running,
        versions,
    )

    db.load_demo()
    db.settle()
    load_average = os.getloadavg()
    server = platform_server(db)
    with running(server):
        assert server.process is not None
        cpu = (process_cpu_seconds(server.process.pid), database_cpu_seconds(db))
        result = run_load(server.url, db.settings, clients, seconds)
        cpu = (process_cpu_seconds(server.process.pid) - cpu[0],
               database_cpu_seconds(db) - cpu[1])
    return {
        "benchmark": NAME, "description": DESCRIPTION, **result,
        "server": {"command": server.command(), "workers": WORKERS, **server.settings,
                   "cpu_seconds": round(cpu[0], 1)},
        "database_cpu_seconds": round(cpu[1], 1),
        "client": {"library": "httpx (asyncio)", "readers": clients, "mix": MIX,
                   "watched_share_of_tiles": WATCHED_SHARE, "headers": HEADERS},
        "targets": TARGETS,
        "met": {"zero_errors": result["errors"] == 0, "never_stale": result["stale"] == 0,
                "changes_made": result["changes"]["applies"] > 0
                and result["changes"]["ingests"] > 0},
        "versions": versions(),
        "machine": {**machine_info(db), "load_average_1_5_15_min": {
            "start": [round(x, 2) for x in load_average],
            "end": [round(x, 2) for x in os.getloadavg()]}},
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def summary(result: dict[str, Any]) -> list[str]:
    """Spanish lines for the console."""
    req, ch, fr = result["requests"], result["changes"], result["freshness"]
    lines = [f"{result['clients']} clientes durante {result['seconds']:.0f} s: "
             f"{_number(req['total'])} solicitudes ({_number(req['per_s'])}/s); p50 "
             f"{req['p50_ms']} ms, p95 {req['p95_ms']} ms, p99 {req['p99_ms']} ms"]
    labels = {"tile": "teselas de capa", "map_tile": "teselas del mapa", "items": "entidades",
              "revalidation": "revalidaciones", "proposal_apply": "aplicar propuesta",
              "ingest": "carga de capa", "confirmation": "verificación tras cambio"}
    rows = [(result["by_kind"].get(kind, {}), label) for kind, label in labels.items()]
    rows += [(result["reads_during_changes"], "lecturas durante un cambio"),
             (result["reads_between_changes"], "lecturas entre cambios")]
    for f, label in rows:
        if f.get("count"):
            lines.append(f"  {label}: {_number(f['count'])}; p50 {f['p50_ms']} ms, p95 "
                         f"{f['p95_ms']} ms, p99 {f['p99_ms']} ms")
    lines += [f"Cambios confirmados: {ch['applies']} propuestas aplicadas, {ch['ingests']} "
              f"cargas de capa; {fr['confirmations_ok']} de {fr['confirmations']} "
              "verificadas en sus teselas",
              f"Errores: {result['errors']}; teselas obsoletas: {result['stale']} "
              f"({_number(fr['reader_checks'])} respuestas vigiladas decodificadas)"]
    return lines


def _number(x: float) -> str:
    return f"{x:,.0f}".replace(",", ".")

"""Serving speed: vector tiles and GeoJSON items of the generated cadastre from the
platform's server, against tipg mounted on the same database in the same run, and against
the bare tile SQL.

The cadastre is loaded by the platform's ingest (skipped when the parcels layer already
holds this size). A fixed, seeded set of at least 500 distinct tiles at zooms 13-17 where
the parcels are (from a sample of parcel points) is fetched by the same concurrent HTTP
client (:mod:`bench.http_load`) from each server, each a uvicorn process with one worker
on a free loopback port (:mod:`bench.servers`).

Order, for fairness: PostgreSQL's buffers are warmed once by running the bare SQL over
every tile; then in each round (both servers restarted, in alternating order):

- ``bare_sql``: the platform's tile SQL (:func:`gis.tiles.render_tile`, which runs
  :func:`gis.tiles.layer_tile_sql`) through a psycopg pool with the same concurrency
  (threads), in this process: the floor any server stands on;
- ``tipg``: a pass of tipg (no tile cache);
- ``platform_cold``: the first pass of a freshly started platform (empty tile cache);
- ``platform_warm``: its second pass (every tile cached);
- items: 10 pages of 1,000 features by offset, one after the other, from each server.

Each server serves 64 zoom-18 tiles outside the set before its first pass, so that its
database connections are open and used, as the bare SQL's are. Every pass records the CPU
time of the client, the server and PostgreSQL besides its wall time and latencies.

Reported: the median over the rounds. Targets: cold tiles/s ≥ tipg's, warm tiles/s ≥ 10×
tipg's, items features/s ≥ tipg's, and the platform's cold pass at most 1.3× the time of
the bare SQL over the same tiles.
"""

from __future__ import annotations

import json
import os
import queue
import random
import statistics
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import morecantile
import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool

from bench.common import (
    CACHE_DIR,
    MIB,
    SEED,
    BenchDatabase,
    machine_info,
    parcels_dataset,
)
from bench.http_load import HEADERS, Meter, Pass, cpu_used, fetch_all
from bench.servers import (
    WORKERS,
    Server,
    database_cpu_seconds,
    platform_server,
    process_cpu_seconds,
    running,
    tipg_collection,
    tipg_installed,
    tipg_server,
    versions,
)
from gis.schema import LAYERS_SCHEMA
from gis.tiles import BUFFER, EXTENT, TMS, render_tile
from layers import get_layer
from layers.base import VectorLayer

NAME = "tiles"
DESCRIPTION = ("teselas vectoriales y entidades GeoJSON del catastro: plataforma frente a "
               "tipg y al SQL de teselas")
LAYER = "parcels"
ZOOMS = range(13, 18)
TILES = 500
CONCURRENCY = 8
PAGES = 10
PAGE_SIZE = 1000
SAMPLE_PER_ZOOM = 6
"""Tiles per zoom whose content is compared between the servers and the bare SQL."""
WARMUP_TILES = 64
"""Zoom-18 tiles (outside the set) each server serves before it is measured, so that
every database connection it opens is used (PostGIS loaded, projections cached) first,
as the bare SQL's connections were."""
MAX_FEATURES_PER_TILE = 10_000_000
"""tipg's per-tile cap (10,000 by default), raised above any tile: the platform has none."""
TARGETS = {"cold_vs_tipg_at_least": 1.0, "warm_vs_tipg_at_least": 10.0,
           "items_vs_tipg_at_least": 1.0, "overhead_vs_bare_sql_at_most": 1.3}
TARGET_RATIO = {"cold_vs_tipg_at_least": "cold_vs_tipg", "warm_vs_tipg_at_least": "warm_vs_tipg",
                "items_vs_tipg_at_least": "items_vs_tipg",
                "overhead_vs_bare_sql_at_most": "overhead_vs_bare_sql"}
TIPG_TARGETS = ("cold_vs_tipg_at_least", "warm_vs_tipg_at_least", "items_vs_tipg_at_least")
PASSES = ("bare_sql", "tipg", "platform_cold", "platform_warm")
SERVER_PASSES = {"tipg": ("tipg",), "platform": ("platform_cold", "platform_warm")}
Tile = morecantile.Tile


def run(db: BenchDatabase, size: int, rounds: int = 3, cache_dir: Path = CACHE_DIR, *,
        tiles: int = TILES, concurrency: int = CONCURRENCY, pages: int = PAGES,
        page_size: int = PAGE_SIZE, compare_tipg: bool = True) -> dict[str, Any]:
    """Measure both servers on a ``size``-parcel cadastre; the benchmark's JSON result.

    ``compare_tipg=False`` measures the platform and the bare SQL only (tipg is a
    benchmark-only dependency: the smoke test runs without it)."""
    load_average = os.getloadavg()
    if compare_tipg and not tipg_installed():
        raise RuntimeError("tipg no está instalado: ejecute «make bench» (instala el grupo "
                           "de dependencias «bench» de pyproject.toml).")
    layer = get_layer(LAYER)
    assert isinstance(layer, VectorLayer)
    load = ensure_parcels(db, size, cache_dir)
    tile_list, warmup = tile_set(db, tiles, SEED)
    sample = sample_indices(tile_list)
    paths = {"platform": [platform_tile_path(t) for t in tile_list],
             "tipg": [tipg_tile_path(layer, t) for t in tile_list]}
    warm_paths = {"platform": [platform_tile_path(t) for t in warmup],
                  "tipg": [tipg_tile_path(layer, t) for t in warmup]}
    page_paths = {"platform": platform_item_paths(pages, page_size),
                  "tipg": tipg_item_paths(layer, pages, page_size)}

    with tile_pool(db, concurrency) as pool:
        start = time.perf_counter()
        first = bare_sql_pass(pool, layer, tile_list, concurrency, keep=range(len(tile_list)))
        buffers_warm_seconds = time.perf_counter() - start
        features = {i: feature_count(b) for i, b in first.bodies.items()}
        del first

        passes: dict[str, list[Pass]] = {name: [] for name in PASSES}
        items: dict[str, list[Pass]] = {"platform": [], "tipg": []}
        servers: dict[str, Server] = {}
        for k in range(rounds):
            keep = sample if k == 0 else ()
            passes["bare_sql"].append(bare_sql_pass(pool, layer, tile_list, concurrency, keep,
                                                    cpu_meter(db)))
            order = ["tipg", "platform"] if k % 2 == 0 else ["platform", "tipg"]
            for who in order:
                if who == "tipg" and not compare_tipg:
                    continue
                servers[who] = server = (
                    platform_server(db) if who == "platform" else
                    tipg_server(db, LAYER, tile_buffer=BUFFER, tile_extent=EXTENT,
                                max_features_per_tile=MAX_FEATURES_PER_TILE))
                with running(server):
                    meter = cpu_meter(db, server)
                    tile_passes = [fetch_all(server.url, paths[who], concurrency, keep,
                                             warm_paths[who], meter).check(server.name)]
                    if who == "platform":  # the second pass finds every tile cached
                        tile_passes.append(fetch_all(server.url, paths[who], concurrency,
                                                     keep, meter=meter).check(server.name))
                    items[who].append(fetch_all(server.url, page_paths[who], 1, range(pages),
                                                meter=meter).check(server.name, (200,)))
                for name, got in zip(SERVER_PASSES[who], tile_passes, strict=True):
                    passes[name].append(got)

    content = compare_content(tile_list, sample, {
        name: passes[name][0].bodies for name in PASSES if passes[name]})
    content["items"] = compare_items({who: runs[0] for who, runs in items.items() if runs},
                                     page_size)
    return _result(size=size, rounds=rounds, concurrency=concurrency, load=load,
                   tile_list=tile_list, features=features, passes=passes, items=items,
                   pages=pages, page_size=page_size, servers=servers, content=content,
                   buffers_warm_seconds=buffers_warm_seconds, db=db,
                   load_average=(load_average, os.getloadavg()))


def summary(result: dict[str, Any]) -> list[str]:
    """Spanish lines for the console."""
    t, ratios, met, targets = result["tiles"], result["ratios"], result["met"], \
        result["targets"]
    ts = result["tile_set"]
    lines = [f"Teselas: {ts['tiles']} distintas en los niveles "
             f"{min(map(int, ts['per_zoom']))}-{max(map(int, ts['per_zoom']))} "
             f"({_number(ts['features'])} entidades, {ts['mib']:.0f} MiB por pasada), "
             f"{result['concurrency']} solicitudes simultáneas"]
    names = {"bare_sql": "SQL directo", "tipg": "tipg", "platform_cold": "plataforma (fría)",
             "platform_warm": "plataforma (caché)"}
    for name, label in names.items():
        f = t.get(name)
        if f:
            lines.append(f"{label + ':':20} {_number(f['tiles_per_s'])} teselas/s, "
                         f"p50 {f['p50_ms']:.1f} ms, p95 {f['p95_ms']:.1f} ms")
    for who, label in (("platform", "plataforma"), ("tipg", "tipg")):
        f = result["items"].get(who)
        if f:
            lines.append(f"Entidades GeoJSON, {label}: {_number(f['features_per_s'])} "
                         f"entidades/s ({f['pages']} páginas de {f['page_size']})")
    labels = {"cold_vs_tipg": ("Teselas en frío / tipg", "≥", "cold_vs_tipg_at_least"),
              "warm_vs_tipg": ("Teselas en caché / tipg", "≥", "warm_vs_tipg_at_least"),
              "items_vs_tipg": ("Entidades/s / tipg", "≥", "items_vs_tipg_at_least"),
              "overhead_vs_bare_sql": ("Tiempo en frío / SQL directo", "≤",
                                       "overhead_vs_bare_sql_at_most")}
    for key, (label, sign, target) in labels.items():
        if ratios.get(key) is not None and target in targets:
            lines.append(f"{label}: {ratios[key]:.2f} (meta {sign} {targets[target]:g}): "
                         f"{'cumple' if met[target] else 'NO cumple'}")
    if result.get("tipg") is None:
        lines.append("tipg no se comparó (no está instalado).")
    return lines


# -- the data -------------------------------------------------------------------------------

def ensure_parcels(db: BenchDatabase, size: int, cache_dir: Path) -> dict[str, Any]:
    """The parcels layer holding the ``size``-parcel cadastre, loaded by the platform's
    ingest unless it already holds that many parcels (an earlier benchmark of the run)."""
    table = sql.Identifier(LAYERS_SCHEMA, LAYER)
    dataset = parcels_dataset(size, cache_dir=cache_dir)
    info: dict[str, Any] = {"file": str(dataset.path),
                            "size_mib": round(dataset.path.stat().st_size / MIB, 1),
                            "seed": dataset.seed, "generation_cached": dataset.cached}
    if db.scalar(sql.SQL("SELECT count(*) FROM {}").format(table)) == size:
        info["loaded_by_this_benchmark"] = False
    else:
        from gis.ingest import IngestOptions, ingest

        db.reset()
        start = time.perf_counter()
        report = ingest(db.settings, LAYER, dataset.path, IngestOptions())
        if report.features_loaded != size:
            raise RuntimeError(f"La carga dejó {report.features_loaded} predios de {size}.")
        info.update(loaded_by_this_benchmark=True,
                    ingest_seconds=round(time.perf_counter() - start, 2))
    db.execute(sql.SQL("VACUUM ANALYZE {}").format(table), sql.SQL("CHECKPOINT"))
    return info


def tile_set(db: BenchDatabase, count: int, seed: int) -> tuple[list[Tile], list[Tile]]:
    """``count`` distinct tiles at :data:`ZOOMS` holding parcels (fewer if the layer has
    fewer), in a seeded random order; and a few zoom-18 tiles for warming servers up.

    Tiles come from the points of a seeded sample of parcels, so that dense areas are
    chosen more often; each zoom gets an equal share, and what a zoom lacks (there are
    few tiles at zoom 13) goes to the next ones."""
    rng = random.Random(seed)
    table = sql.Identifier(LAYERS_SCHEMA, LAYER)
    with psycopg.connect(db.settings.database_url or "", autocommit=True) as conn:
        fids = [r[0] for r in conn.execute(
            sql.SQL("SELECT fid FROM {} ORDER BY fid").format(table))]
        chosen = rng.sample(fids, min(len(fids), 50 * count))
        rows = conn.execute(sql.SQL(
            "SELECT fid, ST_X(p), ST_Y(p) FROM (SELECT fid, ST_Transform("
            "ST_PointOnSurface(geom), 4326) AS p FROM {} WHERE fid = ANY(%s)) AS s"
        ).format(table), (chosen,)).fetchall()
    where = {fid: (lon, lat) for fid, lon, lat in rows}
    points = [where[f] for f in chosen]
    distinct: dict[int, dict[Tile, None]] = {z: {} for z in ZOOMS}
    for lon, lat in points:
        for z in ZOOMS:
            distinct[z].setdefault(TMS.tile(lon, lat, z), None)
    tiles: list[Tile] = []
    for i, z in enumerate(ZOOMS):
        share = (count - len(tiles)) // (len(ZOOMS) - i)
        tiles.extend(list(distinct[z])[:share])
    rng.shuffle(tiles)
    warmup = list(dict.fromkeys(TMS.tile(lon, lat, 18) for lon, lat in points))
    return tiles, warmup[:WARMUP_TILES]


def sample_indices(tiles: Sequence[Tile]) -> list[int]:
    """Positions of the tiles whose content is compared: the first few of each zoom."""
    seen: Counter[int] = Counter()
    out = []
    for i, t in enumerate(tiles):
        if seen[t.z] < SAMPLE_PER_ZOOM:
            seen[t.z] += 1
            out.append(i)
    return out


# -- what is requested ----------------------------------------------------------------------

def platform_tile_path(t: Tile) -> str:
    """OGC order: tileMatrix/tileRow/tileCol."""
    return f"/collections/{LAYER}/tiles/WebMercatorQuad/{t.z}/{t.y}/{t.x}"


def tipg_tile_path(layer: VectorLayer, t: Tile) -> str:
    """tipg 1.6: z/x/y."""
    return f"/collections/{tipg_collection(layer)}/tiles/WebMercatorQuad/{t.z}/{t.x}/{t.y}"


def platform_item_paths(pages: int, page_size: int) -> list[str]:
    return [f"/collections/{LAYER}/items?f=json&limit={page_size}&offset={k * page_size}"
            for k in range(pages)]


def tipg_item_paths(layer: VectorLayer, pages: int, page_size: int) -> list[str]:
    return [f"/collections/{tipg_collection(layer)}/items?f=geojson&limit={page_size}"
            f"&offset={k * page_size}" for k in range(pages)]


# -- the bare SQL ---------------------------------------------------------------------------

@contextmanager
def tile_pool(db: BenchDatabase, size: int) -> Iterator[ConnectionPool]:
    """A psycopg pool of ``size`` open connections to the benchmark database."""
    with ConnectionPool(db.settings.database_url or "", min_size=size, max_size=size,
                        kwargs={"autocommit": True, "application_name": "secplac-bench"},
                        open=False) as pool:
        pool.wait()
        yield pool


def cpu_meter(db: BenchDatabase, server: Server | None = None) -> Meter:
    """CPU seconds used so far by this process (the client), the database and
    ``server``."""
    def meter() -> dict[str, float]:
        used = {"client": time.process_time(), "database": database_cpu_seconds(db)}
        if server is not None and server.process is not None:
            used["server"] = process_cpu_seconds(server.process.pid)
        return used

    return meter


def bare_sql_pass(pool: ConnectionPool, layer: VectorLayer, tiles: Sequence[Tile],
                  concurrency: int, keep: Sequence[int] | range = (),
                  meter: Meter | None = None) -> Pass:
    """Every tile's SQL (the platform's) run ``concurrency`` at a time, in threads."""
    todo: queue.SimpleQueue[int] = queue.SimpleQueue()
    for i in range(len(tiles)):
        todo.put(i)
    latencies = [0.0] * len(tiles)
    bodies: dict[int, bytes] = {}
    sizes = [0] * len(tiles)
    wanted = set(keep)
    lock = threading.Lock()

    def worker() -> None:
        while True:
            try:
                i = todo.get_nowait()
            except queue.Empty:
                return
            t = tiles[i]
            start = time.perf_counter()
            with pool.connection() as conn:
                data = render_tile(conn, [layer], t.z, t.x, t.y)
            latencies[i] = time.perf_counter() - start
            sizes[i] = len(data)
            if i in wanted:
                with lock:
                    bodies[i] = data

    before = meter() if meter else {}
    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as executor:
        for f in [executor.submit(worker) for _ in range(concurrency)]:
            f.result()
    seconds = time.perf_counter() - start
    cpu = cpu_used(before, meter()) if meter else {}
    statuses = Counter(200 if s else 204 for s in sizes)
    return Pass(seconds, latencies, statuses, sum(sizes), bodies, cpu)


# -- is it the same content? ----------------------------------------------------------------

def decode(data: bytes):  # type: ignore[no-untyped-def]
    """The MVT protobuf message (``layers``, each with ``name``, ``keys``, ``features``)."""
    from mapbox_vector_tile.Mapbox import vector_tile_pb2

    tile = vector_tile_pb2.tile()
    tile.ParseFromString(data)
    return tile


def feature_count(data: bytes) -> int:
    return sum(len(lyr.features) for lyr in decode(data).layers) if data else 0


def compare_content(tiles: Sequence[Tile], sample: Sequence[int],
                    bodies: dict[str, dict[int, bytes]]) -> dict[str, Any]:
    """Feature counts, layer names and property keys of the sampled tiles of each pass;
    :class:`RuntimeError` when the platform's differ from the bare SQL's or a tile does
    not decode."""
    out: dict[str, Any] = {"sampled_tiles": len(sample), "per_tile": []}
    layers: dict[str, set[str]] = {}
    keys: dict[str, set[str]] = {}
    with_ids: dict[str, bool] = {}
    for i in sample:
        t = tiles[i]
        row: dict[str, Any] = {"tile": f"{t.z}/{t.x}/{t.y}"}
        for name, got in bodies.items():
            message = decode(got[i]) if got.get(i) else None
            row[name] = sum(len(lyr.features) for lyr in message.layers) if message else 0
            for lyr in message.layers if message else ():
                layers.setdefault(name, set()).add(lyr.name)
                keys.setdefault(name, set()).update(lyr.keys)
                if lyr.features:
                    with_ids[name] = with_ids.get(name, True) and lyr.features[0].HasField("id")
        out["per_tile"].append(row)
        for name in ("platform_cold", "platform_warm"):
            if name in row and row[name] != row["bare_sql"]:
                raise RuntimeError(f"La tesela {row['tile']} de la plataforma tiene "
                                   f"{row[name]} entidades; el SQL directo, {row['bare_sql']}.")
    totals = {name: sum(r[name] for r in out["per_tile"]) for name in bodies}
    out["features_total"] = totals
    out["layer_names"] = {n: sorted(v) for n, v in layers.items()}
    out["property_keys"] = {n: sorted(v) for n, v in keys.items()}
    out["feature_ids"] = with_ids
    if "tipg" in totals and totals["platform_cold"]:
        out["tipg_vs_platform_features"] = round(totals["tipg"] / totals["platform_cold"], 4)
    return out


def compare_items(first: dict[str, Pass], page_size: int) -> dict[str, Any]:
    """Features per page, their ids and property keys of each server's first round."""
    out: dict[str, Any] = {}
    ids: dict[str, list[Any]] = {}
    for who, got in first.items():
        pages = [json.loads(got.bodies[k]) for k in sorted(got.bodies)]
        counts = [len(p["features"]) for p in pages]
        if any(c != page_size for c in counts):
            raise RuntimeError(f"{who}: páginas con {counts} entidades (se pidieron "
                               f"{page_size}).")
        ids[who] = [f["id"] for p in pages for f in p["features"]]
        out[who] = {"features_per_page": counts[0],
                    "property_keys": sorted(pages[0]["features"][0]["properties"]),
                    "bytes_per_feature": round(got.size / sum(counts), 1)}
    if len(ids) == 2:
        out["same_features"] = ids["platform"] == ids["tipg"]
    return out


# -- the result -----------------------------------------------------------------------------

def _median_figures(runs: list[Pass], unit: str, per_request: int = 1) -> dict[str, Any]:
    figures = [r.figures(unit, per_request) for r in runs]
    rate = f"{unit}_per_s"
    out = {key: statistics.median(f[key] for f in figures)
           for key in ("seconds", rate, "p50_ms", "p95_ms")}
    out.update(requests=figures[0]["requests"], mib=figures[0]["mib"],
               statuses=figures[0]["statuses"])
    out["cpu_seconds"] = {k: statistics.median(r.cpu[k] for r in runs) for k in runs[0].cpu}
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in out.items()}


def _result(*, size: int, rounds: int, concurrency: int, load: dict[str, Any],
            tile_list: list[Tile], features: dict[int, int], passes: dict[str, list[Pass]],
            items: dict[str, list[Pass]], pages: int, page_size: int,
            servers: dict[str, Server], content: dict[str, Any],
            buffers_warm_seconds: float, db: BenchDatabase,
            load_average: tuple[tuple[float, ...], tuple[float, ...]]) -> dict[str, Any]:
    tiles = {name: _median_figures(runs, "tiles") for name, runs in passes.items() if runs}
    item_figures = {who: {**_median_figures(runs, "features", page_size), "pages": pages,
                          "page_size": page_size}
                    for who, runs in items.items() if runs}
    ratios: dict[str, float | None] = {
        "cold_vs_tipg": None, "warm_vs_tipg": None, "items_vs_tipg": None,
        "overhead_vs_bare_sql": round(tiles["platform_cold"]["seconds"]
                                      / tiles["bare_sql"]["seconds"], 3)}
    if "tipg" in tiles:
        ratios["cold_vs_tipg"] = round(tiles["platform_cold"]["tiles_per_s"]
                                       / tiles["tipg"]["tiles_per_s"], 3)
        ratios["warm_vs_tipg"] = round(tiles["platform_warm"]["tiles_per_s"]
                                       / tiles["tipg"]["tiles_per_s"], 3)
        ratios["items_vs_tipg"] = round(item_figures["platform"]["features_per_s"]
                                        / item_figures["tipg"]["features_per_s"], 3)
    targets = {k: v for k, v in TARGETS.items() if "tipg" in tiles or k not in TIPG_TARGETS}
    met = {}
    for key, bound in targets.items():
        ratio = ratios[TARGET_RATIO[key]]
        assert ratio is not None
        met[key] = ratio >= bound if key.endswith("_at_least") else ratio <= bound
    per_zoom = Counter(t.z for t in tile_list)
    platform = servers["platform"]
    tipg = servers.get("tipg")
    return {
        "benchmark": NAME,
        "description": DESCRIPTION,
        "features": size,
        "dataset": load,
        "rounds": rounds,
        "statistic": "median over the rounds of each pass (throughput, p50, p95, wall "
                     "time and CPU); each round restarts both servers",
        "cpu_seconds": "CPU time used during a pass by the client (the benchmark's "
                       "process: the HTTP client, or the bare SQL's threads), the server "
                       "process and PostgreSQL (all the cluster's processes)",
        "concurrency": concurrency,
        "tile_set": {
            "tiles": len(tile_list), "seed": SEED,
            "per_zoom": {str(z): per_zoom[z] for z in sorted(per_zoom)},
            "features": sum(features.values()),
            "empty": sum(1 for n in features.values() if n == 0),
            "mib": round(passes["bare_sql"][0].size / MIB, 1),
            "postgres_buffers_warmed_seconds": round(buffers_warm_seconds, 2),
        },
        "tiles": tiles,
        "items": item_figures,
        "ratios": ratios,
        "targets": targets,
        "met": met,
        "platform": {"command": platform.command(), "workers": WORKERS,
                     "settings": platform.settings,
                     "tile_url": "/collections/parcels/tiles/WebMercatorQuad/{z}/{row}/{col}",
                     "mvt": {"extent": EXTENT, "buffer": BUFFER, "clip": True,
                             "feature_id": "fid (MVT feature id)"}},
        "tipg": None if tipg is None else {
            "command": tipg.command(), "workers": WORKERS, "settings": tipg.settings,
            "tile_url": f"/collections/{LAYERS_SCHEMA}.{LAYER}/tiles/WebMercatorQuad/"
                        "{z}/{x}/{y}",
            "pool": "asyncpg, 1-10 connections (tipg's defaults)"},
        "client": {"library": "httpx (asyncio)", "concurrency": concurrency,
                   "headers": HEADERS, "items_concurrency": 1},
        "bare_sql": {"query": "gis.tiles.render_tile: gis.tiles.layer_tile_sql without "
                              "JIT (the platform's tile SQL)",
                     "pool": f"psycopg_pool, {concurrency} connections, "
                             f"{concurrency} threads"},
        "content": content,
        "differences": DIFFERENCES,
        "versions": versions(),
        "runs": [{"round": k + 1, **{name: passes[name][k].figures("tiles")
                                     for name in PASSES if passes[name]},
                  **{f"items_{who}": items[who][k].figures("features", page_size)
                     for who in items if items[who]}}
                 for k in range(rounds)],
        "machine": {**machine_info(db),
                    "load_average_1_5_15_min": {"start": [round(x, 2) for x in load_average[0]],
                                                "end": [round(x, 2) for x in load_average[1]]}},
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


DIFFERENCES = [
    "Tiles: both use extent 4096, buffer 64 and clipping, and name the MVT layer "
    "'parcels'. The platform selects rows by the tile box expanded by the buffer and "
    "puts fid in the MVT feature id; tipg selects rows intersecting the tile itself "
    "(so it may leave out parcels that only touch the buffer), sorts them by fid, and "
    "carries fid as a property.",
    "tipg's per-tile cap (TIPG_MAX_FEATURES_PER_TILE, 10,000 by default) was raised "
    "above the densest tile so that both serve every parcel.",
    "Items: both return the declared parcel fields (tipg also 'fid' as a property) and "
    "the geometry in CRS84, ordered by fid. The platform writes 8 decimals and takes "
    "numberMatched from the catalog; tipg writes up to 9 decimals, adds a link per "
    "feature and counts the table on every page.",
    "The platform checks the layer's revision on every tile request (its cache is never "
    "stale); tipg has no tile cache (it sends Cache-Control for browser caches).",
]


def _number(x: float) -> str:
    return f"{x:,.0f}".replace(",", ".")

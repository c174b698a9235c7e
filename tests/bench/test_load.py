"""Load with edits, shortened: a dozen map clients for a few seconds against the platform
under uvicorn while a proposal is applied and a layer re-ingested; no error, no stale tile.

Also two races, each made to happen with a held database lock: a tile made while a change
to its layer commits was tagged (and cached) with the revision before the change, so that
one ETag named two contents (found by the full run); and two proposals applied at once on
the same zoning version both succeeded, the second silently undoing the first.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import mapbox_vector_tile
import psycopg
import pytest

from bench import load
from bench.__main__ import BENCHMARKS
from bench.common import BenchDatabase
from bench.servers import platform_server, running
from gis import migrate
from gis.database import connect
from gis.localdb import LocalCluster
from gis.settings import Settings
from gis.tiles import TileCache, bump_revision, cached_tile, etag, revisions
from layers import get_layer
from layers.base import VectorLayer
from tests.conftest import query

LOAD_DB = "secplac_load"
LAYERS = ("comunas", "census_zones", "planning_sectors", "urban_limit", "zoning",
          "land_use", "hazard_zones")
"""What the readers, the proposal validation and the ingest need (not the portfolio,
whose import takes longer than the whole run)."""
CLIENTS, SECONDS = 12, 10.0


@pytest.fixture(scope="module")
def load_settings(base_settings: Settings, demo_raw: Path,
                  tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A migrated database of its own (the run writes), still without data."""
    assert base_settings.database_url
    with psycopg.connect(base_settings.database_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {LOAD_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {LOAD_DB}")
    head, sep, tail = base_settings.database_url.partition("?")
    settings = base_settings.model_copy(update={
        "database_url": head.rsplit("/", 1)[0] + "/" + LOAD_DB + sep + tail,
        "processed_dir": tmp_path_factory.mktemp("load-processed"), "raw_dir": demo_raw})
    migrate.upgrade(settings)
    return settings


@pytest.fixture(scope="module")
def load_server(cluster: LocalCluster, load_settings: Settings) -> Iterator[str]:
    """The platform under uvicorn in its own process, started while the layers load."""
    server = platform_server(BenchDatabase(cluster=cluster, settings=load_settings))
    with ThreadPoolExecutor(max_workers=1) as pool:
        loaded = pool.submit(load.load_demo_layers, load_settings, LAYERS)
        with running(server):
            loaded.result()
            yield server.url


def test_readers_see_every_acknowledged_change_and_get_no_error(
        load_server: str, load_settings: Settings) -> None:
    start = time.monotonic()
    result = load.run_load(load_server, load_settings, clients=CLIENTS, seconds=SECONDS,
                           pause=0.2, ingest_in_process=True)
    took = time.monotonic() - start

    assert result["errors"] == 0, result["error_samples"]
    assert result["stale"] == 0, result["stale_samples"]
    changes, fresh = result["changes"], result["freshness"]
    assert changes["applies"] >= 1 and changes["ingests"] >= 1
    assert fresh["confirmations"] == fresh["confirmations_ok"] \
        == changes["applies"] + changes["ingests"]
    assert fresh["reader_checks"] > 0 and fresh["unverified_304"] == 0
    assert result["seconds"] >= SECONDS and took < 3 * SECONDS + 120
    assert result["requests"]["total"] > CLIENTS and result["requests"]["per_s"] > 0
    for kind in ("tile", "map_tile", "items", "revalidation", "proposal_apply", "ingest",
                 "confirmation"):
        f = result["by_kind"][kind]
        assert f["count"] > 0 and 0 < f["p50_ms"] <= f["p95_ms"] <= f["p99_ms"] <= f["max_ms"]
    for kind, allowed in load.EXPECTED.items():
        assert set(result["by_kind"][kind]["statuses"]) <= {str(s) for s in allowed}
    assert "304" in result["by_kind"]["revalidation"]["statuses"]

    # the changes are in the database as acknowledged: one zoning version per apply,
    # the sector code of the last ingest
    zone, sector = changes["zone"], changes["sector"]
    applied = query(load_settings, "SELECT count(*) FROM catalog.layer_versions WHERE "
                    "layer = 'zoning' AND version > 1")[0][0]
    assert applied == changes["applies"]
    name = query(load_settings, "SELECT nombre FROM layers.zoning WHERE codigo = %s",
                 (zone,))[0][0]
    assert name.endswith(f"(carga {changes['applies']})")
    code = query(load_settings, "SELECT codigo FROM layers.planning_sectors WHERE "
                 "nombre = %s", (sector,))[0][0]
    assert code.endswith(f"-R{changes['ingests']}")
    assert any("Errores: 0" in line for line in load.summary(result))
    assert BENCHMARKS["load"] is load


def test_a_tile_made_while_its_layer_changes_is_tagged_with_the_change(
        load_server: str, load_settings: Settings) -> None:
    """The change commits while the tile's query waits for the ingest-like lock: the
    tile holds the new data, so its ETag (and its cache entry) must be the new revision's."""
    layer = get_layer("planning_sectors")
    assert isinstance(layer, VectorLayer)
    code, lon, lat = query(load_settings, "SELECT codigo, ST_X(p), ST_Y(p) FROM (SELECT "
                           "codigo, ST_Transform(ST_PointOnSurface(geom), 4326) AS p FROM "
                           "layers.planning_sectors ORDER BY codigo LIMIT 1) AS s")[0]
    z, row, col = map(int, load.tile_path(lon, lat, 12).split("/"))
    cache = TileCache()
    with connect(load_settings) as writer, \
            connect(load_settings, autocommit=True) as reader, \
            ThreadPoolExecutor(max_workers=1) as pool:
        writer.execute("UPDATE layers.planning_sectors SET codigo = %s WHERE codigo = %s",
                       (code + "-T", code))
        bump_revision(writer, layer.name)
        writer.execute("LOCK TABLE layers.planning_sectors IN ACCESS EXCLUSIVE MODE")
        made = pool.submit(cached_tile, reader, cache, [layer], z, col, row)
        _wait_for_lock(load_settings, reader.info.backend_pid)
        writer.commit()
        data, tag = made.result(timeout=60)
        now = revisions(reader, [layer.name])
    features = mapbox_vector_tile.decode(data)[layer.name]["features"]
    assert code + "-T" in {f["properties"]["codigo"] for f in features}
    assert tag == etag(now, z, col, row)
    assert cache.get((layer.name,), now, z, col, row) == data


def _wait_for_lock(settings: Settings, pid: int | None, waiting: int = 1,
                   gave_up: Callable[[], bool] = lambda: False) -> None:
    """Until backend ``pid`` (or ``waiting`` backends of the database) wait for a lock."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not gave_up():
        count = query(settings, "SELECT count(*) FROM pg_stat_activity WHERE "
                      "wait_event_type = 'Lock' AND datname = current_database() AND "
                      "(pid = %s OR %s::int IS NULL)", (pid, pid))[0][0]
        if count >= waiting:
            return
        time.sleep(0.05)
    raise AssertionError(f"{waiting} backend(s) never waited for the lock")


def test_two_proposals_applied_at_once_never_lose_either(
        load_server: str, load_settings: Settings) -> None:
    """Two administrators apply two approved proposals on the same zoning version at the
    same moment: the second to get the layer's lock must be refused (it needs a rebase),
    not load its zoning over the first's (which would silently undo the first)."""
    load.ensure_staff(load_settings)
    zones = [r[0] for r in query(load_settings, "SELECT codigo FROM layers.zoning WHERE "
                                 "familia = 'mixta' ORDER BY codigo LIMIT 2")]
    with httpx.Client(base_url=load_server, timeout=120) as http:
        tokens = {role: http.post("/auth/token", data={"username": name, "password":
                                                         load.PASSWORD}).json()["access_token"]
                  for name, role in load.STAFF.items()}

        def call(role: str, path: str, etag: str | None = None, **kw: object) -> httpx.Response:
            headers = {"Authorization": f"Bearer {tokens[role]}", **(
                {"If-Match": etag} if etag else {})}
            return http.post(path, headers=headers, **kw)  # type: ignore[arg-type]

        approved = []
        for zone in zones:
            p = call("editor", "/propuestas", json={"titulo": f"A la vez {zone}"}).json()
            r = call("editor", f"/propuestas/{p['id']}/cambios", p["etag"], json={
                "op": "normas", "codigo": zone, "normas": {"nombre": f"Simultánea {zone}"}})
            r = call("editor", f"/propuestas/{p['id']}/acciones/enviar", r.headers["etag"])
            r = call("revisor", f"/propuestas/{p['id']}/acciones/aprobar", r.headers["etag"])
            assert r.status_code == 200, r.text
            approved.append((p["id"], r.headers["etag"]))

        with connect(load_settings) as holder, ThreadPoolExecutor(max_workers=2) as pool:
            holder.execute("SELECT pg_advisory_xact_lock(hashtext('secplac.layer.zoning'))")
            applies = [pool.submit(call, "admin", f"/propuestas/{pid}/aplicar", etag)
                       for pid, etag in approved]
            _wait_for_lock(load_settings, None, waiting=2,
                           gave_up=lambda: any(a.done() for a in applies))
            holder.commit()
            answers = [a.result(timeout=120) for a in applies]
    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
    won, lost = sorted(range(2), key=lambda i: answers[i].status_code)
    assert "rebase" in answers[lost].json()["hint"]
    names = dict(query(load_settings, "SELECT codigo, nombre FROM layers.zoning WHERE "
                       "codigo = ANY(%s)", (zones,)))
    assert names[zones[won]] == f"Simultánea {zones[won]}"  # the applied change stays
    assert names[zones[lost]] != f"Simultánea {zones[lost]}"
    state = query(load_settings, "SELECT estado FROM proposals.proposals WHERE id = %s",
                  (approved[lost][0],))[0][0]
    assert state == "aprobada"  # the refused one changed nothing

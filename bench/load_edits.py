"""The edits of the load benchmark (:mod:`bench.load`) and how their freshness is
checked: zoning proposals applied over HTTP, the planning sectors re-ingested, and the
decoded tiles that must show each change once it is acknowledged.

The change counter of each edited layer is written into the data itself, so that any
tile tells which change it shows: the zone's name ends in ``(carga k)`` after the k-th
applied proposal, whose split part ``<zona>-C<k>`` exists for odd k and was merged back
for even k; the sector's code is ``<código>-R<k>`` after the k-th ingest.
"""

from __future__ import annotations

import asyncio
import math
import os
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import mapbox_vector_tile
import shapely
from pyproj import Transformer

from bench.servers import with_project_path
from gis.database import connect, database_url
from gis.settings import Settings

PASSWORD = "clave-de-carga-2026"
STAFF = {"carga_editora": "editor", "carga_revisora": "revisor", "carga_admin": "admin"}
ZONING, SECTORS = "zoning", "planning_sectors"
SECTORS_FILE = Path("territorio") / "sectores_planificacion.gpkg"
SECTOR_CODE_COLUMN = "cod_sector"
WATCH_ZOOMS = (12, 14)
MAP_WATCH_ZOOM = 12
TO_LONLAT = Transformer.from_crs(32719, 4326, always_xy=True)
NAME_MARK = re.compile(r" \(carga (\d+)\)$")
KEPT = 20
"""Errors and stale tiles kept as samples (all are counted)."""


@dataclass
class Target:
    """What the edits change and the tiles (path → layers checked in it) that show it."""

    zone: str
    zone_name: str
    cut_line: dict[str, Any]
    sector_code: str
    sector_name: str
    watched: dict[str, tuple[str, ...]]

    def split_code(self, k: int) -> str:
        return f"{self.zone}-C{k}"

    def sector_code_at(self, k: int) -> str:
        return self.sector_code if k == 0 else f"{self.sector_code}-R{k}"


@dataclass
class LoadState:
    """What the readers and the changes record during a run."""

    deadline: float
    acked: dict[str, int] = field(default_factory=lambda: {ZONING: 0, SECTORS: 0})
    stop: bool = False
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    errors: list[dict[str, Any]] = field(default_factory=list)
    stale: list[dict[str, Any]] = field(default_factory=list)
    etag_states: dict[str, dict[str, tuple[tuple[str, int], ...]]] = field(
        default_factory=lambda: defaultdict(dict))
    confirmations: list[dict[str, Any]] = field(default_factory=list)
    reads: list[tuple[float, float]] = field(default_factory=list)
    """Start and end (``perf_counter``) of every reader request answered."""
    changing: list[tuple[float, float]] = field(default_factory=list)
    """Start and end of every apply request and every ingest."""
    reader_checks: int = 0
    unverified_304: int = 0
    error_count: int = 0
    stale_count: int = 0

    def error(self, kind: str, path: str, what: str) -> None:
        self.error_count += 1
        if len(self.errors) < KEPT:
            self.errors.append({"kind": kind, "path": path, "error": what[:300]})

    def stale_tile(self, where: str, path: str, what: str) -> None:
        self.stale_count += 1
        if len(self.stale) < KEPT:
            self.stale.append({"where": where, "path": path, "problem": what[:300]})


# -- the edited features --------------------------------------------------------------------

def ensure_staff(settings: Settings) -> None:
    """The editor, reviewer and administrator of the run (password :data:`PASSWORD`)."""
    from gis.auth import create_user

    with connect(settings) as conn:
        existing = {r[0] for r in conn.execute("SELECT username FROM auth.users")}
        for name, role in STAFF.items():
            if name not in existing:
                create_user(conn, name, name, role, PASSWORD)
        conn.commit()


def find_target(settings: Settings) -> Target:
    """The largest residential zone, a north-south line through it, and the planning
    sector holding its representative point."""
    with connect(settings, autocommit=True) as conn:
        zone, name, wkt = conn.execute(
            "SELECT codigo, nombre, ST_AsText(geom) FROM layers.zoning WHERE familia = "
            "'residencial' ORDER BY ST_Area(geom) DESC LIMIT 1").fetchone()  # type: ignore[misc]
        geom = shapely.from_wkt(wkt)
        p = geom.representative_point()
        sector_code, sector_name = conn.execute(
            "SELECT codigo, nombre FROM layers.planning_sectors ORDER BY "
            "geom <-> ST_SetSRID(ST_Point(%s, %s), 32719) LIMIT 1",
            (p.x, p.y)).fetchone()  # type: ignore[misc]
    minx, miny, maxx, maxy = geom.bounds
    xs, ys = TO_LONLAT.transform([p.x, p.x], [miny - 50, maxy + 50])
    lon, lat = TO_LONLAT.transform(p.x, p.y)
    watched: dict[str, tuple[str, ...]] = {
        f"/collections/{layer}/tiles/WebMercatorQuad/{tile_path(lon, lat, z)}": (layer,)
        for z in WATCH_ZOOMS for layer in (ZONING, SECTORS)}
    watched[f"/tiles/WebMercatorQuad/{tile_path(lon, lat, MAP_WATCH_ZOOM)}"] = (ZONING, SECTORS)
    return Target(zone=zone, zone_name=NAME_MARK.sub("", name), watched=watched,
                  cut_line={"type": "LineString", "coordinates": list(zip(xs, ys, strict=True))},
                  sector_code=sector_code, sector_name=sector_name)


def tile_path(lon: float, lat: float, z: int) -> str:
    """``z/row/col`` of the WebMercatorQuad tile holding a point (as morecantile's
    ``tile``, which is too slow to call thousands of times)."""
    n = 2 ** z
    col = int((lon + 180.0) / 360.0 * n)
    row = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return f"{z}/{min(row, n - 1)}/{min(col, n - 1)}"


# -- reading tiles --------------------------------------------------------------------------

def tile_state(body: bytes, layers: Iterable[str], target: Target,
               ) -> tuple[dict[str, int], list[str]]:
    """The change counter each of ``layers`` shows in a tile, and what is inconsistent."""
    decoded = mapbox_vector_tile.decode(body)
    states: dict[str, int] = {}
    problems: list[str] = []
    for layer in layers:
        props = [f["properties"] for f in decoded.get(layer, {}).get("features", [])]
        if layer == ZONING:
            names = [p.get("nombre", "") for p in props if p.get("codigo") == target.zone]
            if len(names) != 1:
                problems.append(f"la zona {target.zone} aparece {len(names)} veces")
                continue
            mark = NAME_MARK.search(names[0])
            k = states[layer] = int(mark.group(1)) if mark else 0
            parts = sorted(str(p.get("codigo")) for p in props
                           if str(p.get("codigo", "")).startswith(f"{target.zone}-C"))
            expected = [target.split_code(k)] if k % 2 else []
            if parts != expected:
                problems.append(f"nombre de la carga {k} con zonas divididas {parts} "
                                f"(se esperaba {expected})")
        else:
            codes = [str(p.get("codigo")) for p in props if p.get("nombre") == target.sector_name]
            if len(codes) != 1:
                problems.append(f"el sector {target.sector_name} aparece {len(codes)} veces")
                continue
            code = codes[0]
            mark = re.fullmatch(re.escape(target.sector_code) + r"(?:-R(\d+))?", code)
            if mark is None:
                problems.append(f"código de sector inesperado {code}")
                continue
            states[layer] = int(mark.group(1) or 0)
    return states, problems


def check_tile(state: LoadState, where: str, path: str, response: httpx.Response,
               layers: tuple[str, ...], target: Target, acked: dict[str, int],
               sent_etag: str | None) -> dict[str, int] | None:
    """Record staleness of one response for a watched tile; the states it shows.
    ``acked``: the changes acknowledged when the request was sent (one acknowledged while
    it was in flight may or may not show)."""
    etag = response.headers.get("etag", "")
    if response.status_code == 304:
        shown = state.etag_states[path].get(sent_etag or "")
        if shown is None:
            state.unverified_304 += 1
            return None
        states = dict(shown)
    elif response.status_code == 200:
        states, problems = tile_state(response.content, layers, target)
        for problem in problems:
            state.stale_tile(where, path, problem)
        key = tuple(sorted(states.items()))
        known = state.etag_states[path].setdefault(etag, key)
        if known != key:
            state.stale_tile(where, path, f"la ETag {etag} sirvió {dict(known)} y {states}")
    else:
        state.stale_tile(where, path, f"estado {response.status_code} en una tesela vigilada")
        return None
    for layer in layers:
        if layer in states and states[layer] < acked[layer]:
            state.stale_tile(where, path, f"{layer}: muestra el cambio {states[layer]} "
                             f"después de confirmado el {acked[layer]}")
    return states


# -- the changes ----------------------------------------------------------------------------

async def timed(state: LoadState, kind: str, request: Any, expected: int = 200,
                ) -> httpx.Response | None:
    """One staff request; ``None`` (and an error recorded) unless it got ``expected``."""
    start = time.perf_counter()
    try:
        response: httpx.Response = await request
    except httpx.HTTPError as exc:
        state.error(kind, "", f"{type(exc).__name__}: {exc}")
        return None
    end = time.perf_counter()
    state.latencies[kind].append(end - start)
    if kind == "proposal_apply":
        state.changing.append((start, end))
    state.statuses[kind][response.status_code] += 1
    if response.status_code != expected:
        state.error(kind, str(response.request.url.path),
                    f"HTTP {response.status_code}: {response.text[:200]}")
        return None
    return response


async def snapshot(state: LoadState, client: httpx.AsyncClient, target: Target, layer: str,
                   ) -> dict[str, str]:
    """ETags of the watched tiles showing ``layer`` before a change (which caches them)."""
    out = {}
    for path, layers in target.watched.items():
        if layer in layers:
            acked = dict(state.acked)  # as the request leaves (the other changer goes on)
            r = await timed(state, "check", client.get(path))
            if r is not None:
                check_tile(state, "antes del cambio", path, r, layers, target, acked, None)
                out[path] = r.headers.get("etag", "")
    return out


async def confirm(state: LoadState, client: httpx.AsyncClient, target: Target, layer: str,
                  k: int, before: dict[str, str]) -> None:
    """After change ``k`` of ``layer`` is acknowledged: its tiles and items show it."""
    start = time.perf_counter()
    problems = []
    for path, old in before.items():
        acked = dict(state.acked)  # as the request leaves (the other changer goes on)
        r = await timed(state, "check", client.get(path))
        again = await timed(state, "check", client.get(path, headers={"If-None-Match": old}))
        if r is None or again is None:
            problems.append(f"{path}: sin respuesta 200 (vea los errores)")
            continue
        states = check_tile(state, "tras confirmar", path, r, target.watched[path], target,
                            acked, None)
        if states is not None and states.get(layer) != k:
            problems.append(f"{path}: cambio {states.get(layer)} en vez de {k}")
        if r.headers.get("etag") == old:
            problems.append(f"{path}: la ETag no cambió")
    if layer == ZONING:
        expect = {target.zone: 1, target.split_code(k) if k % 2 else target.split_code(k - 1):
                  k % 2}
    else:
        expect = {target.sector_code_at(k): 1, target.sector_code_at(k - 1): 0}
    for code, n in expect.items():
        items = await timed(state, "check", client.get(f"/collections/{layer}/items",
                                                       params={"codigo": code}))
        if items is None or items.json()["numberMatched"] != n:
            problems.append(f"entidades de {layer} con codigo={code}: "
                            f"{items.json()['numberMatched'] if items else 'sin respuesta'} "
                            f"en vez de {n}")
        elif layer == ZONING and code == target.zone:
            name = items.json()["features"][0]["properties"]["nombre"]
            if not name.endswith(f"(carga {k})"):
                problems.append(f"entidades: la zona se llama «{name}»")
    for problem in problems:
        state.stale_tile("tras confirmar", layer, problem)
    state.latencies["confirmation"].append(time.perf_counter() - start)
    state.confirmations.append({"layer": layer, "change": k, "tiles": len(before),
                                "ok": not problems})


def keep_going(state: LoadState, done: int, minimum: int, last: float, cap: float) -> bool:
    now = time.monotonic()
    if now > cap:
        return False
    return done < minimum or now + last < state.deadline


async def cycles(state: LoadState, client: httpx.AsyncClient, target: Target, layer: str,
                 minimum: int, cap: float, pause: float,
                 change: Callable[[int], Awaitable[dict[str, str] | None]]) -> int:
    """Changes of ``layer`` until the deadline (and at least ``minimum``): ``change(n)``
    makes the n-th and returns the ETags of its tiles from just before it (``None``: it
    failed, which ends the cycles); each acknowledged change is confirmed, then a pause.
    The number of changes acknowledged."""
    k, last = 0, 0.0
    while keep_going(state, k, minimum, last + pause, cap):
        start = time.monotonic()
        before = await change(k + 1)
        if before is None:
            return k
        k = state.acked[layer] = k + 1
        await confirm(state, client, target, layer, k, before)
        last = time.monotonic() - start
        await asyncio.sleep(pause)
    return k


async def editor(state: LoadState, client: httpx.AsyncClient, target: Target,
                 tokens: dict[str, str], minimum: int, cap: float, pause: float) -> int:
    """Proposal cycles until the deadline (and at least ``minimum`` applied)."""
    def auth(role: str, etag: str | None = None) -> dict[str, str]:
        h = {"Authorization": f"Bearer {tokens[role]}"}
        return {**h, "If-Match": etag} if etag else h

    async def apply(n: int) -> dict[str, str] | None:
        rename = {"op": "normas", "codigo": target.zone,
                  "normas": {"nombre": f"{target.zone_name} (carga {n})"}}
        shape = ({"op": "dividir", "codigo": target.zone, "nuevo_codigo": target.split_code(n),
                  "geometria": target.cut_line} if n % 2 else
                 {"op": "fusionar", "codigo": target.zone,
                  "codigos": [target.zone, target.split_code(n - 1)]})
        r = await timed(state, "proposal_create", client.post(
            "/propuestas", json={"titulo": f"Carga {n}", "justificacion": "Prueba de carga."},
            headers=auth("editor")), 201)
        for op in (rename, shape):
            if r is None:
                return None
            r = await timed(state, "proposal_change", client.post(
                f"/propuestas/{r.json()['id']}/cambios", json=op,
                headers=auth("editor", r.headers["etag"])), 201)
        before: dict[str, str] = {}
        for kind, action, role in (("proposal_submit", "acciones/enviar", "editor"),
                                   ("proposal_approve", "acciones/aprobar", "revisor"),
                                   ("proposal_apply", "aplicar", "admin")):
            if r is None:
                return None
            if kind == "proposal_apply":
                before = await snapshot(state, client, target, ZONING)
            r = await timed(state, kind, client.post(
                f"/propuestas/{r.json()['id']}/{action}", headers=auth(role, r.headers["etag"])))
        return None if r is None else before

    return await cycles(state, client, target, ZONING, minimum, cap, pause, apply)


def cli_env(settings: Settings) -> dict[str, str]:
    """The environment of ``secplac`` run on the database of ``settings``."""
    return with_project_path(dict(
        os.environ, DATABASE_URL=database_url(settings),
        SECPLAC_PROCESSED_DIR=str(settings.processed_dir),
        SECPLAC_STATE_DIR=str(settings.state_dir), SECPLAC_RAW_DIR=str(settings.raw_dir),
        SECPLAC_USER=settings.user or "carga"))


async def ingest_process(env: dict[str, str], path: Path) -> str | None:
    """``secplac ingest`` in a child process; what went wrong, if anything."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gis.cli", "ingest", SECTORS, str(path), env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await proc.communicate()
    return None if proc.returncode == 0 else out.decode(errors="replace")[-300:]


async def ingest_thread(settings: Settings, path: Path) -> str | None:
    """:func:`gis.ingest.ingest` in a thread of this process (no interpreter to start)."""
    from gis.ingest import ingest

    try:
        await asyncio.to_thread(ingest, settings, SECTORS, path)
    except Exception as exc:  # reported as an error of the run
        return f"{type(exc).__name__}: {exc}"
    return None


async def ingester(state: LoadState, client: httpx.AsyncClient, settings: Settings,
                   target: Target, workdir: Path, minimum: int, cap: float, pause: float,
                   in_process: bool) -> int:
    """Re-ingest the planning sectors, one sector code changed each time (by the CLI in a
    child process, or in a thread when ``in_process``)."""
    import pyogrio

    source = pyogrio.read_dataframe(settings.raw_dir / SECTORS_FILE)
    row = source.index[source[SECTOR_CODE_COLUMN] == target.sector_code][0]
    env = cli_env(settings)

    async def reingest(n: int) -> dict[str, str] | None:
        edited = source.copy()
        edited.loc[row, SECTOR_CODE_COLUMN] = target.sector_code_at(n)
        path = workdir / f"sectores_{n}.gpkg"
        await asyncio.to_thread(pyogrio.write_dataframe, edited, path)
        before = await snapshot(state, client, target, SECTORS)
        t = time.perf_counter()
        failure = await (ingest_thread(settings, path) if in_process else
                         ingest_process(env, path))
        state.changing.append((t, time.perf_counter()))
        state.latencies["ingest"].append(state.changing[-1][1] - t)
        state.statuses["ingest"][1 if failure else 0] += 1  # exit status
        if failure is not None:
            state.error("ingest", str(path), failure)
            return None
        return before

    return await cycles(state, client, target, SECTORS, minimum, cap, pause, reingest)

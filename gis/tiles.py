"""Mapbox Vector Tiles of the layers in WebMercatorQuad, and a cache that is never stale.

Every tile is made by PostGIS (``ST_AsMVT``) from the layer's declared fields. The cache
keys each tile by the layer's *revision* (``catalog.layer_revisions``, raised in the same
transaction as every new version or edit), read from the database on every request: a
change is visible to the next request once committed, and only the changed layer's
tiles are dropped.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import morecantile
import psycopg
from psycopg import sql

from gis.errors import PlatformError
from gis.schema import LAYERS_SCHEMA
from layers.base import STORAGE_SRID, FieldType, VectorLayer

TMS = morecantile.tms.get("WebMercatorQuad")
EXTENT = 4096
BUFFER = 64
MAX_ZOOM = 22
DENSE_LAYER_LIMIT = 20_000
"""Features per tile above which a layer is left out of tiles below its ``min_zoom``."""
RENDER_ATTEMPTS = 3
"""Times a tile is made again when its layers keep changing while it is made."""


class TileError(PlatformError):
    http_status = 400


class TileNotFound(PlatformError):
    http_status = 404


def check_tile(z: int, x: int, y: int) -> None:
    """:class:`TileNotFound` (Spanish) when z/x/y is outside the WebMercatorQuad matrix."""
    if not 0 <= z <= MAX_ZOOM:
        raise TileNotFound(f"Nivel de zoom {z} fuera del esquema WebMercatorQuad.",
                           hint=f"Use un nivel entre 0 y {MAX_ZOOM}.")
    side = 2 ** z
    if not (0 <= x < side and 0 <= y < side):
        raise TileNotFound(f"La tesela {z}/{y}/{x} (nivel/fila/columna) no existe.",
                           hint=f"En el nivel {z}, fila y columna van de 0 a {side - 1}.")


def layer_tile_sql(layer: VectorLayer, table: sql.Composable | None = None) -> sql.Composed:
    """SQL returning one MVT layer named like ``layer`` for parameters (z, x, y).

    Rows whose geometry falls outside the tile get a NULL geometry, which ``ST_AsMVT``
    skips: filtering them in SQL would make PostgreSQL compute ``ST_AsMVTGeom`` twice."""
    columns = [sql.Identifier(f.name) if f.type is not FieldType.TEXT_LIST else
               sql.SQL("array_to_string({}, '; ') AS {}").format(sql.Identifier(f.name),
                                                                sql.Identifier(f.name))
               for f in layer.fields]
    source = table or sql.Identifier(LAYERS_SCHEMA, layer.name)
    return sql.SQL("""
        WITH tile AS (SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS env),
        area AS (SELECT env, ST_Transform(ST_Expand(env, (ST_XMax(env) - ST_XMin(env))
                                          * {buffer} / {extent}), {srid}) AS box FROM tile)
        SELECT ST_AsMVT(t, {name}, {extent}, 'geom', 'fid') FROM (
            SELECT fid, {columns},
                   ST_AsMVTGeom(ST_Transform(l.geom, 3857), area.env, {extent}, {buffer},
                                true) AS geom
            FROM {source} AS l, area
            WHERE l.geom && area.box
        ) AS t
    """).format(buffer=sql.Literal(BUFFER), extent=sql.Literal(EXTENT),
                srid=sql.Literal(STORAGE_SRID), name=sql.Literal(layer.name),
                columns=sql.SQL(", ").join(columns), source=source)


@lru_cache(maxsize=128)
def _tile_query(layer: VectorLayer) -> sql.Composed:
    return layer_tile_sql(layer)


def render_tile(conn: psycopg.Connection, layers: Sequence[VectorLayer], z: int, x: int,
                y: int) -> bytes:
    """One tile holding ``layers`` (MVT layers concatenate into one valid tile).

    The queries run without JIT compilation: PostgreSQL would compile the dense tiles'
    queries (their estimated cost is high), which takes longer than running them. The
    tile comes back in binary, not hex-encoded as text."""
    parts = []
    with conn.transaction():
        conn.execute("SET LOCAL jit = off")
        for layer in layers:
            row = conn.execute(_tile_query(layer), {"z": z, "x": x, "y": y},
                               binary=True).fetchone()
            if row and row[0]:
                parts.append(bytes(row[0]))
    return b"".join(parts)


def revisions(conn: psycopg.Connection, names: Iterable[str]) -> dict[str, int]:
    """The current change counter of each layer (0 for a layer never loaded)."""
    wanted = list(names)
    rows = conn.execute("SELECT layer, revision FROM catalog.layer_revisions "
                        "WHERE layer = ANY(%s)", (wanted,)).fetchall()
    found = {str(r[0]): int(r[1]) for r in rows}
    return {n: found.get(n, 0) for n in wanted}


def bump_revision(conn: psycopg.Connection, layer: str) -> None:
    """Raise ``layer``'s change counter (call inside the transaction of an edit)."""
    conn.execute("INSERT INTO catalog.layer_revisions (layer, revision) VALUES (%s, 1) "
                 "ON CONFLICT (layer) DO UPDATE SET revision = "
                 "catalog.layer_revisions.revision + 1, changed_at = now()", (layer,))


def etag(revs: dict[str, int], z: int, x: int, y: int) -> str:
    key = ";".join(f"{n}:{r}" for n, r in sorted(revs.items())) + f"@{z}/{x}/{y}"
    return '"' + hashlib.blake2b(key.encode(), digest_size=12).hexdigest() + '"'


@dataclass
class _Entry:
    revs: tuple[tuple[str, int], ...]
    data: bytes


class TileCache:
    """An in-memory LRU of tiles bounded in bytes, keyed by layers + z/x/y and checked
    against the layers' revisions on every read."""

    def __init__(self, max_bytes: int = 256 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._items: OrderedDict[tuple[tuple[str, ...], int, int, int], _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._seen: dict[str, int] = {}
        self.hits = self.misses = 0

    def observe(self, revs: dict[str, int]) -> None:
        """Drop the tiles of every layer whose revision moved since last seen."""
        for name, rev in revs.items():
            seen = self._seen.get(name)
            if seen != rev:
                self._seen[name] = rev
                if seen is not None:
                    self.drop_layer(name)

    def get(self, names: tuple[str, ...], revs: dict[str, int], z: int, x: int, y: int,
            ) -> bytes | None:
        key = (names, z, x, y)
        current = tuple(sorted(revs.items()))
        with self._lock:
            entry = self._items.get(key)
            if entry is None or entry.revs != current:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return entry.data

    def put(self, names: tuple[str, ...], revs: dict[str, int], z: int, x: int, y: int,
            data: bytes) -> None:
        if len(data) > self.max_bytes // 16:
            return
        key = (names, z, x, y)
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self.size -= len(old.data)
            self._items[key] = _Entry(tuple(sorted(revs.items())), data)
            self.size += len(data)
            while self.size > self.max_bytes and self._items:
                _, dropped = self._items.popitem(last=False)
                self.size -= len(dropped.data)

    def drop_layer(self, name: str) -> int:
        """Forget every tile that holds ``name`` (stale ones are never served anyway)."""
        with self._lock:
            stale = [k for k in self._items if name in k[0]]
            for k in stale:
                self.size -= len(self._items.pop(k).data)
            return len(stale)

    def __len__(self) -> int:
        return len(self._items)

    def layers_cached(self) -> set[str]:
        with self._lock:
            return {n for k in self._items for n in k[0]}


def cached_tile(conn: psycopg.Connection, cache: TileCache, layers: Sequence[VectorLayer],
                z: int, x: int, y: int) -> tuple[bytes, str]:
    """The tile and its ETag, from the cache when no layer in it changed since.

    A tile made while a change to one of its layers commits may hold either version (or
    both, one per layer), so the revisions are read again after making it: if they moved,
    it is made again, and only a tile made between two equal readings is cached and tagged
    with them (else one ETag would name two contents)."""
    check_tile(z, x, y)
    names = tuple(layer.name for layer in layers)
    revs = revisions(conn, names)
    cache.observe(revs)
    data = cache.get(names, revs, z, x, y)
    if data is not None:
        return data, etag(revs, z, x, y)
    made = b""
    for _ in range(RENDER_ATTEMPTS):
        made = render_tile(conn, layers, z, x, y)
        after = revisions(conn, names)
        if after == revs:
            cache.put(names, revs, z, x, y, made)
            return made, etag(revs, z, x, y)
        revs = after
    return made, '"' + secrets.token_hex(12) + '"'  # of no known revisions: matches nothing

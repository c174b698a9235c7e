"""Loading a new version of a layer into PostGIS in one transaction.

The rows are copied (COPY, binary format) into ``staging.<layer>_v<N>``, indexed, then swapped with
``layers.<layer>``: the version in force moves to ``history.<layer>_v<N-1>``. Everything
happens in one transaction, so a failed or killed load leaves the previous version as it
was, and readers see either the old or the new table, never a mix.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
import pyarrow as pa
import sqlalchemy as sa
from psycopg import sql
from psycopg.copy import QueuedLibpqWriter
from psycopg.types.json import Jsonb
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import CreateIndex, CreateTable, SetColumnComment, SetTableComment

from gis.ingest import pgcopy
from gis.schema import HISTORY_SCHEMA, LAYERS_SCHEMA, STAGING_SCHEMA, layer_table
from layers.base import VectorLayer

CHANGE_CHANNEL = "secplac_layer_changed"
"""NOTIFY channel told the name of every layer that got a new version."""

LAYER_LOCK_KEY = "hashtext('secplac.layer.' || %s)"
"""SQL of the advisory-lock key of a layer (its name the parameter), shared by every
writer of a layer: loads, the leftovers check and the project registry."""

_DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]


@dataclass
class Provenance:
    loaded_by: str
    source_file: str
    source_sha256: str
    source_crs: str | None
    fuente: str
    licencia: str
    demo: bool
    processed_file: str | None
    report: dict[str, Any]


def lock_layer(conn: psycopg.Connection, layer: str) -> int:
    """Serialise loads of ``layer``; the next version number.

    The lock is held by the session, until ``conn`` closes: past the commit, until the
    load's processed file is renamed into place. A load waiting for the lock would
    otherwise find that file still under its partial name, take it for the leftover of
    a killed load (:func:`gis.ingest.leftovers.clean_layer`) and move it away. So call it
    on a connection of the load's own, closed when the load ends (never a pooled one)."""
    conn.execute(f"SELECT pg_advisory_lock({LAYER_LOCK_KEY})", (layer,))
    row = conn.execute(
        "SELECT coalesce(max(version), 0) + 1 FROM catalog.layer_versions WHERE layer = %s",
        (layer,),
    ).fetchone()
    assert row is not None
    return int(row[0])


class StagedLoad:
    """A new version of a vector layer being copied in, inside the caller's transaction."""

    def __init__(self, conn: psycopg.Connection, layer: VectorLayer, version: int) -> None:
        self.conn, self.layer, self.version = conn, layer, version
        self.table = layer_table(layer, sa.MetaData(), schema=STAGING_SCHEMA,
                                 name=f"{layer.name}_v{version}")
        ddl = str(CreateTable(self.table, include_foreign_key_constraints=[]).compile(
            dialect=_DIALECT))
        conn.execute(ddl)  # type: ignore[arg-type]  # identifiers from the registry only
        for comment in [SetTableComment(self.table), *(
                SetColumnComment(c) for c in self.table.columns if c.comment)]:
            conn.execute(str(comment.compile(dialect=_DIALECT)))  # type: ignore[arg-type]
        self.columns = [f.name for f in layer.fields] + ["geom"]
        copy_sql = sql.SQL("COPY {}.{} ({}) FROM STDIN (FORMAT binary)").format(
            sql.Identifier(STAGING_SCHEMA), sql.Identifier(self.table.name),
            sql.SQL(", ").join(sql.Identifier(c) for c in self.columns),
        )
        self._cursor = conn.cursor()
        # The queued writer sends the data from its own thread: the caller goes on
        # preparing the next rows while the server reads these.
        self._copy_cm = self._cursor.copy(copy_sql, writer=QueuedLibpqWriter(self._cursor))
        self._copy = self._copy_cm.__enter__()
        self._copy_open = True
        self._copy.write(pgcopy.HEADER)
        self.rows = 0

    @staticmethod
    def encode(layer: VectorLayer, columns: dict[str, pa.Array], ewkb: pa.Array) -> pa.Array:
        """COPY rows (one binary value each) from typed field arrays (by field name) and
        EWKB geometries; a row with a null geometry is null and is not copied. Pure: may
        run in any thread."""
        return pgcopy.encode_rows([(columns[f.name], f.type) for f in layer.fields], ewkb)

    def write(self, rows: pa.Array) -> None:
        """Append rows made by :meth:`encode`."""
        data = pgcopy.rows_buffer(rows)
        if len(data):
            self._copy.write(data)
        self.rows += len(rows) - rows.null_count

    def abort(self) -> None:
        """End an unfinished COPY so that the transaction can be rolled back."""
        if self._copy_open:
            self._copy_open = False
            error = RuntimeError("load aborted")
            try:
                self._copy_cm.__exit__(type(error), error, None)
            except psycopg.Error:
                pass

    def finish(self, provenance: Provenance,
               extent: tuple[float, float, float, float] | None = None) -> None:
        """Index, swap with the version in force and record the version in the catalog.

        ``extent`` (xmin, ymin, xmax, ymax of the rows written) spares a scan of the table.
        """
        self._copy.write(pgcopy.TRAILER)
        self._copy_open = False
        self._copy_cm.__exit__(None, None, None)
        for index in self.table.indexes:
            self.conn.execute(str(CreateIndex(index).compile(dialect=_DIALECT)))  # type: ignore[arg-type]
        self._swap()
        record_version(self.conn, self.layer.name, self.version, "vector",
                       f"{LAYERS_SCHEMA}.{self.layer.name}", provenance,
                       feature_count=self.rows,
                       **({"extent_box": extent} if extent else {"extent_from": self.layer.name}))

    def _swap(self) -> None:
        name = self.layer.name
        live = sql.Identifier(LAYERS_SCHEMA, name)
        self.conn.execute(sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(live))
        previous = self.version - 1
        has_rows = self.conn.execute(
            sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(live)).fetchone()
        if previous > 0 or (has_rows and has_rows[0]):
            archived = f"{name}_v{previous}"
            self.conn.execute(sql.SQL("ALTER TABLE {} SET SCHEMA {}").format(
                live, sql.Identifier(HISTORY_SCHEMA)))
            self.conn.execute(sql.SQL("ALTER TABLE {} RENAME TO {}").format(
                sql.Identifier(HISTORY_SCHEMA, name), sql.Identifier(archived)))
            self._archive_indexes(archived)
            self.conn.execute(
                "UPDATE catalog.layer_versions SET valid_to = now(), data_location = %s "
                "WHERE layer = %s AND version = %s",
                (f"{HISTORY_SCHEMA}.{archived}", name, previous))
        else:
            self.conn.execute(sql.SQL("DROP TABLE {}").format(live))
        self.conn.execute(sql.SQL("ALTER TABLE {} SET SCHEMA {}").format(
            sql.Identifier(STAGING_SCHEMA, self.table.name), sql.Identifier(LAYERS_SCHEMA)))
        self.conn.execute(sql.SQL("ALTER TABLE {} RENAME TO {}").format(
            sql.Identifier(LAYERS_SCHEMA, self.table.name), sql.Identifier(name)))
        _rename_indexes(self.conn, LAYERS_SCHEMA, name, self.table.name, name)

    def _archive_indexes(self, archived: str) -> None:
        _rename_indexes(self.conn, HISTORY_SCHEMA, archived, self.layer.name, archived)


def _rename_indexes(conn: psycopg.Connection, schema: str, table: str, old_prefix: str,
                    new_prefix: str) -> None:
    """Give a moved table's indexes (and its primary key) names from its new table name,
    so that live tables keep the declared names and archived ones never collide."""
    rows = conn.execute("SELECT indexname FROM pg_indexes WHERE schemaname = %s AND "
                        "tablename = %s", (schema, table)).fetchall()
    for (index,) in rows:
        if index.startswith(old_prefix + "_"):
            conn.execute(sql.SQL("ALTER INDEX {} RENAME TO {}").format(
                sql.Identifier(schema, index),
                sql.Identifier(new_prefix + index[len(old_prefix):])))


def record_version(conn: psycopg.Connection, layer: str, version: int, kind: str,
                   data_location: str, p: Provenance, *, feature_count: int,
                   extent_from: str | None = None, extent_wkb: bytes | None = None,
                   extent_box: tuple[float, float, float, float] | None = None) -> None:
    """Insert the catalog row of a new version, close the previous one, and notify.

    The extent comes from the geometries of a layer table (``extent_from``), a WKB polygon
    (``extent_wkb``) or the bounds of the data (``extent_box``).
    """
    extent: sql.Composable
    if extent_box is not None:
        extent = sql.SQL("ST_MakeEnvelope(%s, %s, %s, %s, 32719)")
        params: tuple[Any, ...] = tuple(float(v) for v in extent_box)
    elif extent_from is not None:
        # ST_MakeEnvelope keeps a polygon even for a single point.
        extent = sql.SQL(
            "(SELECT ST_MakeEnvelope(ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e), 32719) "
            "FROM (SELECT ST_Extent(geom) AS e FROM {}) AS s)"
        ).format(sql.Identifier(LAYERS_SCHEMA, extent_from))
        params = ()
    else:
        extent = sql.SQL("ST_SetSRID(ST_GeomFromWKB(%s), 32719)")
        params = (extent_wkb,)
    conn.execute(
        "UPDATE catalog.layer_versions SET valid_to = now() "
        "WHERE layer = %s AND version < %s AND valid_to IS NULL", (layer, version))
    conn.execute(
        sql.SQL(
            "INSERT INTO catalog.layer_versions (layer, version, kind, loaded_by, "
            "source_file, source_sha256, source_crs, storage_crs, feature_count, extent, "
            "fuente, licencia, demo, data_location, processed_file, report) VALUES "
            "(%s, %s, %s, %s, %s, %s, %s, 'EPSG:32719', %s, {}, %s, %s, %s, %s, %s, %s)"
        ).format(extent),
        (layer, version, kind, p.loaded_by, p.source_file, p.source_sha256, p.source_crs,
         feature_count, *params, p.fuente, p.licencia, p.demo, data_location,
         p.processed_file, Jsonb(p.report)),
    )
    conn.execute("SELECT pg_notify(%s, %s)", (CHANGE_CHANNEL, layer))

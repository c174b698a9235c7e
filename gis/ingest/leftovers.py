"""What a killed load can leave behind, found and put right at the next start.

A load commits the database in one transaction (:mod:`gis.ingest.load`), so a load killed
at any point leaves the layer at its old or its new version. What can be left is outside
that transaction:

- ``<processed>/<layer>/v<N>.parquet.partial`` (and ``rasters/<layer>/v<N>.tif.partial``):
  the processed copy, renamed into place only after the commit. If the load was killed
  before its commit, the file belongs to no version and is deleted; if it was killed
  between the commit and the rename, the file is complete and the catalog already names
  its final path, so it is renamed into place (for a raster, that file *is* the data).
- tables in the ``staging`` schema: a load's staging table is created inside its
  transaction, so a visible one was left by something else (an older platform, a manual
  session); it would make the load of that version fail, so it is dropped.
- ``<processed>/propuestas/propuesta_<id>.gpkg`` (with SQLite ``-journal``/``-wal``
  siblings): the working file of a proposal apply that did not finish.
- ``secplac-import-*``, ``secplac-analisis-*``, ``secplac-export-*`` folders in the
  temporary folder: uploads and exports of a server that was killed.

Each layer is examined holding its load lock (``pg_try_advisory_xact_lock``): a layer
being loaded right now is left alone. Files that other live processes may be writing
(proposal files, temporary folders) are only removed when older than :data:`GRACE_SECONDS`.

>>> from gis.ingest.leftovers import clean_leftovers     # doctest: +SKIP
>>> for line in clean_leftovers(settings): print(line)   # doctest: +SKIP
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
import time
from pathlib import Path

import psycopg
from psycopg import sql

from gis.database import connect
from gis.ingest.load import LAYER_LOCK_KEY
from gis.schema import STAGING_SCHEMA
from gis.settings import Settings
from layers import REGISTRY

__all__ = ["GRACE_SECONDS", "clean_layer", "clean_leftovers", "clean_leftovers_at_start"]

log = logging.getLogger("secplac")

GRACE_SECONDS = 600.0
"""Age after which a proposal working file or a temporary folder is taken as abandoned."""
TEMP_PREFIXES = ("secplac-import-", "secplac-analisis-", "secplac-export-")
"""Temporary folders made by the API (uploads, exports); not the tests' or benchmarks'."""
_PARTIAL = re.compile(r"^v(\d+)\.(parquet|tif)\.partial$")
_STAGING = re.compile(r"^(.+)_v(\d+)$")


def clean_leftovers(settings: Settings, *, now: float | None = None) -> list[str]:
    """Find and put right what killed loads and applies left; one Spanish line per fix.

    Safe to run while the platform works: a layer whose load is running is skipped.

    Parameters
    ----------
    settings
        Where the database and the processed folder are.
    now
        The present time (seconds since the epoch) for the age of files; tests move it.

    Returns
    -------
    list of str
        What was found and what was done, in Spanish (empty when nothing was left).
    """
    now = time.time() if now is None else now
    done: list[str] = []
    with connect(settings) as conn:
        for layer in _layers_with_leftovers(conn, settings):
            with conn.transaction():
                if not _try_lock(conn, layer):
                    done.append(f"Capa «{layer}»: hay una carga en curso; no se revisan sus "
                                "restos ahora.")
                    continue
                done += clean_layer(conn, settings, layer)
        done += _proposal_files(conn, settings, now)
    done += _temporary_folders(now)
    return done


def clean_leftovers_at_start(settings: Settings) -> list[str]:
    """:func:`clean_leftovers` for a starting server or command: logs what it did (in
    Spanish) and never stops the start; a database that does not answer is only noted."""
    try:
        done = clean_leftovers(settings)
    except Exception as exc:  # noqa: BLE001 - a failed check must never block a start
        log.warning("No se pudo revisar si quedaron restos de cargas interrumpidas: %s",
                    str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        return []
    for line in done:
        log.warning("Restos de una carga interrumpida: %s", line)
    return done


def clean_layer(conn: psycopg.Connection, settings: Settings, layer: str) -> list[str]:
    """Put right the leftovers of ``layer``; the caller holds the layer's load lock (on
    ``conn``), so no load of it is running."""
    done: list[str] = []
    for folder in (settings.processed_dir / layer, settings.processed_dir / "rasters" / layer):
        for partial in sorted(folder.glob("*.partial")):
            done.append(_settle_partial(conn, layer, partial))
    for table in _staging_tables(conn, layer):
        conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(STAGING_SCHEMA, table)))
        done.append(f"Capa «{layer}»: se eliminó la tabla provisoria «{STAGING_SCHEMA}."
                    f"{table}», resto de una carga que no terminó.")
    return done


def _settle_partial(conn: psycopg.Connection, layer: str, partial: Path) -> str:
    """Rename a complete partial file of a committed version into place; delete others."""
    final = partial.with_name(partial.name.removesuffix(".partial"))
    match = _PARTIAL.match(partial.name)
    version = int(match.group(1)) if match else 0
    row = conn.execute(
        "SELECT processed_file, data_location, feature_count, kind FROM "
        "catalog.layer_versions WHERE layer = %s AND version = %s", (layer, version),
    ).fetchone()
    if row is None or final.exists() or final.name not in {Path(p).name for p in row[:2] if p}:
        partial.unlink(missing_ok=True)
        return (f"Capa «{layer}»: se eliminó «{partial.name}», resto de una carga "
                "interrumpida (la capa quedó en su versión anterior).")
    kind, rows = str(row[3]), int(row[2])
    if _complete(partial, kind, rows):
        partial.replace(final)
        return (f"Capa «{layer}»: la versión {version} quedó guardada en la base pero su "
                f"archivo no se había renombrado; se completó «{final.name}».")
    partial.unlink(missing_ok=True)
    if kind == "vector":
        return (f"Capa «{layer}»: el archivo procesado de la versión {version} quedó "
                f"incompleto y se eliminó («{partial.name}»); los datos de la capa en la "
                "base están completos.")
    return (f"Capa «{layer}»: el archivo de la versión {version} quedó incompleto "
            f"(«{partial.name}») y se eliminó; vuelva a cargar el raster.")


def _complete(path: Path, kind: str, rows: int) -> bool:
    """Whether a partial file is whole: a Parquet footer with every row, a readable TIFF."""
    try:
        if kind == "vector":
            import pyarrow.parquet as pq

            return bool(pq.read_metadata(path).num_rows == rows)
        import rasterio

        with rasterio.open(path) as src:
            src.read(1, window=((0, 1), (0, 1)))
        return True
    except Exception:  # noqa: BLE001 - any unreadable file is incomplete
        return False


def _layers_with_leftovers(conn: psycopg.Connection, settings: Settings) -> list[str]:
    found = {t[0] for t in (_STAGING.match(name) for name in _staging_tables(conn)) if t}
    for folder in (settings.processed_dir, settings.processed_dir / "rasters"):
        found |= {p.parent.name for p in folder.glob("*/*.partial")}
    return sorted(found & set(REGISTRY))


def _staging_tables(conn: psycopg.Connection, layer: str | None = None) -> list[str]:
    rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY 1",
                        (STAGING_SCHEMA,)).fetchall()
    names = [str(r[0]) for r in rows]
    if layer is None:
        return names
    return [n for n in names if (m := _STAGING.match(n)) and m.group(1) == layer]


def _try_lock(conn: psycopg.Connection, layer: str) -> bool:
    """The layer's load lock (see :func:`gis.ingest.load.lock_layer`), if free."""
    row = conn.execute(f"SELECT pg_try_advisory_xact_lock({LAYER_LOCK_KEY})",
                       (layer,)).fetchone()
    return bool(row and row[0])


def _proposal_files(conn: psycopg.Connection, settings: Settings, now: float) -> list[str]:
    """Working files of proposals that were never applied, older than the grace time."""
    folder = settings.processed_dir / "propuestas"
    files = sorted(folder.glob("propuesta_*.gpkg*"))
    if not files:
        return []
    applied = {int(r[0]) for r in conn.execute(
        "SELECT id FROM proposals.proposals WHERE estado = 'aplicada'").fetchall()}
    done = []
    for path in files:
        match = re.match(r"^propuesta_(\d+)\.gpkg(-journal|-wal|-shm)?$", path.name)
        if not match or int(match.group(1)) in applied and not match.group(2):
            continue  # an applied proposal's file is the source of its zoning version
        if now - path.stat().st_mtime < GRACE_SECONDS:
            continue
        path.unlink(missing_ok=True)
        done.append(f"Propuesta {match.group(1)}: se eliminó el archivo de trabajo "
                    f"«{path.name}» de una aplicación que no terminó.")
    return done


def _temporary_folders(now: float) -> list[str]:
    done = []
    root = Path(tempfile.gettempdir())
    for prefix in TEMP_PREFIXES:
        for folder in root.glob(prefix + "*"):
            try:
                old = now - folder.stat().st_mtime >= GRACE_SECONDS
            except OSError:
                continue
            if old and folder.is_dir():
                shutil.rmtree(folder, ignore_errors=True)
                done.append(f"Se eliminó la carpeta temporal «{folder}» que dejó un servidor "
                            "detenido a la fuerza.")
    return done

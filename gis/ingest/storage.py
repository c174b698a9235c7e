"""A full or read-only disk, told apart from other failures and reported in Spanish.

Writes to the disk fail in several ways: an :class:`OSError` with ``errno`` (Python,
pyarrow), or a library error whose text carries the reason (GDAL/SQLite through pyogrio:
"database or disk is full"; rasterio). :func:`disk_problem` recognises both, so that a
load, an export or a proposal apply on a full disk says so instead of failing with a
traceback or a 500.
"""

from __future__ import annotations

import errno
from pathlib import Path

from gis.ingest.report import IngestError, IngestReport

__all__ = ["FULL", "READ_ONLY", "StorageError", "disk_problem", "storage_error"]

FULL = "lleno"
READ_ONLY = "solo_lectura"
_ERRNOS = {errno.ENOSPC: FULL, errno.EDQUOT: FULL, errno.EROFS: READ_ONLY,
           errno.EACCES: READ_ONLY, errno.EPERM: READ_ONLY}
_TEXTS = {"no space left on device": FULL, "disk is full": FULL,
          "read-only file system": READ_ONLY, "readonly database": READ_ONLY,
          "permission denied": READ_ONLY}


class StorageError(IngestError):
    """The disk refused a file the operation needs; nothing was stored."""

    http_status = 507


def disk_problem(exc: BaseException) -> str | None:
    """:data:`FULL`, :data:`READ_ONLY`, or None when ``exc`` is not a refused disk write.

    >>> disk_problem(OSError(errno.ENOSPC, "No space left on device"))
    'lleno'
    >>> from pyogrio.errors import DataSourceError
    >>> disk_problem(DataSourceError("sqlite3_exec(...) failed: database or disk is full"))
    'lleno'
    >>> disk_problem(ValueError("bad value")) is None
    True
    """
    for current in _chain(exc):
        if isinstance(current, OSError) and current.errno in _ERRNOS:
            return _ERRNOS[current.errno]
        text = str(current).lower()
        for needle, problem in _TEXTS.items():
            if needle in text and (isinstance(current, OSError)
                                   or type(current).__module__.split(".")[0]
                                   in ("pyogrio", "rasterio", "pyarrow")):
                return problem
    return None


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen and len(seen) < 10:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def storage_error(exc: BaseException, folder: Path, report: IngestReport | None = None,
                  ) -> StorageError:
    """The Spanish error of a load whose files could not be written in ``folder``."""
    if report is not None:
        report.features_loaded, report.version = 0, None  # nothing was loaded after all
    if disk_problem(exc) == FULL:
        return StorageError(
            f"El disco donde se guardan los archivos procesados ({folder}) está lleno: la "
            "carga se canceló y la capa quedó como estaba.", report,
            hint="Libere espacio (o indique otra carpeta con SECPLAC_PROCESSED_DIR) y vuelva "
            "a cargar el archivo.")
    return StorageError(
        f"No se puede escribir en la carpeta de archivos procesados ({folder}): es de solo "
        "lectura o no tiene permiso. La carga se canceló y la capa quedó como estaba.", report,
        hint="Revise los permisos de la carpeta o indique otra con SECPLAC_PROCESSED_DIR.")

"""ZIP archives received from users, checked before anything is read out of them.

A zipped Shapefile given to the ingest, an Excel workbook (.xlsx) given to the portfolio
import and an Office document attached to a project are all ZIP archives. Before any of
them is opened, :func:`check_zip` reads only the archive's directory and refuses:

- member names that point outside the archive (``../../etc/passwd.shp``, ``/etc/x``,
  ``C:\\x``): GDAL resolves ``..`` in a ``/vsizip/`` path against the file system;
- members that expand far more than ordinary files do (a "zip bomb": a few kilobytes that
  decompress to gigabytes), or archives whose members add up to more than a limit;
- archives with an absurd number of members.

Sizes are those the archive declares: readers (GDAL's ``/vsizip/``, Python's ``zipfile``)
stop at the declared size, so a member cannot expand beyond what was checked here.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import IO

from gis.errors import PlatformError

MAX_MEMBERS = 10_000
MAX_RATIO = 100
"""Largest expansion accepted for a big member. Deflate shrinks ordinary data (text,
tables, even a .dbf padded with blanks) by far less; a zip bomb expands about 1,000 times."""
RATIO_FROM_BYTES = 16 * 2**20
"""Members smaller than this are not judged by their ratio (a small blank file may
legitimately compress very well and can do no harm)."""
MAX_UNZIPPED_BYTES = 16 * 2**30
"""Largest total of an archive's members, expanded (a cadastre of a million parcels is
well under 1 GB)."""
_DRIVE = re.compile(r"^[A-Za-z]:")


class UnsafeArchiveError(PlatformError):
    """An archive refused before being opened (nothing was read out of it)."""

    http_status = 422


def check_zip(source: str | Path | IO[bytes], name: str,
              max_total: int = MAX_UNZIPPED_BYTES) -> list[zipfile.ZipInfo]:
    """The members of the ZIP archive ``source`` (``name`` is how the user knows it), after
    refusing unsafe names and expansions with :class:`UnsafeArchiveError`.

    Raises :class:`zipfile.BadZipFile` when ``source`` is not a readable ZIP archive (each
    caller says what it expected instead).

    Examples
    --------
    >>> import io
    >>> buffer = io.BytesIO()
    >>> with zipfile.ZipFile(buffer, "w") as zf:
    ...     zf.writestr("../../etc/passwd.shp", b"x")
    >>> try:
    ...     check_zip(buffer, "capa.zip")
    ... except UnsafeArchiveError as exc:
    ...     print(exc.message.split(",")[0])
    El ZIP «capa.zip» contiene «../../etc/passwd.shp»
    """
    with zipfile.ZipFile(source) as zf:
        members = zf.infolist()
    if len(members) > MAX_MEMBERS:
        raise UnsafeArchiveError(
            f"El ZIP «{name}» contiene {len(members):,} archivos; el máximo es "
            f"{MAX_MEMBERS:,}.".replace(",", "."),
            hint="Comprima solo los archivos que se van a cargar.")
    for member in members:
        if unsafe_member_name(member.filename):
            raise UnsafeArchiveError(
                f"El ZIP «{name}» contiene «{_printable(member.filename)}», un nombre que "
                "apunta fuera del archivo; no se abrió.",
                hint="Vuelva a comprimir los archivos sin rutas absolutas ni «..» en sus "
                     "nombres.")
        expanded, packed = member.file_size, max(member.compress_size, 1)
        if expanded >= RATIO_FROM_BYTES and expanded > MAX_RATIO * packed:
            raise UnsafeArchiveError(
                f"El ZIP «{name}» parece una «bomba ZIP»: «{_printable(member.filename)}» "
                f"ocupa {packed / 2**20:.1f} MB comprimido y {expanded / 2**20:.0f} MB al "
                f"descomprimirse ({expanded // packed} veces más); no se abrió.",
                hint="Un archivo de datos real se comprime mucho menos. Si el archivo es "
                     "legítimo, envíelo sin comprimir.")
    total = sum(m.file_size for m in members)
    if total > max_total:
        raise UnsafeArchiveError(
            f"El ZIP «{name}» ocupa {total / 2**30:.1f} GB al descomprimirse; el máximo es "
            f"{max_total / 2**30:.1f} GB; no se abrió.",
            hint="Divida los datos en varios archivos.")
    return members


def unsafe_member_name(member: str) -> bool:
    """Whether an archive member's name is absolute or climbs out with ``..``.

    >>> unsafe_member_name("zonas/zonas.shp"), unsafe_member_name("../../etc/passwd.shp")
    (False, True)
    """
    parts = re.split(r"[\\/]", member)
    return (member.startswith(("/", "\\")) or bool(_DRIVE.match(member)) or ".." in parts
            or "\x00" in member)


def _printable(member: str) -> str:
    return "".join(c if c.isprintable() else "?" for c in member)[:120]

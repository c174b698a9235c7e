"""Documents and photos attached to a project, kept in ``cartera.adjuntos``.

A file is accepted only when its content is of a known kind (checked by its first bytes,
not by its name or the type the browser claims): PDF, PNG, JPEG, WebP, Office and
OpenDocument files, or plain text/CSV. Names are reduced to a plain file name (no
folders), so a name like ``../../etc/passwd`` cannot point anywhere.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import zipfile
from typing import Any

import psycopg

from gis import audit
from gis.archives import check_zip
from gis.errors import NotFoundError, PlatformError
from gis.portfolio.store import ProjectNotFoundError, project_exists

MAX_BYTES = 20 * 1024 * 1024
MAX_PER_PROJECT = 100
MAX_UNZIPPED_BYTES = 512 * 2**20
"""Largest expanded size of an Office document (a ZIP archive) of at most MAX_BYTES."""
KINDS = (
    (b"%PDF-", "application/pdf", "documento PDF"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "imagen PNG"),
    (b"\xff\xd8\xff", "image/jpeg", "imagen JPEG"),
    (b"RIFF", "image/webp", "imagen WebP"),
    (b"PK\x03\x04", "application/zip", "documento Office u OpenDocument"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/x-ole-storage",
     "documento Office antiguo"),
)
OFFICE_TYPES = {
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
    ".doc": "application/msword", ".xls": "application/vnd.ms-excel",
}


class AttachmentError(PlatformError):
    http_status = 422


class AttachmentTooLargeError(AttachmentError):
    http_status = 413


def safe_name(name: str) -> str:
    """A plain file name: no folders, no control characters, at most 120 characters.

    >>> safe_name("../../etc/passwd"), safe_name("C:\\\\fotos\\\\obra 1.jpg")
    ('passwd', 'obra 1.jpg')
    """
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(c for c in unicodedata.normalize("NFC", base)
                   if unicodedata.category(c)[0] != "C").strip(" .")
    if not base:
        base = "adjunto"
    stem, dot, ext = base.rpartition(".")
    if dot and len(ext) <= 10:
        return stem[:110] + "." + ext
    return base[:120]


def content_type(name: str, data: bytes) -> str:
    """The MIME type of ``data`` from its first bytes; :class:`AttachmentError` if it is
    not a kind of file a project may hold. Office and OpenDocument files are ZIP archives:
    one that is damaged, has members named outside it or expands like a zip bomb is
    refused (:func:`gis.archives.check_zip`)."""
    ext = "." + name.rpartition(".")[2].lower() if "." in name else ""
    for magic, mime, _ in KINDS:
        if data.startswith(magic):
            if magic == b"RIFF" and data[8:12] != b"WEBP":
                break
            if mime == "application/zip":
                _check_archive(name, data)
            if mime in ("application/zip", "application/x-ole-storage"):
                return OFFICE_TYPES.get(ext, mime)
            return mime
    if ext in (".txt", ".csv") and _is_text(data):
        return "text/csv; charset=utf-8" if ext == ".csv" else "text/plain; charset=utf-8"
    raise AttachmentError(
        f"El archivo «{name}» no es de un tipo admitido.",
        hint="Adjunte documentos PDF, Word, Excel u OpenDocument, fotos PNG, JPEG o WebP, "
             "o texto/CSV en UTF-8.")


def _check_archive(name: str, data: bytes) -> None:
    try:
        check_zip(io.BytesIO(data), name, max_total=MAX_UNZIPPED_BYTES)
    except zipfile.BadZipFile:
        raise AttachmentError(f"El archivo «{name}» parece un documento Office u "
                              "OpenDocument, pero está dañado.",
                              hint="Ábralo en su programa, guárdelo de nuevo y adjúntelo."
                              ) from None


def _is_text(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return b"\x00" not in data


def add_attachment(conn: psycopg.Connection, actor: str, codigo: str, name: str,
                   data: bytes, descripcion: str | None = None) -> dict[str, Any]:
    """Attach a file to ``codigo``; its listing entry."""
    name = safe_name(name)
    if not data:
        raise AttachmentError(f"El archivo «{name}» está vacío.")
    if len(data) > MAX_BYTES:
        raise AttachmentTooLargeError(
            f"El archivo «{name}» pesa {len(data) / 2**20:.1f} MB; el máximo es "
            f"{MAX_BYTES // 2**20} MB.", hint="Comprima las fotos o divida el documento.")
    mime = content_type(name, data)
    with conn.transaction():
        if not project_exists(conn, codigo):
            raise ProjectNotFoundError(codigo)
        count = conn.execute("SELECT count(*) FROM cartera.adjuntos WHERE codigo = %s",
                             (codigo,)).fetchone()[0]  # type: ignore[index]
        if count >= MAX_PER_PROJECT:
            raise AttachmentError(f"El proyecto «{codigo}» ya tiene {count} adjuntos; el "
                                  f"máximo es {MAX_PER_PROJECT}.",
                                  hint="Elimine los que ya no sirvan.")
        digest = hashlib.sha256(data).hexdigest()
        row = conn.execute(
            "INSERT INTO cartera.adjuntos (codigo, nombre, tipo, bytes, sha256, descripcion, "
            "contenido, subido_por) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
            "RETURNING id, subido", (codigo, name, mime, len(data), digest,
                                     (descripcion or "")[:1000] or None, data, actor)
        ).fetchone()
        entry = {"id": row[0], "nombre": name, "tipo": mime, "bytes": len(data),  # type: ignore[index]
                 "sha256": digest, "descripcion": descripcion, "subido_por": actor,
                 "subido": row[1].isoformat(),  # type: ignore[index]
                 "url": f"/proyectos/{codigo}/adjuntos/{row[0]}"}  # type: ignore[index]
        audit.record(conn, actor, "proyecto.adjuntar", f"proyecto/{codigo}",
                     after={k: v for k, v in entry.items() if k != "url"})
    return entry


def get_attachment(conn: psycopg.Connection, codigo: str, attachment_id: int
                   ) -> tuple[str, str, bytes]:
    """``(name, mime type, content)`` of one attachment of ``codigo``."""
    row = conn.execute("SELECT nombre, tipo, contenido FROM cartera.adjuntos "
                       "WHERE codigo = %s AND id = %s", (codigo, attachment_id)).fetchone()
    if row is None:
        raise NotFoundError(f"El proyecto «{codigo}» no tiene el adjunto {attachment_id}.",
                            hint=f"Vea la lista de adjuntos en /proyectos/{codigo}.")
    return str(row[0]), str(row[1]), bytes(row[2])


def delete_attachment(conn: psycopg.Connection, actor: str, codigo: str,
                      attachment_id: int) -> None:
    with conn.transaction():
        row = conn.execute("DELETE FROM cartera.adjuntos WHERE codigo = %s AND id = %s "
                           "RETURNING nombre, sha256", (codigo, attachment_id)).fetchone()
        if row is None:
            raise NotFoundError(f"El proyecto «{codigo}» no tiene el adjunto "
                                f"{attachment_id}.")
        audit.record(conn, actor, "proyecto.eliminar_adjunto", f"proyecto/{codigo}",
                     before={"id": attachment_id, "nombre": row[0], "sha256": row[1]})

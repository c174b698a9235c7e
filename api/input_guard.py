"""Input refused before any endpoint sees it: oversized bodies, hostile JSON, NUL characters.

:class:`InputGuardMiddleware` answers, in Spanish and with nothing stored (a refused write
is still audited: :class:`api.security.AuditClientMiddleware` wraps this one):

- 413 to a body larger than ``settings.max_body_mib`` (``max_json_mib`` for JSON and
  form bodies, which are parsed into memory at several times their size), judged by its
  ``Content-Length`` before it is read, or while it is read when it is sent in chunks;
- 400 to a JSON body nested deeper than :data:`MAX_JSON_DEPTH` levels (a hundred thousand
  nested arrays would exhaust the parser's recursion: a 500, or worse in GEOS), or with a
  key repeated within one object (``{"type": "Point", "type": "Polygon"}``: which one was
  meant is unknowable, and each reader keeps a different one);
- 400 to text with NUL characters (U+0000) in the path, the query string or a JSON or
  URL-encoded form body: PostgreSQL text cannot hold them (a NUL that reached a query
  failed with a 500). Multipart uploads are not looked into: files may hold any byte.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl

import numpy as np
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

NUL = "\x00"
_JSON_NUL = re.compile(rb"(?:^|[^\\])(?:\\\\)*\\u0000")
"""A ``\\u0000`` escape in JSON text that is not an escaped backslash followed by «u0000»."""
HINT = "Quite ese carácter (suele venir de copiar texto desde otro programa) y envíe de nuevo."
MAX_JSON_DEPTH = 64
"""Deepest nesting of arrays and objects accepted in a JSON body. A GeoJSON MultiPolygon in
a request needs about eight."""
_NESTING = np.zeros(256, np.int8)
_NESTING[[ord("["), ord("{")]], _NESTING[[ord("]"), ord("}")]] = 1, -1
"""Per byte: +1 opens an array or object, -1 closes one."""


def _in_pairs(text: str) -> str | None:
    """The name of the first URL-encoded field whose name or value has a NUL."""
    for name, value in parse_qsl(text, keep_blank_values=True):
        if NUL in name or NUL in value:
            return name.replace(NUL, "\\0")[:80]
    return None


def _in_json(value: Any, path: str = "") -> str | None:
    """The dotted path of the first JSON string (or key) that has a NUL."""
    if isinstance(value, str):
        return (path or "(cuerpo)") if NUL in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if NUL in str(key):
                return where.replace(NUL, "\\0")[:80]
            found = _in_json(item, where)
            if found:
                return found
    if isinstance(value, list):
        for i, item in enumerate(value):
            found = _in_json(item, f"{path}[{i}]")
            if found:
                return found
    return None


def _refusal(where: str) -> JSONResponse:
    return JSONResponse(status_code=400, content={
        "code": "InvalidParameterValue",
        "description": f"{where} contiene un carácter nulo (U+0000), que no se admite; "
                       "no se guardó ningún cambio.",
        "hint": HINT})


def _error(status: int, description: str, hint: str) -> JSONResponse:
    code = "PayloadTooLarge" if status == 413 else "InvalidParameterValue"
    return JSONResponse(status_code=status, content={
        "code": code, "description": description, "hint": hint})


def _too_large(limit: int, is_text: bool) -> JSONResponse:
    mib = limit // 2**20
    if is_text:
        return _error(413, f"El cuerpo JSON de la solicitud supera el máximo de {mib} MB; no "
                      "se guardó ningún cambio.",
                      "Simplifique la geometría (a lo sumo 100.000 vértices) o envíe los "
                      "datos en varias solicitudes.")
    return _error(413, f"La solicitud supera el máximo de {mib} MB que acepta el servidor; "
                  "no se guardó ningún cambio.",
                  "Comprima las fotos o divida el documento o la planilla en partes "
                  "más pequeñas.")


class InputGuardMiddleware:
    """Pure ASGI middleware: 413 for oversized bodies, 400 for hostile JSON and for NUL
    characters in the path, query or text body (see the module's description)."""

    def __init__(self, app: ASGIApp, max_body_bytes: int = 25 * 2**20,
                 max_text_bytes: int = 8 * 2**20) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_text_bytes = max_text_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if NUL in scope["path"]:
            await _refusal("La ruta de la solicitud")(scope, receive, send)
            return
        query = scope.get("query_string", b"").decode("latin-1")
        name = _in_pairs(query) if "%00" in query or NUL in query else None
        if name is not None:
            await _refusal(f"El parámetro «{name}»")(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        content_type = headers.get(b"content-type", b"").lower()
        is_json = content_type.startswith(b"application/json")
        is_form = content_type.startswith(b"application/x-www-form-urlencoded")
        limit = self.max_text_bytes if is_json or is_form else self.max_body_bytes
        declared = _content_length(headers)
        if declared is not None and declared > limit:
            await _too_large(limit, is_json or is_form)(scope, receive, send)
            return
        chunked = b"chunked" in headers.get(b"transfer-encoding", b"").lower()
        if not (is_json or is_form) and not chunked:
            # no body, or one the server holds to its declared length: passed on as it comes
            await self.app(scope, receive, send)
            return
        body, messages = await _read_body(receive, limit)
        if body is None:
            await _too_large(limit, is_json or is_form)(scope, receive, send)
            return
        refusal = _text_refusal(body, is_json) if is_json or is_form else None
        if refusal is not None:
            await refusal(scope, receive, send)
            return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


def _content_length(headers: dict[bytes, bytes]) -> int | None:
    try:
        return int(headers[b"content-length"])
    except (KeyError, ValueError):
        return None


async def _read_body(receive: Receive, limit: int) -> tuple[bytes | None, list[Message]]:
    """The whole request body (None when it exceeds ``limit`` bytes: reading stops there),
    and the messages to hand on to the application."""
    chunks, messages, size = [], [], 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None, []
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks), messages


def _text_refusal(body: bytes, is_json: bool) -> JSONResponse | None:
    """The answer to a JSON or form body that must not reach the endpoint, if any."""
    if is_json:
        problem = json_structure_problem(body)
        if problem is not None:
            return _error(400, problem + "; no se guardó ningún cambio.",
                          "Envíe cada clave una sola vez por objeto y sin anidar arreglos "
                          "u objetos más de lo necesario (una geometría GeoJSON usa a lo "
                          "sumo cuatro niveles de arreglos).")
    where = _body_nul(body, is_json)
    return _refusal(where) if where is not None else None


def json_depth(body: bytes) -> int:
    """How deeply arrays and objects nest in JSON text (brackets inside strings do not
    count), without parsing it.

    >>> json_depth(b'{"a": [[1, 2], "[[["]}')
    3
    """
    codes = np.frombuffer(body, np.uint8)
    marks = np.flatnonzero(_NESTING[codes])  # brackets and braces
    if not len(marks):
        return 0
    quotes = np.flatnonzero(codes == 0x22)
    backslashes = np.flatnonzero(codes == 0x5C)
    if len(backslashes) and len(quotes):  # a quote after an odd run of them is escaped
        starts = backslashes[np.r_[True, np.diff(backslashes) > 1]]  # where runs begin
        after = quotes[(quotes > 0) & (codes[quotes - 1] == 0x5C)]
        run = after - starts[np.searchsorted(starts, after - 1, side="right") - 1]
        quotes = np.setdiff1d(quotes, after[run % 2 == 1], assume_unique=True)
    outside = np.searchsorted(quotes, marks) % 2 == 0  # an even number of quotes before
    return int(np.cumsum(_NESTING[codes[marks[outside]]], dtype=np.int64).max(initial=0))


class _Repeated(dict):  # type: ignore[type-arg]
    """A JSON object that had a key twice (the key is in ``repeated``)."""

    repeated = ""


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) < len(pairs):
        seen: set[str] = set()
        repeated = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        obj = _Repeated(obj)
        obj.repeated = repeated
    return obj


def _repeated_at(value: Any, path: str = "") -> tuple[str, str] | None:
    """(where, key) of the first object of ``value`` with a repeated key."""
    if isinstance(value, _Repeated):
        return path or "(cuerpo)", value.repeated
    items = value.items() if isinstance(value, dict) else \
        enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        where = f"{path}[{key}]" if isinstance(key, int) else \
            (f"{path}.{key}" if path else str(key))
        found = _repeated_at(item, where)
        if found:
            return found
    return None


def json_structure_problem(body: bytes) -> str | None:
    """Why a JSON body is refused before being parsed for the endpoint: nesting deeper
    than :data:`MAX_JSON_DEPTH` or a key repeated within one object. None when it is fine
    (or not JSON at all: the endpoint's own validation answers that)."""
    depth = json_depth(body)
    if depth > MAX_JSON_DEPTH:
        return (f"El cuerpo JSON anida arreglos u objetos a {depth:,} niveles; el máximo es "
                f"{MAX_JSON_DEPTH}".replace(",", "."))
    repeats: list[_Repeated] = []

    def pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = _object(pairs)
        if isinstance(obj, _Repeated):
            repeats.append(obj)
        return obj

    try:
        value = json.loads(body, object_pairs_hook=pairs_hook)
    except (ValueError, RecursionError):
        return None
    found = _repeated_at(value) if repeats else None  # walked only to say where
    if found is None:
        return None
    where, key = found
    return (f"El cuerpo JSON repite la clave «{key[:60]}» en «{where[:120]}»: no se sabe "
            "cuál de los dos valores vale")


def _body_nul(body: bytes, is_json: bool) -> str | None:
    """Where a NUL is in a JSON or URL-encoded body (``None`` when there is none)."""
    if is_json:
        if b"\x00" not in body and (b"\\u0000" not in body or not _JSON_NUL.search(body)):
            return None
        try:
            found = _in_json(json.loads(body))
        except (ValueError, RecursionError):  # not JSON: the endpoint's own validation answers
            return None
        return f"El campo «{found}» del cuerpo JSON" if found else None
    text = body.decode("latin-1")
    name = _in_pairs(text) if "%00" in text or NUL in text else None
    return f"El campo «{name}» del formulario" if name is not None else None

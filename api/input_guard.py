"""Input refused before any endpoint sees it: text with NUL characters (U+0000).

PostgreSQL text cannot hold a NUL character: a NUL that reached a query (a search term, a
project field, a username, even the audit entry of a refused request) failed with a 500.
:class:`RejectNulMiddleware` refuses such requests first, with a Spanish 400 that says
where the character is; nothing is stored. It looks at the path, the query string and
JSON or URL-encoded form bodies (not multipart uploads: files may hold any byte).
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

NUL = "\x00"
_JSON_NUL = re.compile(rb"(?:^|[^\\])(?:\\\\)*\\u0000")
"""A ``\\u0000`` escape in JSON text that is not an escaped backslash followed by «u0000»."""
HINT = "Quite ese carácter (suele venir de copiar texto desde otro programa) y envíe de nuevo."


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


class RejectNulMiddleware:
    """Pure ASGI middleware: a 400 for NUL characters in the path, query or text body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

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
        content_type = dict(scope.get("headers", [])).get(b"content-type", b"").lower()
        is_json = content_type.startswith(b"application/json")
        is_form = content_type.startswith(b"application/x-www-form-urlencoded")
        if not (is_json or is_form):
            await self.app(scope, receive, send)
            return
        body, messages = await _read_body(receive)
        where = _body_nul(body, is_json)
        if where is not None:
            await _refusal(where)(scope, receive, send)
            return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


async def _read_body(receive: Receive) -> tuple[bytes, list[Message]]:
    """The whole request body, and the messages to hand on to the application."""
    chunks, messages = [], []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks), messages


def _body_nul(body: bytes, is_json: bool) -> str | None:
    """Where a NUL is in a JSON or URL-encoded body (``None`` when there is none)."""
    if is_json:
        if not _JSON_NUL.search(body) and b"\x00" not in body:
            return None
        try:
            found = _in_json(json.loads(body))
        except ValueError:  # not JSON: the endpoint's own validation answers
            return None
        return f"El campo «{found}» del cuerpo JSON" if found else None
    text = body.decode("latin-1")
    name = _in_pairs(text) if "%00" in text or NUL in text else None
    return f"El campo «{name}» del formulario" if name is not None else None

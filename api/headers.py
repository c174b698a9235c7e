"""Security headers on every response, and CORS limited to the configured origins.

:func:`install` adds both to the application (outermost, so that refusals, preflights and
the ``/vendor`` and ``/static`` files carry them too):

- ``Content-Security-Policy``: everything a page uses is served by the platform itself
  (``'self'``); MapLibre needs ``blob:`` workers and ``data:``/``blob:`` images; an online
  base map (``settings.online_base_map``), when configured, adds its host for images and
  fetches. Scripts run only from files (``script-src 'self'``) plus the inline scripts
  written in our own templates (allowed by their SHA-256, computed here from the template
  files, so a script injected into a page never runs). Pages generated with inline
  scripts by a library (:data:`INLINE_SCRIPT_PAGES`: Swagger UI, folium maps) get
  ``'unsafe-inline'`` for scripts. Inline styles are allowed everywhere (reports,
  folium, the templates' ``<style>``).
- ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY`` and
  ``frame-ancestors 'none'`` (no page is meant to be framed), ``Referrer-Policy:
  same-origin``, ``Cross-Origin-Opener-Policy: same-origin``.
- ``Strict-Transport-Security`` (one year) on responses served over HTTPS, directly or
  behind a proxy that says so (``X-Forwarded-Proto: https``, trusted from
  ``FORWARDED_ALLOW_IPS``, 127.0.0.1 by default); browsers ignore it over plain HTTP, so
  it is not sent there.
- ``Cache-Control: no-store`` on the authentication and administration responses
  (:data:`NO_STORE_PATHS`: tokens, users, the audit log) and on every 401 and 403.

A header a route sets itself is kept. CORS: no cross-origin access at all unless
``settings.cors_origins`` (``SECPLAC_CORS_ORIGINS``) lists origins; those may call the
API with an ``Authorization`` header (no cookies: ``allow_credentials`` is off).
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gis.settings import Settings

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

INLINE_SCRIPT_PAGES = ("/docs", "/mapas/", "/inversion/mapa-folium")
"""Path prefixes of pages whose HTML a library generates with inline scripts (Swagger
UI; folium maps, see gis/maps.py): their scripts are allowed with ``'unsafe-inline'``."""

HSTS = "max-age=31536000"
"""Browsers that reached the platform over HTTPS keep to HTTPS for a year."""

NO_STORE_PATHS = ("/auth/", "/admin/", "/ingresar")
"""Responses that carry tokens, accounts or the audit log: never stored by any cache."""

CORS_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
CORS_HEADERS = ("Authorization", "Content-Type", "Accept", "If-Match", "If-None-Match")
CORS_EXPOSED = ("ETag", "Location", "Retry-After", "WWW-Authenticate", "Content-Disposition")

_INLINE_SCRIPT = re.compile(r"<script(?P<attrs>[^>]*)>(?P<body>.*?)</script>",
                            re.DOTALL | re.IGNORECASE)


def template_script_hashes(folder: Path = TEMPLATES_DIR) -> list[str]:
    """CSP sources (``'sha256-…'``) of the static inline scripts of the templates.

    Only executable inline scripts count (no ``src``; no data blocks such as
    ``type="application/json"``), and only those without Jinja expressions inside, whose
    rendered text is the template text itself.
    """
    sources: set[str] = set()
    for template in sorted(folder.glob("*.html")):
        for match in _INLINE_SCRIPT.finditer(template.read_text(encoding="utf-8")):
            attrs, body = match["attrs"].lower(), match["body"]
            data_block = "type=" in attrs and "module" not in attrs \
                and "javascript" not in attrs
            if "src=" in attrs or data_block or "{{" in body or "{%" in body:
                continue
            digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
            sources.add(f"'sha256-{digest}'")
    return sorted(sources)


def _base_map_source(url: str | None) -> str | None:
    """The CSP host source of an XYZ URL template (``{s}.host`` becomes ``*.host``)."""
    if not url:
        return None
    parts = urlsplit(url)
    host = re.sub(r"\{[^}]*\}", "*", parts.netloc)
    return f"{parts.scheme}://{host}" if parts.scheme in ("http", "https") and host else None


def content_security_policy(settings: Settings, *, inline_scripts: bool = False) -> str:
    """The ``Content-Security-Policy`` of the platform's responses.

    Examples
    --------
    >>> "script-src 'self'" in content_security_policy(Settings())
    True
    """
    extra = _base_map_source(settings.online_base_map)
    remote = f" {extra}" if extra else ""
    scripts = "'unsafe-inline'" if inline_scripts else " ".join(template_script_hashes())
    directives = {
        "default-src": "'self'",
        "script-src": f"'self' {scripts}".strip(),
        "style-src": "'self' 'unsafe-inline'",
        "img-src": f"'self' data: blob:{remote}",
        "font-src": "'self' data:",
        "connect-src": f"'self'{remote}",
        "worker-src": "'self' blob:",
        "child-src": "'self' blob:",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


class SecurityHeadersMiddleware:
    """Pure ASGI middleware adding the security headers (see the module docstring) to
    every HTTP response, without replacing a header the route has set."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        strict = content_security_policy(settings)
        relaxed = content_security_policy(settings, inline_scripts=True)
        common = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
                  "Referrer-Policy": "same-origin",
                  "Cross-Origin-Opener-Policy": "same-origin"}
        self.strict = {"Content-Security-Policy": strict, **common}
        self.relaxed = {"Content-Security-Policy": relaxed, **common}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        added = self.relaxed if path.startswith(INLINE_SCRIPT_PAGES) else self.strict
        no_store = path.startswith(NO_STORE_PATHS)
        secure = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in added.items():
                    if name not in headers:
                        headers[name] = value
                if secure:
                    headers["Strict-Transport-Security"] = HSTS
                if no_store or message["status"] in (401, 403):
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install(app: FastAPI, settings: Settings) -> None:
    """Add CORS (only when ``settings.cors_origins`` lists origins) and the security
    headers to ``app``; call it after every other middleware (these go outermost)."""
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins),
                           allow_methods=list(CORS_METHODS),
                           allow_headers=list(CORS_HEADERS),
                           expose_headers=list(CORS_EXPOSED), allow_credentials=False,
                           max_age=600)
    app.add_middleware(SecurityHeadersMiddleware, settings=settings)

"""The web application: built by :func:`create_app` from explicit settings."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg_pool import ConnectionPool, PoolTimeout
from starlette.exceptions import HTTPException

from api import headers
from api.input_guard import InputGuardMiddleware
from api.routers import (
    analysis,
    auth,
    catalog,
    features,
    investment,
    maps,
    portfolio_files,
    profiles,
    project_pages,
    projects,
    proposal_pages,
    proposals,
    rasters,
    reports,
    search,
    styles,
    tiles,
    viewer,
)
from api.routers.assets import mount_api_docs, mount_assets
from api.security import AuditClientMiddleware, reader
from gis.database import database_url
from gis.errors import DatabaseUnavailableError, PlatformError
from gis.ingest.storage import FULL, READ_ONLY, disk_problem
from gis.settings import Settings
from gis.tiles import TileCache

ROUTERS = (features.router, tiles.router, styles.router, rasters.router, maps.router,
           catalog.router, search.router, viewer.router, proposal_pages.router,
           proposals.router, proposals.versions_router, profiles.router, reports.router,
           project_pages.router,
           portfolio_files.router,  # before projects: /proyectos/importar isn't a {codigo}
           projects.router, investment.router, analysis.router)
"""Every endpoint group, one module each in api/routers/. Their reads go through
``api.security.reader`` (login required when ``settings.reads_require_login``); their
writes declare ``api.security.require(...)``. The auth router is outside ``reader``
(logging in must stay possible); its endpoints declare what they need."""

DB_DOWN = ("La base de datos no está disponible en este momento.",
           "Intente de nuevo en unos segundos; si persiste, avise al administrador.")
QUERY_CANCELED = "57014"
PROGRAM_LIMIT = "54"
"""SQLSTATEs of errors psycopg reports as OperationalError with the database still up."""
QUERY_TOO_LONG = ("La consulta tardó demasiado y la base de datos la canceló.",
                  "Acote el área, los filtros o el tamaño de página e intente de nuevo.")
OVER_A_LIMIT = ("La consulta excede un límite de la base de datos.",
                "Simplifique los filtros, la lista de propiedades o la geometría.")
DISK_FULL = ("El disco del servidor está lleno: no se pudo guardar el archivo de trabajo "
             "de esta operación. No se guardó nada.",
             "Los mapas y los datos se siguen sirviendo. Avise al administrador para que "
             "libere espacio y vuelva a intentarlo.")
DISK_READ_ONLY = ("La carpeta de trabajo del servidor es de solo lectura o no tiene permiso "
                  "de escritura: no se pudo guardar el archivo de esta operación. No se "
                  "guardó nada.",
                  "Los mapas y los datos se siguen sirviendo. Avise al administrador para "
                  "que revise la carpeta (SECPLAC_PROCESSED_DIR o la carpeta temporal).")
DISK_ERRORS = {FULL: (507, "InsufficientStorage", DISK_FULL),
               READ_ONLY: (503, "ServiceUnavailable", DISK_READ_ONLY)}
"""Writes refused by the server's disk (see :func:`gis.ingest.storage.disk_problem`),
answered in Spanish instead of a 500: an export, an upload, a proposal apply."""
RECONNECT_S = 5.0
"""A lost connection is retried (with backoff) for this long before the pool gives up; a
later request starts a new round at once. Bounded so that the API reconnects within a few
seconds of the database's return, whatever the length of the outage (psycopg_pool's
backoff doubles without limit during its default 5 minutes)."""
DOWN_WAIT_S = 1.0
"""While the database is known to be down, how long a request waits for a connection
before its 503 (instead of the pool's full timeout)."""


class ApiPool(ConnectionPool):
    """The API's pool, quick to say that the database is down.

    A request waits for a connection in slices of :data:`DOWN_WAIT_S`, up to the pool's
    timeout; once the database is known to be down (``down_since``: a pooled connection
    failed its check, or an error handler saw the database gone), the slice that ends
    raises :class:`PoolTimeout` (a 503) instead of waiting on. The first connection had
    clears the mark.
    """

    down_since: float | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, check=self._check_or_mark, **kwargs)

    def _check_or_mark(self, conn: psycopg.Connection[Any]) -> None:
        try:
            ConnectionPool.check_connection(conn)
        except Exception:
            self.mark_down()
            raise

    def getconn(self, timeout: float | None = None):  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            wait = min(DOWN_WAIT_S, deadline - time.monotonic())
            try:
                conn = super().getconn(max(wait, 0.001))
            except PoolTimeout:
                if self.down_since is not None or time.monotonic() >= deadline:
                    raise
                continue
            self.down_since = None
            return conn

    def mark_down(self, *, timed_out: bool = False) -> None:
        """Note the database down; a timeout only counts when the pool is not just busy
        (every connection lent out is saturation, not an outage)."""
        if timed_out:
            stats = self.get_stats()
            if stats.get("pool_size", 0) >= stats.get("pool_max", self.max_size):
                return
        self.down_since = time.monotonic()


def ogc_error(status: int, code: str, description: str, hint: str | None = None,
              ) -> JSONResponse:
    """An OGC-style JSON exception (``code``, ``description``) with a Spanish hint."""
    content = {"code": code, "description": description}
    if hint:
        content["hint"] = hint
    return JSONResponse(status_code=status, content=content)


def create_app(settings: Settings) -> FastAPI:
    pool = ApiPool(lambda: database_url(settings), open=False, min_size=1,
                   max_size=settings.db_pool_max, timeout=5, reconnect_timeout=RECONNECT_S,
                   kwargs={"autocommit": True, "application_name": "secplac-api"},
                   name="secplac")  # checks each connection lent (ApiPool._check_or_mark)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from anyio.to_thread import run_sync

        from gis.ingest.leftovers import clean_leftovers_at_start

        await run_sync(clean_leftovers_at_start, settings)  # what killed loads left
        pool.open(wait=False)
        yield
        pool.close()

    app = FastAPI(
        title="SECPLAC San Antonio — Plataforma de planificación territorial",
        description="Capas del Plan Regulador, catastro, riesgos, puerto, territorio e "
        "inversión de la comuna de San Antonio: OGC API - Features (partes 1, 2 y 3), "
        "OGC API - Tiles (teselas vectoriales MVT), estilos MapLibre y visor de mapas.",
        version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None,
    )
    app.state.settings = settings
    app.state.pool = pool
    app.state.tile_cache = TileCache(settings.tile_cache_mib * 1024 * 1024)
    for router in ROUTERS:
        app.include_router(router, dependencies=[Depends(reader)])
    app.include_router(auth.router)
    app.add_middleware(InputGuardMiddleware,  # 413 and 400 for hostile bodies, NUL
                       max_body_bytes=settings.max_body_mib * 2**20,
                       max_text_bytes=settings.max_json_mib * 2**20)
    app.add_middleware(AuditClientMiddleware)  # around the guard: its refusals are audited
    headers.install(app, settings)  # CORS and security headers, outermost
    mount_assets(app, settings.node_modules)
    mount_api_docs(app)

    @app.exception_handler(PlatformError)
    async def platform_error(request: Request, exc: PlatformError) -> JSONResponse:
        response = ogc_error(exc.http_status, type(exc).__name__, exc.message, exc.hint)
        problems = getattr(exc, "problems", None)
        if problems:  # where each problem is, as GeoJSON, for the map
            import json

            body = json.loads(response.body)
            body["problemas"] = problems
            response = JSONResponse(status_code=exc.http_status, content=body)
        response.headers.update(getattr(exc, "headers", None) or {})  # WWW-Authenticate…
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("query", "path"))
            problems.append(f"«{where}»: {_spanish(err)}")
        return ogc_error(400, "InvalidParameterValue",
                         "Parámetros no válidos: " + "; ".join(problems) + ".",
                         "Revise la documentación en /docs.")

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        if exc.status_code == 404:
            return ogc_error(404, "NotFound", f"No existe la ruta «{request.url.path[:200]}».",
                             "Vea la página de inicio (/) o la documentación (/docs).")
        if exc.status_code == 405:
            return ogc_error(405, "MethodNotAllowed",
                             f"El método {request.method} no se admite en esta ruta.")
        return ogc_error(exc.status_code, "HTTPError", str(exc.detail))

    @app.exception_handler(PoolTimeout)
    async def pool_timeout(request: Request, exc: PoolTimeout) -> JSONResponse:
        pool.mark_down(timed_out=True)
        return ogc_error(503, "ServiceUnavailable", *DB_DOWN)

    @app.exception_handler(psycopg.OperationalError)
    async def db_down(request: Request, exc: psycopg.OperationalError) -> JSONResponse:
        state = exc.sqlstate or ""
        if state == QUERY_CANCELED:  # statement_timeout or a cancel: the server is up
            return ogc_error(503, "ServiceUnavailable", *QUERY_TOO_LONG)
        if state.startswith(PROGRAM_LIMIT):  # e.g. too many arguments, row too big
            return ogc_error(400, "InvalidParameterValue", *OVER_A_LIMIT)
        pool.mark_down()  # a lost connection, a server shutting down or refusing
        return ogc_error(503, "ServiceUnavailable", *DB_DOWN)

    @app.exception_handler(DatabaseUnavailableError)
    async def db_unavailable(request: Request, exc: DatabaseUnavailableError) -> JSONResponse:
        pool.mark_down()  # its hint is for the command line («secplac db up»)
        return ogc_error(503, "ServiceUnavailable", *DB_DOWN)

    async def disk_error(request: Request, exc: Exception) -> JSONResponse:
        problem = disk_problem(exc)
        if problem is None:
            raise exc
        import logging

        logging.getLogger("secplac").error("Escritura en disco fallida (%s): %s",
                                           request.url.path, str(exc)[:500])
        status, code, (message, hint) = DISK_ERRORS[problem]
        return ogc_error(status, code, message, hint)

    from pyogrio.errors import DataLayerError, DataSourceError

    for kind in (OSError, DataSourceError, DataLayerError):  # GDAL: "disk is full"
        app.add_exception_handler(kind, disk_error)

    return app


_MESSAGES = {
    "int_parsing": "debe ser un número entero",
    "float_parsing": "debe ser un número",
    "greater_than_equal": "es menor que el mínimo permitido",
    "less_than_equal": "supera el máximo permitido",
    "missing": "falta este parámetro",
    "string_too_long": "es demasiado largo",
}


def _spanish(err: dict) -> str:  # type: ignore[type-arg]
    ctx = err.get("ctx") or {}
    text = _MESSAGES.get(err.get("type", ""), "valor no válido")
    if "ge" in ctx:
        text += f" ({ctx['ge']})"
    if "le" in ctx:
        text += f" ({ctx['le']})"
    return text

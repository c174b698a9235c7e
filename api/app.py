"""The web application: built by :func:`create_app` from explicit settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg_pool import ConnectionPool, PoolTimeout
from starlette.exceptions import HTTPException

from api.input_guard import RejectNulMiddleware
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
from gis.errors import PlatformError
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


def ogc_error(status: int, code: str, description: str, hint: str | None = None,
              ) -> JSONResponse:
    """An OGC-style JSON exception (``code``, ``description``) with a Spanish hint."""
    content = {"code": code, "description": description}
    if hint:
        content["hint"] = hint
    return JSONResponse(status_code=status, content=content)


def create_app(settings: Settings) -> FastAPI:
    pool = ConnectionPool(lambda: database_url(settings), open=False, min_size=1,
                          max_size=settings.db_pool_max, timeout=5,
                          kwargs={"autocommit": True, "application_name": "secplac-api"},
                          check=ConnectionPool.check_connection, name="secplac")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
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
    app.add_middleware(AuditClientMiddleware)
    app.add_middleware(RejectNulMiddleware)  # NUL in text: a 400, not a 500
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
        return ogc_error(503, "ServiceUnavailable", *DB_DOWN)

    @app.exception_handler(psycopg.OperationalError)
    async def db_down(request: Request, exc: psycopg.OperationalError) -> JSONResponse:
        return ogc_error(503, "ServiceUnavailable", *DB_DOWN)

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

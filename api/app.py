"""The web application: built by :func:`create_app` from explicit settings."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from api.routers import catalog, landing
from api.routers.assets import mount_assets
from gis.errors import PlatformError
from gis.settings import Settings


ROUTERS = (landing.router, catalog.router)
"""Every endpoint group, one module each in api/routers/."""


def create_app(settings: Settings) -> FastAPI:
    app = FastAPI(
        title="SECPLAC San Antonio — Plataforma de planificación territorial",
        description="Capas del Plan Regulador, catastro, riesgos, puerto, territorio e "
        "inversión de la comuna de San Antonio.",
        version="0.1.0",
    )
    app.state.settings = settings
    for router in ROUTERS:
        app.include_router(router)
    mount_assets(app, settings.node_modules)

    @app.exception_handler(PlatformError)
    async def platform_error(request: Request, exc: PlatformError) -> JSONResponse:
        return JSONResponse(status_code=exc.http_status,
                            content={"code": type(exc).__name__, "description": exc.message,
                                     "hint": exc.hint})

    return app

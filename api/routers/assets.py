"""Front-end files served by the platform itself: nothing a page shows comes from a CDN.

``/vendor/<package>/...`` serves the dist folder of each npm package installed at setup
(``make frontend``); ``/static/...`` serves the platform's own scripts and styles.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from gis.vendor import VENDOR_PACKAGES

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

def mount_assets(app: FastAPI, node_modules: Path) -> None:
    """Mount the vendored packages and the platform's static folder on ``app``."""
    for name, folder in VENDOR_PACKAGES.items():
        app.mount(f"/vendor/{name}",
                  StaticFiles(directory=node_modules / folder, check_dir=False),
                  name=f"vendor-{name}")
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")


def mount_api_docs(app: FastAPI) -> None:
    """Interactive API documentation at /docs with Swagger UI served locally."""

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json", title=f"{app.title} — API",
            swagger_js_url="/vendor/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/vendor/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/vendor/swagger-ui/favicon-32x32.png")

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

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

VENDOR_PACKAGES = {
    "maplibre-gl": "maplibre-gl/dist",
    "leaflet": "leaflet/dist",
    "jquery": "jquery/dist",
    "bootstrap": "bootstrap/dist",
    "fontawesome": "@fortawesome/fontawesome-free",
    "awesome-markers": "leaflet.awesome-markers/dist",
    "swagger-ui": "swagger-ui-dist",
    "terra-draw": "terra-draw/dist",
    "terra-draw-maplibre-gl-adapter": "terra-draw-maplibre-gl-adapter/dist",
}
"""URL name → folder inside node_modules. Only these folders are reachable."""


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

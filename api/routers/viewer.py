"""The planners' web map at /mapa: a page served by the API itself, which loads only
this server's style, tiles, data and front-end files (no CDN, works offline)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.ogc import base_url, templates
from api.routers.styles import MAP_STYLE_ID
from layers import parcels, projects, zoning

router = APIRouter(tags=["Visor de mapas"])

PROJECT_FILTERS = ("etapa", "fuentes", "anio", "sector")
"""Fields of the projects layer offered as filters (choices come from its queryables)."""


@router.get("/mapa", summary="Visor de mapas para planificadores",
            response_class=HTMLResponse)
def web_map(request: Request) -> HTMLResponse:
    base = base_url(request)
    config = {
        "estilo": f"{base}/styles/{MAP_STYLE_ID}",
        "buscar": f"{base}/buscar",
        "rasters": f"{base}/rasters",
        "colecciones": f"{base}/collections",
        "filtros": {projects.LAYER.name: list(PROJECT_FILTERS)},
        "normas_de_zona": {"predios": parcels.LAYER.name, "zonas": zoning.LAYER.name},
    }
    return templates.TemplateResponse(request, "mapa.html", {"config": config})

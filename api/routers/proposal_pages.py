"""The zoning proposals page at /propuestas/mapa: editors draw and edit zones of a
proposal, reviewers read its diff and impact and decide, admins apply it; a time slider
shows the zoning as of any date. The page only loads this server's files and API.

This router goes before ``proposals.router`` in ``api.app.ROUTERS``: otherwise
``/propuestas/{proposal_id}`` would take ``/propuestas/mapa``. The planners' map
(/mapa) can link here with one anchor in its header (templates/mapa.html), e.g.
``<a class="inicio" href="/propuestas/mapa">Propuestas de zonificación</a>``; a page
opens one proposal with ``/propuestas/mapa#propuesta=<id>``.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.ogc import base_url, templates
from api.routers.styles import MAP_STYLE_ID
from layers import zoning

router = APIRouter(tags=["Propuestas de zonificación"])

CONTEXT_LAYERS = ("comunas", "urban_limit")
"""Layers of the map style kept visible under the zoning being edited."""
OPTIONAL_LAYERS = {"parcels": "Predios (catastro)", "hazard_zones": "Áreas de riesgo"}
"""Reference layers the page offers to switch on (off at start)."""


@router.get("/propuestas/mapa", summary="Propuestas de zonificación en el mapa",
            response_class=HTMLResponse)
def proposals_map(request: Request) -> HTMLResponse:
    base = base_url(request)
    layer = zoning.LAYER.name
    config = {
        "estilo": f"{base}/styles/{MAP_STYLE_ID}",
        "propuestas": f"{base}/propuestas",
        "versiones": f"{base}/zonificacion/diferencias",
        "capa": layer,
        "historial": f"{base}/capas/{layer}",
        "items": f"{base}/collections/{layer}/items",
        "queryables": f"{base}/collections/{layer}/queryables",
        "capas_contexto": list(CONTEXT_LAYERS),
        "capas_opcionales": OPTIONAL_LAYERS,
    }
    return templates.TemplateResponse(request, "propuestas.html", {"config": config})

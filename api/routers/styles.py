"""OGC API - Styles (core): MapLibre styles with Spanish legends, generated from the
layer declarations."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.ogc import JSON, base_url, json_response, link
from api.routers.features import vector_layer
from gis.errors import NotFoundError
from gis.styles import layer_style, map_style

router = APIRouter(tags=["OGC API - Styles"])
MAPLIBRE = "application/vnd.maplibre.style+json"
MAP_STYLE_ID = "mapa"


@router.get("/styles", summary="Estilos disponibles")
def styles(request: Request) -> Response:
    href = f"{base_url(request)}/styles/{MAP_STYLE_ID}"
    return json_response({"styles": [{
        "id": MAP_STYLE_ID, "title": "Mapa territorial de San Antonio",
        "links": [link(href, "stylesheet", MAPLIBRE, "Estilo MapLibre")]}]})


@router.get("/styles/{styleId}", summary="Estilo MapLibre del mapa completo")
def style(styleId: str, request: Request) -> Response:  # noqa: N803
    if styleId != MAP_STYLE_ID:
        raise NotFoundError(f"El estilo «{styleId[:60]}» no existe.",
                            hint=f"Estilos disponibles: {MAP_STYLE_ID}.")
    settings = request.app.state.settings
    return json_response(map_style(base_url(request),
                                   online_base_map=settings.online_base_map),
                         MAPLIBRE if "maplibre" in request.headers.get("accept", "") else JSON)


@router.get("/collections/{collectionId}/styles/default", summary="Estilo de una capa")
def collection_style(collectionId: str, request: Request) -> Response:  # noqa: N803
    return json_response(layer_style(vector_layer(collectionId), base_url(request)))

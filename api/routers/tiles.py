"""OGC API - Tiles: Mapbox Vector Tiles per collection and for the whole map (one tileset
with every layer), TileJSON, and the WebMercatorQuad tile matrix set."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from psycopg_pool import ConnectionPool
from starlette.concurrency import run_in_threadpool

from api.ogc import JSON, MVT, base_url, json_response, link
from api.routers.features import vector_layer
from gis.tiles import MAX_ZOOM, TMS, TileCache, TileNotFound, cached_tile, check_tile
from layers import vector_layers
from layers.base import VectorLayer

router = APIRouter(tags=["OGC API - Tiles"])
TMS_ID = "WebMercatorQuad"
TMS_URI = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
TILE_HEADERS = {"Cache-Control": "no-cache", "Vary": "Accept-Encoding"}
"""no-cache: clients keep tiles but revalidate them (ETag), so a change shows at once."""
SAN_ANTONIO_CENTER = [-71.60, -33.59, 12]


def _check_tms(tms: str) -> None:
    if tms != TMS_ID:
        raise TileNotFound(f"Esquema de teselas «{tms[:60]}» no disponible.",
                           hint=f"Use {TMS_ID}.")


def map_layers(z: int) -> list[VectorLayer]:
    """The layers of the whole-map tileset at zoom ``z`` (dense layers from their min_zoom)."""
    return [lyr for lyr in vector_layers() if lyr.style.min_zoom <= z]


def tile_response(request: Request, layers: list[VectorLayer], z: int, y: int, x: int,
                  ) -> Response:
    """The tile from the cache or PostGIS, with its ETag (a blocking call: run it in the
    thread pool, as :func:`tile_endpoint` does)."""
    cache: TileCache = request.app.state.tile_cache
    pool: ConnectionPool = request.app.state.pool
    with pool.connection() as conn:
        data, tag = cached_tile(conn, cache, layers, z, x, y)
    headers = {**TILE_HEADERS, "ETag": tag}
    if request.headers.get("if-none-match") == tag:
        return Response(status_code=304, headers=headers)
    if not data:
        return Response(status_code=204, headers=headers)
    return Response(data, media_type=MVT, headers=headers)


async def tile_endpoint(request: Request, layers: list[VectorLayer], z: int, y: int, x: int,
                        ) -> Response:
    """:func:`tile_response` in one trip to the thread pool. Tile endpoints are ``async``
    and take no connection dependency: a cached tile is served with one thread hop instead
    of three (connection in, endpoint, connection out)."""
    return await run_in_threadpool(tile_response, request, layers, z, y, x)


def _vector_layers_json(layers: list[VectorLayer]) -> list[dict[str, Any]]:
    return [{"id": lyr.name, "description": lyr.title, "minzoom": lyr.style.min_zoom,
             "maxzoom": MAX_ZOOM, "fields": {f.name: f.title for f in lyr.fields}}
            for lyr in layers]


def tilejson(name: str, tiles_url: str, layers: list[VectorLayer],
             minzoom: int = 0) -> dict[str, Any]:
    return {"tilejson": "3.0.0", "name": name, "scheme": "xyz", "tiles": [tiles_url],
            "minzoom": minzoom, "maxzoom": MAX_ZOOM, "bounds": [-71.75, -33.75, -71.35, -33.45],
            "center": SAN_ANTONIO_CENTER, "vector_layers": _vector_layers_json(layers)}


def tileset_json(title: str, tiles_href: str, self_href: str,
                 layers: list[VectorLayer]) -> dict[str, Any]:
    return {
        "title": title, "dataType": "vector", "crs": TMS_URI.replace(
            "tilematrixset/OGC/1.0/WebMercatorQuad", "crs/EPSG/0/3857"),
        "tileMatrixSetURI": TMS_URI,
        "links": [link(self_href, "self", JSON, title),
                  link(tiles_href, "item", MVT, "Teselas", templated=True),
                  link(f"{self_href}/tilejson.json", "describedby", JSON, "TileJSON"),
                  link(TMS_URI, "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme", JSON,
                       TMS_ID)],
        "layers": [{"id": lyr.name, "title": lyr.title, "dataType": "vector",
                    "minTileMatrix": str(lyr.style.min_zoom), "maxTileMatrix": str(MAX_ZOOM),
                    "geometryDimension": 0 if "Point" in lyr.geometry.value else
                    1 if "Line" in lyr.geometry.value else 2 if "Polygon" in
                    lyr.geometry.value else None}
                   for lyr in layers],
    }


# -- tile matrix sets -----------------------------------------------------------------------

@router.get("/tileMatrixSets", summary="Esquemas de teselas disponibles")
def tile_matrix_sets(request: Request) -> Response:
    href = f"{base_url(request)}/tileMatrixSets/{TMS_ID}"
    return json_response({"tileMatrixSets": [
        {"id": TMS_ID, "title": "Google Maps Compatible (Web Mercator)", "uri": TMS_URI,
         "links": [link(href, "self", JSON, TMS_ID)]}]})


@router.get("/tileMatrixSets/{tileMatrixSetId}", summary="Un esquema de teselas")
def tile_matrix_set(tileMatrixSetId: str) -> Response:  # noqa: N803
    _check_tms(tileMatrixSetId)
    return Response(TMS.model_dump_json(exclude_none=True, by_alias=True),
                     media_type=JSON)


# -- whole map (all layers in one tileset) ------------------------------------------------

@router.get("/tiles", summary="Conjuntos de teselas del mapa completo")
def map_tilesets(request: Request) -> Response:
    base = base_url(request)
    return json_response({"tilesets": [tileset_json(
        "Mapa territorial de San Antonio (todas las capas)",
        f"{base}/tiles/{TMS_ID}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}",
        f"{base}/tiles/{TMS_ID}", vector_layers())]})


@router.get("/tiles/{tileMatrixSetId}", summary="Conjunto de teselas del mapa completo")
def map_tileset(tileMatrixSetId: str, request: Request) -> Response:  # noqa: N803
    _check_tms(tileMatrixSetId)
    base = base_url(request)
    return json_response(tileset_json(
        "Mapa territorial de San Antonio (todas las capas)",
        f"{base}/tiles/{TMS_ID}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}",
        f"{base}/tiles/{TMS_ID}", vector_layers()))


@router.get("/tiles/{tileMatrixSetId}/tilejson.json", summary="TileJSON del mapa completo")
def map_tilejson(tileMatrixSetId: str, request: Request) -> Response:  # noqa: N803
    _check_tms(tileMatrixSetId)
    url = f"{base_url(request)}/tiles/{TMS_ID}/{{z}}/{{y}}/{{x}}"
    return json_response(tilejson("secplac", url, vector_layers()))


@router.get("/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}",
            summary="Tesela vectorial con todas las capas", response_class=Response,
            responses={200: {"content": {MVT: {}}}, 204: {"description": "Tesela vacía"}})
async def map_tile(tileMatrixSetId: str, tileMatrix: int, tileRow: int,  # noqa: N803
                   tileCol: int, request: Request) -> Response:  # noqa: N803
    _check_tms(tileMatrixSetId)
    return await tile_endpoint(request, map_layers(tileMatrix), tileMatrix, tileRow, tileCol)


# -- one collection -------------------------------------------------------------------------

@router.get("/collections/{collectionId}/tiles", summary="Conjuntos de teselas de una capa")
def collection_tilesets(collectionId: str, request: Request) -> Response:  # noqa: N803
    layer = vector_layer(collectionId)
    base = f"{base_url(request)}/collections/{layer.name}/tiles/{TMS_ID}"
    return json_response({"tilesets": [tileset_json(
        layer.title, f"{base}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}", base, [layer])]})


@router.get("/collections/{collectionId}/tiles/{tileMatrixSetId}",
            summary="Conjunto de teselas de una capa")
def collection_tileset(collectionId: str, tileMatrixSetId: str,  # noqa: N803
                       request: Request) -> Response:
    layer = vector_layer(collectionId)
    _check_tms(tileMatrixSetId)
    base = f"{base_url(request)}/collections/{layer.name}/tiles/{TMS_ID}"
    return json_response(tileset_json(
        layer.title, f"{base}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}", base, [layer]))


@router.get("/collections/{collectionId}/tiles/{tileMatrixSetId}/tilejson.json",
            summary="TileJSON de una capa")
def collection_tilejson(collectionId: str, tileMatrixSetId: str,  # noqa: N803
                        request: Request) -> Response:
    layer = vector_layer(collectionId)
    _check_tms(tileMatrixSetId)
    url = f"{base_url(request)}/collections/{layer.name}/tiles/{TMS_ID}/{{z}}/{{y}}/{{x}}"
    return json_response(tilejson(layer.name, url, [layer], layer.style.min_zoom))


@router.get("/collections/{collectionId}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/"
            "{tileCol}", summary="Tesela vectorial de una capa", response_class=Response,
            responses={200: {"content": {MVT: {}}}, 204: {"description": "Tesela vacía"}})
async def collection_tile(collectionId: str, tileMatrixSetId: str,  # noqa: N803
                          tileMatrix: int, tileRow: int, tileCol: int,  # noqa: N803
                          request: Request) -> Response:
    layer = vector_layer(collectionId)
    _check_tms(tileMatrixSetId)
    if tileMatrix < layer.style.min_zoom:
        # Dense layers (parcels) are not drawn at small scales: an empty tile, said so.
        check_tile(tileMatrix, tileCol, tileRow)
        return Response(status_code=204, headers={
            **TILE_HEADERS, "X-Aviso": f"capa visible desde el nivel {layer.style.min_zoom}"})
    return await tile_endpoint(request, [layer], tileMatrix, tileRow, tileCol)

"""OGC API - Features (Parts 1, 2 and 3) for every vector layer of the registry:
landing page, conformance, collections, items, single item and queryables."""

from __future__ import annotations

import json
from typing import Annotated, Any

import psycopg
import shapely
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pyproj import Transformer

from api.dependencies import get_connection
from api.ogc import (
    CONFORMANCE,
    GEOJSON,
    HTML,
    JSON,
    MVT,
    OPENAPI,
    base_url,
    html_page,
    json_response,
    link,
    templates,
    url_with,
    wants_html,
)
from gis.catalog import CatalogEntry, catalog
from gis.errors import PlatformError
from gis.features import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    SUPPORTED_CRS,
    FeatureQuery,
    QueryError,
    fetch_feature,
    fetch_page,
    output_crs,
    parse_bbox,
    parse_datetime,
    parse_properties,
    parse_sortby,
    queryables,
    table_at,
)
from layers import get_layer
from layers.base import STORAGE_SRID, VectorLayer

router = APIRouter(tags=["OGC API - Features"])
Conn = Annotated[psycopg.Connection, Depends(get_connection)]
MAX_OFFSET = 1_000_000_000
"""Largest ``offset`` (beyond PostgreSQL's bigint the query would fail with a 500)."""

RESERVED_PARAMS = {"f", "bbox", "bbox-crs", "crs", "limit", "offset", "filter", "filter-lang",
                   "filter-crs", "properties", "sortby", "datetime"}


def vector_layer(collection_id: str) -> VectorLayer:
    layer = get_layer(collection_id)
    if not isinstance(layer, VectorLayer):
        raise QueryError(f"«{collection_id}» es una capa raster: no tiene entidades.",
                         hint=f"Véala en /rasters/{collection_id}.")
    return layer


@router.get("/", summary="Página de inicio (OGC API)")
def landing(request: Request, conn: Conn) -> Response:
    base = base_url(request)
    links = [
        link(f"{base}/?f=json", "self", JSON, "Esta página"),
        link(f"{base}/?f=html", "alternate", HTML, "Esta página en HTML"),
        link(f"{base}/openapi.json", "service-desc", OPENAPI, "Definición OpenAPI"),
        link(f"{base}/docs", "service-doc", HTML, "Documentación interactiva de la API"),
        link(f"{base}/conformance", "conformance", JSON, "Clases de conformidad"),
        link(f"{base}/collections", "data", JSON, "Colecciones (capas vectoriales)"),
        link(f"{base}/tiles", "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector", JSON,
             "Teselas vectoriales de todo el mapa"),
        link(f"{base}/tileMatrixSets", "http://www.opengis.net/def/rel/ogc/1.0/"
             "tiling-schemes", JSON, "Esquemas de teselas"),
        link(f"{base}/styles", "http://www.opengis.net/def/rel/ogc/1.0/styles", JSON,
             "Estilos del mapa"),
        link(f"{base}/mapa", "alternate", HTML, "Visor de mapas para planificadores"),
    ]
    if wants_html(request):
        themes: dict[str, list[CatalogEntry]] = {}
        for e in catalog(conn):
            themes.setdefault(e.layer.theme.value, []).append(e)
        return templates.TemplateResponse(request, "landing.html",
                                          {"themes": themes, "links": links})
    return json_response({
        "title": "SECPLAC San Antonio — Plataforma de planificación territorial",
        "description": "Capas del Plan Regulador, catastro, riesgos, puerto, territorio e "
        "inversión de la comuna de San Antonio (OGC API - Features y Tiles).",
        "links": links})


@router.get("/conformance", summary="Clases de conformidad")
def conformance(request: Request) -> Response:
    if wants_html(request):
        return html_page(request, "Clases de conformidad", items=CONFORMANCE)
    return json_response({"conformsTo": CONFORMANCE})


def _extent(entry: CatalogEntry) -> dict[str, Any] | None:
    cur = entry.current
    if cur is None or not cur.extent_wkt:
        return None
    minx, miny, maxx, maxy = shapely.from_wkt(cur.extent_wkt).bounds
    lon_lat = Transformer.from_crs(STORAGE_SRID, 4326, always_xy=True)
    bbox = lon_lat.transform_bounds(minx, miny, maxx, maxy)
    return {"spatial": {"bbox": [[round(b, 6) for b in bbox]],
                        "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"},
            "temporal": {"interval": [[cur.valid_from.isoformat(), None]],
                         "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"}}


def collection_json(entry: CatalogEntry, base: str) -> dict[str, Any]:
    layer = entry.layer
    assert isinstance(layer, VectorLayer)
    href = f"{base}/collections/{layer.name}"
    doc: dict[str, Any] = {
        "id": layer.name, "title": layer.title, "description": layer.description,
        "itemType": "feature", "crs": list(SUPPORTED_CRS),
        "storageCrs": f"http://www.opengis.net/def/crs/EPSG/0/{STORAGE_SRID}",
        "links": [
            link(href, "self", JSON, layer.title),
            link(f"{href}?f=html", "alternate", HTML, f"{layer.title} (HTML)"),
            link(f"{href}/items", "items", GEOJSON, "Entidades"),
            link(f"{href}/items?f=html", "items", HTML, "Entidades (HTML)"),
            link(f"{href}/queryables", "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                 "application/schema+json", "Propiedades consultables"),
            link(f"{href}/tiles", "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector",
                 JSON, "Teselas vectoriales"),
            link(f"{href}/tiles/WebMercatorQuad/{{tileMatrix}}/{{tileRow}}/{{tileCol}}",
                 "item", MVT, "Teselas vectoriales (plantilla)", templated=True),
            link(f"{href}/styles/default", "http://www.opengis.net/def/rel/ogc/1.0/style",
                 "application/vnd.maplibre.style+json", "Estilo MapLibre"),
            link(f"{base}/mapas/{layer.name}", "alternate", HTML, "Mapa (folium)"),
        ],
        "tema": layer.theme.value,
    }
    extent = _extent(entry)
    if extent:
        doc["extent"] = extent
    if entry.current:
        doc["version"] = entry.current.version
        doc["numberMatched"] = entry.current.feature_count
        doc["datosDeDemostracion"] = entry.current.demo
    return doc


def _vector_entries(conn: psycopg.Connection) -> list[CatalogEntry]:
    return [e for e in catalog(conn) if isinstance(e.layer, VectorLayer)]


@router.get("/collections", summary="Colecciones: las capas vectoriales")
def collections(request: Request, conn: Conn) -> Response:
    base = base_url(request)
    docs = [collection_json(e, base) for e in _vector_entries(conn)]
    if wants_html(request):
        return html_page(request, "Colecciones", collections=docs)
    return json_response({
        "links": [link(f"{base}/collections", "self", JSON, "Colecciones"),
                  link(f"{base}/collections?f=html", "alternate", HTML, "Colecciones (HTML)")],
        "collections": docs})


def _entry(conn: psycopg.Connection, collection_id: str) -> CatalogEntry:
    layer = vector_layer(collection_id)
    return next(e for e in catalog(conn) if e.layer.name == layer.name)


@router.get("/collections/{collectionId}", summary="Una colección")
def collection(collectionId: str, request: Request, conn: Conn) -> Response:  # noqa: N803
    doc = collection_json(_entry(conn, collectionId), base_url(request))
    if wants_html(request):
        return html_page(request, doc["title"], collection=doc)
    return json_response(doc)


@router.get("/collections/{collectionId}/queryables", summary="Propiedades consultables")
def collection_queryables(collectionId: str, request: Request) -> Response:  # noqa: N803
    layer = vector_layer(collectionId)
    doc = queryables(layer, f"{base_url(request)}/collections/{layer.name}/queryables")
    if wants_html(request):
        return html_page(request, f"Propiedades consultables — {layer.title}", schema=doc)
    return json_response(doc, "application/schema+json")


def build_query(request: Request, conn: psycopg.Connection, layer: VectorLayer, *,
                bbox: str | None, bbox_crs: str | None, crs: str | None,
                filter_: str | None, filter_lang: str | None, filter_crs: str | None,
                properties: str | None, sortby: str | None, datetime_: str | None,
                ) -> FeatureQuery:
    """A :class:`FeatureQuery` from the request's parameters, each checked."""
    q = FeatureQuery(layer, crs=output_crs(crs))
    if bbox_crs is not None and bbox is None:
        raise QueryError("bbox-crs sin bbox.", hint="Indique también bbox.")
    if bbox is not None:
        q.bbox = parse_bbox(bbox, output_crs(bbox_crs))
    if filter_ is not None:
        q.set_filter(filter_, filter_lang or "cql2-text", filter_crs)
    elif filter_lang is not None or filter_crs is not None:
        raise QueryError("filter-lang o filter-crs sin filter.", hint="Indique filter.")
    if properties is not None:
        q.properties = parse_properties(properties, layer)
    if sortby is not None:
        q.sortby = parse_sortby(sortby, layer)
    if datetime_ is not None:
        q.table, _ = table_at(conn, layer, parse_datetime(datetime_))
    names = {f.name for f in layer.fields}
    for key, value in request.query_params.items():
        if key in RESERVED_PARAMS:
            continue
        if key not in names:
            raise QueryError(f"Parámetro desconocido «{key[:60]}».",
                             hint="Parámetros: " + ", ".join(sorted(RESERVED_PARAMS))
                             + "; o una propiedad de la capa para filtrar por igualdad.")
        q.equals[key] = value
    return q


@router.get("/collections/{collectionId}/items", summary="Entidades de una colección",
            response_class=Response, responses={200: {"content": {GEOJSON: {}}}})
def items(
    collectionId: str,  # noqa: N803
    request: Request,
    conn: Conn,
    limit: Annotated[int, Query(ge=1, description=f"Máximo {MAX_LIMIT}")] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    bbox: Annotated[str | None, Query(description="minlon,minlat,maxlon,maxlat")] = None,
    bbox_crs: Annotated[str | None, Query(alias="bbox-crs")] = None,
    crs: Annotated[str | None, Query(description="CRS de salida (URI)")] = None,
    filter_: Annotated[str | None, Query(alias="filter", description="CQL2")] = None,
    filter_lang: Annotated[str | None, Query(alias="filter-lang")] = None,
    filter_crs: Annotated[str | None, Query(alias="filter-crs")] = None,
    properties: Annotated[str | None, Query()] = None,
    sortby: Annotated[str | None, Query(description="+campo,-campo")] = None,
    datetime_: Annotated[str | None, Query(alias="datetime",
                                           description="Versión vigente en ese instante")] = None,
    f: Annotated[str | None, Query(description="json o html")] = None,
) -> Response:
    layer = vector_layer(collectionId)
    q = build_query(request, conn, layer, bbox=bbox, bbox_crs=bbox_crs, crs=crs,
                    filter_=filter_, filter_lang=filter_lang, filter_crs=filter_crs,
                    properties=properties, sortby=sortby, datetime_=datetime_)
    notice = None
    if limit > MAX_LIMIT:
        notice = f"limit={limit} supera el máximo; se entregan {MAX_LIMIT} por página."
        limit = MAX_LIMIT
    q.limit, q.offset = limit, offset
    known = None
    if q.table is None:
        entry = _entry(conn, layer.name)
        known = entry.current.feature_count if entry.current else 0
    page = fetch_page(conn, q, known)
    base = base_url(request)
    links = [link(url_with(request, f="json"), "self", GEOJSON, "Esta página"),
             link(url_with(request, f="html"), "alternate", HTML, "Esta página en HTML"),
             link(f"{base}/collections/{layer.name}", "collection", JSON, layer.title)]
    if offset + len(page.features) < page.number_matched:
        links.append(link(url_with(request, offset=offset + limit, limit=limit), "next",
                          GEOJSON, "Página siguiente"))
    if offset > 0:
        links.append(link(url_with(request, offset=max(0, offset - limit), limit=limit),
                          "prev", GEOJSON, "Página anterior"))
    headers = {"Content-Crs": f"<{q.crs.uri}>"}
    if notice:
        headers["X-Aviso"] = "limit-ajustado"
    if wants_html(request):
        feats = [json.loads(t) for t in page.features]
        return html_page(request, f"{layer.title} — entidades", layer=layer, features=feats,
                         links=links, matched=page.number_matched, offset=offset,
                         notice=notice)
    head = {"type": "FeatureCollection", "numberMatched": page.number_matched,
            "numberReturned": len(page.features), "timeStamp": page.time_stamp,
            "links": links}
    if notice:
        head["aviso"] = notice
    text = json.dumps(head, ensure_ascii=False)[:-1] + ', "features": [' + \
        ",".join(page.features) + "]}"
    return Response(text, media_type=GEOJSON, headers=headers)


@router.get("/collections/{collectionId}/items/{featureId}", summary="Una entidad",
            response_class=Response, responses={200: {"content": {GEOJSON: {}}}})
def item(
    collectionId: str,  # noqa: N803
    featureId: str,  # noqa: N803
    request: Request,
    conn: Conn,
    crs: Annotated[str | None, Query()] = None,
    properties: Annotated[str | None, Query()] = None,
    datetime_: Annotated[str | None, Query(alias="datetime")] = None,
    f: Annotated[str | None, Query()] = None,
) -> Response:
    layer = vector_layer(collectionId)
    if not featureId.isdigit() or len(featureId) > 18:
        raise PlatformError(f"Identificador de entidad no válido: «{featureId[:40]}».",
                            hint="Los identificadores son números enteros.")
    q = FeatureQuery(layer, crs=output_crs(crs))
    if properties is not None:
        q.properties = parse_properties(properties, layer)
    if datetime_ is not None:
        q.table, _ = table_at(conn, layer, parse_datetime(datetime_))
    text = fetch_feature(conn, q, int(featureId))
    base = base_url(request)
    href = f"{base}/collections/{layer.name}/items/{featureId}"
    links = [link(href, "self", GEOJSON, "Esta entidad"),
             link(f"{href}?f=html", "alternate", HTML, "Esta entidad en HTML"),
             link(f"{base}/collections/{layer.name}", "collection", JSON, layer.title)]
    if wants_html(request):
        return html_page(request, f"{layer.title} — entidad {featureId}", layer=layer,
                         features=[json.loads(text)], links=links)
    text = text[:-1] + ', "links": ' + json.dumps(links, ensure_ascii=False) + "}"
    return Response(text, media_type=GEOJSON, headers={"Content-Crs": f"<{q.crs.uri}>"})

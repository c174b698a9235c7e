"""Raster layers (DEM, hazard rasters) for the web map: list with legends, TileJSON, PNG
tiles in WebMercatorQuad and the value at a point."""

from __future__ import annotations

from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from api.dependencies import get_connection
from gis.raster_tiles import (
    TMS_ID,
    CurrentRaster,
    Legend,
    check_tile,
    current_raster,
    legend,
    raster_catalog,
    raster_extent,
    raster_layer,
    raster_value,
    render_tile,
    tile_matrix_set,
)
from layers.base import RasterLayer

VERSIONED_TILE_CACHE = "public, max-age=604800, immutable"
"""For a tile URL carrying the revision in force (``?v=``, as the TileJSON gives it)."""
REVALIDATE = "no-cache"
"""Anything else: browsers keep it but ask again (a cheap 304 while the ETag holds)."""

router = APIRouter(prefix="/rasters", tags=["Rasters"])
Conn = Annotated[psycopg.Connection, Depends(get_connection)]


def legend_json(leg: Legend) -> dict[str, Any]:
    return {"titulo": leg.title, "unidad": leg.unit, "tipo": "gradiente",
            "sin_datos": "transparente",
            "paradas": [{"valor": s.value, "color": s.color, "etiqueta": s.label}
                        for s in leg.stops]}


def tiles_template(request: Request, name: str) -> str:
    url = str(request.url_for("raster_tile", nombre=name, tms=TMS_ID, z="0", x="0", y="0"))
    return url.replace(f"/{TMS_ID}/0/0/0.png", f"/{TMS_ID}/{{z}}/{{x}}/{{y}}.png")


def raster_json(request: Request, layer: RasterLayer, current: CurrentRaster | None,
                ) -> dict[str, Any]:
    extent = raster_extent(current) if current else None
    return {
        "nombre": layer.name, "titulo": layer.title, "descripcion": layer.description,
        "tema": layer.theme.value, "banda": layer.band_title, "unidad": layer.unit,
        "version": current.version.version if current else None,
        "limites": list(extent.bounds) if extent else None,
        "zoom_minimo": extent.minzoom if extent else None,
        "zoom_maximo": extent.maxzoom if extent else None,
        "leyenda": legend_json(legend(layer)),
        "enlaces": {
            "tilejson": str(request.url_for("raster_tilejson", nombre=layer.name)),
            "teselas": tiles_template(request, layer.name) if current else None,
            "valor": str(request.url_for("raster_value", nombre=layer.name)),
        },
    }


@router.get("", summary="Rasters con su versión vigente, extensión y leyenda")
def list_rasters(request: Request, conn: Conn) -> list[dict[str, Any]]:
    return [raster_json(request, layer, current) for layer, current in raster_catalog(conn)]


@router.get("/{nombre}", summary="Un raster con su versión vigente, extensión y leyenda")
def raster_detail(nombre: str, request: Request, conn: Conn) -> dict[str, Any]:
    layer = raster_layer(nombre)
    return raster_json(request, layer, current_raster(conn, layer))


@router.get("/{nombre}/tilejson.json", name="raster_tilejson", summary="TileJSON 3.0.0")
def tilejson(nombre: str, request: Request, conn: Conn) -> JSONResponse:
    raster = current_raster(conn, raster_layer(nombre))
    extent = raster_extent(raster)
    w, s, e, n = extent.bounds
    doc = {
        "tilejson": "3.0.0", "name": raster.layer.title,
        "description": raster.layer.description,
        "version": f"{raster.version.version}.0.0", "attribution": raster.version.fuente,
        "scheme": "xyz",
        "tiles": [f"{tiles_template(request, raster.layer.name)}?v={raster.revision}"],
        "minzoom": extent.minzoom, "maxzoom": extent.maxzoom, "bounds": [w, s, e, n],
        "center": [(w + e) / 2, (s + n) / 2, extent.minzoom],
    }
    return JSONResponse(doc, headers={"Cache-Control": REVALIDATE})


@router.get(
    "/{nombre}/tiles/{tms}/{z}/{x}/{y}.png", name="raster_tile",
    summary="Tesela PNG coloreada con la rampa de la capa",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}, 304: {"description": "Sin cambios"}},
)
def tile(nombre: str, tms: str, z: int, x: int, y: int, request: Request, conn: Conn,
         v: Annotated[str | None, Query(description="Revisión (la da el TileJSON)")] = None,
         ) -> Response:
    layer = raster_layer(nombre)
    tile_matrix_set(tms)
    check_tile(z, x, y)
    raster = current_raster(conn, layer)
    etag = f'"{raster.revision}"'
    headers = {"ETag": etag,
               "Cache-Control": VERSIONED_TILE_CACHE if v == raster.revision else REVALIDATE}
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(render_tile(raster, z, x, y), media_type="image/png", headers=headers)


@router.get("/{nombre}/valor", name="raster_value", summary="Valor del raster en un punto")
def value_at(
    nombre: str, conn: Conn,
    lon: Annotated[float, Query(description="Longitud WGS 84, p. ej. -71.6")],
    lat: Annotated[float, Query(description="Latitud WGS 84, p. ej. -33.59")],
) -> dict[str, Any]:
    layer = raster_layer(nombre)
    found = raster_value(conn, layer, lon, lat)
    return {
        "capa": layer.name, "titulo": layer.title, "banda": layer.band_title,
        "valor": found.value, "unidad": found.unit, "version": found.version,
        "lon": lon, "lat": lat,
        "mensaje": None if found.value is not None else "Sin datos en este punto.",
    }


def etag_matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return "*" in tags or etag in tags

"""The analyses of the comuna over HTTP: the registry, running any analysis on the comuna,
a sector, a census zone or a drawn polygon (JSON and GeoJSON pages, or a GeoPackage,
GeoParquet, CSV or Excel download), and the territorial report of a parcel or point.

Every analysis of :data:`gis.analysis.ANALYSES` is served by name, including those added
later; its own options (e.g. ``por=sector``) are query parameters.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import psycopg
import shapely
from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.background import BackgroundTask

from api.dependencies import get_connection, get_settings
from api.security import require
from gis.analysis.common import AnalysisInputError
from gis.analysis.exports import export
from gis.analysis.invoke import analysis_catalog, choose_area, get_analysis, run_analysis
from gis.analysis.report import parcel_report, parcel_report_html, parcel_report_pdf
from gis.auth import User
from gis.proposals.geojson import GeometryInputError, from_lonlat_geojson
from gis.reports.render import safe_filename
from gis.settings import Settings

router = APIRouter(prefix="/analisis", tags=["Análisis"])
Conn = Annotated[psycopg.Connection, Depends(get_connection)]
Config = Annotated[Settings, Depends(get_settings)]

DEFAULT_LIMIT = 1000
MAX_LIMIT = 10_000
FILES = {"csv": ("text/csv; charset=utf-8", ".csv"),
         "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx"),
         "gpkg": ("application/geopackage+sqlite3", ".gpkg"),
         "parquet": ("application/vnd.apache.parquet", ".parquet")}
"""Download formats: media type and extension (the export chooses by extension)."""
INLINE = ("json", "geojson")
FORMATS = (*INLINE, *FILES)
RESERVED = {"sector", "zona_censal", "version", "fecha", "formato", "limite",
            "desplazamiento"}
"""Query parameters of every analysis; any other one is an option of the analysis."""
NO_CACHE = {"Cache-Control": "no-cache"}

Version = Annotated[int | None, Query(ge=1, description="Versión de la capa versionada del "
                                      "análisis (p. ej. la zonificación)")]
Fecha = Annotated[str | None, Query(max_length=40, description="La versión vigente en esta "
                                    "fecha (AAAA-MM-DD)")]
Formato = Annotated[str, Query(max_length=20, description="json, geojson (en páginas), csv, "
                               "xlsx, gpkg o parquet (descarga)")]
Limite = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Filas por página (json, "
                              f"geojson; hasta {MAX_LIMIT})")]
Desde = Annotated[int, Query(ge=0, description="Filas que se saltan (json, geojson)")]


def post_reader(request: Request, conn: Conn) -> User | None:
    """A POST that only reads needs what a GET needs: a login when reads require one."""
    if not get_settings(request).reads_require_login:
        return None
    return require()(request, conn, None)


# --- the registry --------------------------------------------------------------------------

@router.get("", summary="Análisis disponibles")
def catalog() -> dict[str, Any]:
    """Los análisis que se pueden ejecutar, con su descripción, la capa cuya versión o
    fecha eligen y sus opciones (parámetros adicionales de la consulta)."""
    items = analysis_catalog()
    for item in items:
        item["enlace"] = f"/analisis/{item['nombre']}"
    return {"analisis": items, "formatos": list(FORMATS),
            "informe": "/analisis/informe?rol=ROL o ?lon=LON&lat=LAT (formato html, pdf o json)"}


# --- the territorial report ----------------------------------------------------------------

@router.get("/informe", summary="Ficha territorial de un predio o punto (tipo CIP)",
            response_model=None,
            responses={200: {"content": {"text/html": {}, "application/pdf": {}}}})
def report(
    conn: Conn, settings: Config,
    rol: Annotated[str | None, Query(max_length=40, description="Rol SII, p. ej. 1999-54")
                   ] = None,
    lon: Annotated[float | None, Query(description="Longitud (WGS 84)")] = None,
    lat: Annotated[float | None, Query(description="Latitud (WGS 84)")] = None,
    formato: Annotated[str, Query(max_length=10, description="html, pdf o json")] = "html",
) -> Response | dict[str, Any]:
    """Zona del PRC y todas sus normas, áreas superpuestas, riesgos, elevación, pendiente y
    tsunami, uso de suelo, sector y zona censal, distancia al puerto, proyectos a menos de
    500 m, datos del catastro, cumplimiento de uso y cabida del predio."""
    if formato not in ("html", "pdf", "json"):
        raise AnalysisInputError(f"Formato de la ficha no reconocido: «{formato}».",
                                 hint="Use formato=html, pdf o json.")
    if (lon is None) != (lat is None):
        raise AnalysisInputError("Para consultar un punto indique lon y lat, ambos.",
                                 hint="Ejemplo: /analisis/informe?lon=-71.61&lat=-33.59.")
    punto = (lon, lat) if lon is not None and lat is not None else None
    if formato == "json":
        return parcel_report(conn, settings, rol=rol, punto=punto)
    if formato == "html":
        return HTMLResponse(parcel_report_html(conn, settings, rol=rol, punto=punto),
                            headers=NO_CACHE)
    pdf = parcel_report_pdf(conn, settings, rol=rol, punto=punto)
    name = safe_filename(rol or f"punto_{lon:.5f}_{lat:.5f}", prefix="ficha-territorial-",
                         suffix=".pdf")
    return Response(pdf, media_type="application/pdf", headers={
        **NO_CACHE, "Content-Disposition": f'inline; filename="{name}"'})


# --- running an analysis -------------------------------------------------------------------

@router.get("/{nombre}", summary="Ejecutar un análisis sobre la comuna, un sector o una zona "
            "censal", response_model=None)
def run(
    nombre: str, request: Request, conn: Conn,
    sector: Annotated[str | None, Query(max_length=100, description="Sector de "
                                        "planificación (código o nombre)")] = None,
    zona_censal: Annotated[str | None, Query(max_length=20, description="Geocódigo de la "
                                             "zona censal")] = None,
    version: Version = None, fecha: Fecha = None, formato: Formato = "json",
    limite: Limite = DEFAULT_LIMIT, desplazamiento: Desde = 0,
) -> Response:
    """Ejecuta el análisis ``nombre`` (vea GET /analisis). Las opciones propias del
    análisis van como parámetros adicionales, p. ej. ``?por=sector``."""
    get_analysis(nombre)
    area = choose_area(sector=sector, zona_censal=zona_censal)
    return _answer(conn, request, nombre, area, version, fecha, formato, limite,
                   desplazamiento)


@router.post("/{nombre}", summary="Ejecutar un análisis sobre un polígono (GeoJSON)",
             response_model=None, dependencies=[Depends(post_reader)])
def run_on_polygon(
    nombre: str, request: Request, conn: Conn,
    poligono: Annotated[dict[str, Any], Body(description="Polígono GeoJSON en longitud y "
                                             "latitud (geometría, Feature o "
                                             "FeatureCollection)")],
    version: Version = None, fecha: Fecha = None, formato: Formato = "json",
    limite: Limite = DEFAULT_LIMIT, desplazamiento: Desde = 0,
) -> Response:
    """Ejecuta el análisis ``nombre`` sobre el área del polígono enviado."""
    get_analysis(nombre)
    area = polygon_area(poligono)
    return _answer(conn, request, nombre, area, version, fecha, formato, limite,
                   desplazamiento)


def polygon_area(body: dict[str, Any]) -> shapely.Geometry:
    """The storage-CRS geometry of a GeoJSON geometry, Feature or FeatureCollection in
    longitude and latitude (the union of a collection's features)."""
    kind = body.get("type")
    if kind == "Feature":
        geometries = [body.get("geometry")]
    elif kind == "FeatureCollection":
        features = body.get("features")
        if not isinstance(features, list) or not features:
            raise AnalysisInputError("La colección de elementos del área está vacía.",
                                     hint="Envíe al menos un polígono.")
        geometries = [f.get("geometry") if isinstance(f, dict) else None for f in features]
    else:
        geometries = [body]
    try:
        parts = [from_lonlat_geojson(g, "geometría del área") for g in geometries]
    except GeometryInputError as exc:  # a bad parameter of a read: 400, as the others
        raise AnalysisInputError(exc.message, hint=exc.hint) from None
    return parts[0] if len(parts) == 1 else shapely.union_all(parts)


def _answer(conn: psycopg.Connection, request: Request, nombre: str, area: Any,
            version: int | None, fecha: str | None, formato: str, limite: int,
            desplazamiento: int) -> Response:
    analysis = get_analysis(nombre)
    if formato not in FORMATS:
        raise AnalysisInputError(f"Formato no reconocido: «{formato}».",
                                 hint=f"Use formato={', '.join(FORMATS)}.")
    if formato == "geojson" and not analysis.geometria:
        raise AnalysisInputError(f"El análisis «{nombre}» no tiene geometrías: no se entrega "
                                 "en GeoJSON.", hint="Use formato=json, csv o xlsx.")
    options = {k: v for k, v in request.query_params.items() if k not in RESERVED}
    result = run_analysis(conn, nombre, area=area, version=version, fecha=fecha,
                          options=options, geometria=formato not in ("json", "xlsx"))
    if formato in FILES:
        return _download(result, nombre, formato)
    page = result.iloc[desplazamiento:desplazamiento + limite]
    following = desplazamiento + limite if desplazamiento + limite < len(result) else None
    paging: dict[str, Any] = {
        "total": len(result), "devueltas": len(page), "limite": limite,
        "desplazamiento": desplazamiento, "siguiente_desplazamiento": following,
        "siguiente": (str(request.url.include_query_params(desplazamiento=following))
                      if following is not None and request.method == "GET" else None)}
    if following is not None:
        paging["aviso"] = (f"Se entregan {len(page)} de {len(result)} filas: pida las "
                           f"siguientes con desplazamiento={following}, o descargue todo "
                           "con formato=gpkg, parquet, csv o xlsx.")
    meta = json.loads(json.dumps(result.attrs, default=str))
    if formato == "geojson":
        collection = json.loads(page.to_json(na="null", to_wgs84=True, drop_id=True))
        collection.update({"analisis": nombre, "titulo": analysis.title, "metadatos": meta,
                           "numberMatched": len(result), "numberReturned": len(page),
                           "paginacion": paging})
        return JSONResponse(collection, media_type="application/geo+json")
    frame = pd.DataFrame(page.drop(columns=page.geometry.name)
                         if "geometry" in page and hasattr(page, "geometry") else page)
    rows = json.loads(frame.to_json(orient="records", date_format="iso", force_ascii=False))
    return JSONResponse({"analisis": nombre, "titulo": analysis.title, "metadatos": meta,
                         "columnas": list(frame.columns), "paginacion": paging,
                         "filas": rows})


def _download(result: pd.DataFrame, nombre: str, formato: str) -> Response:
    media, suffix = FILES[formato]
    folder = Path(tempfile.mkdtemp(prefix="secplac-analisis-"))
    try:
        path = export(result, folder / f"{nombre}{suffix}")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    area = str(result.attrs.get("area") or "")
    name = safe_filename(f"{nombre}-{area}" if area and area != "toda la comuna" else nombre,
                         prefix="", suffix=suffix)
    return FileResponse(path, media_type=media, filename=name, headers=NO_CACHE,
                        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True))

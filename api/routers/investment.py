"""Investment by territory and against need, budget execution, and their maps and charts.

JSON and GeoJSON under ``/inversion/...`` for the page at ``/inversion/mapa`` (MapLibre,
served locally) and for reports; ``/inversion/mapa-folium`` gives the same choropleth as a
folium page. Unknown units, groupings, sources or stages get a 400 listing valid values.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from typing import Annotated, Any

import pandas as pd
import psycopg
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.dependencies import get_connection, get_settings
from api.ogc import GEOJSON, base_url, templates
from api.routers.maps import vendor_url
from api.routers.styles import MAP_STYLE_ID
from gis.charts import execution_chart
from gis.investment import (
    BREAKDOWNS,
    COLUMNS,
    EXECUTION_GROUPS,
    MAP_COLUMNS,
    NO_DATA,
    SQL,
    UNITS,
    budget_execution,
    investment_breakdown,
    investment_by_territory,
    investment_map,
    need_ranking,
    territory_geojson,
)
from gis.settings import Settings
from layers.projects import FUNDING_SOURCES, PROJECT_SECTORS, STAGES

router = APIRouter(prefix="/inversion", tags=["Inversión territorial"])
Conn = Annotated[psycopg.Connection, Depends(get_connection)]

CONTEXT_LAYERS = ("comunas", "urban_limit")
"""Layers of the map style kept visible under the choropleth."""
SVG = "image/svg+xml"

Unidad = Annotated[str, Query(max_length=40, description="Unidad territorial: " + ", ".join(
    f"{k} ({v.lower()})" for k, v in UNITS.items()) + ".")]
Columna = Annotated[str, Query(max_length=60, description="Indicador del mapa: " + ", ".join(
    MAP_COLUMNS) + ".")]


@dataclass(frozen=True)
class Filters:
    """The portfolio filters shared by the endpoints, as a query dependency."""

    anio: int | None
    fuente: str | None
    sector: str | None
    etapa: str | None


def filters(
    anio: Annotated[int | None, Query(ge=1990, le=2100,
                                      description="Solo el financiamiento de este año.")] = None,
    fuente: Annotated[str | None, Query(max_length=60, description="Solo esta fuente: " +
                                        ", ".join(c for c, _ in FUNDING_SOURCES) + ".")] = None,
    sector: Annotated[str | None, Query(max_length=60, description="Solo proyectos de este "
                                        "sector: " + ", ".join(PROJECT_SECTORS) + ".")] = None,
    etapa: Annotated[str | None, Query(max_length=40, description="Solo proyectos en esta "
                                       "etapa: " + ", ".join(STAGES) + ".")] = None,
) -> Filters:
    blank = lambda v: v if v not in ("", None) else None  # noqa: E731 (empty select)
    return Filters(anio, blank(fuente), blank(sector), blank(etapa))


FiltersDep = Annotated[Filters, Depends(filters)]


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: _plain(v) for k, v in row.items()} for row in frame.to_dict("records")]


def _plain(value: Any) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return value.item() if hasattr(value, "item") else value


@router.get("/territorio", summary="Inversión por unidad territorial (GeoJSON)",
            response_class=Response, responses={200: {"content": {GEOJSON: {}}}})
def territory(conn: Conn, f: FiltersDep, unidad: Unidad = "sector",
              columna: Columna = "monto_por_habitante") -> Response:
    """Una entidad por unidad (sector de planificación, zona censal o zona del PRC) con su
    población, inversión atribuida (según la parte del proyecto dentro de la unidad), por
    habitante, ejecutado, indicadores de necesidad, índice y prioridad. Coordenadas
    lon/lat (WGS 84). El miembro ``leyenda`` trae las clases del mapa de ``columna``."""
    gdf = investment_by_territory(conn, unidad, **asdict(f))
    data = territory_geojson(gdf, columna)
    data["unidad"] = unidad
    data["filtros"] = {k: v for k, v in asdict(f).items() if v is not None}
    return Response(json.dumps(data, ensure_ascii=False), media_type=GEOJSON)


@router.get("/desglose", summary="Inversión de cada unidad por fuente, sector, año o etapa")
def breakdown(conn: Conn, f: FiltersDep, unidad: Unidad = "sector",
              por: Annotated[str, Query(max_length=40, description="Desglose: " + ", ".join(
                  BREAKDOWNS) + ".")] = "fuente") -> dict[str, Any]:
    """Tabla larga: unidad (código y nombre), valor de ``por``, monto atribuido y monto por
    habitante; solo las combinaciones con inversión."""
    table = investment_breakdown(conn, unidad, por, **asdict(f))
    return {"unidad": unidad, "por": por, "filas": _records(table)}


@router.get("/ranking", summary="Unidades ordenadas por subinversión relativa a la necesidad")
def ranking(conn: Conn, f: FiltersDep, unidad: Unidad = "sector") -> dict[str, Any]:
    """Prioridad 1 = menor inversión por habitante en relación con el índice de necesidad
    (población, edades dependientes, densidad y superficie en riesgo alto)."""
    table = need_ranking(conn, unidad, **asdict(f))
    return {"unidad": unidad, "columnas": COLUMNS, "filas": _records(table)}


Por = Annotated[str, Query(max_length=40, description="Agrupación: " + ", ".join(
    EXECUTION_GROUPS) + ".")]
Anio = Annotated[int | None, Query(ge=1990, le=2100, description="Solo este año.")]


@router.get("/ejecucion", summary="Ejecución presupuestaria: solicitado, aprobado, "
            "comprometido y ejecutado")
def execution(conn: Conn, por: Por = "anio", anio: Anio = None) -> dict[str, Any]:
    """Montos por año, eje PLADECO, sector, fuente o territorio (sector de planificación),
    con el porcentaje de ejecución (ejecutado / aprobado) y el número de proyectos."""
    table = budget_execution(conn, por, anio=anio)
    totals: dict[str, Any] = {k: int(table[k].sum()) for k in (
        "solicitado", "aprobado", "comprometido", "ejecutado")}
    totals["pct_ejecucion"] = (round(100 * totals["ejecutado"] / totals["aprobado"], 1)
                               if totals["aprobado"] else None)
    return {"por": por, "titulo": EXECUTION_GROUPS[por],
            "filas": _records(table.reset_index()), "total": totals}


@router.get("/ejecucion.svg", summary="Gráfico de ejecución presupuestaria (SVG)",
            response_class=Response, responses={200: {"content": {SVG: {}}}})
def execution_svg(conn: Conn, por: Por = "anio", anio: Anio = None) -> Response:
    """Barras de monto aprobado y ejecutado por grupo, con el porcentaje de ejecución."""
    return Response(execution_chart(budget_execution(conn, por, anio=anio)), media_type=SVG)


@router.get("/mapa", summary="Mapa de inversión por territorio", response_class=HTMLResponse)
def investment_page(request: Request, conn: Conn) -> HTMLResponse:
    base = base_url(request)
    years = [int(r[0]) for r in conn.execute(SQL["years"]).fetchall()]  # type: ignore[arg-type]
    config = {
        "estilo": f"{base}/styles/{MAP_STYLE_ID}",
        "territorio": f"{base}/inversion/territorio",
        "ranking": f"{base}/inversion/ranking",
        "ejecucion": f"{base}/inversion/ejecucion.svg",
        "capas_contexto": list(CONTEXT_LAYERS),
        # [value, label] pairs: the template's tojson would sort a dict's keys
        "unidades": list(UNITS.items()),
        "indicadores": [[c, COLUMNS[c]] for c in MAP_COLUMNS],
        "columnas": list(COLUMNS.items()), "agrupaciones": list(EXECUTION_GROUPS.items()),
        "anios": years, "fuentes": list(FUNDING_SOURCES), "sectores": list(PROJECT_SECTORS),
        "etapas": list(STAGES), "sin_dato": NO_DATA,
    }
    return templates.TemplateResponse(request, "inversion.html", {"config": config})


@router.get("/mapa-folium", summary="Mapa coroplético de inversión (folium)",
            response_class=HTMLResponse)
def folium_page(request: Request, conn: Conn, settings: Annotated[Settings, Depends(
        get_settings)], f: FiltersDep, unidad: Unidad = "sector",
        columna: Columna = "monto_por_habitante") -> HTMLResponse:
    """El mapa como página HTML de folium (Leaflet servido por la plataforma)."""
    gdf = investment_by_territory(conn, unidad, **asdict(f))
    title = f"{COLUMNS.get(columna, columna)} por {UNITS.get(unidad, unidad).lower()}"
    m = investment_map(gdf, columna, title=title, assets="local",
                       vendor_url=vendor_url(request), settings=settings)
    return HTMLResponse(m.get_root().render())

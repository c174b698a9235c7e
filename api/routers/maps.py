"""folium maps as HTML pages: one per vector layer and one per investment project.

The pages load Leaflet from the platform's own ``/vendor`` copies, never from a CDN.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from api.dependencies import get_settings
from gis.errors import PlatformError
from gis.maps import MAX_FEATURES, Bounds, get_vector_layer, layer_map, project_map
from gis.settings import Settings
from layers.base import FieldType, VectorLayer

router = APIRouter(prefix="/mapas", tags=["Mapas"])
SettingsDep = Annotated[Settings, Depends(get_settings)]

RESERVED_PARAMS = frozenset({"bbox"})
MAX_FEATURES_TEXT = f"{MAX_FEATURES:_}".replace("_", ".")
TRUE_WORDS, FALSE_WORDS = {"true", "1", "si", "sí"}, {"false", "0", "no"}


class MapRequestError(PlatformError):
    """A map request with a malformed bbox or filter."""


@dataclass(frozen=True)
class BBoxParam:
    """``bbox=oeste,sur,este,norte`` in WGS 84 degrees, as a query dependency."""

    bbox: Bounds | None


def bbox_param(
    bbox: Annotated[str | None, Query(
        description="Área del mapa: oeste,sur,este,norte en grados WGS 84 (EPSG:4326), "
        "p. ej. -71.615,-33.595,-71.600,-33.580. Obligatoria en capas densas (catastro de "
        "predios) salvo que un filtro por campo las acote.",
        examples=["-71.615,-33.595,-71.600,-33.580"])] = None,
) -> BBoxParam:
    if bbox is None:
        return BBoxParam(None)
    try:
        west, south, east, north = (float(v) for v in bbox.split(","))
    except ValueError:
        raise MapRequestError(f"bbox mal formado: «{bbox}».",
                              hint="Use bbox=oeste,sur,este,norte en grados, p. ej. "
                              "-71.615,-33.595,-71.600,-33.580.") from None
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise MapRequestError(f"bbox fuera de rango o invertido: «{bbox}».",
                              hint="Oeste < este y sur < norte, en grados WGS 84.")
    return BBoxParam((west, south, east, north))


def field_filter(layer: VectorLayer, request: Request) -> dict[str, Any]:
    """``campo=valor`` query parameters as a ``where`` on declared fields (values bound later
    as SQL parameters); a repeated field matches any of its values."""
    where: dict[str, Any] = {}
    names = {f.name for f in layer.fields}
    for key in request.query_params:
        if key in RESERVED_PARAMS:
            continue
        if key not in names:
            raise MapRequestError(f"La capa «{layer.title}» no tiene el campo «{key}».",
                                  hint="Campos: " + ", ".join(sorted(names)) + ".")
        fld = layer.field(key)
        values = [_typed(fld.type, fld.title, v) for v in request.query_params.getlist(key)]
        if fld.type is FieldType.TEXT_LIST and len(values) > 1:
            raise MapRequestError(f"El campo «{fld.title}» admite un solo valor por mapa.")
        where[key] = values[0] if len(values) == 1 else values
    return where


def _typed(kind: FieldType, title: str, text: str) -> Any:
    try:
        if kind is FieldType.INTEGER:
            return int(text)
        if kind is FieldType.FLOAT:
            return float(text)
        if kind is FieldType.DATE:
            return dt.date.fromisoformat(text)
        if kind is FieldType.BOOLEAN:
            if text.lower() in TRUE_WORDS | FALSE_WORDS:
                return text.lower() in TRUE_WORDS
            raise ValueError(text)
    except ValueError:
        raise MapRequestError(f"Valor no válido para «{title}»: «{text}».",
                              hint=f"Se espera un valor de tipo {kind.value}.") from None
    return text


def vendor_url(request: Request) -> str:
    """Where this server publishes its npm packages (behind a proxy prefix too)."""
    return request.scope.get("root_path", "").rstrip("/") + "/vendor"


def _title(layer: VectorLayer, where: dict[str, Any]) -> str:
    parts = [f"{layer.field(k).title}: {', '.join(map(str, v)) if isinstance(v, list) else v}"
             for k, v in where.items()]
    return " — ".join([layer.title, *parts])


@router.get("/proyectos/{codigo}", response_class=HTMLResponse,
            summary="Mapa de un proyecto de inversión con la zonificación del PRC")
def project_page(codigo: str, request: Request, settings: SettingsDep) -> HTMLResponse:
    m = project_map(codigo, settings=settings, assets="local", vendor_url=vendor_url(request))
    return HTMLResponse(m.get_root().render())


@router.get("/{coleccion}", response_class=HTMLResponse,
            summary="Mapa de una capa vectorial",
            description="La capa como mapa HTML con leyenda y fichas de cada entidad. Todo "
            "otro parámetro filtra un campo declarado de la capa (p. ej. "
            "?familia=residencial; repetido, cualquiera de sus valores). Las capas densas "
            "(catastro de predios) requieren bbox o un filtro, y ningún mapa supera "
            f"{MAX_FEATURES_TEXT} entidades.")
def layer_page(coleccion: str, request: Request, settings: SettingsDep,
               area: Annotated[BBoxParam, Depends(bbox_param)]) -> HTMLResponse:
    layer = get_vector_layer(coleccion)
    where = field_filter(layer, request)
    m = layer_map(layer.name, where=where or None, bbox=area.bbox, settings=settings,
                  title=_title(layer, where), assets="local", vendor_url=vendor_url(request))
    return HTMLResponse(m.get_root().render())

"""The layer catalog as JSON: every layer with its version in force, and its history."""

from __future__ import annotations

from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Depends

from api.dependencies import get_connection
from gis.catalog import CatalogEntry, LayerVersion, catalog, layer_versions
from layers import get_layer
from layers.base import VectorLayer

router = APIRouter(prefix="/capas", tags=["Catálogo"])
Conn = Annotated[psycopg.Connection, Depends(get_connection)]


def version_json(v: LayerVersion) -> dict[str, Any]:
    return {
        "version": v.version, "vigente": v.in_force, "cargada": v.loaded_at.isoformat(),
        "cargada_por": v.loaded_by, "archivo_fuente": v.source_file,
        "sha256": v.source_sha256, "crs_fuente": v.source_crs, "crs": v.storage_crs,
        "entidades": v.feature_count, "fuente": v.fuente, "licencia": v.licencia,
        "datos_de_demostracion": v.demo, "extension_wkt": v.extent_wkt,
        "vigente_desde": v.valid_from.isoformat(),
        "vigente_hasta": v.valid_to.isoformat() if v.valid_to else None,
    }


def entry_json(e: CatalogEntry) -> dict[str, Any]:
    layer = e.layer
    data: dict[str, Any] = {
        "nombre": layer.name, "titulo": layer.title, "descripcion": layer.description,
        "tema": layer.theme.value, "tipo": layer.kind,
        "version_vigente": version_json(e.current) if e.current else None,
    }
    if isinstance(layer, VectorLayer):
        data["geometria"] = layer.geometry.value
        data["campos"] = [{"nombre": f.name, "titulo": f.title, "tipo": f.type.value,
                           "unidad": f.unit, "obligatorio": f.required}
                          for f in layer.fields]
    return data


@router.get("", summary="Lista de capas con su versión vigente")
def list_layers(conn: Conn) -> list[dict[str, Any]]:
    return [entry_json(e) for e in catalog(conn)]


@router.get("/{nombre}", summary="Una capa con el historial de sus versiones")
def layer_detail(nombre: str, conn: Conn) -> dict[str, Any]:
    layer = get_layer(nombre)
    versions = layer_versions(conn, layer.name)
    current = next((v for v in versions if v.in_force), None)
    return {**entry_json(CatalogEntry(layer, current)),
            "historial": [version_json(v) for v in versions]}

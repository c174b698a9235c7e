"""Zoning proposals: create, edit (with If-Match), validate, review, apply; their diff and
impact; and the diff between any two zoning versions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Body, Depends, Header
from fastapi.responses import Response
from pydantic import BaseModel, Field

from api.dependencies import get_connection, get_settings
from api.ogc import json_response
from api.security import reader, require
from gis.auth import Role, User
from gis.errors import PlatformError
from gis.proposals import store
from gis.proposals.diff import zoning_diff
from gis.proposals.geojson import from_lonlat_geojson, to_lonlat_geojson
from gis.proposals.impact import proposal_impact
from gis.proposals.operations import Operation
from gis.proposals.validation import plain_value
from gis.reading import version_table
from gis.settings import Settings
from layers.zoning import LAYER as ZONING

router = APIRouter(prefix="/propuestas", tags=["Propuestas de zonificación"],
                   dependencies=[Depends(reader)])
versions_router = APIRouter(prefix="/zonificacion", tags=["Propuestas de zonificación"],
                            dependencies=[Depends(reader)])
Conn = Annotated[psycopg.Connection, Depends(get_connection)]
Config = Annotated[Settings, Depends(get_settings)]
Staff = Annotated[User, Depends(require(Role.EDITOR, Role.REVISOR, Role.ADMIN))]
IfMatch = Annotated[str | None, Header(alias="If-Match")]


class NewProposal(BaseModel):
    titulo: str = Field(max_length=300)
    justificacion: str = Field(default="", max_length=20_000)


class Change(BaseModel):
    """One operation; geometries are GeoJSON in longitude/latitude (WGS 84)."""

    op: str = Field(description="crear, geometria, normas, dividir, fusionar o eliminar")
    codigo: str | None = Field(default=None, max_length=40)
    codigos: list[str] = Field(default_factory=list, max_length=50)
    normas: dict[str, Any] = Field(default_factory=dict)
    geometria: dict[str, Any] | None = Field(default=None, description="Polígono (crear, "
                                             "geometria) o línea de corte (dividir)")
    nuevo_codigo: str | None = Field(default=None, max_length=40)
    destino: str | None = Field(default=None, max_length=40)


class Action(BaseModel):
    nota: str | None = Field(default=None, max_length=10_000)


@contextmanager
def audited(conn: psycopg.Connection, user: User, action: str, target: str) -> Iterator[None]:
    """Record a refused write (any platform error) in the audit log, then re-raise."""
    try:
        yield
    except PlatformError as exc:
        store.refused(conn, user, action, target, exc)
        raise


def with_etag(data: dict[str, Any], etag: str, status: int = 200) -> Response:
    response = json_response(data, headers={"ETag": etag})
    response.status_code = status
    return response


@router.get("", summary="Lista de propuestas")
def list_(conn: Conn, estado: str | None = None) -> Response:
    rows = store.list_proposals(conn, estado)
    return json_response({"propuestas": rows})


@router.post("", summary="Crear una propuesta (editores)", status_code=201)
def create(body: NewProposal, conn: Conn, user: Staff) -> Response:
    with audited(conn, user, "propuesta.crear", "propuestas"):
        p = store.create_proposal(conn, user, body.titulo, body.justificacion)
    return with_etag(store.proposal_json(conn, p), p.etag, 201)


@router.get("/{proposal_id}", summary="Una propuesta con sus cambios, conflictos e historial")
def read(proposal_id: int, conn: Conn) -> Response:
    p = store.get_proposal(conn, proposal_id)
    return with_etag(store.proposal_json(conn, p), p.etag)


@router.post("/{proposal_id}/cambios", summary="Agregar un cambio (autor, en borrador)",
             status_code=201)
def add_change(proposal_id: int, body: Change, conn: Conn, settings: Config, user: Staff,
               if_match: IfMatch = None) -> Response:
    with audited(conn, user, "propuesta.cambio", f"propuesta/{proposal_id}"):
        geometry = from_lonlat_geojson(body.geometria) if body.geometria is not None else None
        op = Operation(op=body.op, codigo=body.codigo, codigos=body.codigos,
                       normas=body.normas, geometria=geometry, nuevo_codigo=body.nuevo_codigo,
                       destino=body.destino)
        p = store.add_change(conn, settings, user, proposal_id, if_match, op)
    return with_etag(store.proposal_json(conn, p), p.etag, 201)


@router.delete("/{proposal_id}/cambios/ultimo", summary="Deshacer el último cambio")
def undo(proposal_id: int, conn: Conn, user: Staff, if_match: IfMatch = None) -> Response:
    with audited(conn, user, "propuesta.deshacer", f"propuesta/{proposal_id}"):
        p = store.remove_last_change(conn, user, proposal_id, if_match)
    return with_etag(store.proposal_json(conn, p), p.etag)


@router.get("/{proposal_id}/validacion", summary="Validación completa de la propuesta")
def validation(proposal_id: int, conn: Conn, settings: Config) -> Response:
    p = store.get_proposal(conn, proposal_id)
    return json_response(store.validate_proposal(conn, settings, p).as_json())


@router.get("/{proposal_id}/zonificacion", summary="Zonificación resultante (GeoJSON)")
def proposed_zoning(proposal_id: int, conn: Conn, settings: Config) -> Response:
    p = store.get_proposal(conn, proposal_id)
    zones = store.working_copy(settings, p)
    features = [{"type": "Feature", "id": z["codigo"], "geometry": to_lonlat_geojson(geom),
                 "properties": {k: plain_value(v) for k, v in z.items() if k != "geometry"}}
                for z, geom in zip(zones.drop(columns="geometry").to_dict("records"),
                                   zones.geometry, strict=True)]
    return json_response({"type": "FeatureCollection", "features": features},
                         "application/geo+json")


@router.get("/{proposal_id}/diferencias", summary="Diferencias con la versión base (GeoJSON)")
def proposal_diff(proposal_id: int, conn: Conn, settings: Config) -> Response:
    p = store.get_proposal(conn, proposal_id)
    base = store.base_zoning(settings, p.base_version)
    return json_response(zoning_diff(base, store.working_copy(settings, p)),
                         "application/geo+json")


@router.get("/{proposal_id}/impacto", summary="Impacto de la propuesta")
def impact(proposal_id: int, conn: Conn, settings: Config) -> Response:
    p = store.get_proposal(conn, proposal_id)
    base = store.base_zoning(settings, p.base_version)
    proposed = store.working_copy(settings, p)
    table = version_table(ZONING, p.base_version, settings)
    return json_response(proposal_impact(conn, table, base, proposed))


@router.post("/{proposal_id}/acciones/{action}", summary="Enviar, revisar, solicitar "
             "cambios, aprobar o rechazar")
def act(proposal_id: int, action: str, conn: Conn, settings: Config, user: Staff,
        body: Annotated[Action | None, Body()] = None, if_match: IfMatch = None) -> Response:
    with audited(conn, user, f"propuesta.{action[:30]}", f"propuesta/{proposal_id}"):
        p = store.transition(conn, settings, user, proposal_id, if_match, action,
                             body.nota if body else None)
    return with_etag(store.proposal_json(conn, p), p.etag)


@router.post("/{proposal_id}/comentarios", summary="Comentar", status_code=201)
def add_comment(proposal_id: int, body: Action, conn: Conn, user: Staff) -> Response:
    with audited(conn, user, "propuesta.comentar", f"propuesta/{proposal_id}"):
        store.comment(conn, user, proposal_id, body.nota or "")
    p = store.get_proposal(conn, proposal_id)
    return with_etag(store.proposal_json(conn, p), p.etag, 201)


@router.post("/{proposal_id}/rebase", summary="Actualizar a la zonificación vigente")
def rebase(proposal_id: int, conn: Conn, settings: Config, user: Staff,
           if_match: IfMatch = None) -> Response:
    with audited(conn, user, "propuesta.rebase", f"propuesta/{proposal_id}"):
        p = store.rebase(conn, settings, user, proposal_id, if_match)
    return with_etag(store.proposal_json(conn, p), p.etag)


@router.post("/{proposal_id}/aplicar", summary="Aplicar una propuesta aprobada (admin)")
def apply(proposal_id: int, conn: Conn, settings: Config, user: Staff,
          if_match: IfMatch = None) -> Response:
    with audited(conn, user, "propuesta.aplicar", f"propuesta/{proposal_id}"):
        p = store.apply_proposal(conn, settings, user, proposal_id, if_match)
    return with_etag(store.proposal_json(conn, p), p.etag)


@versions_router.get("/diferencias", summary="Diferencias entre dos versiones (GeoJSON)")
def versions_diff(desde: int, hasta: int, conn: Conn, settings: Config) -> Response:
    before = store.base_zoning(settings, desde)
    after = store.base_zoning(settings, hasta)
    return json_response(zoning_diff(before, after), "application/geo+json")

"""The project registry over HTTP: list, create, read, update (If-Match) and delete
investment projects, and their attachments. Reads are open like every layer; writes need
an editor, revisor or admin (deleting a project: revisor or admin)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any
from urllib.parse import quote

import psycopg
from fastapi import APIRouter, Depends, File, Form, Header, Path, Query, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from api.dependencies import get_connection, get_settings
from api.ogc import json_response
from api.security import require
from gis.auth import Role, User
from gis.errors import PlatformError
from gis.portfolio import attachments, store
from gis.portfolio.record import parse_project
from gis.proposals.geojson import from_lonlat_geojson
from gis.settings import Settings
from layers.projects import FUNDING_CODES, PROJECT_SECTORS, STAGES

router = APIRouter(prefix="/proyectos", tags=["Proyectos de inversión"])
Conn = Annotated[psycopg.Connection, Depends(get_connection)]
Config = Annotated[Settings, Depends(get_settings)]
Staff = Annotated[User, Depends(require(Role.EDITOR, Role.REVISOR, Role.ADMIN))]
Reviewer = Annotated[User, Depends(require(Role.REVISOR, Role.ADMIN))]
IfMatch = Annotated[str | None, Header(alias="If-Match")]
Code = Annotated[str, Path(max_length=40, description="Código BIP o municipal")]
Value = str | int | float | None


class FundingBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    fuente: str = Field(max_length=40, description=", ".join(FUNDING_CODES))
    anio: int | str
    solicitado: Value = None
    aprobado: Value = None
    comprometido: Value = None
    ejecutado: Value = None


class ProjectBody(BaseModel):
    """A project: its fields, funding by source and year, and its location as a GeoJSON
    geometry in longitude/latitude (Point, LineString, Polygon or their Multi forms).
    Amounts in CLP; numbers may also be written as in Chile ("1.500.000")."""

    model_config = ConfigDict(extra="forbid")
    codigo: str = Field(max_length=40)
    nombre: str = Field(max_length=500)
    sector: str = Field(max_length=60, description=", ".join(PROJECT_SECTORS))
    etapa: str = Field(max_length=40, description=", ".join(STAGES))
    descripcion: str | None = Field(default=None, max_length=5000)
    tipo: str | None = Field(default=None, max_length=40)
    situacion: str | None = Field(default=None, max_length=40)
    rate: str | None = Field(default=None, max_length=10)
    item_presupuestario: str | None = Field(default=None, max_length=20)
    unidad_responsable: str | None = Field(default=None, max_length=300)
    eje_pladeco: str | None = Field(default=None, max_length=300)
    objetivo_pladeco: str | None = Field(default=None, max_length=1000)
    beneficiarios: Value = None
    avance_fisico: Value = None
    avance_financiero: Value = None
    fecha_inicio: str | None = Field(default=None, max_length=30)
    fecha_termino: str | None = Field(default=None, max_length=30)
    financiamiento: list[FundingBody] = Field(default_factory=list, max_length=500)
    geometria: dict[str, Any] | None = Field(
        default=None, description="GeoJSON en longitud/latitud; obligatoria al crear")
    nota: str | None = Field(default=None, max_length=2000,
                             description="Motivo del cambio de etapa (historial)")


@contextmanager
def audited(conn: psycopg.Connection, user: User, action: str, target: str) -> Iterator[None]:
    """Record a refused write (any platform error) in the audit log, then re-raise."""
    try:
        yield
    except PlatformError as exc:
        store.refused(conn, user, action, target, exc)
        raise


def _project(body: ProjectBody) -> Any:
    data = body.model_dump(exclude={"geometria"})
    geometry = (from_lonlat_geojson(body.geometria, "ubicación del proyecto")
                if body.geometria is not None else None)
    return parse_project(data, geometry=geometry)


def _saved(saved: dict[str, Any], status: int = 200) -> Response:
    headers = {"ETag": saved["etag"]}
    if status == 201:
        headers["Location"] = f"/proyectos/{quote(saved['codigo'])}"
    response = json_response(saved, headers=headers)
    response.status_code = status
    return response


@router.get("", summary="Cartera de proyectos (resumen, con filtros)")
def list_projects(conn: Conn,
                  sector: Annotated[str | None, Query(max_length=60)] = None,
                  etapa: Annotated[str | None, Query(max_length=40)] = None,
                  fuente: Annotated[str | None, Query(max_length=40)] = None,
                  q: Annotated[str | None, Query(max_length=100,
                                                 description="Texto en código o nombre")] = None,
                  ) -> Response:
    return json_response({"proyectos": store.list_projects(conn, sector=sector, etapa=etapa,
                                                           fuente=fuente, text=q)})


@router.post("", summary="Crear un proyecto (editores)", status_code=201)
def create(body: ProjectBody, conn: Conn, settings: Config, user: Staff) -> Response:
    with audited(conn, user, "proyecto.crear", f"proyecto/{body.codigo[:40]}"):
        saved = store.create_project(conn, settings, user, _project(body))
    return _saved(saved, 201)


@router.get("/{codigo}", summary="Un proyecto: campos, financiamiento, historial, adjuntos")
def read(codigo: Code, conn: Conn) -> Response:
    return _saved(store.project_json(conn, codigo))


@router.put("/{codigo}", summary="Guardar cambios de un proyecto (If-Match obligatorio)")
def update(codigo: Code, body: ProjectBody, conn: Conn, settings: Config, user: Staff,
           if_match: IfMatch = None) -> Response:
    with audited(conn, user, "proyecto.editar", f"proyecto/{codigo}"):
        saved = store.update_project(conn, settings, user, codigo, _project(body), if_match)
    return _saved(saved)


@router.delete("/{codigo}", summary="Eliminar un proyecto (revisores)", status_code=204)
def delete(codigo: Code, conn: Conn, settings: Config, user: Reviewer,
           if_match: IfMatch = None) -> Response:
    with audited(conn, user, "proyecto.eliminar", f"proyecto/{codigo}"):
        store.delete_project(conn, settings, user, codigo, if_match)
    return Response(status_code=204)


@router.post("/{codigo}/adjuntos", summary="Adjuntar un documento o foto", status_code=201)
def attach(codigo: Code, conn: Conn, user: Staff, archivo: Annotated[UploadFile, File()],
           descripcion: Annotated[str | None, Form(max_length=1000)] = None) -> Response:
    with audited(conn, user, "proyecto.adjuntar", f"proyecto/{codigo}"):
        data = archivo.file.read(attachments.MAX_BYTES + 1)
        entry = attachments.add_attachment(conn, user.username, codigo,
                                           archivo.filename or "adjunto", data, descripcion)
    response = json_response(entry, headers={"Location": entry["url"]})
    response.status_code = 201
    return response


@router.get("/{codigo}/adjuntos/{adjunto}", summary="Descargar un adjunto")
def attachment(codigo: Code, adjunto: int, conn: Conn) -> Response:
    name, mime, data = attachments.get_attachment(conn, codigo, adjunto)
    return Response(data, media_type=mime, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
        "X-Content-Type-Options": "nosniff"})


@router.delete("/{codigo}/adjuntos/{adjunto}", summary="Eliminar un adjunto",
               status_code=204)
def detach(codigo: Code, adjunto: int, conn: Conn, user: Staff) -> Response:
    with audited(conn, user, "proyecto.eliminar_adjunto", f"proyecto/{codigo}"):
        attachments.delete_attachment(conn, user.username, codigo, adjunto)
    return Response(status_code=204)

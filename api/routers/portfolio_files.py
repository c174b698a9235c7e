"""Portfolio files over HTTP: import a spreadsheet of projects (editors, revisors, admins)
and download the registry as GeoPackage, GeoJSON, Excel or CSV (readers).

Registered before the projects router: ``/proyectos/importar`` and ``/proyectos/exportar``
must not be taken for project codes by ``/proyectos/{codigo}``.
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

import psycopg
from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from fastapi.responses import JSONResponse, Response

from api.dependencies import get_connection, get_settings
from api.security import require
from gis.auth import Role, User
from gis.errors import PlatformError
from gis.portfolio import store
from gis.portfolio.exporter import FORMATS, export_bytes
from gis.portfolio.importer import PortfolioImportError, import_portfolio
from gis.portfolio.sheets import MAX_BYTES, PortfolioFileTooLargeError, file_kind
from gis.settings import Settings

router = APIRouter(prefix="/proyectos", tags=["Proyectos de inversión"])
Conn = Annotated[psycopg.Connection, Depends(get_connection)]
Config = Annotated[Settings, Depends(get_settings)]
Staff = Annotated[User, Depends(require(Role.EDITOR, Role.REVISOR, Role.ADMIN))]


@router.post("/importar", summary="Importar una planilla de proyectos (.xlsx o .csv)")
def import_file(
    conn: Conn, settings: Config, user: Staff,
    archivo: Annotated[UploadFile, File(description="Planilla .xlsx o .csv (máx. 20 MB)")],
    hoja: Annotated[str | None, Form(max_length=100,
                                     description="Hoja del libro (la primera)")] = None,
    guardar_validos: Annotated[bool, Form(description="Guardar los proyectos válidos "
                                          "aunque haya filas con errores")] = False,
    simular: Annotated[bool, Form(description="Revisar sin guardar nada")] = False,
) -> Response:
    """The import report (rows read, projects created and updated, rejected rows with
    their reasons, warnings). When rows are rejected and nothing was saved: 422 with the
    report in ``informe``."""
    name = Path(archivo.filename or "cartera.xlsx").name
    try:
        data = archivo.file.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            raise PortfolioFileTooLargeError(
                f"El archivo «{name}» supera el máximo de {MAX_BYTES // 2**20} MB.",
                hint="Divida la cartera en varios archivos.")
        file_kind(name)
        with tempfile.TemporaryDirectory(prefix="secplac-import-") as tmp:
            path = Path(tmp) / f"cartera{Path(name).suffix.lower()}"
            path.write_bytes(data)
            report = import_portfolio(conn, settings, user, path, sheet=hoja,
                                      save_valid=guardar_validos, dry_run=simular, name=name)
    except PortfolioImportError as exc:
        store.refused(conn, user, "proyecto.importar", "proyectos", exc)
        return JSONResponse(status_code=exc.http_status, content={
            "code": type(exc).__name__, "description": exc.message, "hint": exc.hint,
            "informe": exc.informe})
    except PlatformError as exc:
        store.refused(conn, user, "proyecto.importar", "proyectos", exc)
        raise
    return JSONResponse(report)


@router.get("/exportar", summary="Descargar la cartera (GeoPackage, GeoJSON, Excel o CSV)")
def export_file(
    conn: Conn,
    formato: Annotated[Literal["gpkg", "geojson", "xlsx", "csv"], Query(
        description="gpkg (EPSG:32719), geojson (lon/lat), xlsx o csv")] = "xlsx",
    sector: Annotated[str | None, Query(max_length=60)] = None,
    etapa: Annotated[str | None, Query(max_length=40)] = None,
    fuente: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    media, suffix = FORMATS[formato]
    data = export_bytes(conn, formato, sector=sector, etapa=etapa, fuente=fuente)
    filename = f"cartera_proyectos_{date.today():%Y%m%d}{suffix}"
    return Response(data, media_type=media, headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
        "X-Content-Type-Options": "nosniff"})

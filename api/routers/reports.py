"""Printable reports: the dossier of a project (ficha) and the portfolio report for the
Concejo Municipal, as HTML pages and as A4 PDFs made by the server itself."""

from __future__ import annotations

from typing import Annotated

import psycopg
from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import HTMLResponse, Response

from api.dependencies import get_connection, get_settings
from gis.reports import (
    concejo_report_html,
    concejo_report_pdf,
    project_dossier_html,
    project_dossier_pdf,
)
from gis.reports.render import safe_filename
from gis.settings import Settings

router = APIRouter(tags=["Informes"])
Conn = Annotated[psycopg.Connection, Depends(get_connection)]
Config = Annotated[Settings, Depends(get_settings)]
Code = Annotated[str, Path(max_length=40, description="Código BIP o municipal del proyecto")]
Year = Annotated[int | None, Query(ge=1990, le=2100,
                                   description="Solo el financiamiento de este año")]
NO_CACHE = {"Cache-Control": "no-cache"}


def _pdf(content: bytes, filename: str) -> Response:
    return Response(content, media_type="application/pdf", headers={
        **NO_CACHE, "Content-Disposition": f'inline; filename="{filename}"'})


@router.get("/proyectos/{codigo}/ficha", response_class=HTMLResponse,
            summary="Ficha del proyecto (página imprimible)")
def dossier(codigo: Code, conn: Conn, settings: Config) -> HTMLResponse:
    """Ficha del proyecto: datos del registro, mapa de su entorno, perfil territorial,
    financiamiento por fuente y año, avance, historial de etapas y adjuntos."""
    return HTMLResponse(project_dossier_html(conn, settings, codigo), headers=NO_CACHE)


@router.get("/proyectos/{codigo}/ficha.pdf", response_class=Response,
            summary="Ficha del proyecto en PDF (A4)",
            responses={200: {"content": {"application/pdf": {}}}})
def dossier_pdf(codigo: Code, conn: Conn, settings: Config) -> Response:
    """La ficha del proyecto en PDF, generada en el servidor."""
    pdf = project_dossier_pdf(conn, settings, codigo)
    return _pdf(pdf, safe_filename(codigo, prefix="ficha-proyecto-", suffix=".pdf"))


@router.get("/informes/concejo", response_class=HTMLResponse,
            summary="Informe de la cartera para el Concejo Municipal")
def concejo(conn: Conn, settings: Config, anio: Year = None) -> HTMLResponse:
    """Resumen de la cartera, mapas de inversión por habitante y de proyectos por sector,
    ranking de necesidad, ejecución presupuestaria por año y por eje del PLADECO, cartera
    por etapa y fuente, y proyectos en zonas de riesgo."""
    return HTMLResponse(concejo_report_html(conn, settings, anio=anio), headers=NO_CACHE)


@router.get("/informes/concejo.pdf", response_class=Response,
            summary="Informe para el Concejo Municipal en PDF (A4)",
            responses={200: {"content": {"application/pdf": {}}}})
def concejo_pdf(conn: Conn, settings: Config, anio: Year = None) -> Response:
    """El informe para el Concejo en PDF, generado en el servidor."""
    pdf = concejo_report_pdf(conn, settings, anio=anio)
    name = f"informe-concejo-{anio}.pdf" if anio else "informe-concejo.pdf"
    return _pdf(pdf, name)

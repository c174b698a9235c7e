"""The landing page (Spanish HTML) listing the layers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import psycopg
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from api.dependencies import get_connection
from gis.catalog import catalog

router = APIRouter(tags=["Inicio"])
templates = Jinja2Templates(directory=Path(__file__).parent.parent / "templates")


@router.get("/", response_class=HTMLResponse, summary="Página de inicio")
def landing(request: Request,
            conn: Annotated[psycopg.Connection, Depends(get_connection)]) -> HTMLResponse:
    entries = catalog(conn)
    themes: dict[str, list] = {}  # type: ignore[type-arg]
    for e in entries:
        themes.setdefault(e.layer.theme.value, []).append(e)
    return templates.TemplateResponse(request, "landing.html", {"themes": themes})

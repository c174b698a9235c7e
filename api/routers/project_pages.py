"""The investment projects page at /proyectos/mapa: every project of the registry on the
map, coloured by stage, with filters (funding source, stage, sector, year), a table, each
project's panel (fields, funding by source and year, stage history, attachments and its
territorial profile) and, for editors, a form to create and edit projects with their
funding and their location drawn on the map. The page only loads this server's files,
tiles and API (``/proyectos``).

The form's fields, their choices and limits come from the layer declaration
(``layers.projects``, through :data:`gis.portfolio.record.INPUT_FIELDS`), embedded in the
page: they are declared once. This router goes before ``projects.router`` in
``api.app.ROUTERS``: otherwise ``/proyectos/{codigo}`` would take ``/proyectos/mapa``.
A page opens one project with ``/proyectos/mapa?codigo=<código>``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.ogc import base_url, templates
from gis.auth import Role
from gis.portfolio.record import AMOUNTS, INPUT_FIELDS, MAX_TEXT
from gis.styles import legend, style_layers
from layers import get_layer
from layers.base import Field, FieldType, VectorLayer
from layers.projects import FUNDING_SOURCES, LAYER, PLADECO_AXES, PROJECT_SECTORS, STAGES

router = APIRouter(tags=["Proyectos de inversión"])

CONTEXT_LAYERS = ("comunas", "urban_limit")
"""Layers drawn under the projects, always."""
OPTIONAL_LAYERS = ("zoning", "hazard_zones", "census_zones", "port_routes")
"""Reference layers the page offers to switch on (off at start)."""
EDIT_ROLES = (Role.EDITOR, Role.REVISOR, Role.ADMIN)
"""Who may create and edit projects and attach files (as ``api.routers.projects``)."""
DELETE_ROLES = (Role.REVISOR, Role.ADMIN)
"""Who may delete a project."""
LONG_TEXT = ("descripcion", "objetivo_pladeco")
"""Text fields edited in a multi-line box."""
AMOUNT_TITLES = {"solicitado": "Solicitado", "aprobado": "Aprobado",
                 "comprometido": "Comprometido", "ejecutado": "Ejecutado"}
INPUT_KINDS = {FieldType.TEXT: "texto", FieldType.INTEGER: "entero",
               FieldType.FLOAT: "decimal", FieldType.DATE: "fecha"}


def form_field(field: Field) -> dict[str, Any]:
    """One field of the project form, as the page builds its input from it."""
    labels = dict(field.labels)
    out: dict[str, Any] = {
        "nombre": field.name, "titulo": field.title, "tipo": INPUT_KINDS[field.type],
        "obligatorio": field.required, "unidad": field.unit,
        "minimo": field.minimum, "maximo": field.maximum,
        "largo": field.name in LONG_TEXT, "largo_maximo": MAX_TEXT,
    }
    if field.choices:
        out["opciones"] = [{"valor": c, "etiqueta": f"{c} — {labels[c]}" if c in labels
                            else c} for c in field.choices]
    if field.name == "eje_pladeco":
        out["sugerencias"] = list(PLADECO_AXES)
    return out


def page_style(base: str) -> dict[str, Any]:
    """A MapLibre style with only what the page shows: the projects over the comuna, and
    a few reference layers (hidden), each from its own vector tileset (the tiles stay
    light: no parcels unless asked for)."""
    names = (*CONTEXT_LAYERS, *OPTIONAL_LAYERS, LAYER.name)
    sources: dict[str, Any] = {}
    drawn: list[dict[str, Any]] = [{"id": "fondo", "type": "background",
                                    "paint": {"background-color": "#eef2f3"}}]
    legends: dict[str, Any] = {}
    for name in names:
        layer = get_layer(name)
        assert isinstance(layer, VectorLayer)
        url = f"{base}/collections/{name}/tiles/WebMercatorQuad/tilejson.json"
        sources[name] = {"type": "vector", "url": url}
        drawn += style_layers(layer, name, name, visible=name not in OPTIONAL_LAYERS)
        legends[name] = legend(layer)
    return {"version": 8, "name": "Proyectos de inversión",
            "metadata": {"secplac:leyendas": legends},
            "center": [-71.60, -33.59], "zoom": 11.5, "sources": sources, "layers": drawn}


@router.get("/proyectos/mapa", summary="Proyectos de inversión en el mapa",
            response_class=HTMLResponse)
def projects_map(request: Request) -> HTMLResponse:
    base = base_url(request)
    config = {
        "estilo": page_style(base),
        "proyectos": f"{base}/proyectos",
        "capa": LAYER.name,
        "capas_opcionales": {name: get_layer(name).title for name in OPTIONAL_LAYERS},
        "campos": [form_field(f) for f in INPUT_FIELDS],
        "fuentes": [{"codigo": c, "nombre": n} for c, n in FUNDING_SOURCES],
        "etapas": list(STAGES),
        "sectores": list(PROJECT_SECTORS),
        "montos": [{"nombre": a, "titulo": AMOUNT_TITLES[a]} for a in AMOUNTS],
        "roles_edicion": [r.value for r in EDIT_ROLES],
        "roles_eliminacion": [r.value for r in DELETE_ROLES],
    }
    return templates.TemplateResponse(request, "proyectos.html", {"config": config})

"""The project dossier (ficha de proyecto): everything the platform knows about one
investment project on a few printable pages, in Spanish.

Header (code, name, sector, type, stage, situation, RATE, budget item, responsible unit,
PLADECO axis and objective, beneficiaries, dates), a map of the project and its
surroundings, its territorial profile (``gis.profile.current_profile``), funding by
source and year with totals and warnings, progress, stage history and attachments.

Examples
--------
>>> with connect(settings) as conn:                                   # doctest: +SKIP
...     html = project_dossier_html(conn, settings, "30132469-3")
...     pdf = project_dossier_pdf(conn, settings, "30132469-3")
"""

from __future__ import annotations

from itertools import groupby
from typing import Any

import psycopg

from gis.portfolio.record import AMOUNTS
from gis.portfolio.store import project_json
from gis.profile import current_profile
from gis.reports.render import html_to_pdf, png_uri, render_template
from gis.reports.staticmaps import MAP_RADIUS_M, project_map_png
from gis.settings import Settings
from layers.codes import SII_DESTINOS
from layers.projects import BUDGET_ITEMS, FUNDING_CODES, FUNDING_SOURCES, RATE_RESULTS

FIRST_PARCELS = 15
"""Parcels listed one by one in the dossier (all are counted)."""


def project_dossier_html(conn: psycopg.Connection, settings: Settings, codigo: str) -> str:
    """The dossier of project ``codigo`` as a self-contained HTML page (map embedded).

    Raises ``ProjectNotFoundError`` (404) for an unknown code.
    """
    return render_template("dossier.html", **dossier_context(conn, settings, codigo))


def project_dossier_pdf(conn: psycopg.Connection, settings: Settings, codigo: str) -> bytes:
    """The dossier of project ``codigo`` as an A4 PDF made on this machine."""
    return html_to_pdf(project_dossier_html(conn, settings, codigo))


def dossier_context(conn: psycopg.Connection, settings: Settings, codigo: str
                    ) -> dict[str, Any]:
    """What the dossier template shows: the registry record, its labels, the profile, the
    map, the funding table and the progress figures."""
    project = project_json(conn, codigo)
    profile = current_profile(conn, settings, codigo)
    totals = project["totales"]
    return {
        "p": project,
        "perfil": profile,
        "etiquetas": {
            "rate": dict(RATE_RESULTS).get(project["rate"] or ""),
            "item": dict(BUDGET_ITEMS).get(project["item_presupuestario"] or ""),
            "fuentes": dict(FUNDING_SOURCES),
        },
        "mapa": png_uri(project_map_png(conn, codigo)),
        "radio_mapa": MAP_RADIUS_M,
        "financiamiento": funding_groups(project["financiamiento"]),
        "totales": totals,
        "advertencias": project["advertencias"],
        "avance": progress(project, totals),
        "predios": profile["predios"]["predios"][:FIRST_PARCELS],
        "destinos": SII_DESTINOS,
    }


def funding_groups(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Funding rows grouped by source (in the declared order of the sources), each group
    with its years, its subtotal and whether a year executed more than was approved."""
    ordered = sorted(rows, key=lambda r: (_source_order(r["fuente"]), r["anio"]))
    groups = []
    for source, items in groupby(ordered, key=lambda r: r["fuente"]):
        years = [{**r, "excede": r["ejecutado"] > r["aprobado"]} for r in items]
        groups.append({
            "fuente": source, "filas": years,
            "subtotal": {a: sum(int(r[a]) for r in years) for a in AMOUNTS},
        })
    return groups


def _source_order(source: str) -> int:
    return FUNDING_CODES.index(source) if source in FUNDING_CODES else len(FUNDING_CODES)


def progress(project: dict[str, Any], totals: dict[str, int]) -> list[dict[str, Any]]:
    """The progress bars: physical and financial progress as declared, and the budget
    execution computed from the funding (executed over approved)."""
    executed = (100 * totals["ejecutado"] / totals["aprobado"]) if totals["aprobado"] else None
    return [
        {"nombre": "Avance físico", "valor": project["avance_fisico"],
         "nota": "declarado por la unidad responsable"},
        {"nombre": "Avance financiero", "valor": project["avance_financiero"],
         "nota": "declarado por la unidad responsable"},
        {"nombre": "Ejecución presupuestaria", "valor": executed,
         "nota": "monto ejecutado sobre monto aprobado"},
    ]

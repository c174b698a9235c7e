"""The portfolio report for the Concejo Municipal (informe de cartera): where the
investment goes, against need, how the budget is executed, and which projects lie in
hazard zones, as a self-contained HTML page or an A4 PDF.

The aggregations come from :mod:`gis.investment` (investment by planning sector and need
ranking, budget execution) and :mod:`gis.charts`; the hazards from the stored territorial
profiles (:func:`gis.profile.profiles_table`).

Examples
--------
>>> with connect(settings) as conn:                                   # doctest: +SKIP
...     pdf = concejo_report_pdf(conn, settings, anio=2025)
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import pandas as pd
import psycopg
import shapely

from gis.charts import execution_chart, investment_per_inhabitant_chart
from gis.investment import budget_execution, check_filters, investment_by_territory
from gis.portfolio.record import AMOUNTS
from gis.profile import profiles_table
from gis.reports.render import SQL, html_to_pdf, png_uri, render_template, svg_uri
from gis.reports.staticmaps import investment_choropleth_png, projects_by_sector_png
from gis.settings import Settings
from layers.base import STORAGE_SRID
from layers.projects import FUNDING_SOURCES, STAGES


def concejo_report_html(conn: psycopg.Connection, settings: Settings, *,
                        anio: int | None = None) -> str:
    """The Concejo report of the whole portfolio (or of the funding of year ``anio``) as
    a self-contained HTML page (maps and charts embedded)."""
    return render_template("concejo.html", **concejo_context(conn, settings, anio=anio))


def concejo_report_pdf(conn: psycopg.Connection, settings: Settings, *,
                       anio: int | None = None) -> bytes:
    """The Concejo report as an A4 PDF made on this machine."""
    return html_to_pdf(concejo_report_html(conn, settings, anio=anio))


def concejo_context(conn: psycopg.Connection, settings: Settings, *,
                    anio: int | None = None) -> dict[str, Any]:
    """What the Concejo template shows (see the module docstring)."""
    check_filters(anio=anio)
    projects = portfolio(conn, anio=anio)
    sectors = investment_by_territory(conn, "sector", anio=anio)
    by_year = budget_execution(conn, "anio", anio=anio)
    by_axis = budget_execution(conn, "eje_pladeco", anio=anio)
    by_source = budget_execution(conn, "fuente", anio=anio)
    points = gpd.GeoDataFrame(projects[["codigo", "sector"]],
                              geometry=list(projects["punto"]), crs=STORAGE_SRID)
    return {
        "anio": anio,
        "resumen": summary(projects),
        "mapa_inversion": png_uri(investment_choropleth_png(sectors)),
        "mapa_proyectos": png_uri(projects_by_sector_png(sectors, points)),
        "sectores": _records(sectors.drop(columns="geometry").sort_values("ranking")),
        "grafico_habitante": svg_uri(investment_per_inhabitant_chart(sectors)),
        "por_anio": _grouped(by_year),
        "grafico_anio": svg_uri(execution_chart(by_year)),
        "por_eje": _grouped(by_axis),
        "grafico_eje": svg_uri(execution_chart(by_axis)),
        "por_fuente": _grouped(by_source),
        "fuentes": dict(FUNDING_SOURCES),
        "por_etapa": by_stage(projects),
        "riesgos": hazard_projects(conn, settings, set(projects["codigo"])),
    }


def portfolio(conn: psycopg.Connection, *, anio: int | None = None) -> pd.DataFrame:
    """One row per project in the report (with ``anio``: those funded that year) with its
    sector, stage, sources, cost and amounts of the year (or of all years), and a point
    on it (``punto``, storage CRS)."""
    with conn.cursor() as cur:
        cur.execute(SQL["portfolio"], {"anio": anio})  # type: ignore[arg-type]
        columns = [d.name for d in cur.description or ()]
        frame = pd.DataFrame(cur.fetchall(), columns=columns)
    frame["punto"] = [shapely.from_wkb(bytes(g)) for g in frame["punto"]]
    for column in ("costo", *AMOUNTS):
        frame[column] = frame[column].astype("int64")
    return frame


def summary(projects: pd.DataFrame) -> dict[str, Any]:
    """Headline figures: number of projects, total cost, approved, executed and the
    executed share of the approved amount."""
    approved, executed = int(projects["aprobado"].sum()), int(projects["ejecutado"].sum())
    return {
        "proyectos": len(projects), "costo": int(projects["costo"].sum()),
        "aprobado": approved, "ejecutado": executed,
        "pct_ejecucion": 100 * executed / approved if approved else None,
    }


def by_stage(projects: pd.DataFrame) -> list[dict[str, Any]]:
    """Projects and amounts by stage, in the order of the stages (empty stages left out)."""
    rows = []
    for stage in [*STAGES, *sorted(set(projects["etapa"]) - set(STAGES))]:
        part = projects[projects["etapa"] == stage]
        if len(part):
            rows.append({"etapa": stage, "n_proyectos": len(part),
                         "costo": int(part["costo"].sum()),
                         **{a: int(part[a].sum()) for a in AMOUNTS}})
    return rows


def hazard_projects(conn: psycopg.Connection, settings: Settings, codes: set[str]
                    ) -> list[dict[str, Any]]:
    """Projects among ``codes`` whose territorial profile meets a hazard zone, with the
    hazard types and levels; those with a high level first."""
    table = profiles_table(conn, settings)
    table = table[table["codigo"].isin(codes) & (table["riesgos"].fillna("") != "")]
    table = table.sort_values(["riesgo_alto", "codigo"], ascending=[False, True])
    return _records(table[["codigo", "nombre", "sector", "etapa", "riesgos", "riesgo_alto"]])


def _grouped(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of a :func:`gis.investment.budget_execution` result with their group as
    ``grupo``."""
    return _records(frame.reset_index().rename(columns={frame.index.name or "index": "grupo"}))


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts with missing values as ``None`` (for the templates' filters)."""
    clean = frame.astype(object).where(frame.notna(), None)
    return clean.to_dict("records")  # type: ignore[no-any-return]

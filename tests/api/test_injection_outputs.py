"""Hostile text stored in the platform, and what the platform makes of it. A project whose
name, description and other fields hold HTML, script and spreadsheet formulas is created
through the API (and deleted at the end, as is a proposal with a hostile title):

- spreadsheets: the portfolio's CSV and Excel downloads, and an analysis whose sector name
  is a formula, exported to CSV and Excel, have no cell a spreadsheet would run as a
  formula; negative numbers (longitudes, latitudes) stay numbers;
- HTML: the project's report (HTML and PDF), the project's folium map,
  the viewer's popup, the projects page and the proposals page show the text literally:
  no dialog opens, no element is injected, nothing is run. The folium investment and
  diagnosis maps and the territorial report of a parcel are checked with hostile names
  written inside a transaction that is rolled back (the demo data is shared)."""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import markupsafe
import openpyxl
import psycopg
import pytest

from gis.analysis.diagnosis import diagnosis_map
from gis.analysis.exports import export
from gis.analysis.invoke import run_analysis
from gis.analysis.report import parcel_report_html
from gis.database import connect
from gis.investment import investment_by_territory, investment_map
from gis.portfolio import store
from gis.settings import Settings
from tests.api.test_maps import click_map_centre
from tests.api.test_project_pages import inside_the_comuna
from tests.api.test_proposals import auth, tokens  # noqa: F401  (fixture)
from tests.api.test_viewer import IDLE, screen_position
from tests.gis.test_export_injection import HOSTILE, csv_formulas, csv_text, xlsx_formulas

CODE = "INY-2026-001"
NAME = '=1+1 <img src=x onerror="window.atacado=1;alert(1)"><script>alert(2)</script>'
TEXTS = {"nombre": NAME, "descripcion": "-2+3+cmd|' /C calc'!A0\r=1+1\n@SUM(1)",
         "unidad_responsable": HOSTILE[3], "objetivo_pladeco": HOSTILE[1]}
RAW = ("<script>alert(2)", "<img src=x")
"""What must never appear unescaped in a page."""
INJECTED = "document.querySelectorAll('img[src=\"x\"]').length"
"""Images with the payload's source: none may be in the page."""
READY = "document.body.dataset.estado === 'listo' && document.body.dataset.ocupado !== 'si'"


@pytest.fixture(scope="module")
def project(server: str, tokens: dict[str, str],  # noqa: F811
            api_settings: Settings) -> Iterator[dict[str, Any]]:
    """The hostile project (a point inside the comuna), deleted afterwards."""
    lon, lat = inside_the_comuna(api_settings)
    body = {"codigo": CODE, **TEXTS, "sector": "áreas verdes", "etapa": "diseño",
            "tipo": "proyecto", "geometria": {"type": "Point", "coordinates": [lon, lat]},
            "financiamiento": [{"fuente": "PMU", "anio": 2026, "solicitado": 59_000_000,
                                "aprobado": 59_000_000}]}
    with httpx.Client(base_url=server, timeout=60) as client:
        created = client.post("/proyectos", json=body, headers=auth(tokens, "editora"))
    assert created.status_code == 201, created.text
    yield {"lon": lon, "lat": lat, **created.json()}
    with connect(api_settings) as conn:
        conn.autocommit = True
        for (code,) in conn.execute("SELECT codigo FROM cartera.registro "
                                    "WHERE codigo LIKE 'INY-%%'").fetchall():
            store.delete_project(conn, api_settings, "pruebas", code, "*")


@pytest.fixture
def dialogs(page: Any) -> list[str]:
    """Messages of every dialog the page opens (alert, confirm...): none is expected."""
    opened: list[str] = []
    page.on("dialog", lambda d: (opened.append(d.message), d.dismiss()))
    return opened


def wait_until(page: Any, condition: str, timeout: float = 30) -> None:
    """Poll a JavaScript condition with ``page.evaluate``: the pages' Content-Security-
    Policy has no 'unsafe-eval', which Playwright's ``wait_for_function`` needs."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(f"() => Boolean({condition})"):
        assert time.monotonic() < deadline, f"still false after {timeout} s: {condition}"
        time.sleep(0.1)


def assert_not_run(page: Any, dialogs: list[str]) -> None:
    assert dialogs == []
    assert page.evaluate("window.atacado") is None
    assert page.evaluate(INJECTED) == 0


# --- spreadsheets ---------------------------------------------------------------------------

def test_portfolio_downloads_have_no_formula_cells(http: httpx.Client,
                                                   project: dict[str, Any]) -> None:
    got = http.get("/proyectos/exportar", params={"formato": "csv"})
    assert got.status_code == 200
    text = csv_text(got.content)
    assert csv_formulas(text) == []
    rows = {r["Código (BIP o municipal)"]: r for r in
            csv.DictReader(io.StringIO(text, newline=""))}
    row = rows[CODE]
    assert row["Nombre"] == "'" + NAME
    assert row["Descripción"] == "'" + TEXTS["descripcion"]
    assert row["Unidad responsable"] == "'" + TEXTS["unidad_responsable"]
    assert float(row["Longitud"]) == pytest.approx(project["lon"], abs=1e-6)
    assert float(row["Latitud"]) < 0
    got = http.get("/proyectos/exportar", params={"formato": "xlsx"})
    assert got.status_code == 200 and xlsx_formulas(got.content) == []
    sheet = openpyxl.load_workbook(io.BytesIO(got.content))["Proyectos"]
    header = [c.value for c in sheet[1]]
    [cells] = [r for r in sheet.iter_rows(min_row=2) if r[0].value == CODE]
    by_name = dict(zip(header, cells, strict=True))
    assert by_name["Nombre"].value == "'" + NAME
    for axis in ("Longitud", "Latitud"):
        assert by_name[axis].data_type == "n" and by_name[axis].value < 0


def test_analysis_exports_of_a_formula_sector_name(api_settings: Settings,
                                                   tmp_path: Path) -> None:
    """Sector names reach the diagnosis; one that is a formula is escaped in CSV and
    Excel and its folium map shows it as text (the change is rolled back)."""
    with psycopg.connect(api_settings.database_url) as conn:
        try:
            conn.execute("UPDATE layers.planning_sectors SET nombre = %s WHERE codigo = "
                         "(SELECT min(codigo) FROM layers.planning_sectors)", (HOSTILE[0],))
            result = run_analysis(conn, "diagnostico_sectores", geometria=True)
            page = diagnosis_map(result).get_root().render()
        finally:
            conn.rollback()
    assert HOSTILE[0] in set(result["nombre"])
    assert not any(r in page for r in RAW)
    csv_file = export(result, tmp_path / "diagnostico.csv")
    assert csv_formulas(csv_text(csv_file.read_bytes())) == []
    assert "'" + HOSTILE[0].replace('"', '""') in csv_file.read_text(encoding="utf-8-sig")
    assert xlsx_formulas(export(result.drop(columns="geometry"),
                                tmp_path / "diagnostico.xlsx")) == []


# --- reports and folium maps -----------------------------------------------------------------

def test_reports_escape_the_name(http: httpx.Client, project: dict[str, Any]) -> None:
    from tests.api.test_reports import pdf_text

    page = http.get(f"/proyectos/{CODE}/ficha")
    assert page.status_code == 200
    assert not any(r in page.text for r in RAW)
    assert str(markupsafe.escape(NAME)) in page.text
    pdf = http.get(f"/proyectos/{CODE}/ficha.pdf")
    assert pdf.status_code == 200
    text = re.sub(r"\s", "", pdf_text(pdf.content)[0])  # lines wrap anywhere
    assert re.sub(r"\s", "", NAME) in text  # printed as text, not dropped as markup


def test_ogc_html_pages_escape_the_name(http: httpx.Client, project: dict[str, Any]) -> None:
    listing = http.get("/collections/projects/items", params={"f": "html", "codigo": CODE})
    assert listing.status_code == 200 and CODE in listing.text
    assert not any(r in listing.text for r in RAW)
    fid = http.get("/collections/projects/items", params={"codigo": CODE}
                   ).json()["features"][0]["id"]
    single = http.get(f"/collections/projects/items/{fid}", params={"f": "html"})
    assert single.status_code == 200 and not any(r in single.text for r in RAW)
    assert str(markupsafe.escape(NAME)) in single.text


def test_page_scripts_never_parse_data_as_html() -> None:
    """The viewer's, projects' and proposals' scripts build the DOM with textContent
    (``el`` in mapa-format.js): no API that parses a string as HTML is used."""
    static = Path(__file__).resolve().parents[2] / "api" / "static"
    parsing = re.compile(r"\.(innerHTML|outerHTML|insertAdjacentHTML|setHTML)\b|"
                         r"document\.write|DOMParser|createContextualFragment")
    found = [f"{path.name}: {m.group(0)}" for path in sorted(static.glob("*.js"))
             for m in parsing.finditer(path.read_text(encoding="utf-8"))]
    assert found == []


def test_territorial_report_and_investment_map_escape_names(api_settings: Settings) -> None:
    with psycopg.connect(api_settings.database_url) as conn:
        try:
            rol, zone = conn.execute(
                "SELECT p.rol, z.codigo FROM layers.parcels AS p JOIN layers.zoning AS z "
                "ON ST_Intersects(z.geom, ST_PointOnSurface(p.geom)) ORDER BY p.fid "
                "LIMIT 1").fetchone()
            conn.execute("UPDATE layers.parcels SET direccion = %s WHERE rol = %s",
                         (NAME, rol))
            conn.execute("UPDATE layers.zoning SET nombre = %s WHERE codigo = %s",
                         (NAME, zone))
            report = parcel_report_html(conn, api_settings, rol=rol)
            territory = investment_by_territory(conn, "sector")
        finally:
            conn.rollback()
    assert not any(r in report for r in RAW)
    assert report.count(str(markupsafe.escape(NAME))) >= 2  # the address and the zone
    territory.loc[territory.index[0], "nombre"] = NAME
    folium_page = investment_map(territory).get_root().render()
    assert not any(r in folium_page for r in RAW)


def test_project_folium_map_shows_the_name_as_text(page: Any, server: str,
                                                   dialogs: list[str],
                                                   project: dict[str, Any]) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{server}/mapas/proyectos/{CODE}")
    wait_until(page, "document.querySelectorAll('path.leaflet-interactive').length > 0")
    assert NAME in page.title()
    assert NAME in page.locator(".secplac-map-title").inner_text()
    click_map_centre(page)  # the map opens centred on the project's marker
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert NAME in popup.inner_text()
    assert popup.locator("img, script").count() == 0
    assert_not_run(page, dialogs)
    assert errors == []


# --- the planners' pages ------------------------------------------------------------------------

def test_viewer_popup_shows_the_name_as_text(page: Any, server: str, dialogs: list[str],
                                             project: dict[str, Any]) -> None:
    page.goto(f"{server}/mapa#mapa=18/{project['lat']}/{project['lon']}&capas=projects")
    wait_until(page, READY)
    page.evaluate(IDLE)
    page.mouse.click(*screen_position(page, project["lon"], project["lat"]))
    card = page.locator(".maplibregl-popup .ficha")
    wait_until(page, "document.querySelector('.maplibregl-popup .ficha')?.innerText"
               f".includes('{CODE}')", 10)
    assert NAME in card.inner_text()
    assert card.locator("img, script").count() == 0
    assert_not_run(page, dialogs)


def test_projects_page_shows_the_name_as_text(page: Any, server: str, dialogs: list[str],
                                              project: dict[str, Any]) -> None:
    page.goto(f"{server}/proyectos/mapa?codigo={CODE}")
    wait_until(page, f"{READY} && document.body.dataset.perfil === '{CODE}'")
    assert page.locator("#titulo-proyecto").inner_text() == f"{CODE} · {NAME}"
    row = page.locator(f"#tabla-proyectos tbody tr[data-codigo='{CODE}']")
    assert NAME in row.inner_text()
    assert_not_run(page, dialogs)


@pytest.fixture
def proposal(http: httpx.Client, tokens: dict[str, str],  # noqa: F811
             api_settings: Settings) -> Iterator[int]:
    """A proposal with a hostile title and justification, deleted afterwards."""
    made = http.post("/propuestas", json={"titulo": NAME, "justificacion": TEXTS["descripcion"]},
                     headers=auth(tokens, "editora"))
    assert made.status_code in (200, 201), made.text
    number = int(made.json()["id"])
    yield number
    with psycopg.connect(api_settings.database_url, autocommit=True) as conn, \
            conn.transaction():
        for table in ("comments", "transitions", "changes", "proposals"):
            column = "id" if table == "proposals" else "proposal_id"
            conn.execute(f"DELETE FROM proposals.{table} WHERE {column} = %s",  # noqa: S608
                         (number,))


def test_proposals_page_shows_the_title_as_text(page: Any, server: str, dialogs: list[str],
                                                proposal: int) -> None:
    page.goto(f"{server}/propuestas/mapa#propuesta={proposal}")
    wait_until(page, f"{READY} && document.querySelector('#propuesta-titulo')?.innerText")
    title = page.locator("#propuesta-titulo")
    assert title.inner_text() == f"Propuesta {proposal}: {NAME}"
    assert page.locator("#propuesta-justificacion").inner_text().startswith("-2+3+cmd")
    item = page.locator(f"#lista-propuestas li[data-id='{proposal}']")
    assert NAME in item.text_content()
    assert_not_run(page, dialogs)

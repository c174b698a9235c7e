"""The printed reports (project dossier, Concejo portfolio report) on small hand-made
layers: rendered to HTML and to PDF, and checked by the text a reader sees."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import psycopg
import pytest
import shapely
from pypdf import PdfReader

from gis.database import connect
from gis.ingest import ingest
from gis.portfolio import store
from gis.portfolio.record import parse_project
from gis.portfolio.store import ProjectNotFoundError
from gis.profile import profiles_table
from gis.reports import (
    concejo_report_html,
    concejo_report_pdf,
    project_dossier_html,
    project_dossier_pdf,
)
from gis.reports.render import day, distance, money, number, percent, safe_filename
from gis.reports.staticmaps import nice_length, project_map_png
from gis.settings import Settings
from tests.conftest import query
from tests.samples import ORIGIN

X, Y = ORIGIN
HOSTILE = "<script>alert(1)</script> Plaza <b>Llolleo</b>"


def box(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    return shapely.box(X + x0, Y + y0, X + x1, Y + y1)


def load(settings: Settings, tmp_path: Path, layer: str, rows: list[dict[str, Any]],
         geoms: list[Any]) -> None:
    path = tmp_path / f"{layer}.gpkg"
    gpd.GeoDataFrame(rows, geometry=geoms, crs=32719).to_file(path, driver="GPKG")
    ingest(settings, layer, path)


def pdf_text(pdf: bytes) -> tuple[str, int]:
    """The text of every page, whitespace collapsed, and the number of pages."""
    reader = PdfReader(io.BytesIO(pdf))
    text = " ".join(page.extract_text() for page in reader.pages)
    return re.sub(r"\s+", " ", text), len(reader.pages)


CESFAM = {
    "codigo": "30132469-3", "nombre": "Construcción CESFAM Llolleo", "sector": "salud",
    "etapa": "diseño", "tipo": "proyecto", "situacion": "nueva", "rate": "RS",
    "item_presupuestario": "31.02.004", "unidad_responsable": "SECPLAC",
    "eje_pladeco": "Desarrollo social y calidad de vida", "beneficiarios": 12500,
    "avance_fisico": 35.5, "avance_financiero": 20, "fecha_inicio": "01-03-2025",
    "fecha_termino": "2027-12-31",
    "financiamiento": [
        {"fuente": "FNDR", "anio": 2025, "solicitado": 1_500_000_000,
         "aprobado": 1_200_000_000, "ejecutado": 300_000_000},
        {"fuente": "PMU", "anio": 2025, "aprobado": 100_000, "ejecutado": 150_000},
        {"fuente": "municipal", "anio": 2026, "solicitado": 80_000_000}],
}
PLAZA = {"codigo": "MUN-2025-001", "nombre": HOSTILE, "sector": "áreas verdes",
         "etapa": "idea",
         "financiamiento": [{"fuente": "municipal", "anio": 2025, "aprobado": 45_000_000}]}
CALLE = {"codigo": "MUN-2024-002", "nombre": "Pavimentación calle Los Aromos",
         "sector": "vialidad", "etapa": "ejecución",
         "financiamiento": [{"fuente": "FRIL", "anio": 2024, "aprobado": 90_000_000,
                             "ejecutado": 60_000_000}]}


@pytest.fixture
def portfolio(settings: Settings, tmp_path: Path) -> Settings:
    """Two PRC zones, parcels, two hazard zones, a census zone, a sector, a truck route
    and three projects saved through the registry: the CESFAM (over both zones, in the
    tsunami zone), a plaza with a hostile name (no hazard) and a street (flood zone)."""
    put = lambda layer, rows, geoms: load(settings, tmp_path, layer, rows, geoms)  # noqa: E731
    put("comunas", [{"codigo_comuna": "05601", "nombre": "San Antonio"}],
        [box(-5000, -5000, 5000, 5000)])
    put("zoning", [
        {"codigo": "ZH-7", "nombre": "Habitacional 7", "familia": "residencial",
         "usos_permitidos": "residencial; equipamiento salud", "altura_maxima": 10.5},
        {"codigo": "ZM-3", "nombre": "Mixta 3", "familia": "mixta",
         "usos_permitidos": "residencial", "usos_prohibidos": "equipamiento salud"}],
        [box(0, 0, 100, 100), box(100, 0, 200, 100)])
    put("parcels", [{"rol": "100-1", "destino": "H", "direccion": "Los Aromos 10"},
                    {"rol": "100-2", "destino": "C"}],
        [box(0, 0, 100, 50), box(100, 0, 200, 50)])
    put("hazard_zones", [{"tipo": "tsunami", "nivel": "alto"},
                         {"tipo": "inundación", "nivel": "bajo"}],
        [box(0, 0, 75, 100), box(1900, -100, 2100, 100)])
    put("census_zones", [{"geocodigo": "05601011001", "codigo_comuna": "05601",
                          "poblacion": 1000, "pob_0_5": 100, "pob_6_14": 150,
                          "pob_15_64": 600, "pob_65_mas": 150}],
        [box(-500, -500, 2500, 500)])
    put("planning_sectors", [{"codigo": "U-06", "nombre": "Llolleo", "area_tipo": "urbana"}],
        [box(-3000, -3000, 3000, 3000)])
    put("port_routes", [{"nombre": "Ruta de prueba", "categoria": "ruta de camiones urbana",
                         "ruta_camiones": True}],
        [shapely.LineString([(X - 500, Y + 300), (X + 500, Y + 300)])])
    with connect(settings) as conn:
        conn.autocommit = True
        for data, geometry in ((CESFAM, box(50, 25, 150, 75)),
                               (PLAZA, shapely.Point(X + 1000, Y + 800)),
                               (CALLE, shapely.LineString([(X + 1950, Y), (X + 2050, Y)]))):
            store.create_project(conn, settings, "ana", parse_project(data, geometry=geometry))
    return settings


# --- formats -------------------------------------------------------------------------------

def test_chilean_formats() -> None:
    assert money(1_500_000) == "$ 1.500.000" and money(None) == "—"
    assert number(12500) == "12.500" and number(45.56, 1) == "45,6"
    assert percent(45.5) == "45,5 %" and percent(None) == "—"
    assert day("2025-03-01") == "01-03-2025" and day(None) == "—"
    assert distance(312.4) == "312 m" and distance(1250) == "1,25 km"
    assert distance(1000) == "1 km"
    assert nice_length(2000) == 500 and nice_length(28_000) == 5000
    assert safe_filename('a"b/c', prefix="f-", suffix=".pdf") == "f-a_b_c.pdf"


# --- dossier -------------------------------------------------------------------------------

def test_dossier_html_has_registry_profile_funding_and_progress(portfolio: Settings) -> None:
    with connect(portfolio) as conn:
        conn.autocommit = True
        html = project_dossier_html(conn, portfolio, "30132469-3")
    for text in ("30132469-3", "Construcción CESFAM Llolleo", "RS: recomendado satisfactoriamente",
                 "31.02.004: Proyectos: obras civiles", "Desarrollo social y calidad de vida",
                 "12.500 personas", "01-03-2025", "31-12-2027",
                 "ZH-7", "ZM-3", "prohibido", "tsunami", "00100-00001", "Ruta de prueba",
                 "05601011001", "Llolleo (U-06)",
                 "$ 1.500.000.000", "$ 1.200.000.000", "$ 80.000.000", "$ 300.150.000",
                 "PMU 2025: el monto ejecutado ($ 150.000) supera el aprobado ($ 100.000).",
                 "35,5 %", "20,0 %", "data:image/png;base64,"):
        assert text in html, text
    history = html[html.index("Historial de etapas"):html.index("Documentos adjuntos")]
    assert "diseño" in history and "ana" in history
    # total requested = 1.500.000.000 + 80.000.000; executed/approved = 300.15 M / 1.2001 G
    assert "$ 1.580.000.000" in html and "25,0 %" in html


def test_dossier_pdf_text(portfolio: Settings) -> None:
    with connect(portfolio) as conn:
        conn.autocommit = True
        pdf = project_dossier_pdf(conn, portfolio, "30132469-3")
    assert pdf.startswith(b"%PDF")
    text, pages = pdf_text(pdf)
    for expected in ("Construcción CESFAM Llolleo", "30132469-3", "ZH-7", "ZM-3",
                     "$ 1.500.000.000", "$ 1.200.000.000", "$ 1.580.000.000",
                     "Municipalidad de San Antonio — SECPLAC", f"Página 1 de {pages}",
                     "recomendado satisfactoriamente", "tsunami"):
        assert expected in text, expected


def test_hostile_name_is_shown_as_text(portfolio: Settings) -> None:
    with connect(portfolio) as conn:
        conn.autocommit = True
        html = project_dossier_html(conn, portfolio, "MUN-2025-001")
        pdf = project_dossier_pdf(conn, portfolio, "MUN-2025-001")
        report = concejo_report_html(conn, portfolio)
    assert "<script>" not in html and "<b>Llolleo" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Plaza &lt;b&gt;Llolleo&lt;/b&gt;" in html
    assert "<script>alert(1)</script> Plaza <b>Llolleo</b>" in pdf_text(pdf)[0]
    assert "<script>" not in report


def test_map_draws_the_project_and_its_surroundings(portfolio: Settings) -> None:
    from PIL import Image

    with connect(portfolio) as conn:
        png = project_map_png(conn, "30132469-3")
        with pytest.raises(ProjectNotFoundError):
            project_map_png(conn, "NO-EXISTE")
    image = Image.open(io.BytesIO(png)).convert("RGB")
    assert image.size[0] > 900
    colours = {c for _, c in image.getcolors(maxcolors=1 << 16) or []}
    assert len(colours) > 20  # zones, hazards, parcels, route, project: not a blank frame


def test_unknown_project_is_refused_in_spanish(portfolio: Settings) -> None:
    before = query(portfolio, "SELECT count(*) FROM profiles.project_profiles")
    with connect(portfolio) as conn:
        conn.autocommit = True
        with pytest.raises(ProjectNotFoundError, match="no existe en la cartera"):
            project_dossier_html(conn, portfolio, "40000000-0")
        with pytest.raises(ProjectNotFoundError):
            project_dossier_pdf(conn, portfolio, "40000000-0")
    assert query(portfolio, "SELECT count(*) FROM profiles.project_profiles") == before


# --- Concejo report ------------------------------------------------------------------------

def hazard_section(text: str) -> str:
    return text[text.rindex("Proyectos en zonas de riesgo"):]


def codes_in(text: str) -> set[str]:
    return set(re.findall(r"30132469-3|MUN-2025-001|MUN-2024-002", text))


def test_concejo_report_pdf(portfolio: Settings) -> None:
    with connect(portfolio) as conn:
        conn.autocommit = True
        pdf = concejo_report_pdf(conn, portfolio)
        table = profiles_table(conn, portfolio)
    with_hazards = set(table.loc[table["riesgos"] != "", "codigo"])
    assert with_hazards == {"30132469-3", "MUN-2024-002"}  # the data is what we think
    text, pages = pdf_text(pdf)
    assert pages > 1
    assert codes_in(hazard_section(text)) == with_hazards
    assert "tsunami (alto)" in text and "inundación (bajo)" in text
    # summary: 3 projects; cost = 1.2 G + 100 k + 80 M (requested) + 45 M + 90 M
    approved = 1_200_000_000 + 100_000 + 45_000_000 + 90_000_000
    assert "3 proyectos" in text
    assert money(approved + 80_000_000) in text and money(approved) in text
    assert money(300_150_000 + 60_000_000) in text
    assert f"Página {pages} de {pages}" in text and "Municipalidad de San Antonio" in text


def test_concejo_report_of_one_year(portfolio: Settings) -> None:
    with connect(portfolio) as conn:
        conn.autocommit = True
        html = concejo_report_html(conn, portfolio, anio=2024)
    assert "Financiamiento de año 2024" in html
    assert codes_in(hazard_section(html)) == {"MUN-2024-002"}
    summary = html[html.index("Resumen"):html.index("Inversión por sector")]
    assert re.search(r'"valor">1</span><span class="rotulo">proyectos con financiamiento '
                     r"en 2024", summary)
    assert "$ 90.000.000" in summary and "$ 60.000.000" in summary and "66,7 %" in summary


def test_concejo_bad_year_is_refused(portfolio: Settings) -> None:
    from gis.investment import InvestmentQueryError

    with psycopg.connect(portfolio.database_url, autocommit=True) as conn, \
            pytest.raises(InvestmentQueryError, match="fuera de rango"):
        concejo_report_html(conn, portfolio, anio=1800)

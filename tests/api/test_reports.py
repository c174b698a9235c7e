"""The report endpoints over the demo data: the project dossier and the Concejo report, as
HTML and PDF. Expected values are computed from the database, never hard-coded, as the
demo portfolio may change."""

from __future__ import annotations

import html
import io
import re
from typing import Any

import httpx
import psycopg
import pytest
from pypdf import PdfReader

from gis.portfolio.record import money
from gis.profile import profiles_table
from gis.settings import Settings


def pdf_text(content: bytes) -> tuple[str, int]:
    reader = PdfReader(io.BytesIO(content))
    text = " ".join(page.extract_text() for page in reader.pages)
    return re.sub(r"\s+", " ", text), len(reader.pages)


@pytest.fixture(scope="module")
def profiles(api_settings: Settings) -> Any:
    with psycopg.connect(api_settings.database_url, autocommit=True) as conn:
        return profiles_table(conn, api_settings)


def test_dossier_of_a_demo_project(http: httpx.Client, profiles: Any) -> None:
    row = profiles[(profiles["zonas_prc"] != "") & (profiles["riesgos"] != "")].iloc[0]
    codigo = row["codigo"]
    project = http.get(f"/proyectos/{codigo}").json()
    perfil = http.get(f"/proyectos/{codigo}/perfil").json()
    r = http.get(f"/proyectos/{codigo}/ficha")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    assert codigo in page and html.escape(project["nombre"]) in page
    for zone in perfil["zonas_prc"]["zonas"]:
        assert f">{zone['codigo']}<" in page
    for hazard in perfil["riesgos"]["zonas"]:
        assert html.escape(hazard["tipo"]) in page
    assert money(project["totales"]["aprobado"]) in page
    assert "data:image/png;base64," in page and "http://" not in page.replace(
        "http://www.w3.org", "")

    r = http.get(f"/proyectos/{codigo}/ficha.pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert f'filename="ficha-proyecto-{codigo}.pdf"' in r.headers["content-disposition"]
    text, pages = pdf_text(r.content)
    assert codigo in text and " ".join(project["nombre"].split()) in text
    assert all(z["codigo"] in text for z in perfil["zonas_prc"]["zonas"])
    assert money(project["totales"]["aprobado"]) in text
    assert f"Página 1 de {pages}" in text


@pytest.mark.parametrize("path", ["/proyectos/NO-EXISTE-9/ficha",
                                  "/proyectos/NO-EXISTE-9/ficha.pdf"])
def test_unknown_project_is_404_in_spanish(http: httpx.Client, path: str) -> None:
    r = http.get(path)
    assert r.status_code == 404
    assert "NO-EXISTE-9" in r.json()["description"]
    assert "no existe en la cartera" in r.json()["description"]


def test_concejo_report_html(http: httpx.Client, api_settings: Settings,
                             profiles: Any) -> None:
    r = http.get("/informes/concejo")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    listed = set(re.findall(r'href="/proyectos/([^"/]+)/ficha"', page))
    assert listed == set(profiles.loc[profiles["riesgos"] != "", "codigo"])
    with psycopg.connect(api_settings.database_url) as conn:
        n, approved = conn.execute(
            "SELECT (SELECT count(*) FROM layers.projects), "
            "(SELECT sum(aprobado) FROM cartera.financiamiento)").fetchone()  # type: ignore[misc]
    summary = page[page.index("Resumen"):page.index("Inversión por sector")]
    assert f'"valor">{n}</span>' in summary.replace(".", "")
    assert money(approved) in summary
    assert page.count("data:image/png;base64,") == 2
    assert page.count("data:image/svg+xml;base64,") == 3


def test_concejo_report_pdf_of_a_year(http: httpx.Client, api_settings: Settings,
                                      profiles: Any) -> None:
    with psycopg.connect(api_settings.database_url) as conn:
        anio, funded = conn.execute(
            "SELECT anio, array_agg(DISTINCT codigo) FROM cartera.financiamiento "
            "GROUP BY anio ORDER BY count(DISTINCT codigo) DESC, anio LIMIT 1").fetchone()  # type: ignore[misc]
    http.get("/informes/concejo", params={"anio": anio})  # profiles stored: as in use
    r = http.get("/informes/concejo.pdf", params={"anio": anio})
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert f'filename="informe-concejo-{anio}.pdf"' in r.headers["content-disposition"]
    text, pages = pdf_text(r.content)
    assert pages > 1 and f"Página {pages} de {pages}" in text
    assert f"Financiamiento de año {anio}" in text
    section = text[text.rindex("Proyectos en zonas de riesgo"):]
    expected = set(profiles.loc[(profiles["riesgos"] != "")
                                & profiles["codigo"].isin(funded), "codigo"])
    shown = {c for c in profiles["codigo"] if re.search(rf"(?<![\w-]){re.escape(c)}(?![\w-])",
                                                         section)}
    assert shown == expected


def test_bad_year_is_400_in_spanish(http: httpx.Client) -> None:
    r = http.get("/informes/concejo.pdf", params={"anio": 1800})
    assert r.status_code == 400
    assert "anio" in r.json()["description"]

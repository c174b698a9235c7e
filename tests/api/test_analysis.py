"""The analysis endpoints over the demo data: the registry, analyses as JSON / GeoJSON pages
and as downloads read back, a drawn polygon as the area, the territorial report (JSON,
HTML, PDF) and bad parameters. Expected values come from the library on the same
database, never hard-coded."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import httpx
import psycopg
import pytest
from pypdf import PdfReader

from api.routers.analysis import polygon_area
from gis.analysis import ANALYSES, capacity, capacity_by_zone, compliance, compliance_summary
from gis.settings import Settings
from layers.zoning import LAYER as ZONING


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


@pytest.fixture(scope="module")
def demo(api_settings: Settings) -> dict[str, Any]:
    """A sector, a parcel in a zone with hazards, and a polygon (lon/lat) of the demo."""
    with psycopg.connect(api_settings.database_url, autocommit=True) as conn:
        sector = conn.execute("SELECT codigo, nombre FROM layers.planning_sectors "
                              "WHERE area_tipo = 'urbana' ORDER BY codigo LIMIT 1").fetchone()
        rol, zone = conn.execute(
            "SELECT p.rol, z.codigo FROM layers.parcels AS p "
            "JOIN layers.zoning AS z ON ST_Covers(z.geom, p.geom) "
            "WHERE p.destino = 'H' AND EXISTS (SELECT 1 FROM layers.hazard_zones AS h "
            "WHERE ST_Intersects(h.geom, p.geom)) ORDER BY p.rol LIMIT 1").fetchone()
        box = conn.execute(
            "SELECT ST_AsGeoJSON(ST_Transform(ST_Expand(ST_PointOnSurface(p.geom), 300), "
            "4326))::json FROM layers.parcels AS p WHERE p.rol = %s", (rol,)).fetchone()[0]
    return {"sector": sector, "rol": rol, "zona": zone, "poligono": box}


def test_registry_lists_every_analysis(http: httpx.Client) -> None:
    r = http.get("/analisis")
    assert r.status_code == 200
    body = r.json()
    assert [a["nombre"] for a in body["analisis"]] == list(ANALYSES)
    cabida = next(a for a in body["analisis"] if a["nombre"] == "cabida")
    assert cabida["titulo"] == ANALYSES["cabida"].title and "solo_eriazos" in cabida["opciones"]
    assert cabida["capa_versionada"] == "zoning" and cabida["enlace"] == "/analisis/cabida"
    assert set(body["formatos"]) == {"json", "geojson", "csv", "xlsx", "gpkg", "parquet"}


def test_two_analyses_as_json_and_paging(http: httpx.Client, api_settings: Settings,
                                         demo: dict[str, Any]) -> None:
    r = http.get("/analisis/cumplimiento_resumen", params={"por": "sector"})
    assert r.status_code == 200, r.text
    expected = compliance_summary(api_settings, por="sector", geometria=False)
    body = r.json()
    assert body["columnas"] == list(expected.columns)
    assert [(f["sector"], f["predios"], f["no_conformes"]) for f in body["filas"]] == [
        (None if not isinstance(s, str) else s, int(p), int(n))
        for s, p, n in expected[["sector", "predios", "no_conformes"]].itertuples(index=False)]
    assert body["metadatos"]["version"] == expected.attrs["version"]

    code, name = demo["sector"]
    r = http.get("/analisis/cabida_zonas", params={"sector": name})
    assert r.status_code == 200, r.text
    expected = capacity_by_zone(api_settings, area=code, geometria=False)
    rows = r.json()["filas"]
    assert [(f["zona"], f["predios"], f["edificable_max_m2"]) for f in rows] == [
        (z, int(p), e) for z, p, e in expected[["zona", "predios", "edificable_max_m2"]]
        .itertuples(index=False)]
    assert r.json()["metadatos"]["area"] == f"sector {name} ({code})"

    first = http.get("/analisis/cumplimiento", params={"sector": code, "limite": 5}).json()
    total = first["paginacion"]["total"]
    assert total == len(compliance(api_settings, area=code, geometria=False)) > 5
    assert len(first["filas"]) == 5 and "desplazamiento=5" in first["paginacion"]["aviso"]
    second = httpx.get(first["paginacion"]["siguiente"], timeout=60).json()
    assert second["paginacion"]["desplazamiento"] == 5
    assert {f["rol"] for f in second["filas"]}.isdisjoint({f["rol"] for f in first["filas"]})

    r = http.get("/analisis/cabida_zonas", params={"sector": code, "formato": "geojson",
                                                  "limite": 2})
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    collection = r.json()
    assert collection["type"] == "FeatureCollection" and collection["numberReturned"] == 2
    lon, lat = collection["features"][0]["geometry"]["coordinates"][0][0][0]
    assert -72 < lon < -71 and -34 < lat < -33  # WGS 84, as GeoJSON requires


def test_file_downloads_read_back(http: httpx.Client, api_settings: Settings,
                                  demo: dict[str, Any], tmp_path: Path) -> None:
    code = demo["sector"][0]
    r = http.get("/analisis/cabida", params={"sector": code, "formato": "gpkg",
                                            "solo_eriazos": "no"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/geopackage+sqlite3"
    assert re.search(r'attachment; filename="cabida-sector_.+\.gpkg"',
                     r.headers["content-disposition"])
    path = tmp_path / "cabida.gpkg"
    path.write_bytes(r.content)
    table = gpd.read_file(path)
    expected = capacity(api_settings, area=code, geometria=False)
    assert sorted(table["rol"]) == sorted(expected["rol"])
    assert table.crs.to_epsg() == 32719 and table.geometry.notna().all()

    r = http.get("/analisis/exposicion", params={"formato": "xlsx"})
    assert r.status_code == 200 and r.content[:2] == b"PK"


def test_polygon_body_as_the_area(http: httpx.Client, api_settings: Settings,
                                  demo: dict[str, Any]) -> None:
    body = {"type": "Feature", "properties": {}, "geometry": demo["poligono"]}
    r = http.post("/analisis/cumplimiento", json=body, params={"limite": 10000})
    assert r.status_code == 200, r.text
    expected = compliance(api_settings, area=polygon_area(demo["poligono"]), geometria=False)
    assert [f["rol"] for f in r.json()["filas"]] == expected["rol"].tolist()
    assert demo["rol"] in {f["rol"] for f in r.json()["filas"]}
    assert r.json()["metadatos"]["area"] == "polígono indicado"


def test_territorial_report_json_html_pdf(http: httpx.Client, demo: dict[str, Any]) -> None:
    rol = demo["rol"]
    r = http.get("/analisis/informe", params={"rol": rol, "formato": "json"})
    assert r.status_code == 200, r.text
    ficha = r.json()
    assert ficha["predio"]["rol"] == rol and ficha["zona"]["codigo"] == demo["zona"]
    assert ficha["riesgos"] and ficha["cumplimiento"]["rol"] == rol

    page = http.get("/analisis/informe", params={"rol": rol})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert f"Predio rol {rol}" in page.text and "data:image/png;base64," in page.text

    r = http.get("/analisis/informe", params={"rol": rol, "formato": "pdf"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert f'filename="ficha-territorial-{rol}.pdf"' in r.headers["content-disposition"]
    text = pdf_text(r.content)
    assert rol in text and f"Zona {demo['zona']}" in text
    for field in ZONING.fields[2:6]:
        assert field.title in text
    assert ficha["cumplimiento"]["regla"] in text
    assert ficha["riesgos"][0]["tipo"] in text and "Página 1 de" in text

    lon, lat = ficha["ubicacion"]["lon"], ficha["ubicacion"]["lat"]
    r = http.get("/analisis/informe", params={"lon": lon, "lat": lat, "formato": "json"})
    assert r.status_code == 200 and r.json()["predio"]["rol"] == rol


def test_bad_parameters_are_refused_in_spanish(http: httpx.Client) -> None:
    r = http.get("/analisis/no_existe")
    assert r.status_code == 404
    assert "No existe el análisis «no_existe»" in r.json()["description"]
    assert all(name in r.json()["hint"] for name in ANALYSES)
    cases = [
        ("/analisis/cabida", {"formato": "pdf"}, "Formato no reconocido"),
        ("/analisis/cabida", {"version": "uno"}, "«version»: debe ser un número entero"),
        ("/analisis/cabida", {"limite": "0"}, "«limite»"),
        ("/analisis/cabida", {"sector": "S-01", "zona_censal": "05601011001"},
         "Indique una sola área"),
        ("/analisis/cabida", {"zona_censal": "Llolleo"}, "no es un geocódigo"),
        ("/analisis/cabida", {"fecha": "ayer"}, "Fecha no válida"),
        ("/analisis/cabida", {"version": "1", "fecha": "2024-01-01"}, "no ambas"),
        ("/analisis/cabida", {"por": "zona"}, "no tiene la opción «por»"),
        ("/analisis/cabida", {"solo_eriazos": "talvez"}, "debe ser sí o no"),
        ("/analisis/cumplimiento_resumen", {"por": "comuna"}, "No se puede resumir por"),
        ("/analisis/exposicion", {"formato": "geojson"}, "no tiene geometrías"),
        ("/analisis/informe", {"lon": "-71.6"}, "indique lon y lat"),
        ("/analisis/informe", {"rol": "calle 3"}, "no es un rol de avalúo válido"),
        ("/analisis/informe", {"rol": "1-1", "lon": "-71.6", "lat": "-33.6"},
         "uno de los dos"),
        ("/analisis/informe", {"lon": "-70", "lat": "-33.6"}, "fuera de la comuna"),
        ("/analisis/informe", {"rol": "1-1", "formato": "docx"},
         "Formato de la ficha no reconocido"),
    ]
    for path, params, message in cases:
        r = http.get(path, params=params)
        assert r.status_code == 400, (path, params, r.text)
        assert message in r.json()["description"], (path, params, r.json())
    r = http.get("/analisis/cabida", params={"sector": "Narnia"})
    assert r.status_code == 404 and "Sectores (código o nombre)" in r.json()["hint"]
    r = http.get("/analisis/informe", params={"rol": "99999-99999"})
    assert r.status_code == 404 and "/buscar?q=" in r.json()["hint"]
    for body in ({"type": "Point", "coordinates": [-71.6, -33.6]}, {"type": "Feature"},
                 {"type": "FeatureCollection", "features": []},
                 {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}):
        r = http.post("/analisis/cumplimiento", json=body)
        assert r.status_code == 400, (body, r.text)
        assert r.json()["description"].startswith(("La ", "El ")), r.json()


def test_polygon_post_needs_a_login_when_reads_do(api_settings: Settings,
                                                  demo: dict[str, Any]) -> None:
    """A POST that only reads is guarded like a GET when reads require a login."""
    from fastapi.testclient import TestClient

    from api.app import create_app
    from gis.auth import create_user, get_user, issue_access_token
    from gis.database import connect

    settings = api_settings.model_copy(update={"reads_require_login": True})
    with connect(settings) as conn:
        if not conn.execute("SELECT 1 FROM auth.users WHERE username = 'lector_analisis'"
                            ).fetchone():
            create_user(conn, "lector_analisis", "Lector Análisis", "lector",
                        "clave-de-prueba-analisis-1")
            conn.commit()
        token = issue_access_token(settings, get_user(conn, "lector_analisis"))
    body = {"type": "Feature", "geometry": demo["poligono"]}
    with TestClient(create_app(settings)) as client:
        r = client.post("/analisis/cabida_zonas", json=body)
        assert r.status_code == 401 and "iniciar sesión" in r.json()["description"]
        r = client.post("/analisis/cabida_zonas", json=body,
                        headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200, r.text
        assert r.json()["filas"] and r.json()["metadatos"]["area"] == "polígono indicado"

"""Portfolio files over real HTTP: uploading a spreadsheet (roles, rejected rows with the
report and nothing saved, valid rows only, dry run, too large, wrong type) and downloading
the registry in every format."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import httpx
import openpyxl
import pytest

from gis.portfolio import sheets
from tests.api.test_proposals import auth, tokens  # noqa: F401  (fixture)
from tests.conftest import query

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER = ["Código BIP", "Nombre del proyecto", "Sector", "Etapa", "Fuente de financiamiento",
          "Año", "Monto solicitado ($)", "Rol", "Longitud", "Latitud"]


@pytest.fixture(scope="module", autouse=True)
def leave_the_demo_portfolio_as_found(api_settings):  # type: ignore[no-untyped-def]
    """The demo database is shared by the API tests: remove the projects made here."""
    yield
    from gis.database import connect
    from gis.portfolio import store

    with connect(api_settings) as conn:
        conn.autocommit = True
        for (code,) in conn.execute("SELECT codigo FROM cartera.registro "
                                    "WHERE codigo LIKE 'MUN-2026-8%%'").fetchall():
            store.delete_project(conn, api_settings, "pruebas", code, "*")


@pytest.fixture(scope="module")
def workbook(api_settings) -> bytes:  # type: ignore[no-untyped-def]
    """Two good projects (by rol and by lon/lat) and one with an unknown stage."""
    rol, = query(api_settings, "SELECT rol FROM layers.parcels ORDER BY rol LIMIT 1")[0]
    lon, lat = query(api_settings, "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Transform("
                     "ST_PointOnSurface(geom), 4326) AS p FROM layers.zoning ORDER BY "
                     "ST_Area(geom) DESC LIMIT 1) AS s")[0]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Cartera de proyectos 2026"])
    ws.append(HEADER)
    ws.append(["MUN-2026-801", "Sede social por rol", "equipamiento comunitario", "idea",
               "municipal", 2026, 30_000_000, rol, None, None])
    ws.append(["MUN-2026-802", "Plaza por coordenadas", "áreas verdes", "perfil", "PMU",
               2026, 59_000_000, None, lon, lat])
    ws.append(["MUN-2026-803", "Etapa desconocida", "salud", "licitación", "FNDR", 2026, 1,
               None, lon, lat])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def upload(http: httpx.Client, content: bytes, headers: dict[str, str] | None = None,
           name: str = "cartera.xlsx", **form: str) -> httpx.Response:
    return http.post("/proyectos/importar", headers=headers or {}, data=form,
                     files={"archivo": (name, content, XLSX)})


def stored(api_settings: Any) -> tuple[int, int]:
    return (query(api_settings, "SELECT count(*) FROM layers.projects")[0][0],
            query(api_settings, "SELECT count(*) FROM cartera.financiamiento")[0][0])


def test_import_needs_an_editor(http: httpx.Client, tokens: dict[str, str],  # noqa: F811
                                workbook: bytes, api_settings: Any) -> None:
    before = stored(api_settings)
    assert upload(http, workbook).status_code == 401
    refused = upload(http, workbook, auth(tokens, "lectora"))
    assert refused.status_code == 403
    assert stored(api_settings) == before


def test_rejected_rows_return_the_report_and_save_nothing(
        http: httpx.Client, tokens: dict[str, str], workbook: bytes,  # noqa: F811
        api_settings: Any) -> None:
    before = stored(api_settings)
    response = upload(http, workbook, auth(tokens, "editora"))
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["description"].startswith("No se guardó nada: 1 de 3 filas")
    informe = body["informe"]
    assert informe["fila_encabezado"] == 2 and informe["validos"] == 2
    [rejected] = informe["rechazados"]
    assert rejected["filas"] == [5] and rejected["codigo"] == "MUN-2026-803"
    assert "«licitación» no es un valor válido" in rejected["motivos"][0]
    assert stored(api_settings) == before
    assert query(api_settings, "SELECT outcome, actor FROM audit.log WHERE action = "
                 "'proyecto.importar' ORDER BY id DESC LIMIT 1") == [("rechazado", "editora")]

    dry = upload(http, workbook, auth(tokens, "editora"), simular="true")
    assert dry.status_code == 200 and dry.json()["simulacion"] is True
    assert stored(api_settings) == before


def test_saving_the_valid_rows(http: httpx.Client, tokens: dict[str, str],  # noqa: F811
                               workbook: bytes, api_settings: Any) -> None:
    before = stored(api_settings)
    response = upload(http, workbook, auth(tokens, "revisora"), guardar_validos="true")
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["creados"], report["guardado"], report["archivo"]) == (2, True,
                                                                         "cartera.xlsx")
    assert report["ubicaciones"] == {"rol": 1, "longitud y latitud": 1}
    assert stored(api_settings) == (before[0] + 2, before[1] + 2)
    project = http.get("/proyectos/MUN-2026-801").json()
    assert project["creado_por"] == "revisora" and project["fuentes"] == ["municipal"]


def test_too_large_and_wrong_files(http: httpx.Client, tokens: dict[str, str],  # noqa: F811
                                   api_settings: Any) -> None:
    before = stored(api_settings)
    big = upload(http, b"x" * (sheets.MAX_BYTES + 10), auth(tokens, "editora"),
                 name="grande.csv")
    assert big.status_code == 413 and "supera el máximo de 20 MB" in big.json()["description"]
    old = upload(http, b"\xd0\xcf\x11\xe0", auth(tokens, "editora"), name="cartera.xls")
    assert old.status_code == 422 and "Guárdelo como Excel" in old.json()["hint"]
    header_only = ";".join(HEADER[:3]).encode()
    missing = upload(http, header_only, auth(tokens, "editora"), name="c.csv")
    assert missing.status_code == 422
    assert "faltan columnas obligatorias: Etapa" in missing.json()["description"]
    assert stored(api_settings) == before


@pytest.mark.parametrize("formato", ["xlsx", "csv", "geojson", "gpkg"])
def test_export_downloads(http: httpx.Client, api_settings: Any, tmp_path: Path,
                          formato: str) -> None:
    total = query(api_settings, "SELECT count(*) FROM layers.projects")[0][0]
    response = http.get("/proyectos/exportar", params={"formato": formato})
    assert response.status_code == 200, response.text
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="cartera_proyectos_')
    assert disposition.endswith(f'.{formato}"')
    path = tmp_path / f"cartera.{formato}"
    path.write_bytes(response.content)
    if formato == "xlsx":
        sheet = openpyxl.load_workbook(path)["Proyectos"]
        assert sheet.max_row == total + 1
    elif formato == "csv":
        codes = {line.split(",")[0] for line in response.text.splitlines()[1:]}
        assert len(codes) == total
    elif formato == "geojson":
        assert len(json.loads(response.content)["features"]) == total
    else:
        frame = gpd.read_file(path, layer="proyectos")
        assert len(frame) == total and frame.crs.to_epsg() == 32719


def test_export_filters_and_bad_values(http: httpx.Client, api_settings: Any) -> None:
    salud = query(api_settings, "SELECT count(*) FROM layers.projects WHERE sector = 'salud'")
    data = http.get("/proyectos/exportar", params={"formato": "geojson", "sector": "salud"})
    assert len(data.json()["features"]) == salud[0][0]
    assert http.get("/proyectos/exportar", params={"formato": "shp"}).status_code == 400
    wrong = http.get("/proyectos/exportar", params={"sector": "playa"})
    assert wrong.status_code == 400 and "no es un valor válido de sector" in wrong.text

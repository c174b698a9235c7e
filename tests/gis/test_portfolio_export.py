"""Exporting the registry to GeoPackage, GeoJSON, Excel and CSV, read back with the tools a
planner would use, formula cells escaped, and CSV/Excel exports importing back unchanged."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import openpyxl
import pyogrio
import pytest
import shapely

from gis.database import connect
from gis.ingest import ingest
from gis.portfolio import store
from gis.portfolio.exporter import ExportError, export_bytes, export_portfolio
from gis.portfolio.importer import import_portfolio
from gis.settings import Settings
from tests.conftest import reset_database
from tests.gis.test_portfolio_import import (  # noqa: F401  (fixture)
    HEADER,
    bip,
    cadastre,
    lonlat,
    write_xlsx,
)
from tests.samples import ORIGIN

INJECTION = "=HYPERLINK(\"http://malo.example\",\"clic\")"


@pytest.fixture
def portfolio(cadastre: Settings, tmp_path: Path) -> Settings:  # noqa: F811
    """Three projects: a point with three funding rows and every field, a line, a polygon
    (the last two with formula-like text)."""
    line = shapely.LineString([lonlat(0, 300), lonlat(250, 300), lonlat(250, 500)])
    square = shapely.Polygon([lonlat(-300, -300), lonlat(-100, -300), lonlat(-100, -100),
                              lonlat(-300, -100)])
    header = HEADER + ["Monto comprometido", "Descripción", "Tipología", "Situación", "RATE",
                       "Ítem presupuestario", "Unidad responsable", "Eje PLADECO",
                       "Objetivo PLADECO", "Beneficiarios", "Avance físico (%)",
                       "Avance financiero (%)", "Fecha de inicio", "Fecha de término", "WKT"]
    full = ["Construcción CESFAM Llolleo", "salud", "ejecución"]
    extra = ["CESFAM de 3.000 m²", "proyecto", "arrastre", "RS", "31.02.004",
             "Departamento de Salud", "Desarrollo social y calidad de vida",
             "Mejorar el acceso a la salud primaria", 25_000, 35.5, 28.25, "01-03-2024",
             "31-12-2026", ""]
    rows = [
        [bip(1), *full, "FNDR", 2024, 1_500_000_000, 1_200_000_000, 300_000_000, *lonlat(),
         1_000_000_000, *extra],
        [bip(1), *full, "sectorial", 2025, 400_000_000, 400_000_000, 0, *lonlat(),
         100_000_000, *extra],
        [bip(1), *full, "municipal", 2025, 80_000_000, 50_000_000, 90_000_000, *lonlat(),
         50_000_000, *extra],
        # typed in Excel behind an apostrophe (else it would be a formula)
        ["MUN-2025-004", "'" + INJECTION, "vialidad", "diseño", "PMU", 2025, 59_000_000, None, None,
         None, None, None, "+56 9 1234 5678", *[None] * 12, line.wkt],
        ["MUN-2025-005", "@Plaza Bellavista", "áreas verdes", "idea", None, None, None, None,
         None, None, None, None, "-sin descripción-", *[None] * 12, square.wkt],
    ]
    with connect(cadastre) as conn:
        conn.autocommit = True
        report = import_portfolio(conn, cadastre, "ana",
                                  write_xlsx(tmp_path / "origen.xlsx", header, rows))
    assert report["creados"] == 3, report
    with connect(cadastre) as conn:
        assert store.project_json(conn, "MUN-2025-004")["nombre"] == INJECTION
    return cadastre


def export(settings: Settings, path: Path, **filters: Any) -> int:
    with connect(settings) as conn:
        return export_portfolio(conn, path, **filters)


def snapshot(settings: Settings) -> dict[str, Any]:
    """Each project as the registry returns it, without what a new save changes."""
    with connect(settings) as conn:
        codes = [r["codigo"] for r in store.list_projects(conn)]
        out = {}
        for code in codes:
            data = store.project_json(conn, code)
            geometry = shapely.geometry.shape(data.pop("geometria"))
            for key in ("version", "etag", "creado", "modificado", "creado_por",
                        "modificado_por", "historial", "adjuntos"):
                data.pop(key)
            out[code] = (data, geometry)
    return out


def test_geopackage_in_utm_with_funding_table(portfolio: Settings, tmp_path: Path) -> None:
    path = tmp_path / "cartera.gpkg"
    assert export(portfolio, path) == 3
    layers = {name for name, _ in pyogrio.list_layers(path)}
    assert layers == {"proyectos", "financiamiento"}
    projects = gpd.read_file(path, layer="proyectos").set_index("codigo")
    assert projects.crs.to_epsg() == 32719
    assert set(projects.geom_type) == {"Point", "LineString", "Polygon"}
    cesfam = projects.loc[bip(1)]
    assert cesfam.fuentes == "FNDR; sectorial; municipal" and cesfam.total_ejecutado == 390e6
    assert (cesfam.total_solicitado, cesfam.total_aprobado, cesfam.total_comprometido) == (
        1_980_000_000, 1_650_000_000, 1_150_000_000)
    assert cesfam.rate == "RS" and cesfam.avance_fisico == 35.5
    assert str(cesfam.fecha_inicio)[:10] == "2024-03-01"
    assert cesfam.geometry.distance(shapely.Point(ORIGIN)) < 0.01  # metres, UTM 19S
    funding = pyogrio.read_dataframe(path, layer="financiamiento")
    assert len(funding) == 4 and set(funding.columns) >= {"codigo", "fuente", "anio",
                                                          "ejecutado"}


def test_geojson_in_lonlat_with_funding(portfolio: Settings, tmp_path: Path) -> None:
    path = tmp_path / "cartera.geojson"
    export(portfolio, path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert "crs" not in data  # RFC 7946: always lon/lat
    features = {f["id"]: f for f in data["features"]}
    lon, lat = features[bip(1)]["geometry"]["coordinates"]
    assert (lon, lat) == pytest.approx(lonlat(), abs=1e-7)
    props = features[bip(1)]["properties"]
    assert props["fuentes"] == ["FNDR", "sectorial", "municipal"]
    assert props["fecha_termino"] == "2026-12-31" and len(props["financiamiento"]) == 3
    assert gpd.read_file(path).crs.to_epsg() == 4326


def test_excel_has_projects_and_funding_sheets_with_formulas_escaped(portfolio: Settings,
                                                                    tmp_path: Path) -> None:
    path = tmp_path / "cartera.xlsx"
    export(portfolio, path, fuente="PMU")
    assert export(portfolio, path) == 3
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Proyectos", "Financiamiento"]
    sheet = wb["Proyectos"]
    header = [c.value for c in sheet[1]]
    rows = {r[0]: dict(zip(header, r, strict=True))
            for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows["MUN-2025-004"]["Nombre"] == "'" + INJECTION
    assert rows["MUN-2025-004"]["Descripción"] == "'+56 9 1234 5678"
    assert rows["MUN-2025-005"]["Nombre"] == "'@Plaza Bellavista"
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)  # no formulas
    assert rows[bip(1)]["Total aprobado ($)"] == 1_650_000_000
    assert rows[bip(1)]["Longitud"] == pytest.approx(lonlat()[0], abs=1e-7)
    funding = list(wb["Financiamiento"].iter_rows(min_row=2, values_only=True))
    assert len(funding) == 4 and {r[2] for r in funding} == {"FNDR", "sectorial", "municipal",
                                                             "PMU"}


def test_csv_one_row_per_funding_row_with_formulas_escaped(portfolio: Settings,
                                                          tmp_path: Path) -> None:
    path = tmp_path / "cartera.csv"
    export(portfolio, path)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel opens UTF-8 with a BOM
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 5  # 3 funding rows, 1, and one row for the project without funding
    by_code = {r["Código (BIP o municipal)"]: r for r in rows}
    assert by_code["MUN-2025-004"]["Nombre"] == "'" + INJECTION
    assert by_code["MUN-2025-005"]["Descripción"] == "'-sin descripción-"
    assert by_code["MUN-2025-005"]["Fuente de financiamiento"] == ""
    assert float(by_code[bip(1)]["Longitud"]) < 0  # numbers are never escaped


def test_filters_and_bad_format(portfolio: Settings, tmp_path: Path) -> None:
    assert export(portfolio, tmp_path / "a.geojson", sector="vialidad") == 1
    assert export(portfolio, tmp_path / "b.geojson", etapa="ejecución", fuente="FNDR") == 1
    assert export(portfolio, tmp_path / "c.geojson", fuente="FRIL") == 0
    with pytest.raises(ExportError, match="No se puede exportar la cartera como «shp»"):
        export(portfolio, tmp_path / "a.shp")
    with connect(portfolio) as conn:
        assert export_bytes(conn, "csv").startswith(b"\xef\xbb\xbf")


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_round_trip_into_an_empty_database(portfolio: Settings, tmp_path: Path,
                                           suffix: str) -> None:
    before = snapshot(portfolio)
    path = tmp_path / f"cartera{suffix}"
    export(portfolio, path)
    comuna = tmp_path / "comunas.gpkg"
    reset_database(portfolio)
    x, y = ORIGIN
    gpd.GeoDataFrame([{"codigo_comuna": "05601", "nombre": "San Antonio"}], geometry=[
        shapely.box(x - 5000, y - 5000, x + 5000, y + 5000)], crs=32719).to_file(comuna)
    ingest(portfolio, "comunas", comuna)
    with connect(portfolio) as conn:
        conn.autocommit = True
        report = import_portfolio(conn, portfolio, "beto", path)
    assert report["creados"] == 3 and report["rechazados"] == []
    assert not [w for w in report["advertencias"] if "Columnas no usadas" in w]
    after = snapshot(portfolio)
    assert after.keys() == before.keys()
    for code, (data, geometry) in before.items():
        assert after[code][0] == data, code
        assert after[code][1].hausdorff_distance(geometry) < 1e-6, code

"""The analyses' shared conventions: areas, versions and dates, empty results, exports and
the registry, on a small territory whose results are computed by hand.

The territory (metres from ``tests.samples.ORIGIN``, EPSG:32719), used by every
``test_analysis_*`` module:

- zones: ZH-1 x 0–100, ZM-2 x 100–200, AV-3 x 200–300 (all y 0–100);
- parcels 1-1 … 1-10 (see :data:`PARCELS`), sectors S-01 (x -4–152) and S-02
  (x 152–402), both y 3–203; census zones 05601011001 (1,000 people) and 05601011002
  (600 people, no parcels);
- hazards, a land use of security equipment, two projects, and a DEM (elevation = 10 ×
  column) with a tsunami raster (depth = row) over x 0–200, y 3–103 in 10 m cells.
"""

from __future__ import annotations

import importlib
import inspect
from datetime import date, timedelta
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import psycopg
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from pyproj import Transformer

from gis.analysis import (
    ANALYSES,
    AnalysisInputError,
    AreaOutsideError,
    UnknownAreaError,
    capacity,
    capacity_by_zone,
    compliance,
    compliance_summary,
    export,
)
from gis.analysis.common import LOCAL_TZ
from gis.errors import NotFoundError
from gis.ingest import ingest
from gis.settings import Settings
from tests.conftest import query
from tests.samples import ORIGIN

X, Y = ORIGIN
CRS = 32719
# the package exports functions named like their modules: reach the modules themselves
compliance_module = importlib.import_module("gis.analysis.compliance")
capacity_module = importlib.import_module("gis.analysis.capacity")
exposure_module = importlib.import_module("gis.analysis.exposure")
zonal_module = importlib.import_module("gis.analysis.zonal")


def box(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    return shapely.box(X + x0, Y + y0, X + x1, Y + y1)


def write(folder: Path, name: str, rows: list[dict], geoms: list) -> Path:  # type: ignore[type-arg]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.gpkg"
    gpd.GeoDataFrame(rows, geometry=geoms, crs=CRS).to_file(path, driver="GPKG")
    return path


def zoning(industry_prohibited: bool = True) -> tuple[list[dict], list]:  # type: ignore[type-arg]
    zh1 = {"codigo": "ZH-1", "nombre": "Habitacional 1", "familia": "residencial",
           "usos_permitidos": "residencial; equipamiento salud",
           "usos_prohibidos": "actividad productiva molesta",
           "superficie_predial_minima": 200.0, "densidad_maxima": 400.0,
           "coef_constructibilidad": 1.0, "coef_ocupacion_suelo": 0.6}
    if not industry_prohibited:
        zh1 = {**zh1, "usos_permitidos": "residencial; actividad productiva molesta",
               "usos_prohibidos": None}
    rows = [
        zh1,
        {"codigo": "ZM-2", "nombre": "Mixta 2", "familia": "mixta",
         "usos_permitidos": "residencial; equipamiento comercio",
         "superficie_predial_minima": 300.0, "densidad_maxima": 800.0,
         "coef_constructibilidad": 2.0, "coef_ocupacion_suelo": 0.8},
        {"codigo": "AV-3", "nombre": "Área verde 3", "familia": "área verde"},
    ]
    return rows, [box(0, 0, 100, 100), box(100, 0, 200, 100), box(200, 0, 300, 100)]


PARCELS = [  # rol, destino, geometry, superficie_terreno, construida, avalúo, dirección
    ("1-1", "H", box(0, 0, 50, 50), 2400.0, 1000.0, 100_000_000, "=HYPERLINK(\"x\")"),
    ("1-2", "I", box(50, 0, 100, 50), None, 3000.0, 50_000_000, "-Pasaje 2"),
    ("1-3", "C", box(70, 50, 150, 100), None, None, None, "Calle 3"),
    ("1-4", "S", box(150, 0, 200, 50), None, 800.0, 20_000_000, "Calle 4"),
    ("1-5", "W", box(200, 0, 250, 50), None, None, None, "Calle 5"),
    ("1-6", "E", box(250, 0, 300, 50), None, None, None, "Calle 6"),
    ("1-7", "H", box(280, 50, 380, 100), None, None, None, "Calle 7"),
    ("1-8", None, box(0, 50, 70, 100), None, None, None, "Calle 8"),
    ("1-9", "W", box(100, 0, 150, 50), None, None, None, "Calle 9"),
    ("1-10", "C", box(160, 60, 166, 67), None, None, None, "@Calle 10"),
]


def write_raster(path: Path, values: np.ndarray) -> Path:
    import rasterio
    from rasterio.transform import from_origin

    with rasterio.open(path, "w", driver="GTiff", width=values.shape[1],
                       height=values.shape[0], count=1, dtype="float32", crs="EPSG:32719",
                       transform=from_origin(X, Y + 103, 10, 10), nodata=-9999) as dst:
        dst.write(values.astype("float32"), 1)
    return path


@pytest.fixture
def territory(settings: Settings, tmp_path: Path) -> Settings:
    def load(layer: str, rows: list[dict], geoms: list) -> None:  # type: ignore[type-arg]
        ingest(settings, layer, write(tmp_path / "v1", layer, rows, geoms))

    load("zoning", *zoning())
    load("parcels", [{"rol": r, "destino": d, "superficie_terreno": t,
                      "superficie_construida": c, "avaluo_total": a, "direccion": s}
                     for r, d, _, t, c, a, s in PARCELS], [p[2] for p in PARCELS])
    load("planning_sectors", [{"codigo": "S-01", "nombre": "Llolleo"},
                              {"codigo": "S-02", "nombre": "Barrancas"}],
         [box(-4, 3, 152, 203), box(152, 3, 402, 203)])
    load("census_zones", [
        {"geocodigo": "05601011001", "codigo_comuna": "05601", "poblacion": 1000},
        {"geocodigo": "05601011002", "codigo_comuna": "05601", "poblacion": 600}],
        [box(-100, -100, 400, 300), box(400, -100, 800, 700)])
    load("hazard_zones", [
        {"tipo": "tsunami", "nivel": "alto"}, {"tipo": "tsunami", "nivel": "alto"},
        {"tipo": "tsunami", "nivel": "medio"}, {"tipo": "inundación", "nivel": "medio"},
        {"tipo": "remoción en masa", "nivel": "alto"}],
        [box(0, 0, 60, 100), box(40, 0, 60, 50), box(60, 0, 160, 100),
         box(240, 0, 300, 100), box(500, 500, 600, 600)])
    load("land_use", [{"uso": "equipamiento seguridad"}, {"uso": "residencial"}],
         [box(10, 60, 30, 80), box(300, 0, 350, 40)])
    load("projects", [
        {"codigo": "P-1", "nombre": "Escuela", "sector": "educación", "etapa": "idea",
         "monto_clp": 1_000_000},
        {"codigo": "P-2", "nombre": "Calle", "sector": "vialidad", "etapa": "idea",
         "monto_clp": 2_000_000}],
        [shapely.Point(X + 30, Y + 30),
         shapely.LineString([(X + 20, Y + 90), (X + 120, Y + 90)])])
    cols = np.arange(20, dtype="float64")
    ingest(settings, "dem", write_raster(tmp_path / "dem.tif", np.tile(cols * 10, (10, 1))))
    ingest(settings, "tsunami_depth", write_raster(
        tmp_path / "tsunami.tif", np.tile(np.arange(10, dtype="float64")[:, None], (1, 20))))
    return settings


def rols(frame: pd.DataFrame) -> list[str]:
    return [r.split("-")[1].lstrip("0") for r in frame["rol"]]


# --- areas ---------------------------------------------------------------------------------

def test_area_by_sector_code_name_census_zone_and_transformed_polygon(territory: Settings
                                                                      ) -> None:
    assert rols(compliance(territory, area="S-02")) == ["4", "5", "6", "7", "10"]
    assert rols(compliance(territory, area="llolleo")) == ["1", "2", "3", "8", "9"]
    assert len(compliance(territory, area="05601011001")) == 10
    # a GeoDataFrame in lon/lat is transformed, not read as metres
    to_lonlat = Transformer.from_crs(CRS, 4326, always_xy=True)
    polygon = shapely.transform(box(-4, 3, 152, 203),
                                lambda c: np.column_stack(to_lonlat.transform(c[:, 0], c[:, 1])))
    lonlat = gpd.GeoDataFrame(geometry=[polygon], crs=4326)
    result = compliance(territory, area=lonlat)
    assert rols(result) == ["1", "2", "3", "8", "9"]
    assert result.attrs["area"] == "polígono indicado"
    assert rols(compliance(territory, area=(polygon, "EPSG:4326"))) == rols(result)
    assert rols(compliance(territory, area=box(-4, 3, 152, 203))) == rols(result)


def test_bad_areas_are_refused_in_spanish(territory: Settings) -> None:
    with pytest.raises(UnknownAreaError) as unknown:
        compliance(territory, area="S-99")
    assert "«S-99» no es un sector" in str(unknown.value)
    assert "S-01 (Llolleo)" in str(unknown.value) and "05601011002" in str(unknown.value)
    with pytest.raises(AreaOutsideError, match="fuera de la comuna"):
        compliance(territory, area=box(500_000, 0, 500_100, 100))
    with pytest.raises(AnalysisInputError, match="grados"):
        compliance(territory, area=shapely.box(-71.6, -33.6, -71.5, -33.5))
    with pytest.raises(AnalysisInputError, match="sin sistema de coordenadas|no tiene sistema"):
        compliance(territory, area=gpd.GeoDataFrame(geometry=[box(0, 0, 10, 10)]))
    with pytest.raises(AnalysisInputError, match="no tiene superficie"):
        compliance(territory, area=shapely.LineString([(X, Y), (X + 10, Y)]))


def test_polygon_outside_the_loaded_comuna_boundary(territory: Settings, tmp_path: Path
                                                    ) -> None:
    ingest(territory, "comunas", write(tmp_path / "c", "comunas", [
        {"codigo_comuna": "05601", "nombre": "San Antonio"}], [box(-1000, -1000, 1000, 1000)]))
    with pytest.raises(AreaOutsideError, match=r"fuera de la comuna \(San Antonio\)"):
        compliance(territory, area=box(5000, 5000, 5100, 5100))
    assert len(compliance(territory, area=box(900, 900, 1100, 1100))) == 0  # partly inside


# --- versions and dates --------------------------------------------------------------------

def test_zoning_version_or_date(territory: Settings, tmp_path: Path) -> None:
    ingest(territory, "zoning", write(tmp_path / "v2", "zoning", *zoning(False)))
    v2_from = query(territory, "SELECT valid_from FROM catalog.layer_versions WHERE "
                    "layer = 'zoning' AND version = 2")[0][0]

    def verdict(**kw: object) -> str:
        table = compliance(territory, area="S-01", **kw)  # type: ignore[arg-type]
        return table.set_index("rol").loc["00001-00002", "resultado"]

    assert verdict() == "conforme"
    assert verdict(version=1) == "no conforme"
    assert verdict(fecha=v2_from - timedelta(microseconds=1)) == "no conforme"
    assert verdict(fecha=date.today().isoformat()) == "conforme"
    assert compliance(territory, version=1).attrs["version"] == 1
    with pytest.raises(NotFoundError) as early:
        compliance(territory, fecha="2000-01-01")
    first = query(territory, "SELECT min(valid_from) FROM catalog.layer_versions "
                  "WHERE layer = 'zoning'")[0][0]
    assert "2000-01-01" in str(early.value)
    assert f"rige desde el {first.astimezone(LOCAL_TZ):%Y-%m-%d}" in str(
        early.value)
    with pytest.raises(NotFoundError, match="no tiene versión 7.*Versiones cargadas: 1, 2"):
        capacity(territory, version=7)
    with pytest.raises(AnalysisInputError, match="no ambas"):
        capacity(territory, version=1, fecha="2030-01-01")
    with pytest.raises(AnalysisInputError, match="Fecha no válida"):
        capacity(territory, fecha="31/12/2024")


def test_analyses_accept_an_open_connection(territory: Settings) -> None:
    with psycopg.connect(territory.database_url) as conn:
        first = compliance(conn, area="S-02", geometria=False)
        again = compliance(conn, area="S-02", geometria=False)  # temp tables reused
    assert first.equals(again) and not isinstance(first, gpd.GeoDataFrame)


def test_empty_results_keep_their_columns(territory: Settings) -> None:
    far = box(600, 600, 700, 700)  # in the work area, no parcels
    for function, columns in ((compliance, compliance_module.COLUMNS),
                              (capacity, capacity_module.COLUMNS),
                              (capacity_by_zone, capacity_module.ZONE_COLUMNS)):
        result = function(territory, area=far)
        assert len(result) == 0
        assert list(result.columns) == [*columns, "geometry"]
        assert isinstance(result, gpd.GeoDataFrame)
    summary = compliance_summary(territory, area=far, geometria=False)
    assert len(summary) == 0 and "no_conformes" in summary


# --- export --------------------------------------------------------------------------------

@pytest.mark.parametrize("suffix", [".gpkg", ".parquet", ".csv", ".xlsx"])
def test_export_round_trip(territory: Settings, tmp_path: Path, suffix: str) -> None:
    result = compliance(territory, area="S-01")
    path = export(result, tmp_path / "salida" / f"cumplimiento{suffix}")
    if suffix == ".gpkg":
        back = gpd.read_file(path, layer="cumplimiento")
    elif suffix == ".parquet":
        back = gpd.read_parquet(path)
        assert_geodataframe_equal(back, result)
    elif suffix == ".csv":
        back = pd.read_csv(path, encoding="utf-8-sig", dtype={"rol": str})
    else:
        back = pd.read_excel(path, dtype={"rol": str})
        sheet = openpyxl.load_workbook(path)["cumplimiento"]
        assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    assert list(back["rol"]) == list(result["rol"])
    assert list(back["resultado"]) == list(result["resultado"])
    assert list(back["superficie_m2"]) == list(result["superficie_m2"])
    first = back.set_index("rol").loc["00001-00001", "direccion"]
    second = back.set_index("rol").loc["00001-00002", "direccion"]
    if suffix in (".csv", ".xlsx"):
        assert (first, second) == ("'=HYPERLINK(\"x\")", "'-Pasaje 2")
    else:
        assert (first, second) == ("=HYPERLINK(\"x\")", "-Pasaje 2")
    if suffix == ".csv":
        areas = shapely.from_wkt(back["geometria_wkt"].to_numpy()).astype(object)
        assert [round(g.area) for g in areas] == [round(a) for a in result.area]
    if suffix == ".gpkg":
        assert back.crs.to_epsg() == CRS
        assert list(back.area.round()) == list(result.area.round())


def test_export_table_without_geometry_and_unknown_format(territory: Settings,
                                                          tmp_path: Path) -> None:
    zones = capacity_by_zone(territory, geometria=False)
    back = gpd.read_file(export(zones, tmp_path / "cabida.gpkg"))
    assert list(back["zona"]) == ["AV-3", "ZH-1", "ZM-2"]
    assert back["lotes_max"].isna().tolist() == [True, False, False]
    back = pd.read_parquet(export(zones, tmp_path / "cabida.parquet"))
    pd.testing.assert_frame_equal(back, zones)
    with pytest.raises(AnalysisInputError, match="no reconocido.*\\.gpkg"):
        export(zones, tmp_path / "cabida.shp")


# --- registry ------------------------------------------------------------------------------

def test_registry_documents_every_column() -> None:
    assert {"cumplimiento", "cumplimiento_resumen", "cabida", "cabida_zonas", "exposicion",
            "rasters", "bajo_cota_segura", "influencia_portuaria", "distancia_puerto",
            "rutas_camiones_residencial", "diagnostico_sectores", "resumen_comunal",
            "cambios"} <= set(ANALYSES)
    documented = {
        compliance_module.compliance: compliance_module.COLUMNS,
        compliance_module.compliance_summary: compliance_module.SUMMARY_COLUMNS,
        capacity_module.capacity: capacity_module.COLUMNS,
        capacity_module.capacity_by_zone: capacity_module.ZONE_COLUMNS,
        exposure_module.hazard_exposure: exposure_module.COLUMNS,
        zonal_module.raster_statistics: zonal_module.STAT_COLUMNS,
    }
    for function, columns in documented.items():
        for column in columns:
            assert f"``{column}``" in (function.__doc__ or ""), (function.__name__, column)
    for analysis in ANALYSES.values():
        params = inspect.signature(analysis.function).parameters
        assert list(params)[:4] == ["conn_or_settings", "area", "version", "fecha"]
        assert all(o in params for o in analysis.opciones)
        assert analysis.title and analysis.description.endswith(".")

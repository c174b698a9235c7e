"""The projects' territorial profile against hand-computed cases on small known layers."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import psycopg
import pytest
import shapely

from gis import profile as profile_module
from gis.ingest import ingest
from gis.profile import current_profile, profiles_table, project_profile, refresh_profiles
from gis.settings import Settings
from tests.samples import ORIGIN

X, Y = ORIGIN
CRS = 32719


def box(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    return shapely.box(X + x0, Y + y0, X + x1, Y + y1)


def write(tmp_path: Path, name: str, rows: list[dict], geoms: list) -> Path:  # type: ignore[type-arg]
    path = tmp_path / f"{name}.gpkg"
    gpd.GeoDataFrame(rows, geometry=geoms, crs=CRS).to_file(path, driver="GPKG")
    return path


def zoning_rows(salud_in_b: str) -> tuple[list[dict], list]:  # type: ignore[type-arg]
    rows = [
        {"codigo": "Z-A", "nombre": "Zona A", "familia": "residencial",
         "usos_permitidos": "residencial; equipamiento salud; equipamiento educación",
         "usos_prohibidos": "actividad productiva molesta", "altura_maxima": 10.5},
        {"codigo": "Z-B", "nombre": "Zona B", "familia": "mixta",
         "usos_permitidos": "residencial" + ("; equipamiento salud"
                                             if salud_in_b == "permitido" else ""),
         "usos_prohibidos": "equipamiento salud" if salud_in_b == "prohibido" else None,
         "altura_maxima": 21.0},
    ]
    return rows, [box(0, 0, 100, 100), box(100, 0, 200, 100)]


def write_raster(path: Path, values: np.ndarray) -> Path:
    import rasterio
    from rasterio.transform import from_origin

    with rasterio.open(path, "w", driver="GTiff", width=values.shape[1],
                       height=values.shape[0], count=1, dtype="float32", crs="EPSG:32719",
                       transform=from_origin(X, Y + 105, 10, 10), nodata=-9999) as dst:
        dst.write(values.astype("float32"), 1)
    return path


@pytest.fixture
def territory(settings: Settings, tmp_path: Path) -> Settings:
    """Two zones, two parcels, a hazard square, two census zones, a sector, a truck
    route, a terminal, land use, a DEM ramp (45° slope) and a tsunami raster."""
    load = lambda layer, rows, geoms: ingest(  # noqa: E731
        settings, layer, write(tmp_path, layer, rows, geoms))
    load("zoning", *zoning_rows("prohibido"))
    load("land_use", [{"uso": "residencial"}], [box(0, 0, 200, 100)])
    load("parcels", [{"rol": "100-1", "destino": "H"}, {"rol": "100-2", "destino": "C"},
                     {"rol": "100-3", "destino": "H"}],
         [box(0, 0, 100, 50), box(100, 0, 200, 50), box(600, 400, 700, 500)])
    load("hazard_zones", [{"tipo": "tsunami", "nivel": "alto"}], [box(0, 0, 75, 100)])
    load("census_zones", [
        {"geocodigo": "05601011001", "codigo_comuna": "05601", "poblacion": 1000},
        {"geocodigo": "05601011002", "codigo_comuna": "05601", "poblacion": 600}],
        [box(-500, -500, 700, 500), box(700, -1500, 1700, 1500)])
    load("planning_sectors", [{"codigo": "S-01", "nombre": "Llolleo"}],
         [box(-2000, -2000, 2000, 2000)])
    load("port_routes", [{"nombre": "Ruta de prueba", "categoria": "ruta de camiones urbana",
                          "ruta_camiones": True, "camiones_dia": 900}],
         [shapely.LineString([(X - 500, Y + 300), (X + 500, Y + 300)])])
    load("port_terminals", [{"nombre": "Terminal de prueba", "estado": "en operación"}],
         [box(-400, -100, -300, 100)])
    load("projects", [
        {"codigo": "P-1", "nombre": "CESFAM", "sector": "salud", "etapa": "diseño"},
        {"codigo": "P-2", "nombre": "Calle", "sector": "vialidad", "etapa": "idea"},
        {"codigo": "P-3", "nombre": "Escuela", "sector": "educación", "etapa": "perfil"},
        {"codigo": "P-4", "nombre": "Bodega", "sector": "puerto y logística",
         "etapa": "idea"}],
        [box(50, 25, 150, 75), shapely.LineString([(X + 20, Y + 50), (X + 180, Y + 50)]),
         shapely.Point(X + 30, Y + 30), shapely.Point(X + 1500, Y)])
    cols = np.arange(20, dtype="float64")
    ingest(settings, "dem", write_raster(tmp_path / "dem.tif",
                                         np.tile(cols * 10, (10, 1))))
    ingest(settings, "tsunami_depth", write_raster(
        tmp_path / "tsunami.tif", np.tile(np.arange(10, dtype="float64")[:, None], (1, 20))))
    return settings


def profile_of(settings: Settings, codigo: str) -> dict:  # type: ignore[type-arg]
    with psycopg.connect(settings.database_url) as conn:
        return project_profile(conn, settings, codigo)


def test_zones_with_area_length_and_point_shares_and_use_conformity(territory: Settings
                                                                    ) -> None:
    p1 = profile_of(territory, "P-1")["zonas_prc"]
    assert [(z["codigo"], z["porcentaje"], z["medida"], z["uso"]) for z in p1["zonas"]] == [
        ("Z-A", 50.0, 2500.0, "permitido"), ("Z-B", 50.0, 2500.0, "prohibido")]
    assert p1["uso_permitido"] == "prohibido"
    assert p1["zonas"][0]["normas"]["altura_maxima"] == 10.5
    p2 = profile_of(territory, "P-2")
    assert [(z["codigo"], z["porcentaje"], z["medida"], z["uso"])
            for z in p2["zonas_prc"]["zonas"]] == [
        ("Z-A", 50.0, 80.0, "no indicado"), ("Z-B", 50.0, 80.0, "no indicado")]
    assert p2["proyecto"]["clase_oguc"] == "espacio público"
    p3 = profile_of(territory, "P-3")["zonas_prc"]
    assert [(z["codigo"], z["porcentaje"]) for z in p3["zonas"]] == [("Z-A", 100.0)]
    assert p3["uso_permitido"] == "permitido"
    p4 = profile_of(territory, "P-4")["zonas_prc"]
    assert p4 == {"uso_permitido": "no indicado", "zonas": []}


def test_land_use_parcels_and_hazards(territory: Settings) -> None:
    p = profile_of(territory, "P-1")
    assert p["uso_de_suelo"]["usos"][0]["uso"] == "residencial"
    assert p["uso_de_suelo"]["usos"][0]["porcentaje"] == 100.0
    parcels = p["predios"]
    assert parcels["total"] == 2 and parcels["superficie_afectada_m2"] == 2500.0
    assert parcels["destinos"] == {"C": 1, "H": 1}
    assert [(x["rol"], x["medida_afectada"], x["porcentaje_predio"], x["destino_nombre"])
            for x in parcels["predios"]] == [
        ("00100-00001", 1250.0, 25.0, "habitacional"), ("00100-00002", 1250.0, 25.0, "comercio")]
    assert [(h["tipo"], h["nivel"], h["porcentaje"]) for h in p["riesgos"]["zonas"]] == [
        ("tsunami", "alto", 25.0)]


def test_raster_statistics_over_footprint_and_buffer(territory: Settings) -> None:
    r = profile_of(territory, "P-1")["rasters"]
    # cell centres inside x 50..150, y 25..75: columns 5..14, rows 3..7 (10 m cells)
    assert r["muestra"] == "huella del proyecto"
    assert r["elevacion"] == {"min": 50.0, "media": 95.0, "max": 140.0, "celdas": 50}
    assert r["pendiente"] == {"min": 45.0, "media": 45.0, "max": 45.0, "celdas": 50}
    assert r["profundidad_tsunami"] == {"min": 3.0, "media": 5.0, "max": 7.0, "celdas": 50}
    point = profile_of(territory, "P-3")["rasters"]
    assert point["muestra"] == "buffer de 50 m"
    assert point["elevacion"]["min"] == 0.0 and point["elevacion"]["max"] == 70.0
    assert profile_of(territory, "P-4")["rasters"]["elevacion"] is None  # off the raster


def test_port_relation_and_configurable_truck_band(territory: Settings) -> None:
    port = profile_of(territory, "P-1")["puerto"]
    assert port["ruta_cercana"]["nombre"] == "Ruta de prueba"
    assert port["ruta_cercana"]["distancia_m"] == 225.0
    assert port["banda_camiones"] == {"ancho_m": 200.0, "dentro": False, "rutas": []}
    assert port["terminal_cercano"]["nombre"] == "Terminal de prueba"
    assert port["terminal_cercano"]["distancia_m"] == 350.0
    wide = territory.model_copy(update={"truck_route_band_m": 250.0})
    band = profile_of(wide, "P-1")["puerto"]["banda_camiones"]
    assert band == {"ancho_m": 250.0, "dentro": True, "rutas": ["Ruta de prueba"]}


def test_territory_and_population_served_weighted_by_residential_parcels(
        territory: Settings) -> None:
    p = profile_of(territory, "P-3")
    assert p["territorio"]["zonas_censales"][0]["geocodigo"] == "05601011001"
    assert p["territorio"]["sectores"] == [
        {"codigo": "S-01", "nombre": "Llolleo", "porcentaje": 100.0}]
    served = p["poblacion_servida"]
    # 500 m: parcel 100-1 (5,000 m²) of the zone's 15,000 m² of residential parcels
    near = served["radio_500_m"]
    assert [(z["geocodigo"], z["fraccion"], z["metodo"]) for z in near["zonas"]] == [
        ("05601011001", 0.3333, "predios residenciales")]
    assert near["poblacion"] == 333
    # 1 km: both residential parcels (all of zone 1) and, without residential parcels,
    # the area share of zone 2 inside the buffer
    far = served["radio_1000_m"]
    share = shapely.Point(X + 30, Y + 30).buffer(1000, quad_segs=8).intersection(
        box(700, -1500, 1700, 1500)).area / 3_000_000
    zones = {z["geocodigo"]: z for z in far["zonas"]}
    assert zones["05601011001"]["fraccion"] == 1.0
    assert zones["05601011002"]["metodo"] == "superficie"
    assert zones["05601011002"]["fraccion"] == pytest.approx(share, abs=1e-4)
    assert far["poblacion"] == round(1000 + 600 * share)


def test_nearby_projects_with_synergies_and_conflicts(territory: Settings) -> None:
    near = profile_of(territory, "P-1")["proyectos_cercanos"]
    assert [(o["codigo"], o["distancia_m"]) for o in near["proyectos"]] == [
        ("P-2", 0.0), ("P-3", 20.0)]
    assert profile_of(territory, "P-4")["proyectos_cercanos"]["proyectos"] == []
    assert profile_module.relation("puerto y logística", "salud") == "posible conflicto"
    assert profile_module.relation("salud", "salud") == "sinergia"


def test_unknown_project_is_a_spanish_not_found(territory: Settings) -> None:
    with pytest.raises(profile_module.ProjectNotFoundError, match="no existe"):
        profile_of(territory, "NO-EXISTE")


def test_stored_profile_is_reused_until_a_dependency_changes(
        territory: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    s = territory
    with psycopg.connect(s.database_url, autocommit=True) as conn:
        first = current_profile(conn, s, "P-1")
        assert first["zonas_prc"]["uso_permitido"] == "prohibido"
        assert refresh_profiles(conn, s) == 3  # the other three projects

        calls: list[tuple[str, ...]] = []
        real = profile_module.compute_sections

        def spy(conn, settings, codes, sections):  # type: ignore[no-untyped-def]
            calls.append(tuple(sections))
            return real(conn, settings, codes, sections)

        monkeypatch.setattr(profile_module, "compute_sections", spy)
        assert current_profile(conn, s, "P-1") == first
        assert refresh_profiles(conn, s) == 0
        assert calls == []

        (tmp_path / "v2").mkdir()
        ingest(s, "zoning", write(tmp_path / "v2", "zoning", *zoning_rows("permitido")))
        # the new version refreshed the stored profiles at once, in one batch, and
        # only the section that depends on zoning
        assert calls == [("zonas_prc",)]
        again = current_profile(conn, s, "P-1")
        assert calls == [("zonas_prc",)]
        assert again["zonas_prc"]["uso_permitido"] == "permitido"
        assert again["predios"] == first["predios"]
        assert refresh_profiles(conn, s) == 0


def test_profiles_table_for_notebooks(territory: Settings) -> None:
    with psycopg.connect(territory.database_url, autocommit=True) as conn:
        table = profiles_table(conn, territory)
    assert list(table["codigo"]) == ["P-1", "P-2", "P-3", "P-4"]
    row = table.set_index("codigo").loc["P-1"]
    assert row["zona_prc"] == "Z-A" and row["uso_permitido"] == "prohibido"
    assert row["predios"] == 2 and bool(row["riesgo_alto"])
    assert row["distancia_ruta_m"] == 225.0 and not row["en_banda_camiones"]
    assert table.set_index("codigo").loc["P-3", "poblacion_500m"] == 333

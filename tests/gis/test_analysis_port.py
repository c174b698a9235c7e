"""Port influence against hand-computed values on the territory of
``test_analysis_common``, with port layers added (metres from ``tests.samples.ORIGIN``):

- truck route «Ruta A»: x = -10 from y -1000 to 1000 (a vertex at y 260);
- truck route «Ruta B»: (-10.5, 260) → (-120, 260) → (-120, 120), its first vertex 0.5 m
  from Ruta A's (snapped into one node with the default 1 m tolerance);
- a railway at x = 50 (not a truck route: ignored);
- terminal «Terminal T» x -150–-100, y 0–100; «Puerto Exterior» x -150–-100, y -900–-850.

Census zone 05601011001 (1,000 people) holds the two housing parcels 1-1 (2,500 m²) and
1-7 (5,000 m²): 333.3 and 666.7 people; zone 05601011002 (600 people, x 400–800,
y -100–700) has no housing and counts by area.
"""

from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from gis.analysis.common import AnalysisInputError
from gis.analysis.port import (
    CROSSING_COLUMNS,
    DISTANCE_COLUMNS,
    INFLUENCE_COLUMNS,
    parse_bands,
    port_distances,
    port_influence,
    truck_routes_in_residential_zones,
)
from gis.errors import NotFoundError
from gis.ingest import ingest
from gis.settings import Settings
from tests.conftest import query
from tests.gis.test_analysis_common import X, Y, box, territory, write  # noqa: F401

BANDS = (0, 50, 100, 200, 300, 500)


def line(*points: tuple[float, float]) -> shapely.LineString:
    return shapely.LineString([(X + x, Y + y) for x, y in points])


def routes(extra: bool = False) -> tuple[list[dict], list]:  # type: ignore[type-arg]
    rows = [
        {"nombre": "Ruta A", "categoria": "ruta nacional", "camiones_dia": 1000,
         "ruta_camiones": True},
        {"nombre": "Ruta B", "categoria": "ruta de camiones urbana", "camiones_dia": 500,
         "ruta_camiones": True},
        {"nombre": "Ferrocarril", "categoria": "ferrocarril", "camiones_dia": 0,
         "ruta_camiones": False},
    ]
    geoms = [line((-10, -1000), (-10, 260), (-10, 1000)),
             line((-10.5, 260), (-120, 260), (-120, 120)),
             line((50, -1000), (50, 1000))]
    if extra:  # through ZH-1 (residential), ZM-2 (mixed) and AV-3 at y 90
        rows += [{"nombre": "Ruta D", "categoria": "ruta de camiones urbana",
                  "camiones_dia": 200, "ruta_camiones": True},
                 {"nombre": "Ruta E", "categoria": "ruta de camiones urbana",
                  "camiones_dia": 300, "ruta_camiones": True}]
        geoms += [line((-10, 90), (250, 90)), line((50, 90), (80, 90))]
    return rows, geoms


@pytest.fixture
def port(territory: Settings, tmp_path: Path) -> Settings:  # noqa: F811
    ingest(territory, "port_routes", write(tmp_path / "p1", "port_routes", *routes()))
    ingest(territory, "port_terminals", write(tmp_path / "p1", "port_terminals", [
        {"nombre": "Terminal T", "estado": "en operación"},
        {"nombre": "Puerto Exterior", "estado": "planificado"}],
        [box(-150, 0, -100, 100), box(-150, -900, -100, -850)]))
    return territory


def rows_of(table) -> dict[tuple[str, str], list]:  # type: ignore[no-untyped-def,type-arg]
    cols = list(INFLUENCE_COLUMNS)[4:]
    return {(r["referencia"], r["banda"]): [r[c] for c in cols]
            for r in table.to_dict("records")}


def test_influence_by_band_of_routes_and_terminals(port: Settings) -> None:
    table = port_influence(port, bandas=BANDS)
    assert list(table.columns) == list(INFLUENCE_COLUMNS)
    assert table.banda.tolist()[:5] == ["0–50 m", "50–100 m", "100–200 m", "200–300 m",
                                        "300–500 m"]
    got = rows_of(table)
    # [predios, residenciales, superficie, población, educación, salud]
    # routes: 1-1 and 1-8 at 10 m; 1-2 60, 1-3 80; 1-9 110, 1-4 160, 1-10 170;
    # 1-5 210, 1-6 260, 1-7 290 (the railway at x 50 would put 1-2 at 0 m)
    assert got["rutas de camiones", "0–50 m"] == [2, 1, 6000.0, 333.3, 0, 0]
    assert got["rutas de camiones", "50–100 m"] == [2, 0, 6500.0, 0.0, 0, 0]
    assert got["rutas de camiones", "100–200 m"] == [3, 0, 5042.0, 0.0, 0, 1]
    assert got["rutas de camiones", "200–300 m"] == [3, 1, 10000.0, 666.7, 1, 0]
    # zone 002 by area: the ring 300–500 m of Ruta A covers its x 400–490:
    # 600 × 90 × 800 / (400 × 800)
    assert got["rutas de camiones", "300–500 m"] == [0, 0, 0.0, 135.0, 0, 0]
    # terminals: x distance from -100
    assert got["terminales", "50–100 m"] == [0, 0, 0.0, 0.0, 0, 0]
    assert got["terminales", "100–200 m"] == [4, 1, 12500.0, 333.3, 0, 0]
    assert got["terminales", "200–300 m"] == [3, 0, 5042.0, 0.0, 0, 1]
    assert got["terminales", "300–500 m"] == [3, 1, 10000.0, 666.7, 1, 0]
    assert table.attrs["capa_versionada"] == "port_routes"


def test_influence_of_a_sector_and_an_empty_area(port: Settings) -> None:
    got = rows_of(port_influence(port, area="S-02", bandas=BANDS))
    assert got["rutas de camiones", "100–200 m"] == [2, 0, 2542.0, 0.0, 0, 1]
    assert got["rutas de camiones", "200–300 m"] == [3, 1, 10000.0, 666.7, 1, 0]
    assert got["rutas de camiones", "0–50 m"] == [0, 0, 0.0, 0.0, 0, 0]
    empty = port_influence(port, area=box(600, 600, 700, 700), bandas=(0, 100))
    assert len(empty) == 2 and empty.predios.tolist() == [0, 0]
    # only zone 002 people in that square count; it is beyond 100 m of everything
    assert empty.poblacion.tolist() == [0.0, 0.0]


def test_distances_along_the_network(port: Settings) -> None:
    table = port_distances(port, bandas=BANDS, paso_m=0)
    assert list(table.columns) == [*DISTANCE_COLUMNS, "geometry"]
    by_rol = table.set_index("rol")
    p1 = by_rol.loc["00001-00001"]
    assert (p1.distancia_ruta_camiones_m, p1.ruta_camiones, p1.banda_ruta_camiones) == (
        10.0, "Ruta A", "0–50 m")
    assert (p1.distancia_terminal_m, p1.terminal, p1.banda_terminal) == (
        100.0, "Terminal T", "100–200 m")
    # nodes: Ruta B's end (-120, 120) is 20 m from Terminal T (its access node); the
    # snapped junction (-10.25, 260) is 140 + 109.5 m from it along Ruta B
    assert (p1.distancia_acceso_red_m, p1.distancia_red_m, p1.distancia_puerto_red_m,
            p1.terminal_red) == (round(math.hypot(120, 70), 1), 0.0,
                                 round(math.hypot(120, 70), 1), "Terminal T")
    p7 = by_rol.loc["00001-00007"]
    access = math.hypot(290.25, 160)
    assert (p7.distancia_acceso_red_m, p7.distancia_red_m, p7.distancia_puerto_red_m) == (
        round(access, 1), 249.5, round(access + 249.5, 1))
    assert p7.banda_terminal == "300–500 m"
    # no vertex of the routes within 100 m of Puerto Exterior
    assert table.attrs["avisos"] == [
        "La red de rutas de camiones no llega al terminal «Puerto Exterior»: no hay nodos "
        "a menos de 100 m."]
    assert table.attrs["nodos_red"] == 5


def test_densified_network_and_snapping(port: Settings) -> None:
    table = port_distances(port, bandas=BANDS, paso_m=10, geometria=False)
    assert not isinstance(table, gpd.GeoDataFrame)
    by_rol = table.set_index("rol")
    # Ruta A's nodes every 10 m; those at y -40..140 are within 100 m of Terminal T
    assert by_rol.loc["00001-00001"].distancia_puerto_red_m == 10.0
    assert by_rol.loc["00001-00007"].tolist()[-4:] == [290.0, 0.0, 290.0, "Terminal T"]
    assert table.attrs["avisos"] == []
    # without snapping Ruta B (which reaches the terminal) is cut from Ruta A
    loose = port_distances(port, bandas=BANDS, paso_m=0, tolerancia_m=0.1,
                           geometria=False).set_index("rol")
    access = math.hypot(290.5, 160)
    assert loose.loc["00001-00007"].distancia_puerto_red_m == round(access + 249.5, 1)


def test_truck_routes_in_residential_zones_and_versions(port: Settings,
                                                        tmp_path: Path) -> None:
    empty = truck_routes_in_residential_zones(port)
    assert len(empty) == 0 and "longitud_m" in empty.columns
    ingest(port, "port_routes", write(tmp_path / "p2", "port_routes", *routes(extra=True)))
    table = truck_routes_in_residential_zones(port)
    # Ruta D crosses ZH-1 (residential) over x 0–100 and ZM-2 (mixed, permits housing)
    # over x 100–200, not AV-3 (green); Ruta E overlaps it in ZH-1
    rows = table.drop(columns="geometry").to_dict("records")
    assert rows == [
        {"zona": "ZH-1", "nombre": "Habitacional 1", "familia": "residencial",
         "superficie_zona_m2": 10000.0, "longitud_m": 100.0, "rutas": 2,
         "nombres_rutas": "Ruta D; Ruta E", "camiones_dia_max": 300,
         "camiones_km_dia": 29.0},  # 0.1 km × 200 + 0.03 km × 300
        {"zona": "ZM-2", "nombre": "Mixta 2", "familia": "mixta",
         "superficie_zona_m2": 10000.0, "longitud_m": 100.0, "rutas": 1,
         "nombres_rutas": "Ruta D", "camiones_dia_max": 200, "camiones_km_dia": 20.0}]
    assert table.geometry.iloc[0].length == pytest.approx(100)
    only = truck_routes_in_residential_zones(port, familias="residencial", geometria=False)
    assert only.zona.tolist() == ["ZH-1"] and not isinstance(only, gpd.GeoDataFrame)
    assert truck_routes_in_residential_zones(port, familias=["área verde"]).zona.tolist() == [
        "AV-3"]
    with pytest.raises(AnalysisInputError, match="Familias de zona no válidas: «casas»"):
        truck_routes_in_residential_zones(port, familias="casas")
    clipped = truck_routes_in_residential_zones(port, area=box(-4, 3, 60, 203))
    assert clipped.longitud_m.tolist() == [60.0]
    in_s2 = truck_routes_in_residential_zones(port, area="S-02")  # x 152–402
    assert (in_s2.zona.tolist(), in_s2.longitud_m.tolist()) == (["ZM-2"], [48.0])
    # the routes in force on a date before the second version: no crossings
    v2 = query(port, "SELECT valid_from FROM catalog.layer_versions WHERE layer = "
               "'port_routes' AND version = 2")[0][0]
    assert len(truck_routes_in_residential_zones(port, fecha=v2 - timedelta(
        microseconds=1))) == 0
    # the routes' version chooses the network of the influence
    assert port_influence(port, version=1, bandas=BANDS).attrs["version"] == 1
    newer = rows_of(port_influence(port, bandas=BANDS))
    assert newer["rutas de camiones", "0–50 m"][0] == 10  # Ruta D passes within 40 m of all


def test_bad_inputs(port: Settings) -> None:
    for bad in ((100,), (0, 100, 50), (-10, 100), "0,cien", (0, float("nan"))):
        with pytest.raises(AnalysisInputError, match="Bandas de distancia no válidas"):
            port_influence(port, bandas=bad)  # type: ignore[arg-type]
    assert parse_bands("0;100,250.5") == [(0.0, 100.0, "0–100 m"),
                                          (100.0, 250.5, "100–250,5 m")]
    with pytest.raises(AnalysisInputError, match="«tolerancia_m» debe ser"):
        port_distances(port, tolerancia_m=0)
    with pytest.raises(NotFoundError, match="primera versión cargada"):
        port_influence(port, fecha="2001-01-01")
    with pytest.raises(AnalysisInputError, match="no ambas"):
        port_influence(port, version=1, fecha="2030-01-01")


def test_port_layers_not_loaded(territory: Settings) -> None:  # noqa: F811
    with pytest.raises(NotFoundError, match="«port_routes».*no tiene versiones cargadas"):
        port_influence(territory)


def test_columns_are_documented() -> None:
    for function, columns in ((port_influence, INFLUENCE_COLUMNS),
                              (port_distances, DISTANCE_COLUMNS),
                              (truck_routes_in_residential_zones, CROSSING_COLUMNS)):
        for column in columns:
            assert f"``{column}``" in (function.__doc__ or ""), (function.__name__, column)

"""Investment by territory, need ranking and budget execution against hand-computed cases.

Four planning sectors of 1 ha side by side (S-01 .. S-04, x = 0-100, 100-200, 200-300,
300-400 m), census zones Z1 (x 0-150, 1,500 people), Z2 (150-200, 500), Z3 (200-300, 300)
and Z4 (300-400, 200), residential parcels of Z1 of 5,000 m² in S-01 and 1,000 m² in
S-02 (so Z1 gives S-01 5/6 of its people: 1,250, and S-02 1/6: 250 + Z2 = 750), two
overlapping high tsunami/flood zones covering x 0-75 (75 % of S-01) and a medium one.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import psycopg
import pytest
import shapely

from gis.charts import (
    clp_millions,
    execution_chart,
    execution_chart_png,
    investment_per_inhabitant_chart,
)
from gis.ingest import ingest
from gis.investment import (
    NO_AXIS,
    OUTSIDE,
    InvestmentQueryError,
    budget_execution,
    choropleth_classes,
    investment_breakdown,
    investment_by_territory,
    investment_map,
    need_ranking,
    territory_geojson,
)
from gis.portfolio.record import parse_project
from gis.portfolio.store import save_projects
from gis.settings import Settings
from tests.samples import ORIGIN

X, Y = ORIGIN


def box(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    return shapely.box(X + x0, Y + y0, X + x1, Y + y1)


def load(settings: Settings, tmp_path: Path, layer: str, rows: list[dict],  # type: ignore[type-arg]
         geoms: list) -> None:  # type: ignore[type-arg]
    path = tmp_path / f"{layer}.gpkg"
    gpd.GeoDataFrame(rows, geometry=geoms, crs=32719).to_file(path, driver="GPKG")
    ingest(settings, layer, path)


def zone(code: str, people: int, ages: tuple[int, int, int, int]) -> dict:  # type: ignore[type-arg]
    return {"geocodigo": code, "codigo_comuna": "05601", "poblacion": people,
            "pob_0_5": ages[0], "pob_6_14": ages[1], "pob_15_64": ages[2],
            "pob_65_mas": ages[3]}


def project(code: str, sector: str, geometry: object, funding: list[dict],  # type: ignore[type-arg]
            etapa: str = "diseño", eje: str | None = None) -> object:
    return parse_project({"codigo": code, "nombre": f"Proyecto {code}", "sector": sector,
                          "etapa": etapa, "eje_pladeco": eje, "financiamiento": funding},
                         geometry=geometry)


@pytest.fixture
def territory(settings: Settings, tmp_path: Path) -> Settings:
    load(settings, tmp_path, "planning_sectors",
         [{"codigo": f"S-0{i + 1}", "nombre": name} for i, name in
          enumerate(("Llolleo", "Barrancas", "Tejas Verdes", "Bellavista"))],
         [box(100 * i, 0, 100 * (i + 1), 100) for i in range(4)])
    load(settings, tmp_path, "census_zones", [
        zone("05601011001", 1500, (150, 150, 900, 300)),
        zone("05601011002", 500, (25, 25, 400, 50)),
        zone("05601011003", 300, (30, 60, 150, 60)),
        zone("05601011004", 200, (20, 20, 140, 20))],
        [box(0, 0, 150, 100), box(150, 0, 200, 100), box(200, 0, 300, 100),
         box(300, 0, 400, 100)])
    load(settings, tmp_path, "parcels",
         [{"rol": "100-1", "destino": "H"}, {"rol": "100-2", "destino": "H"},
          {"rol": "100-3", "destino": "C"}],
         [box(0, 0, 50, 100), box(100, 0, 150, 20), box(100, 50, 150, 100)])
    load(settings, tmp_path, "hazard_zones",
         [{"tipo": "tsunami", "nivel": "alto"}, {"tipo": "inundación", "nivel": "alto"},
          {"tipo": "remoción en masa", "nivel": "medio"}],
         [box(0, 0, 50, 100), box(25, 0, 75, 100), box(100, 0, 200, 100)])
    line = shapely.LineString([(X + 40, Y + 50), (X + 140, Y + 50)])  # 60 m + 40 m
    projects = [
        project("MUN-2024-001", "vialidad", line, [
            {"fuente": "FNDR", "anio": 2024, "solicitado": 1_000_000, "aprobado": 1_000_000,
             "comprometido": 800_000, "ejecutado": 500_000},
            {"fuente": "municipal", "anio": 2025, "solicitado": 200_000}],
            eje="Desarrollo urbano y vivienda"),
        project("MUN-2025-002", "áreas verdes", box(150, 20, 250, 40), [  # 50 % / 50 %
            {"fuente": "PMU", "anio": 2025, "solicitado": 400_000, "aprobado": 400_000,
             "comprometido": 400_000, "ejecutado": 100_000}], etapa="ejecución"),
        project("MUN-2024-003", "salud", shapely.Point(X + 50, Y + 80), [
            {"fuente": "FRIL", "anio": 2024, "solicitado": 300_000, "aprobado": 300_000,
             "comprometido": 300_000, "ejecutado": 300_000}]),
        project("MUN-2024-004", "salud", shapely.Point(X + 900, Y + 900), [  # no sector
            {"fuente": "municipal", "anio": 2024, "solicitado": 100_000,
             "aprobado": 100_000}]),
    ]
    with psycopg.connect(settings.database_url) as conn:
        save_projects(conn, settings, "pruebas", projects, source="prueba")  # type: ignore[arg-type]
    return settings


def by_territory(settings: Settings, unit: str = "sector", **filters: object
                 ) -> gpd.GeoDataFrame:
    with psycopg.connect(settings.database_url) as conn:
        return investment_by_territory(conn, unit, **filters).set_index("codigo")  # type: ignore[arg-type]


def test_money_split_by_share_of_geometry_per_inhabitant_and_need(territory: Settings
                                                                  ) -> None:
    t = by_territory(territory)
    assert t.crs.to_epsg() == 4326
    assert list(t.index) == ["S-01", "S-02", "S-03", "S-04"]
    assert t["poblacion"].tolist() == [1250.0, 750.0, 300.0, 200.0]
    assert t["superficie_ha"].tolist() == [1.0, 1.0, 1.0, 1.0]
    # line 60/40 of 1,200,000 (FNDR approved + municipal requested), polygon 50/50 of
    # 400,000, point 300,000 in S-01; the project outside every sector counts nowhere
    assert t["monto_clp"].tolist() == [1_020_000, 680_000, 200_000, 0]
    assert t["monto_ejecutado_clp"].tolist() == [600_000, 250_000, 50_000, 0]
    assert t["n_proyectos"].tolist() == [2, 2, 1, 0]
    assert t["monto_por_habitante"].tolist() == [816.0, 906.7, 666.7, 0.0]
    assert t["monto_por_habitante_relativo"].tolist() == pytest.approx(
        [816 / 760, 680_000 / 750 / 760, 200_000 / 300 / 760, 0], abs=1e-4)
    assert t["pct_menores"].tolist() == [20.0, 13.33, 30.0, 20.0]
    assert t["pct_mayores"].tolist() == [20.0, 13.33, 20.0, 10.0]
    assert t["densidad_hab_ha"].tolist() == [1250.0, 750.0, 300.0, 200.0]
    assert t["pct_riesgo_alto"].tolist() == [75.0, 0.0, 0.0, 0.0]  # union, medium left out
    # mean of min-max (population, 0-14 + 65+ share, density, high hazard)
    pop = [1, 550 / 1050, 100 / 1050, 0]
    dep = [(40 - 80 / 3) / (50 - 80 / 3), 0, 1, (30 - 80 / 3) / (50 - 80 / 3)]
    risk = [1, 0, 0, 0]
    need = [(p + d + p + r) / 4 for p, d, r in zip(pop, dep, risk, strict=True)]
    assert t["indice_necesidad"].tolist() == pytest.approx(need, abs=1e-4)
    # ranking by money per inhabitant / need: S-04 0, S-01 914, S-03 2,240, S-02 3,462
    assert t["ranking"].to_dict() == {"S-01": 2, "S-02": 4, "S-03": 3, "S-04": 1}


def test_filters_by_year_source_sector_and_stage(territory: Settings) -> None:
    y2025 = by_territory(territory, anio=2025)
    assert y2025["monto_clp"].tolist() == [120_000, 280_000, 200_000, 0]
    assert y2025["n_proyectos"].tolist() == [1, 2, 1, 0]  # the 2024 point is out
    fndr = by_territory(territory, fuente="FNDR")
    assert fndr["monto_clp"].tolist() == [600_000, 400_000, 0, 0]
    assert fndr["monto_ejecutado_clp"].tolist() == [300_000, 200_000, 0, 0]
    salud = by_territory(territory, sector="salud")
    assert salud["monto_clp"].tolist() == [300_000, 0, 0, 0]
    assert by_territory(territory, etapa="ejecución")["monto_clp"].tolist() == [
        0, 200_000, 200_000, 0]
    nothing = by_territory(territory, anio=2030)
    assert nothing["monto_clp"].tolist() == [0, 0, 0, 0]
    assert nothing["n_proyectos"].tolist() == [0, 0, 0, 0]
    assert nothing["monto_por_habitante_relativo"].isna().all()


def test_census_zones_and_prc_zones_as_units(territory: Settings, tmp_path: Path) -> None:
    zones = by_territory(territory, "zona_censal")
    assert zones["poblacion"].tolist() == [1500.0, 500.0, 300.0, 200.0]
    assert zones["nombre"].iloc[0] == "Zona censal 05601011001"
    # line (x 40-140) and point in Z1; polygon 50 % in Z2 (x 150-200), 50 % in Z3
    assert zones["monto_clp"].tolist() == [1_500_000, 200_000, 200_000, 0]
    load(territory, tmp_path, "zoning", [
        {"codigo": "ZH-1", "nombre": "Residencial 1", "familia": "residencial"},
        {"codigo": "ZP-1", "nombre": "Portuaria", "familia": "portuaria"}],
        [box(0, 0, 150, 100), box(500, 0, 600, 100)])
    prc = by_territory(territory, "zona_prc")
    assert prc["poblacion"].tolist() == [1500.0, 0.0]  # all of Z1's housing is in ZH-1
    assert prc["monto_clp"].tolist() == [1_500_000, 0]
    assert prc["monto_por_habitante"].tolist()[0] == 1000.0
    assert prc["monto_por_habitante"].isna().tolist() == [False, True]
    assert prc["ranking"].to_dict() == {"ZH-1": 1, "ZP-1": 2}  # no people: last


def test_area_weighting_without_residential_parcels(territory: Settings) -> None:
    with psycopg.connect(territory.database_url) as conn:
        conn.execute("DELETE FROM layers.parcels")
        conn.execute("UPDATE catalog.layer_revisions SET revision = revision + 1 "
                     "WHERE layer = 'parcels'")
        conn.commit()
    t = by_territory(territory)
    assert t["poblacion"].tolist() == [1000.0, 1000.0, 300.0, 200.0]  # Z1 by area 2/3, 1/3


def test_breakdown_and_ranking_table(territory: Settings) -> None:
    with psycopg.connect(territory.database_url) as conn:
        by_source = investment_breakdown(conn, "sector", "fuente")
        by_year = investment_breakdown(conn, "sector", "anio", fuente="municipal")
        ranking = need_ranking(conn, "sector")
    assert list(by_source.columns) == ["codigo", "nombre", "fuente", "monto_clp",
                                       "monto_por_habitante"]
    assert [tuple(r) for r in by_source[["codigo", "fuente", "monto_clp"]].itertuples(
        index=False)] == [
        ("S-01", "FNDR", 600_000), ("S-01", "FRIL", 300_000), ("S-01", "municipal", 120_000),
        ("S-02", "FNDR", 400_000), ("S-02", "PMU", 200_000), ("S-02", "municipal", 80_000),
        ("S-03", "PMU", 200_000)]
    assert by_source["monto_por_habitante"].iloc[0] == 480.0  # 600,000 / 1,250
    assert by_year[["codigo", "anio", "monto_clp"]].values.tolist() == [
        ["S-01", 2025, 120_000], ["S-02", 2025, 80_000]]
    assert ranking["codigo"].tolist() == ["S-04", "S-01", "S-03", "S-02"]
    assert ranking["ranking"].tolist() == [1, 2, 3, 4]
    assert "geometry" not in ranking.columns


def test_budget_execution_sums_and_percentages(territory: Settings) -> None:
    with psycopg.connect(territory.database_url) as conn:
        years = budget_execution(conn, "anio")
        sources = budget_execution(conn, "fuente")
        sources_2025 = budget_execution(conn, "fuente", anio=2025)
        axes = budget_execution(conn, "eje_pladeco")
        places = budget_execution(conn, "territorio")
        sectors = budget_execution(conn, "sector")
    assert years.index.name == "anio"
    assert years.to_dict("index") == {
        2024: {"solicitado": 1_400_000, "aprobado": 1_400_000, "comprometido": 1_100_000,
               "ejecutado": 800_000, "pct_ejecucion": 57.1, "n_proyectos": 3},
        2025: {"solicitado": 600_000, "aprobado": 400_000, "comprometido": 400_000,
               "ejecutado": 100_000, "pct_ejecucion": 25.0, "n_proyectos": 2}}
    assert list(sources.index) == ["FNDR", "FRIL", "PMU", "municipal"]  # declared order
    assert sources.loc["municipal", "aprobado"] == 100_000
    assert sources.loc["municipal", "pct_ejecucion"] == 0.0
    assert sources_2025.loc["municipal", "aprobado"] == 0
    assert sources_2025["pct_ejecucion"].isna().tolist() == [False, True]  # nothing approved
    assert axes.loc["Desarrollo urbano y vivienda", "aprobado"] == 1_000_000
    assert axes.loc[NO_AXIS, "n_proyectos"] == 3
    assert list(places.index) == ["Llolleo", "Barrancas", "Tejas Verdes", OUTSIDE]
    assert places.loc["Llolleo", "aprobado"] == 900_000  # 60 % of 1,000,000 + 300,000
    assert places.loc["Llolleo", "ejecutado"] == 600_000
    assert places.loc["Llolleo", "pct_ejecucion"] == 66.7
    assert places.loc[OUTSIDE, "aprobado"] == 100_000
    assert places.loc["Llolleo", "n_proyectos"] == 2
    for table in (sources, axes, places, sectors):
        assert table[["solicitado", "aprobado", "ejecutado"]].sum().tolist() == [
            2_000_000, 1_800_000, 900_000]


def test_unknown_values_are_refused_in_spanish(territory: Settings) -> None:
    with psycopg.connect(territory.database_url) as conn:
        for call, text in [
            (lambda: investment_by_territory(conn, "comuna"), "sector, zona_censal, zona_prc"),
            (lambda: investment_by_territory(conn, fuente="BID"), "FNDR"),
            (lambda: investment_by_territory(conn, etapa="obra"), "prefactibilidad"),
            (lambda: investment_by_territory(conn, sector="minería"), "vialidad"),
            (lambda: investment_breakdown(conn, by="comuna"), "fuente, sector, anio, etapa"),
            (lambda: budget_execution(conn, "mes"), "eje_pladeco"),
        ]:
            with pytest.raises(InvestmentQueryError) as err:
                call()
            assert "no es un valor válido" in err.value.message
            assert text in (err.value.hint or "")


def test_choropleth_geojson_folium_map_and_charts(territory: Settings) -> None:
    t = by_territory(territory).reset_index()
    classes = choropleth_classes(t["monto_por_habitante"])
    assert classes[0]["desde"] == 0.0 and classes[-1]["hasta"] == 906.7
    assert classes[0]["etiqueta"].startswith("$ 0 – ")
    data = territory_geojson(t)
    assert data["leyenda"]["columna"] == "monto_por_habitante"
    assert [f["id"] for f in data["features"]] == ["S-01", "S-02", "S-03", "S-04"]
    lon, lat = data["features"][0]["geometry"]["coordinates"][0][0][0][:2]
    assert -72 < lon < -71 and -34 < lat < -33
    html_text = investment_map(t, assets="local").get_root().render()
    assert "Inversión por habitante (CLP)" in html_text and "Llolleo" in html_text
    assert "https://" not in html_text.split("<body>")[0]  # no CDN in the page's head
    with psycopg.connect(territory.database_url) as conn:
        svg = execution_chart(budget_execution(conn, "anio"))
        png = execution_chart_png(budget_execution(conn, "anio"))
    assert svg == execution_chart(budget_execution_again(territory))
    assert "Aprobado" in svg and "Ejecutado" in svg and "57,1 %" in svg
    assert "<dc:date>" not in svg
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    bars = investment_per_inhabitant_chart(t)
    assert "Tejas Verdes" in bars and "$ 816" in bars and "Media comunal: $ 760" in bars
    assert clp_millions(1_500_000_000) == "$ 1.500 M"


def budget_execution_again(settings: Settings):  # type: ignore[no-untyped-def]
    with psycopg.connect(settings.database_url) as conn:
        return budget_execution(conn, "anio")

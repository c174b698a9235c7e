"""Sector diagnosis against hand-computed values on the territory of
``test_analysis_common`` with census ages, surveyed land uses and funded projects added:

- census zone 05601011001 (x -100–400, y -100–300): 1,000 people aged 100 / 150 / 600 /
  150 (0–5, 6–14, 15–64, 65+), housing parcels 1-1 (2,500 m², 2,350 m² of them in S-01,
  y ≥ 3) and 1-7 (5,000 m², in S-02): S-01 gets 2,350 / 7,500 of its people, S-02
  5,000 / 7,500; zone 05601011002 (x 400–800; 600 people aged 60 / 60 / 400 / 80, no
  housing) gives S-02 its 400 m² inside (x 400–402): 600 × 400 / 320,000 = 0.75;
- sectors S-01 (x -4–152, 31,200 m²) and S-02 (x 152–402, 50,000 m²), y 3–203;
- high hazard (tsunami alto x 0–60, y 0–100; remoción alto x 500–600, y 500–600);
- land uses: in S-01 residencial 2,500 m², comercio 1,250, área verde 1,250; in S-02
  industria 5,000;
- projects P-1 (S-01, $1,000,000 FNDR) and P-3 (S-02, $4,000,000 FNDR).
"""

from __future__ import annotations

import math
from pathlib import Path

import folium
import geopandas as gpd
import pytest
import shapely
from matplotlib.figure import Figure

from gis.analysis.common import AnalysisInputError
from gis.analysis.diagnosis import (
    SUMMARY_COLUMNS,
    TITLES,
    comuna_summary,
    diagnosis_figure,
    diagnosis_map,
    sector_diagnosis,
)
from gis.errors import NotFoundError
from gis.ingest import ingest
from gis.settings import Settings
from tests.conftest import query
from tests.gis.test_analysis_common import X, Y, box, territory, write  # noqa: F401

S1_SHARE = 2350 / 7500
S2_SHARE = 5000 / 7500
Z2_SHARE = 400 / 320_000


@pytest.fixture
def sectors(territory: Settings, tmp_path: Path) -> Settings:  # noqa: F811
    ingest(territory, "census_zones", write(tmp_path / "d", "census_zones", [
        {"geocodigo": "05601011001", "codigo_comuna": "05601", "poblacion": 1000,
         "pob_0_5": 100, "pob_6_14": 150, "pob_15_64": 600, "pob_65_mas": 150},
        {"geocodigo": "05601011002", "codigo_comuna": "05601", "poblacion": 600,
         "pob_0_5": 60, "pob_6_14": 60, "pob_15_64": 400, "pob_65_mas": 80}],
        [box(-100, -100, 400, 300), box(400, -100, 800, 700)]))
    ingest(territory, "land_use", write(tmp_path / "d", "land_use", [
        {"uso": "residencial"}, {"uso": "comercio"}, {"uso": "área verde"},
        {"uso": "industria"}],
        [box(0, 3, 50, 53), box(50, 3, 100, 28), box(100, 3, 150, 28), box(200, 3, 300, 53)]))
    ingest(territory, "projects", write(tmp_path / "d", "projects", [
        {"codigo": "P-1", "nombre": "Escuela", "sector": "educación", "etapa": "idea",
         "fuentes": "FNDR", "anio": 2025, "monto_clp": 1_000_000},
        {"codigo": "P-3", "nombre": "Sede", "sector": "educación", "etapa": "idea",
         "fuentes": "FNDR", "anio": 2025, "monto_clp": 4_000_000}],
        [shapely.Point(X + 30, Y + 30), shapely.Point(X + 300, Y + 80)]))
    # P-1 was in the registry already: the file's summary funds only new projects
    query(territory, "INSERT INTO cartera.financiamiento (codigo, fuente, anio, solicitado, "
          "aprobado) VALUES ('P-1', 'FNDR', 2025, 1000000, 1000000) RETURNING codigo")
    return territory


def test_diagnosis_by_sector(sectors: Settings) -> None:
    table = sector_diagnosis(sectors)
    assert list(table.columns) == [*TITLES, "geometry"]
    s1, s2 = table.drop(columns="geometry").to_dict("records")
    assert (s1["codigo"], s1["nombre"], s1["superficie_ha"]) == ("S-01", "Llolleo", 3.12)
    p1 = 1000 * S1_SHARE
    assert (s1["poblacion"], s1["pob_0_5"], s1["pob_15_64"], s1["pob_65_mas"]) == (
        round(p1, 1), round(100 * S1_SHARE, 1), round(600 * S1_SHARE, 1),
        round(150 * S1_SHARE, 1))
    assert s1["densidad_hab_ha"] == round(p1 / 3.12, 2)
    assert (s1["razon_dependencia"], s1["pct_menores_15"], s1["pct_mayores_65"]) == (
        round(400 / 600, 4), 25.0, 15.0)
    assert (s1["predios"], s1["predios_residenciales"], s1["pct_predios_residenciales"]) == (
        5, 1, 20.0)
    assert (s1["pct_uso_residencial"], s1["pct_uso_comercio"], s1["pct_uso_area_verde"],
            s1["pct_uso_industria"], s1["superficie_usos_ha"]) == (50.0, 25.0, 25.0, 0.0, 0.5)
    assert s1["indice_mixtura_usos"] == round(
        -(0.5 * math.log(0.5) + 0.5 * math.log(0.25)) / math.log(18), 4)
    # high hazard: x 0–60, y 3–100 of S-01; all of 1-1's housing is in it
    assert (s1["pct_superficie_riesgo_alto"], s1["poblacion_riesgo_alto"],
            s1["pct_poblacion_riesgo_alto"]) == (round(100 * 5820 / 31200, 2), round(p1, 1),
                                                 100.0)
    assert (s1["proyectos"], s1["inversion_clp"], s1["inversion_por_habitante"]) == (
        1, 1_000_000, round(1_000_000 / p1, 1))
    p2 = 1000 * S2_SHARE + 600 * Z2_SHARE
    assert s2["poblacion"] == round(p2, 1)
    young = 250 * S2_SHARE + 120 * Z2_SHARE
    assert s2["razon_dependencia"] == round(
        (young + 150 * S2_SHARE + 80 * Z2_SHARE) / (600 * S2_SHARE + 400 * Z2_SHARE), 4)
    assert (s2["pct_uso_industria"], s2["indice_mixtura_usos"]) == (100.0, 0.0)
    assert (s2["pct_superficie_riesgo_alto"], s2["poblacion_riesgo_alto"]) == (0.0, 0.0)
    assert s2["inversion_por_habitante"] == round(4_000_000 / p2, 1)
    # priority: S-01 has the higher dependency (1), hazard (1) and lower investment (1),
    # S-02 the higher density (1): (1 + 0 + 1 + 1) / 4 against 1 / 4
    assert (s1["indice_prioridad"], s1["ranking"], s2["indice_prioridad"], s2["ranking"]
            ) == (0.75, 1, 0.25, 2)
    assert table.geometry.iloc[0].area == 31200 and table.attrs["capa_versionada"] == (
        "hazard_zones")


def test_diagnosis_by_census_zone_and_area(sectors: Settings) -> None:
    table = sector_diagnosis(sectors, unit="zona_censal", geometria=False)
    assert not isinstance(table, gpd.GeoDataFrame)
    z1, z2 = table.to_dict("records")
    assert (z1["poblacion"], z1["pob_6_14"], z1["razon_dependencia"]) == (1000.0, 150.0,
                                                                         round(400 / 600, 4))
    assert (z1["pct_superficie_riesgo_alto"], z1["poblacion_riesgo_alto"]) == (3.0, 333.3)
    # zone 002 without housing: by area, remoción x 500–600, y 500–600
    assert (z2["poblacion_riesgo_alto"], z2["pct_poblacion_riesgo_alto"]) == (18.8, 3.12)
    assert (z2["predios"], z2["inversion_clp"], z2["superficie_usos_ha"]) == (0, 0.0, 0.0)
    assert math.isnan(z2["pct_uso_residencial"]) and math.isnan(z2["indice_mixtura_usos"])
    # the sector's point on surface lies in zone 001, which S-01 covers less than half of
    assert sector_diagnosis(sectors, unit="zona_censal", area="S-01").codigo.tolist() == [
        "05601011001"]
    assert sector_diagnosis(sectors, area="Barrancas").codigo.tolist() == ["S-02"]
    assert sector_diagnosis(sectors, area=box(-4, 3, 100, 203)).codigo.tolist() == ["S-01"]


def test_comuna_summary(sectors: Settings) -> None:
    summary = comuna_summary(sectors)
    assert list(summary.columns) == SUMMARY_COLUMNS and len(summary) == 1
    row = summary.iloc[0]
    people = 1000 * (S1_SHARE + S2_SHARE) + 600 * Z2_SHARE
    assert (row.codigo, row.superficie_ha, row.poblacion) == ("comuna", 8.12,
                                                              round(people, 1))
    assert row.nombre == "2 unidades (sector de planificación) de toda la comuna"
    assert (row.predios, row.predios_residenciales, row.inversion_clp) == (10, 2, 5_000_000)
    assert row.inversion_por_habitante == round(5_000_000 / people, 1)
    assert row.pct_superficie_riesgo_alto == round(100 * 5820 / 81200, 2)
    assert (row.pct_uso_industria, row.superficie_usos_ha) == (50.0, 1.0)
    zones = comuna_summary(sectors, unit="zona_censal").iloc[0]
    assert (zones.poblacion, zones.pob_65_mas, zones.razon_dependencia) == (
        1600.0, 230.0, round((370 + 230) / 1000, 4))
    assert comuna_summary(sectors, area="S-02").iloc[0].codigo == "area"


def test_maps(sectors: Settings) -> None:
    table = sector_diagnosis(sectors)
    m = diagnosis_map(table, "razon_dependencia")
    assert isinstance(m, folium.Map)
    page = m.get_root().render()
    assert "Razón de dependencia" in page and "Llolleo" in page and "Clases por cuantiles" in page
    fig = diagnosis_figure(table, "densidad_hab_ha")
    assert isinstance(fig, Figure)
    assert fig.axes[0].get_title() == "Densidad (hab/ha)"
    assert [t.get_text() for t in fig.axes[0].texts][:2] == ["Llolleo", "Barrancas"]
    assert fig.axes[0].get_xlabel() == "" and fig.axes[1].get_ylabel() == "Densidad (hab/ha)"
    with pytest.raises(AnalysisInputError, match="«altura» no es una columna"):
        diagnosis_figure(table, "altura")
    with pytest.raises(AnalysisInputError, match="no tiene geometrías"):
        diagnosis_map(sector_diagnosis(sectors, geometria=False), "poblacion")


def test_bad_inputs_and_empty_area(sectors: Settings) -> None:
    with pytest.raises(AnalysisInputError, match="Unidad de diagnóstico desconocida"):
        sector_diagnosis(sectors, unit="manzana")
    with pytest.raises(AnalysisInputError, match="Unidad de diagnóstico desconocida"):
        comuna_summary(sectors, unit="comuna")
    with pytest.raises(NotFoundError, match="primera versión cargada"):
        sector_diagnosis(sectors, fecha="2000-01-01")
    empty = sector_diagnosis(sectors, area=box(600, 600, 700, 700))
    assert len(empty) == 0 and list(empty.columns) == [*TITLES, "geometry"]
    summary = comuna_summary(sectors, area=box(600, 600, 700, 700))
    assert (summary.iloc[0].poblacion, summary.iloc[0].predios) == (0.0, 0)


def test_unit_without_census_zones(sectors: Settings, tmp_path: Path) -> None:
    ingest(sectors, "planning_sectors", write(tmp_path / "s3", "planning_sectors", [
        {"codigo": "S-01", "nombre": "Llolleo"}, {"codigo": "S-02", "nombre": "Barrancas"},
        {"codigo": "S-03", "nombre": "Leyda"}],
        [box(-4, 3, 152, 203), box(152, 3, 402, 203), box(1000, 1000, 1100, 1100)]))
    s3 = sector_diagnosis(sectors, geometria=False).set_index("codigo").loc["S-03"]
    # nobody lives there: no people in each age group (not unknown), last in the ranking
    assert (s3.poblacion, s3.pob_0_5, s3.pob_65_mas, s3.predios, s3.ranking) == (
        0.0, 0.0, 0.0, 0, 3)
    assert math.isnan(s3.razon_dependencia) and math.isnan(s3.inversion_por_habitante)
    assert math.isnan(s3.indice_prioridad)
    total = comuna_summary(sectors).iloc[0]
    assert (total.pob_15_64, total.superficie_ha) == (round(
        600 * (S1_SHARE + S2_SHARE) + 400 * Z2_SHARE, 1), 9.12)


def test_columns_are_documented() -> None:
    for column in TITLES:
        assert f"``{column}``" in (sector_diagnosis.__doc__ or ""), column


def test_a_project_across_two_sectors_counts_once_in_the_summary(
        sectors: Settings, tmp_path: Path) -> None:
    ingest(sectors, "projects", write(tmp_path / "e", "projects", [
        {"codigo": "P-1", "nombre": "Escuela", "sector": "educación", "etapa": "idea"},
        {"codigo": "P-3", "nombre": "Sede", "sector": "educación", "etapa": "idea"},
        {"codigo": "P-4", "nombre": "Colector", "sector": "vialidad", "etapa": "idea"}],
        [shapely.Point(X + 30, Y + 30), shapely.Point(X + 300, Y + 80),
         shapely.LineString([(X + 100, Y + 50), (X + 200, Y + 50)])]))
    by_sector = sector_diagnosis(sectors, geometria=False).set_index("codigo")
    assert by_sector.proyectos.to_dict() == {"S-01": 2, "S-02": 2}
    assert comuna_summary(sectors).iloc[0].proyectos == 3
    assert comuna_summary(sectors, area="S-02").iloc[0].proyectos == 2

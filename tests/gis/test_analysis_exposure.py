"""Hazard exposure and raster zonal statistics against hand-computed values on the
territory of ``test_analysis_common`` (DEM: elevation = 10 × column, 10 m cells from
x 0; tsunami depth = row, rows from y 103 down to y 3)."""

from __future__ import annotations

import math

import pytest

from gis.analysis import (
    AnalysisInputError,
    RasterCoverageError,
    RasterCoverageWarning,
    hazard_exposure,
    land_below_safe_elevation,
    raster_statistics,
)
from gis.errors import NotFoundError
from gis.settings import Settings
from tests.gis.test_analysis_common import box, territory  # noqa: F401  (fixture)

COLUMNS = ["predios", "superficie_expuesta_m2", "superficie_construida_m2",
           "avaluo_total_clp", "poblacion", "proyectos", "monto_proyectos_clp",
           "equipamiento_salud", "equipamiento_educacion", "equipamiento_seguridad"]


def by_hazard(table) -> dict[tuple[str, str], list]:  # type: ignore[no-untyped-def,type-arg]
    return {(r["tipo"], r["nivel"]): [r[c] for c in COLUMNS]
            for r in table.to_dict("records")}


def test_exposure_per_type_and_level(territory: Settings) -> None:  # noqa: F811
    table = hazard_exposure(territory)
    assert list(zip(table.tipo, table.nivel, strict=True)) == [
        ("inundación", "medio"), ("remoción en masa", "alto"), ("tsunami", "alto"),
        ("tsunami", "medio")]
    got = by_hazard(table)
    # tsunami alto: two overlapping polygons count once; 1-1 whole, 1-2 10×50, 1-8 60×50;
    # population: 1-1 is 2,500 of the zone's 7,500 m² of residential parcels
    assert got["tsunami", "alto"] == [3, 6000.0, 4000.0, 150_000_000, 333.3, 2, 3_000_000,
                                      0, 0, 1]
    # tsunami medio: 1-2, 1-3, 1-4 (health), 1-8, 1-9; 1-10 only touches its edge
    assert got["tsunami", "medio"] == [5, 9500.0, 3800.0, 70_000_000, 0.0, 1, 2_000_000,
                                       1, 0, 0]
    # inundación: 1-5 10×50, 1-6 (education) whole, 1-7 20×50 (1,000 of 7,500 m² housing)
    assert got["inundación", "medio"] == [3, 4000.0, 0.0, 0, 133.3, 0, 0, 0, 1, 0]
    # remoción: no parcels; a census zone without housing by area: 600 × 10,000 / 320,000
    assert got["remoción en masa", "alto"] == [0, 0.0, 0.0, 0, 18.8, 0, 0, 0, 0, 0]
    assert table.attrs["capa_versionada"] == "hazard_zones"


def test_exposure_of_a_sector_and_bad_dates(territory: Settings) -> None:  # noqa: F811
    got = by_hazard(hazard_exposure(territory, area="S-01"))
    assert got["tsunami", "alto"][:5] == [3, 6000.0, 4000.0, 150_000_000, 333.3]
    assert got["tsunami", "medio"][:2] == [4, 9000.0]
    assert got["inundación", "medio"] == [0, 0.0, 0.0, 0, 0.0, 0, 0, 0, 0, 0]
    assert got["remoción en masa", "alto"][4] == 0.0
    assert len(hazard_exposure(territory, version=1)) == 4
    with pytest.raises(NotFoundError, match="primera versión cargada"):
        hazard_exposure(territory, fecha="1999-12-31")


def test_raster_statistics_by_sector_with_partial_coverage(territory: Settings  # noqa: F811
                                                           ) -> None:
    with pytest.warns(RasterCoverageWarning, match="cubre solo el 25,4 %"):
        table = raster_statistics(territory, por="sector")
    s1, s2 = table.drop(columns="geometry").to_dict("records")
    # S-01: 15 × 20 cell centres, the raster's 10 rows hold data: columns 0–14
    assert (s1["sector"], s1["celdas_dem"], s1["fraccion_cubierta_dem"]) == ("S-01", 300, 0.5)
    assert (s1["elevacion_min_m"], s1["elevacion_media_m"], s1["elevacion_max_m"]) == (
        0.0, 70.0, 140.0)
    assert (s1["pendiente_media_grados"], s1["pendiente_max_grados"]) == (45.0, 45.0)
    assert (s1["porcentaje_bajo_cota"], s1["superficie_bajo_cota_m2"]) == (20.0, 6240.0)
    assert (s1["tsunami_media_m"], s1["tsunami_max_m"], s1["fraccion_cubierta_tsunami"]) == (
        4.5, 9.0, 0.5)
    assert (s2["fraccion_cubierta_dem"], s2["elevacion_media_m"], s2["porcentaje_bajo_cota"]
            ) == (0.1, 170.0, 0.0)
    assert table.attrs["cobertura"]["dem"] == pytest.approx(20_600 / 81_200)
    assert table.attrs["avisos"] and table.geometry.iloc[0].area == 156 * 200
    below = land_below_safe_elevation(territory, por="sector", geometria=False)
    assert below.columns.tolist() == [
        "sector", "nombre", "superficie_m2", "superficie_bajo_cota_m2", "porcentaje_bajo_cota",
        "elevacion_min_m", "elevacion_media_m", "fraccion_cubierta_dem"]
    assert below.superficie_bajo_cota_m2.tolist() == [6240.0, 0.0]


def test_raster_statistics_per_parcel_and_small_parcels(territory: Settings  # noqa: F811
                                                        ) -> None:
    table = raster_statistics(territory, por="predio", area="S-01").set_index("rol")
    assert table.index.tolist() == ["00001-00001", "00001-00002", "00001-00003",
                                    "00001-00008", "00001-00009"]
    p1 = table.loc["00001-00001"]
    assert (p1.celdas_dem, p1.elevacion_min_m, p1.elevacion_media_m, p1.elevacion_max_m) == (
        25, 0.0, 20.0, 40.0)
    assert (p1.porcentaje_bajo_cota, p1.superficie_bajo_cota_m2) == (60.0, 1500.0)
    assert (p1.tsunami_media_m, p1.tsunami_max_m, p1.pendiente_media_grados) == (7.0, 9.0,
                                                                                 45.0)
    p3 = table.loc["00001-00003"]
    assert (p3.celdas_dem, p3.elevacion_media_m, p3.tsunami_max_m) == (40, 105.0, 4.0)
    with pytest.warns(RasterCoverageWarning):
        other = raster_statistics(territory, por="predio", area="S-02",
                                  geometria=False).set_index("rol")
    tiny = other.loc["00001-00010"]  # 6 × 7 m: the cell under its point on surface
    assert (tiny.celdas_dem, tiny.elevacion_media_m, tiny.tsunami_max_m) == (1, 160.0, 3.0)
    off = other.loc["00001-00007"]  # east of the rasters
    assert off.fraccion_cubierta_dem == 0.0 and math.isnan(off.elevacion_media_m)


def test_raster_not_covering_the_area_and_bad_options(territory: Settings  # noqa: F811
                                                      ) -> None:
    with pytest.raises(RasterCoverageError) as error:
        raster_statistics(territory, por="zona_censal", area=box(600, 600, 700, 700))
    assert "no cubre" in str(error.value) and "fracción cubierta: 0 %" in str(error.value)
    empty = raster_statistics(territory, por="sector", area=box(600, 600, 700, 700))
    assert len(empty) == 0 and "elevacion_media_m" in empty.columns
    zones = raster_statistics(territory, por="zona", version=1, rasters=("dem",),
                              area="S-01")
    assert zones.zona.tolist() == ["ZH-1", "ZM-2"]
    assert zones.tsunami_media_m.isna().all()
    assert zones.geometry.iloc[0].area == pytest.approx(100 * 97)  # clipped to S-01
    with pytest.raises(AnalysisInputError, match="solo aplica con por='zona'"):
        raster_statistics(territory, por="sector", version=1)
    with pytest.raises(AnalysisInputError, match="Unidad de análisis desconocida"):
        raster_statistics(territory, por="manzana")
    with pytest.raises(AnalysisInputError, match="Rasters desconocidos"):
        raster_statistics(territory, rasters=("ndvi",))

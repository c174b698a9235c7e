"""CRS handling on ingest, checked on a control point with known coordinates.

The control point is given in WGS 84; its coordinates in each datum are computed here with
explicit PROJ pipelines that state the EPSG transformation parameters for central Chile,
independently of how the platform picks a transformation.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from pyproj import Transformer
from pyproj.enums import TransformDirection

from gis.ingest import IngestError, IngestOptions, ingest
from gis.settings import Settings
from tests.conftest import query

# Control point: Plaza de San Antonio (WGS 84 lon/lat).
LON, LAT = -71.6127, -33.5934
UTM19S = Transformer.from_crs(4326, 32719, always_xy=True)
EXPECTED = UTM19S.transform(LON, LAT)

# EPSG "PSAD56 to WGS 84 (16)" and "SAD69 to WGS 84 (18)" for this part of Chile.
DATUM_PIPELINES = {
    24879: "+proj=pipeline +step +inv +proj=utm +zone=19 +south +ellps=intl "
           "+step +proj=push +v_3 +step +proj=cart +ellps=intl "
           "+step +proj=helmert +x=-328 +y=340 +z=-329 +step +inv +proj=cart +ellps=WGS84 "
           "+step +proj=pop +v_3 +step +proj=unitconvert +xy_in=rad +xy_out=deg",
    29189: "+proj=pipeline +step +inv +proj=utm +zone=19 +south +ellps=aust_SA "
           "+step +proj=push +v_3 +step +proj=cart +ellps=aust_SA "
           "+step +proj=helmert +x=-64 +y=0 +z=-32 +step +inv +proj=cart +ellps=WGS84 "
           "+step +proj=pop +v_3 +step +proj=unitconvert +xy_in=rad +xy_out=deg",
}


def control_point_in(epsg: int) -> tuple[float, float]:
    if epsg in DATUM_PIPELINES:
        pipeline = Transformer.from_pipeline(DATUM_PIPELINES[epsg])
        return pipeline.transform(LON, LAT, direction=TransformDirection.INVERSE)
    if epsg == 4326:
        return LON, LAT
    # SIRGAS-Chile realisations coincide with WGS 84 to within centimetres.
    return Transformer.from_crs(4326, epsg, always_xy=True).transform(LON, LAT)


def write_point(folder: Path, epsg: int, *, declare: bool = True) -> Path:
    x, y = control_point_in(epsg)
    frame = gpd.GeoDataFrame(
        {"cod_bip": ["40015248-0"], "nombre_proyecto": ["Plaza"], "sector": ["áreas verdes"],
         "etapa": ["idea"]},
        geometry=[shapely.Point(x, y)], crs=epsg if declare else None)
    path = folder / f"punto_{epsg}.gpkg"
    frame.to_file(path)
    return path


def stored_point(settings: Settings) -> tuple[float, float]:
    x, y = query(settings, "SELECT ST_X(geom), ST_Y(geom) FROM layers.projects")[0]
    return x, y


@pytest.mark.parametrize("epsg, tolerance", [
    (4326, 0.01), (32719, 0.01), (5361, 0.5), (9155, 0.5), (20049, 0.5),
    (24879, 0.01), (29189, 0.01),
])
def test_control_point_lands_where_it_is(settings: Settings, tmp_path: Path, epsg: int,
                                         tolerance: float) -> None:
    ingest(settings, "projects", write_point(tmp_path, epsg))
    x, y = stored_point(settings)
    assert abs(x - EXPECTED[0]) < tolerance and abs(y - EXPECTED[1]) < tolerance


def test_legacy_datums_really_are_hundreds_of_metres_off(tmp_path: Path) -> None:
    # Reading PSAD56 coordinates as if they were WGS 84 would misplace the point this much.
    x, y = control_point_in(24879)
    assert 300 < shapely.Point(x, y).distance(shapely.Point(*EXPECTED)) < 600
    x, y = control_point_in(29189)
    assert 30 < shapely.Point(x, y).distance(shapely.Point(*EXPECTED)) < 120


def test_file_without_crs_is_refused_unless_crs_given(settings: Settings,
                                                      tmp_path: Path) -> None:
    path = write_point(tmp_path, 24879, declare=False)
    with pytest.raises(IngestError, match="no declara su sistema de coordenadas"):
        ingest(settings, "projects", path)
    assert query(settings, "SELECT count(*) FROM catalog.layer_versions") == [(0,)]
    ingest(settings, "projects", path, IngestOptions(crs="EPSG:24879"))
    x, y = stored_point(settings)
    assert abs(x - EXPECTED[0]) < 0.01 and abs(y - EXPECTED[1]) < 0.01


def test_crs_that_puts_data_kilometres_away_is_refused(settings: Settings,
                                                       tmp_path: Path) -> None:
    # UTM 19S coordinates declared as UTM 18S land hundreds of kilometres away.
    path = write_point(tmp_path, 32719)
    with pytest.raises(IngestError, match=r"fuera del área de trabajo, a \d+\.\d km") as exc:
        ingest(settings, "projects", path, IngestOptions(crs="EPSG:32718"))
    assert "--crs" in (exc.value.hint or "")
    assert query(settings, "SELECT count(*) FROM layers.projects") == [(0,)]


def test_unknown_crs_text_is_explained(settings: Settings, tmp_path: Path) -> None:
    from gis.crs import CRSInputError

    with pytest.raises(CRSInputError, match="no reconocido"):
        ingest(settings, "projects", write_point(tmp_path, 32719),
               IngestOptions(crs="EPSG:99999999"))

"""The San Antonio data loads into every layer, real data marked as real, demo as demo."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import gis
from gis.catalog import catalog
from gis.database import connect
from gis.demo.load import DEMO_FILES, load_demo
from gis.settings import Settings
from layers import REGISTRY
from tests.conftest import query, reset_database


@pytest.fixture(scope="module")
def demo(base_settings: Settings, demo_raw, tmp_path_factory) -> Iterator[Settings]:  # type: ignore[no-untyped-def]
    reset_database(base_settings)
    settings = base_settings.model_copy(
        update={"processed_dir": tmp_path_factory.mktemp("demo-processed")})
    load_demo(settings)
    yield settings


def test_every_layer_has_a_version_in_force(demo: Settings) -> None:
    assert {f.layer for f in DEMO_FILES} == set(REGISTRY)
    with connect(demo) as conn:
        entries = catalog(conn)
    assert all(e.current is not None and e.current.version == 1 for e in entries)
    counts = {e.name: e.current.feature_count for e in entries if e.current}
    assert counts["comunas"] == 6 and counts["census_zones"] == 26
    assert 29_700 <= counts["parcels"] <= 30_300
    assert counts["projects"] >= 140 and counts["zoning"] >= 40


def test_real_data_is_marked_real_and_keeps_attribution(demo: Settings) -> None:
    rows = dict(query(demo, "SELECT layer, demo FROM catalog.layer_versions"))
    assert rows["comunas"] is False and rows["census_zones"] is False
    assert all(rows[name] for name in rows if name not in ("comunas", "census_zones"))
    fuente = query(demo, "SELECT fuente FROM catalog.layer_versions WHERE layer = 'comunas'")
    assert "INE" in fuente[0][0] and "chilemapas" in fuente[0][0]
    demo_fuente = query(demo, "SELECT fuente FROM catalog.layer_versions "
                              "WHERE layer = 'zoning'")
    assert "demostración" in demo_fuente[0][0]


def test_census_population_is_the_real_count(demo: Settings) -> None:
    comuna = query(demo, "SELECT poblacion, hombres + mujeres FROM layers.comunas "
                         "WHERE codigo_comuna = '05601'")
    assert comuna == [(91_350, 91_350)]
    zones = query(demo, "SELECT sum(poblacion), sum(pob_0_5 + pob_6_14 + pob_15_64 + "
                        "pob_65_mas) FROM layers.census_zones")
    assert zones[0][0] == zones[0][1] == 82_332  # zones with a polygon (see data/raw)


def test_zoning_from_a_latin1_psad56_shapefile(demo: Settings) -> None:
    zones = gis.read_layer("zoning", settings=demo)
    assert any("á" in n or "é" in n or "ó" in n or "ñ" in n for n in zones["nombre"])
    urban = gis.read_layer("urban_limit", settings=demo).geometry.iloc[0]
    covered = zones.geometry.union_all()
    # the PSAD56 file lands on the urban limit (generated in WGS 84): ~400 m off otherwise
    assert covered.symmetric_difference(urban).area < 0.001 * urban.area


def test_everything_is_stored_in_utm19s_with_spatial_indexes(demo: Settings) -> None:
    srids = query(demo, "SELECT f_table_name, srid FROM geometry_columns "
                        "WHERE f_table_schema = 'layers'")
    assert {s for _, s in srids} == {32719}
    indexed = query(demo, "SELECT tablename FROM pg_indexes WHERE schemaname = 'layers' "
                          "AND indexdef LIKE %s", ('%USING gist (geom)%',))
    assert {t for (t,) in indexed} == {t for t, _ in srids}


def test_parcel_rols_are_normalised(demo: Settings) -> None:
    bad = query(demo, r"SELECT count(*) FROM layers.parcels WHERE rol !~ '^\d{5}-\d{5}$'")
    assert bad == [(0,)]


def test_read_layer_filters(demo: Settings) -> None:
    residential = gis.read_layer("zoning", where={"familia": "residencial"}, settings=demo)
    assert len(residential) > 0 and set(residential["familia"]) == {"residencial"}
    box = (-71.615, -33.60, -71.605, -33.59)
    parcels = gis.read_layer("parcels", bbox=box, crs=4326, columns=["rol"], settings=demo)
    assert 0 < len(parcels) < 30_000 and list(parcels.columns) == ["fid", "rol", "geometry"]
    assert parcels.crs.to_epsg() == 4326
    minx, miny, maxx, maxy = parcels.total_bounds
    assert minx < box[2] and maxx > box[0] and miny < box[3] and maxy > box[1]
    with pytest.raises(gis.errors.PlatformError, match="no tiene los campos"):
        gis.read_layer("parcels", columns=["rol; DROP TABLE x"], settings=demo)

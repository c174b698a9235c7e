"""Each supported format loads with the same attributes and geometries (within 1 cm)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import gis
from gis.ingest import IngestOptions, ingest
from gis.settings import Settings
from tests.conftest import query
from tests.samples import sample_projects, sample_zones


def write_zones(fmt: str, folder: Path) -> Path:
    zones = sample_zones()
    if fmt == "shp":
        path = folder / "zonas.shp"
        zones.to_file(path, encoding="latin1")
        assert (folder / "zonas.cpg").read_text().upper().startswith(("LATIN1", "ISO"))
        return path
    if fmt == "gpkg":
        path = folder / "zonas.gpkg"
        zones.to_file(path)
    elif fmt == "geojson":
        path = folder / "zonas.geojson"
        zones.to_crs(4326).to_file(path)
    elif fmt == "fgb":
        path = folder / "zonas.fgb"
        zones.to_file(path)
    elif fmt == "parquet":
        path = folder / "zonas.parquet"
        zones.to_parquet(path)
    elif fmt == "csv":
        path = folder / "zonas.csv"
        pd.DataFrame(zones.drop(columns="geometry")).assign(wkt=zones.geometry.to_wkt()).to_csv(
            path, index=False)
    return path


@pytest.mark.parametrize("fmt", ["shp", "gpkg", "geojson", "fgb", "parquet", "csv"])
def test_zoning_loads_from_each_format(settings: Settings, tmp_path: Path, fmt: str) -> None:
    path = write_zones(fmt, tmp_path)
    options = IngestOptions(crs="EPSG:32719" if fmt == "csv" else None)
    report = ingest(settings, "zoning", path, options)
    assert report.version == 1
    assert report.features_loaded == 3

    loaded = gis.read_layer("zoning", settings=settings).sort_values("codigo")
    expected = sample_zones().sort_values("COD_ZONA")
    assert loaded["codigo"].tolist() == expected["COD_ZONA"].tolist()
    assert loaded["nombre"].tolist() == expected["NOM_ZONA"].tolist()  # accents survive
    assert loaded["familia"].tolist() == expected["TIPO_ZONA"].tolist()
    assert [list(u) for u in loaded["usos_permitidos"]] == [
        u.split("; ") for u in expected["USOS_PERM"]]
    np.testing.assert_allclose(loaded["superficie_predial_minima"], expected["SUP_MIN"])
    assert loaded["pisos_maximos"].tolist() == expected["PISOS_MAX"].tolist()
    for got, want in zip(loaded.geometry, expected.geometry, strict=True):
        assert got.geom_type == "MultiPolygon"
        assert shapely.hausdorff_distance(got, want) < 0.01


def test_shapefile_without_cpg_reads_latin1_when_told(settings: Settings, tmp_path: Path) -> None:
    path = write_zones("shp", tmp_path)
    (tmp_path / "zonas.cpg").unlink()
    ingest(settings, "zoning", path, IngestOptions(encoding="latin1"))
    names = gis.read_layer("zoning", settings=settings)["nombre"].tolist()
    assert "Mixta Barrancas Ñuble" in names


def test_zipped_shapefile(settings: Settings, tmp_path: Path) -> None:
    import zipfile

    write_zones("shp", tmp_path)
    archive = tmp_path / "zonas.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in tmp_path.glob("zonas.*"):
            if part != archive:
                zf.write(part, part.name)
    assert ingest(settings, "zoning", archive).features_loaded == 3


def test_csv_with_lon_lat_columns(settings: Settings, tmp_path: Path) -> None:
    projects = sample_projects()
    points = projects[projects.geom_type == "Point"]
    path = tmp_path / "proyectos.csv"
    pd.DataFrame(points.drop(columns="geometry")).assign(
        lon=points.geometry.x.round(7), lat=points.geometry.y.round(7)).to_csv(path, index=False)
    report = ingest(settings, "projects", path, IngestOptions(crs="EPSG:4326"))
    assert report.features_loaded == 1
    row = query(settings, "SELECT codigo, anio, monto_clp, ST_X(geom), ST_Y(geom) "
                "FROM layers.projects")[0]
    assert row[:3] == ("40015248-0", 2024, 3_500_000_000)
    assert abs(row[3] - 258_700.0) < 0.05 and abs(row[4] - 6_279_200.0) < 0.05


def test_projects_hold_points_lines_and_polygons(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "proyectos.geojson"
    sample_projects().to_file(path)
    ingest(settings, "projects", path)
    types = [r[0] for r in query(settings, "SELECT GeometryType(geom) FROM layers.projects "
                                           "ORDER BY fid")]
    assert types == ["POINT", "LINESTRING", "POLYGON"]


def test_geotiff_raster_is_reprojected_and_registered(settings: Settings, tmp_path: Path) -> None:
    import rasterio
    from rasterio.transform import from_origin

    path = tmp_path / "dem.tif"
    data = np.arange(100 * 80, dtype="float32").reshape(80, 100) / 10
    # PSAD56 / UTM 19S, as an old municipal DEM would come
    with rasterio.open(path, "w", driver="GTiff", width=100, height=80, count=1,
                       dtype="float32", crs="EPSG:24879", nodata=-9999,
                       transform=from_origin(258_000, 6_280_000, 25, 25)) as dst:
        dst.write(data, 1)
    report = ingest(settings, "dem", path)
    assert report.version == 1
    stored = Path(report.processed_file or "")
    with rasterio.open(stored) as src:
        assert src.crs.to_epsg() == 32719
        assert src.block_shapes[0] == (256, 256)
        # PSAD56 sits ~400 m off WGS 84 here: the raster moved accordingly
        assert 150 < 258_000 - src.bounds.left < 250
    rows = query(settings, "SELECT kind, data_location, feature_count FROM "
                           "catalog.layer_versions WHERE layer = 'dem'")
    assert rows == [("raster", str(stored), 8000)]


def test_geoparquet_processed_copy_is_written(settings: Settings, tmp_path: Path) -> None:
    report = ingest(settings, "zoning", write_zones("gpkg", tmp_path))
    processed = gpd.read_parquet(report.processed_file)
    assert len(processed) == 3
    assert processed.crs.to_epsg() == 32719
    assert Path(report.processed_file or "").parent == settings.processed_dir / "zoning"

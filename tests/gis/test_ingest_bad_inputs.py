"""Every bad input named in the issue gives a clear Spanish error and changes nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import shapely

from gis.ingest import IngestError, IngestOptions, ingest
from gis.settings import Settings
from layers import UnknownLayerError
from tests.conftest import query
from tests.gis.test_ingest_formats import write_zones
from tests.samples import sample_projects, sample_zones


def snapshot(settings: Settings) -> tuple:  # type: ignore[type-arg]
    """Everything a failed load must leave as it was."""
    versions = query(settings, "SELECT layer, version, valid_to, data_location "
                               "FROM catalog.layer_versions ORDER BY layer, version")
    zones = query(settings, "SELECT fid, codigo, ST_AsBinary(geom) FROM layers.zoning "
                            "ORDER BY fid")
    tables = query(settings, "SELECT schemaname, tablename FROM pg_tables WHERE schemaname "
                             "IN ('layers', 'history', 'staging') ORDER BY 1, 2")
    files = sorted(p.name for p in settings.processed_dir.rglob("*")) \
        if settings.processed_dir.exists() else []
    return versions, zones, tables, files


@pytest.fixture
def loaded(settings: Settings, tmp_path: Path) -> Settings:
    """A database where the zoning layer already has a version in force."""
    folder = tmp_path / "vigente"
    folder.mkdir()
    ingest(settings, "zoning", write_zones("gpkg", folder))
    return settings


def not_spatial(folder: Path) -> Path:
    path = folder / "informe.gpkg"
    path.write_text("Informe de gestión 2024\nEsto no es un GeoPackage.\n" * 50)
    return path


def truncated_gpkg(folder: Path) -> Path:
    full = write_zones("gpkg", folder)
    data = full.read_bytes()
    path = folder / "cortado.gpkg"
    path.write_bytes(data[: len(data) // 3])
    return path


def truncated_geojson(folder: Path) -> Path:
    full = write_zones("geojson", folder)
    path = folder / "cortado.geojson"
    path.write_text(full.read_text()[:700])
    return path


def shapefile_without(ext: str) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = write_zones("shp", folder)
        (folder / f"zonas{ext}").unlink()
        return path
    return make


def csv_without_coordinates(folder: Path) -> Path:
    path = folder / "zonas.csv"
    path.write_text("COD_ZONA,NOM_ZONA,TIPO_ZONA\nZH-9,Nueva,residencial\n")
    return path


def mixed_geometry_types(folder: Path) -> Path:
    zones = sample_zones()
    zones.loc[1, "geometry"] = shapely.Point(258_900, 6_279_300)
    path = folder / "mezcla.geojson"
    zones.to_crs(4326).to_file(path)
    return path


def crs_kilometres_away(folder: Path) -> Path:
    zones = sample_zones().set_crs(32718, allow_override=True)  # wrong zone declared
    path = folder / "zona18.gpkg"
    zones.to_file(path)
    return path


def empty_file(folder: Path) -> Path:
    path = folder / "vacio.geojson"
    path.write_bytes(b"")
    return path


def empty_collection(folder: Path) -> Path:
    path = folder / "sin_entidades.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": []}))
    return path


BAD_INPUTS = {
    "no es espacial": (not_spatial, "no es un archivo de datos espaciales"),
    "gpkg truncado": (truncated_gpkg, "dañado"),
    "geojson truncado": (truncated_geojson, "dañado"),
    "shapefile sin .shx": (shapefile_without(".shx"), r"le falta zonas\.shx"),
    "shapefile sin .dbf": (shapefile_without(".dbf"), r"le falta zonas\.dbf"),
    "csv sin coordenadas": (csv_without_coordinates, "no tiene coordenadas"),
    "tipos mezclados": (mixed_geometry_types, "Se rechazaron 1 de 3"),
    "crs a kilómetros": (crs_kilometres_away, "fuera del área de trabajo"),
    "archivo vacío": (empty_file, "vacío"),
    "colección vacía": (empty_collection, "no contiene entidades"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_refused_and_changes_nothing(loaded: Settings, tmp_path: Path,
                                                  case: str) -> None:
    make, message = BAD_INPUTS[case]
    folder = tmp_path / "malo"
    folder.mkdir()
    path = make(folder)
    before = snapshot(loaded)
    with pytest.raises(IngestError, match=message) as exc:
        ingest(loaded, "zoning", path)
    assert exc.value.message.endswith(".")  # a whole sentence, not a stack trace
    assert snapshot(loaded) == before


def test_mixed_types_report_names_the_feature_and_the_reason(settings: Settings,
                                                             tmp_path: Path) -> None:
    with pytest.raises(IngestError) as exc:
        ingest(settings, "zoning", mixed_geometry_types(tmp_path))
    lines = "\n".join(exc.value.report.summary_lines())  # type: ignore[union-attr]
    assert "tipo de geometría Point: la capa espera polígonos" in lines
    assert "1 entidades (n.º): 2" in lines


def test_unknown_layer_name(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(UnknownLayerError, match="«zonificacion» no existe") as exc:
        ingest(settings, "zonificacion", write_zones("gpkg", tmp_path))
    assert "zoning" in (exc.value.hint or "")


def test_raster_given_to_a_vector_layer_and_vice_versa(settings: Settings,
                                                       tmp_path: Path) -> None:
    tif = tmp_path / "dem.tif"
    tif.write_bytes(b"II*\x00 no es un tiff de verdad")
    with pytest.raises(IngestError, match="es un raster"):
        ingest(settings, "zoning", tif)
    with pytest.raises(IngestError, match="cargue un GeoTIFF"):
        ingest(settings, "dem", write_zones("gpkg", tmp_path))
    with pytest.raises(IngestError, match="como GeoTIFF"):
        ingest(settings, "dem", tif)


def test_missing_required_column_names_it_and_lists_columns(settings: Settings,
                                                            tmp_path: Path) -> None:
    zones = sample_zones().drop(columns="TIPO_ZONA")
    path = tmp_path / "zonas.gpkg"
    zones.to_file(path)
    with pytest.raises(IngestError, match="Faltan columnas obligatorias .*familia") as exc:
        ingest(settings, "zoning", path)
    assert "COD_ZONA" in (exc.value.hint or "")
    # ...and a mapping fixes it
    zones.assign(CLASE=["residencial", "mixta", "área verde"]).to_file(path)
    ingest(settings, "zoning", path, IngestOptions(mapping={"familia": "CLASE"}))


def test_bad_values_are_reported_with_rows(settings: Settings, tmp_path: Path) -> None:
    zones = sample_zones()
    zones["SUP_MIN"] = ["200", "doscientos", "-5"]
    zones["TIPO_ZONA"] = ["residencial", "mixta", "parque temático"]
    path = tmp_path / "zonas.gpkg"
    zones.to_file(path)
    with pytest.raises(IngestError) as exc:
        ingest(settings, "zoning", path)
    lines = exc.value.report.summary_lines()  # type: ignore[union-attr]
    text = "\n".join(lines)
    assert "campo «superficie_predial_minima» (columna «SUP_MIN»): no es un número — 1 " \
           "entidades (n.º): 2" in text
    assert "fuera de rango (debe ser ≥ 0) — 1 entidades (n.º): 3" in text
    assert "código no reconocido" in text and "n.º): 3" in text
    assert query(settings, "SELECT count(*) FROM layers.zoning") == [(0,)]


def test_duplicate_unique_values_are_refused(settings: Settings, tmp_path: Path) -> None:
    zones = sample_zones()
    zones["COD_ZONA"] = ["ZH-1", "ZH-1", "AV-3"]
    path = tmp_path / "zonas.gpkg"
    zones.to_file(path)
    with pytest.raises(IngestError) as exc:
        ingest(settings, "zoning", path)
    assert "valor repetido (debe ser único) — 1 entidades (n.º): 2" in "\n".join(
        exc.value.report.summary_lines())  # type: ignore[union-attr]


def test_skip_invalid_loads_the_rest(settings: Settings, tmp_path: Path) -> None:
    report = ingest(settings, "zoning", mixed_geometry_types(tmp_path),
                    IngestOptions(skip_invalid=True))
    assert report.features_loaded == 2 and report.rejected_count == 1
    assert query(settings, "SELECT count(*) FROM layers.zoning") == [(2,)]


def test_dry_run_writes_nothing(loaded: Settings, tmp_path: Path) -> None:
    before = snapshot(loaded)
    other = tmp_path / "otra"
    other.mkdir()
    report = ingest(loaded, "zoning", write_zones("shp", other), IngestOptions(dry_run=True))
    assert report.features_read == 3 and report.version is None and not report.errors
    assert snapshot(loaded) == before


def test_csv_rows_are_numbered_as_lines(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "proyectos.csv"
    path.write_text("cod_bip,nombre_proyecto,sector,etapa,lon,lat\n"
                    "1-1,Plaza,áreas verdes,idea,-71.61,-33.59\n"
                    "1-2,Calle,vialidad,idea,,\n")
    with pytest.raises(IngestError) as exc:
        ingest(settings, "projects", path, IngestOptions(crs="EPSG:4326"))
    assert "sin geometría (vacía o nula) — 1 filas del CSV: 3" in "\n".join(
        exc.value.report.summary_lines())  # type: ignore[union-attr]


def test_sample_projects_are_fine(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "p.gpkg"
    sample_projects().to_file(path)
    assert ingest(settings, "projects", path).features_loaded == 3

"""Backups: made, verified in a scratch database, refused when altered, restored in place."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from typer.testing import CliRunner

from gis import backup as bk
from gis.database import connect
from gis.ingest import ingest
from gis.portfolio import store
from gis.portfolio.record import parse_project
from gis.settings import Settings
from tests.conftest import query
from tests.samples import ORIGIN

X, Y = ORIGIN

LAYER_VERSIONS = ("SELECT layer, version, kind, feature_count, valid_to IS NULL "
                  "FROM catalog.layer_versions ORDER BY 1, 2")


def _counts(settings: Settings) -> tuple[int, ...]:
    return tuple(query(settings, f"SELECT count(*) FROM {t}")[0][0] for t in (  # noqa: S608
        "layers.projects", "layers.comunas", "cartera.registro", "cartera.financiamiento",
        "catalog.layer_versions"))


@pytest.fixture
def loaded(settings: Settings, tmp_path: Path) -> Settings:
    """A comuna, a small DEM raster and one project with its funding."""
    import rasterio
    from rasterio.transform import from_origin

    comunas = tmp_path / "comunas.gpkg"
    gpd.GeoDataFrame([{"codigo_comuna": "05601", "nombre": "San Antonio"}],
                     geometry=[shapely.box(X - 5000, Y - 5000, X + 5000, Y + 5000)],
                     crs=32719).to_file(comunas)
    ingest(settings, "comunas", comunas)
    dem = tmp_path / "dem.tif"
    with rasterio.open(dem, "w", driver="GTiff", width=20, height=20, count=1,
                       dtype="float32", crs="EPSG:32719", nodata=-9999,
                       transform=from_origin(X - 250, Y + 250, 25, 25)) as dst:
        dst.write(np.arange(400, dtype="float32").reshape(20, 20), 1)
    ingest(settings, "dem", dem)
    body = {"codigo": "30132469-3", "nombre": "Construcción CESFAM Llolleo",
            "sector": "salud", "etapa": "diseño", "tipo": "proyecto", "situacion": "nueva",
            "financiamiento": [{"fuente": "FNDR", "anio": 2025, "solicitado": 1_500_000}]}
    with connect(settings) as conn:
        conn.autocommit = True
        store.create_project(conn, settings, "ana", parse_project(
            body, geometry=shapely.Point(X, Y)))
    return settings


def test_backup_verifies_and_altered_file_is_refused(loaded: Settings, tmp_path: Path
                                                     ) -> None:
    target = tmp_path / "respaldo"
    report = bk.backup(loaded, target)
    manifest = json.loads((target / "manifest.json").read_text())
    assert manifest["row_counts"]["layers.projects"] == 1
    assert manifest["row_counts"]["cartera.financiamiento"] == 1
    assert manifest["revision"] == query(loaded, "SELECT version_num FROM "
                                                 "catalog.alembic_version")[0][0]
    assert {lv["layer"] for lv in manifest["layer_versions"]} >= {"comunas", "dem",
                                                                  "projects"}
    assert sorted(manifest["files"]) == ["base.dump", "rasters/dem/v1.tif"]
    assert report.manifest == manifest
    assert bk.verify(loaded, target).manifest == manifest
    # the scratch database is gone
    assert query(loaded, "SELECT count(*) FROM pg_database WHERE datname LIKE "
                         "'secplac_verificacion_%%'") == [(0,)]
    # a second backup into the same folder is refused
    with pytest.raises(bk.BackupError, match="ya existe"):
        bk.backup(loaded, target)

    dump = target / "base.dump"
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dump.write_bytes(bytes(data))
    with pytest.raises(bk.BackupError, match="dañado o fue modificado"):
        bk.verify(loaded, target)


def test_restore_brings_the_data_back(loaded: Settings, tmp_path: Path) -> None:
    before_counts, before_versions = _counts(loaded), query(loaded, LAYER_VERSIONS)
    raster = Path(query(loaded, "SELECT data_location FROM catalog.layer_versions "
                                "WHERE layer = 'dem'")[0][0])
    raster_bytes = raster.read_bytes()
    target = tmp_path / "respaldo"
    bk.backup(loaded, target)

    with connect(loaded) as conn:
        conn.execute("DELETE FROM cartera.financiamiento")
        conn.execute("DELETE FROM layers.comunas")
        conn.execute("DELETE FROM catalog.layer_versions WHERE layer = 'dem'")
    raster.unlink()
    assert _counts(loaded) != before_counts

    with pytest.raises(bk.BackupError, match="--si"):
        bk.restore(loaded, target, confirm=False)
    assert query(loaded, "SELECT count(*) FROM layers.comunas") == [(0,)]

    bk.restore(loaded, target, confirm=True)
    assert _counts(loaded) == before_counts
    assert query(loaded, LAYER_VERSIONS) == before_versions
    assert raster.read_bytes() == raster_bytes


def test_restore_refuses_altered_or_newer_backup(loaded: Settings, tmp_path: Path) -> None:
    target = tmp_path / "respaldo"
    bk.backup(loaded, target)
    before = _counts(loaded)
    manifest_file = target / "manifest.json"
    manifest = json.loads(manifest_file.read_text())
    manifest["revision"] = "9999_futuro"
    manifest_file.write_text(json.dumps(manifest))
    with pytest.raises(bk.BackupError, match="Actualice primero la plataforma"):
        bk.restore(loaded, target, confirm=True)

    raster = target / "rasters" / "dem" / "v1.tif"
    raster.write_bytes(raster.read_bytes() + b"x")
    with pytest.raises(bk.BackupError, match="rasters/dem/v1.tif"):
        bk.restore(loaded, target, confirm=True)
    assert _counts(loaded) == before


def test_cli_restore_without_confirmation_changes_nothing(loaded: Settings, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    from gis.cli import app

    monkeypatch.setenv("DATABASE_URL", loaded.database_url or "")
    monkeypatch.setenv("SECPLAC_PROCESSED_DIR", str(loaded.processed_dir))
    target = tmp_path / "respaldo"
    runner = CliRunner()
    made = runner.invoke(app, ["db", "backup", str(target), "--verificar"])
    assert made.exit_code == 0, made.output
    assert "Verificación correcta" in made.output
    password = (loaded.database_url or "").split(":")[2].split("@")[0]
    assert password and password not in made.output
    with connect(loaded) as conn:
        conn.execute("DELETE FROM layers.comunas")
    refused = runner.invoke(app, ["db", "restore", str(target)])
    assert refused.exit_code != 0
    assert isinstance(refused.exception, bk.BackupError)
    assert query(loaded, "SELECT count(*) FROM layers.comunas") == [(0,)]

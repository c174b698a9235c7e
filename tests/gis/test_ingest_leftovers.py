"""What killed loads leave behind is found, put right and reported in Spanish at the next
start: the command's own load, the whole cleanup and the API server's start."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from gis.ingest import ingest
from gis.ingest.leftovers import GRACE_SECONDS, clean_leftovers
from gis.settings import Settings
from tests.conftest import query
from tests.gis.test_ingest_formats import write_zones


def _age(path: Path, seconds: float) -> None:
    old = time.time() - seconds
    os.utime(path, (old, old))


def test_leftovers_are_put_right_and_reported(settings: Settings, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    ingest(settings, "zoning", write_zones("gpkg", tmp_path))
    folder = settings.processed_dir / "zoning"
    # killed between the commit and the rename: the catalog names v1.parquet, still partial
    (folder / "v1.parquet").rename(folder / "v1.parquet.partial")
    (folder / "v7.parquet.partial").write_bytes(b"PAR1 half written")  # never committed
    with psycopg.connect(settings.database_url or "", autocommit=True) as conn:
        conn.execute("CREATE TABLE staging.zoning_v9 (fid bigint)")  # blocks version 9
    work = settings.processed_dir / "propuestas"
    work.mkdir(parents=True)
    for name in ("propuesta_99.gpkg", "propuesta_99.gpkg-journal"):
        (work / name).write_bytes(b"x")
        _age(work / name, GRACE_SECONDS + 60)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    old_upload, new_upload = tmp_path / "secplac-import-ab12", tmp_path / "secplac-import-cd34"
    old_upload.mkdir()
    new_upload.mkdir()  # a request of a live server may be using it
    _age(old_upload, GRACE_SECONDS + 60)
    other = tmp_path / "secplac-test-pg-xyz"  # not the API's: never touched
    other.mkdir()
    _age(other, GRACE_SECONDS + 60)

    done = clean_leftovers(settings)

    text = "\n".join(done)
    assert "la versión 1 quedó guardada en la base" in text and "v1.parquet" in text
    assert "se eliminó «v7.parquet.partial»" in text
    assert "tabla provisoria «staging.zoning_v9»" in text
    assert "Propuesta 99" in text and "carpeta temporal" in text
    assert len(done) == 6, done
    assert (folder / "v1.parquet").exists() and not list(folder.glob("*.partial"))
    assert query(settings, "SELECT count(*) FROM pg_tables WHERE schemaname = 'staging'") \
        == [(0,)]
    assert not list(work.iterdir())
    assert not old_upload.exists() and new_upload.exists() and other.exists()
    assert clean_leftovers(settings) == []  # nothing left the second time
    # the restored file is the version's: a new load archives it as usual
    assert ingest(settings, "zoning", write_zones("gpkg", tmp_path)).version == 2


def test_a_layer_being_loaded_is_left_alone(settings: Settings, tmp_path: Path) -> None:
    ingest(settings, "zoning", write_zones("gpkg", tmp_path))
    partial = settings.processed_dir / "zoning" / "v2.parquet.partial"
    partial.write_bytes(b"being written")
    with psycopg.connect(settings.database_url or "") as loading:  # a load holds the lock
        loading.execute("SELECT pg_advisory_xact_lock(hashtext('secplac.layer.' || %s))",
                        ("zoning",))
        done = clean_leftovers(settings)
        assert done == ["Capa «zoning»: hay una carga en curso; no se revisan sus restos "
                        "ahora."]
        assert partial.exists()
    assert "resto de una carga interrumpida" in clean_leftovers(settings)[0]
    assert not partial.exists()


def test_the_server_start_cleans_up(settings: Settings, tmp_path: Path,
                                    caplog: pytest.LogCaptureFixture) -> None:
    ingest(settings, "zoning", write_zones("gpkg", tmp_path))
    folder = settings.processed_dir / "zoning"
    (folder / "v1.parquet").rename(folder / "v1.parquet.partial")
    with caplog.at_level("WARNING", logger="secplac"), TestClient(create_app(settings)) as http:
        assert http.get("/collections/zoning/items").status_code == 200
    assert (folder / "v1.parquet").exists() and not (folder / "v1.parquet.partial").exists()
    assert any("Restos de una carga interrumpida" in r.getMessage()
               and "se completó «v1.parquet»" in r.getMessage() for r in caplog.records)

"""A load is all or nothing: versions, history, and loads killed mid-way."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import gis
from gis.ingest import IngestOptions, ingest
from gis.settings import Settings
from tests.conftest import RAW, query
from tests.gis.test_ingest_formats import write_zones
from tests.samples import sample_zones

PARCELS = RAW / "catastro" / "catastro_predios.gpkg"
pytestmark = pytest.mark.usefixtures("demo_raw")


def test_each_load_is_a_new_version_and_old_ones_stay_readable(settings: Settings,
                                                               tmp_path: Path) -> None:
    first = ingest(settings, "zoning", write_zones("gpkg", tmp_path))
    changed = sample_zones().iloc[:2]
    path = tmp_path / "zonas_v2.gpkg"
    changed.to_file(path)
    second = ingest(settings, "zoning", path, IngestOptions(fuente="DOM, modificación 2026"))
    assert (first.version, second.version) == (1, 2)
    rows = query(settings, "SELECT version, valid_to IS NULL, data_location, fuente, "
                           "loaded_by, feature_count, length(source_sha256) "
                           "FROM catalog.layer_versions WHERE layer = 'zoning' ORDER BY 1")
    assert rows[0][:3] == (1, False, "history.zoning_v1")
    assert rows[1][:6] == (2, True, "layers.zoning", "DOM, modificación 2026", "pruebas", 2)
    assert rows[1][6] == 64
    assert len(gis.read_layer("zoning", settings=settings)) == 2
    assert len(gis.read_layer("zoning", version=1, settings=settings)) == 3


def test_killed_load_leaves_the_previous_version(settings: Settings, tmp_path: Path) -> None:
    ingest(settings, "zoning", write_zones("gpkg", tmp_path))
    ingest(settings, "parcels", PARCELS)
    before = query(settings, "SELECT count(*), sum(fid) FROM layers.parcels")
    started = tmp_path / "started"
    script = f"""
import time
from gis.ingest import ingest
from gis.settings import Settings
settings = Settings.model_validate_json({settings.model_dump_json()!r})
settings = settings.model_copy(update={{"ingest_batch_size": 2000}})
def progress(n):
    open({str(started)!r}, "w").close()
    time.sleep(30)
ingest(settings, "parcels", {str(PARCELS)!r}, progress=progress)
"""
    child = subprocess.Popen([sys.executable, "-c", script], cwd=Path(__file__).parents[2])
    deadline = time.monotonic() + 60
    while not started.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert started.exists(), "the load never started"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    time.sleep(0.5)  # the server notices the broken connection and rolls back
    assert query(settings, "SELECT count(*), sum(fid) FROM layers.parcels") == before
    assert query(settings, "SELECT max(version) FROM catalog.layer_versions "
                           "WHERE layer = 'parcels'") == [(1,)]
    assert query(settings, "SELECT count(*) FROM pg_tables WHERE schemaname = 'staging'") \
        == [(0,)]
    # the next load cleans the partial processed file up and says so
    report = ingest(settings, "parcels", PARCELS)
    assert report.version == 2
    assert any("carga interrumpida" in w for w in report.warnings)
    assert not list((settings.processed_dir / "parcels").glob("*.partial"))


def test_failure_late_in_the_file_loads_nothing(settings: Settings, tmp_path: Path) -> None:
    """A duplicate rol in the last batch aborts a load whose first batches were copied."""
    import geopandas as gpd

    parcels = gpd.read_file(PARCELS, rows=5000)
    parcels.loc[4999, "rol_sii"] = parcels.loc[0, "rol_sii"]
    path = tmp_path / "predios.gpkg"
    parcels.to_file(path)
    small = settings.model_copy(update={"ingest_batch_size": 1000})
    try:
        ingest(small, "parcels", path)
    except gis.errors.PlatformError as exc:
        assert "valor repetido" in "\n".join(exc.report.summary_lines())  # type: ignore[attr-defined]
    else:
        raise AssertionError("the duplicate rol was not refused")
    assert query(settings, "SELECT count(*) FROM layers.parcels") == [(0,)]
    assert query(settings, "SELECT count(*) FROM catalog.layer_versions") == [(0,)]


def test_a_waiting_load_leaves_the_previous_loads_file_alone(
        settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two loads of one layer at once: the second waits for the first until the first's
    processed file is in place, not only until its commit (once, the second took that
    file, still under its partial name, for a killed load's leftover and moved it away,
    and the first failed after committing)."""
    import threading

    from gis.ingest.processed import ProcessedWriter

    committed, release = threading.Event(), threading.Event()
    original = ProcessedWriter.commit

    def slow_commit(self: ProcessedWriter) -> Path:
        if not committed.is_set():  # the first load: stop between its commit and rename
            committed.set()
            assert release.wait(60)
        return original(self)

    monkeypatch.setattr(ProcessedWriter, "commit", slow_commit)
    first_file = write_zones("gpkg", tmp_path)
    second_file = tmp_path / "zonas_b.gpkg"
    sample_zones().iloc[:2].to_file(second_file)
    reports: dict[str, object] = {}

    def load(name: str, path: Path) -> None:
        try:
            reports[name] = ingest(settings, "zoning", path)
        except Exception as exc:  # noqa: BLE001 - reported by the assertions below
            reports[name] = exc

    first = threading.Thread(target=load, args=("first", first_file))
    first.start()
    assert committed.wait(60)
    second = threading.Thread(target=load, args=("second", second_file))
    second.start()
    deadline, waited = time.monotonic() + 30, False
    try:
        while not waited and time.monotonic() < deadline and second.is_alive():
            waited = query(settings, "SELECT count(*) > 0 FROM pg_locks WHERE locktype = "
                                     "'advisory' AND NOT granted AND objid = (hashtext("
                                     "'secplac.layer.zoning')::bigint & 4294967295)::oid")[0][0]
            time.sleep(0.05)
    finally:
        release.set()
        first.join(60)
        second.join(60)
    assert waited, f"the second load did not wait for the first: {reports}"
    one, two = reports["first"], reports["second"]
    assert not isinstance(one, Exception), one
    assert not isinstance(two, Exception), two
    assert (one.version, two.version) == (1, 2)  # type: ignore[union-attr]
    assert not any("carga interrumpida" in w or "no se había renombrado" in w
                   for w in two.warnings)  # type: ignore[union-attr]
    folder = settings.processed_dir / "zoning"
    assert sorted(p.name for p in folder.iterdir()) == ["v1.parquet", "v2.parquet"]

"""Every hostile file of the corpus given to ``secplac ingest``: refused with a Spanish
message that says what is wrong and where (or, for what the ingest documents as
repairable, repaired and reported), within bounded time and memory, and the database and
the processed files exactly as they were."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gis.ingest import IngestError, IngestOptions, ingest
from gis.settings import Settings
from tests.conftest import query, reset_database
from tests.hostile.corpus import Case, cases, zones_with
from tests.hostile.limits import watch


@pytest.fixture(scope="module")
def loaded(base_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A database whose zoning layer has a version in force (the three sample zones)."""
    reset_database(base_settings)
    settings = base_settings.model_copy(
        update={"processed_dir": tmp_path_factory.mktemp("hostile-processed")})
    ingest(settings, "zoning", zones_with(None, "gpkg")(tmp_path_factory.mktemp("vigente")))
    return settings


def stored(settings: Settings) -> tuple:  # type: ignore[type-arg]
    """Everything a refused load must leave as it was: versions, revisions, the zones,
    the tables, the processed files and the audit log."""
    versions = query(settings, "SELECT layer, version, valid_to, feature_count "
                               "FROM catalog.layer_versions ORDER BY layer, version")
    revisions = query(settings, "SELECT layer, revision FROM catalog.layer_revisions "
                                "ORDER BY layer")
    zones = query(settings, "SELECT count(*), md5(string_agg(codigo || md5(ST_AsBinary(geom)),"
                            " ',' ORDER BY fid)) FROM layers.zoning")
    tables = query(settings, "SELECT schemaname, tablename FROM pg_tables WHERE schemaname "
                             "IN ('layers', 'history', 'staging') ORDER BY 1, 2")
    audit = query(settings, "SELECT count(*) FROM audit.log")
    files = sorted(str(p.relative_to(settings.processed_dir))
                   for p in settings.processed_dir.rglob("*"))
    return versions, revisions, zones, tables, audit, files


@pytest.mark.parametrize("case", cases("ingest"), ids=lambda c: c.name)
def test_hostile_file(loaded: Settings, tmp_path: Path, case: Case) -> None:
    path = case.build(tmp_path)
    before = stored(loaded)
    with watch() as usage:
        if case.expect == "refused":
            with pytest.raises(IngestError) as exc:
                ingest(loaded, "zoning", path)
            error = exc.value
            lines = error.report.summary_lines() if error.report else []
            said = "\n".join([error.message, error.hint or "", *lines])
            assert error.message.endswith("."), error.message  # a sentence, not a trace
        else:  # what the ingest repairs, it says so; a dry run shows it and stores nothing
            report = ingest(loaded, "zoning", path, IngestOptions(dry_run=True))
            said = "\n".join(report.summary_lines())
            assert not report.errors and report.features_read == 3, said
    assert re.search(case.message, said), said
    if case.expect == "refused" and error.report is not None and error.report.errors:
        assert re.search(r"entidades \(n\.º\): \d", said), said  # which feature
    print(f"{case.name}: {usage.seconds:.2f} s, +{usage.growth_mb:.0f} MB")  # with -s
    usage.check(case.name)
    assert stored(loaded) == before


def test_the_zone_in_force_still_loads(loaded: Settings, tmp_path: Path) -> None:
    """After the whole corpus the layer takes a good file as its next version: nothing
    was left locked or half written by the refusals."""
    version = query(loaded, "SELECT max(version) FROM catalog.layer_versions "
                            "WHERE layer = 'zoning'")[0][0]
    report = ingest(loaded, "zoning", zones_with(None, "geojson")(tmp_path))
    assert report.version == version + 1 and report.features_loaded == 3


REPEATS = [  # (JSON text, the repeated key and its feature, or None)
    (rb'{"features": [{"properties": {"a\"b": "x\\", "a\"b": 1}}]}', (b'a"b', 1)),
    (rb'{"crs": {"type": "x"}, "features": [{"properties": {"a": "{}:"}}, '
     rb'{"properties": {"a": 1, "\u0061": 2}}]}', (b"a", 2)),
    (rb'{"features": [{"properties": {"a\\": "\\", "b": "\"}{:"}}, '
     rb'{"properties": {"a\\": "\\\\\"", "b": "\"}{:"}}]}', None),
    (b'{"type": "FeatureCollection", "type": "x", "features": []}', (b"type", 0)),
    (b'{"features": [{"geometry": {"type": "Point"}, "geometry": null}]}', (b"geometry", 1)),
]


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 1 << 24])
def test_repeated_keys_are_found_across_chunk_boundaries(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:
    """The scan reads big files in chunks: a string, an escape or an object split between
    two chunks must not hide a repeat, nor make one up."""
    from gis.ingest import jsonkeys

    monkeypatch.setattr(jsonkeys, "_SCAN_CHUNK", chunk)
    path = tmp_path / "claves.geojson"
    for text, expected in REPEATS:
        path.write_bytes(text)
        assert jsonkeys.first_repeated_key(path) == expected, text

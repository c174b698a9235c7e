"""Every hostile file of the corpus given to ``secplac ingest``: refused with a Spanish
message that says what is wrong and where (or, for what the ingest documents as
repairable, repaired and reported), within bounded time and memory, and the database and
the processed files exactly as they were."""

from __future__ import annotations

from pathlib import Path

import pytest

from gis.ingest import IngestError, IngestOptions, IngestReport, ingest
from gis.settings import Settings
from tests.conftest import query, reset_database
from tests.hostile.corpus import Case, cases, zones_with
from tests.hostile.limits import watch
from tests.hostile.paths import ingest_problem, ingest_state


@pytest.fixture(scope="module")
def loaded(base_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A database whose zoning layer has a version in force (the three sample zones)."""
    reset_database(base_settings)
    settings = base_settings.model_copy(
        update={"processed_dir": tmp_path_factory.mktemp("hostile-processed")})
    ingest(settings, "zoning", zones_with(None, "gpkg")(tmp_path_factory.mktemp("vigente")))
    return settings


@pytest.mark.parametrize("case", cases("ingest"), ids=lambda c: c.name)
def test_hostile_file(loaded: Settings, tmp_path: Path, case: Case) -> None:
    path = case.build(tmp_path)
    before = ingest_state(loaded)
    with watch() as usage:
        if case.expect == "refused":
            with pytest.raises(IngestError) as exc:
                ingest(loaded, "zoning", path)
            outcome: IngestError | IngestReport = exc.value
        else:  # what the ingest repairs, it says so; a dry run shows it and stores nothing
            outcome = ingest(loaded, "zoning", path, IngestOptions(dry_run=True))
    problem = ingest_problem(case, outcome)
    assert problem is None, problem
    print(f"{case.name}: {usage.seconds:.2f} s, +{usage.growth_mb:.0f} MB")  # with -s
    usage.check(case.name)
    assert ingest_state(loaded) == before


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

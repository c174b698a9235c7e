"""The ingest benchmark at a tiny size, so that its code keeps working (not its targets)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import ingest
from bench.__main__ import BENCHMARKS
from bench.common import BenchDatabase, write_result

SIZE = 2_000


def test_ingest_benchmark_reports_both_loads(tmp_path: Path,
                                             bench_db: BenchDatabase) -> None:
    db = bench_db
    # a cache of its own: the dataset is generated here (generation_cached False)
    result = ingest.run(db, size=SIZE, rounds=1, cache_dir=tmp_path / "cache")
    path = write_result("ingest", result, results_dir=tmp_path / "results")
    saved = json.loads(path.read_text(encoding="utf-8"))

    assert saved["features"] == SIZE
    for tool in ("platform", "ogr2ogr"):
        figures = saved[tool]
        assert 0 < figures["seconds"] <= figures["process_seconds"]
        assert figures["cpu_seconds"] > 0
        assert figures["features_per_s"] == pytest.approx(SIZE / figures["seconds"], rel=1e-2)
        assert 0 < figures["peak_rss_mib"] < 4096
    assert saved["ratio"] > saved["ratio_with_startup"] > 0
    assert saved["ratio"] == pytest.approx(
        saved["platform"]["features_per_s"] / saved["ogr2ogr"]["features_per_s"], abs=1e-3)
    assert saved["targets"] == {"ratio_at_least": 1.0, "peak_rss_mib_under": 4096}
    assert set(saved["met"]) == set(saved["targets"])
    assert {"nproc", "python", "gdal_ogr2ogr"} <= set(saved["machine"])
    assert saved["dataset"]["generation_cached"] is False
    assert all(line for line in ingest.summary(saved))
    assert BENCHMARKS["ingest"] is ingest

"""The proposals benchmark at a tiny size, so that its code keeps working (not its targets)."""

from __future__ import annotations

from pathlib import Path

from bench import proposals
from bench.common import BenchDatabase

SIZE = 2_000


def test_proposals_benchmark_measures_validation_impact_and_apply(
        tmp_path: Path, bench_db: BenchDatabase, bench_cache: Path) -> None:
    db = bench_db
    result = proposals.run(db, size=SIZE, rounds=1, cache_dir=bench_cache)
    assert result["parcels"] == SIZE
    assert result["zones_changed"] == proposals.ZONES_CHANGED
    assert result["affected_parcels"] > 0
    assert result["validate_and_impact_s"] > 0 and result["apply_s"] > 0
    assert result["applied_version"] == 2
    assert set(result["met"]) == set(proposals.TARGETS)
    assert any("Validación + impacto" in line for line in proposals.summary(result))

"""The portfolio benchmark at a tiny size, so that its code keeps working (not its targets)."""

from __future__ import annotations

import json
from pathlib import Path

from bench import portfolio
from bench.__main__ import BENCHMARKS
from bench.common import BenchDatabase, write_result
from bench.profile_geopandas import SECTIONS

SIZE = 2_000
PROJECTS = 160
"""The demo portfolio's 150 (the generator's first ones, saved again) and 10 more."""


def test_portfolio_benchmark_reports_every_figure(tmp_path: Path, bench_db: BenchDatabase,
        bench_cache: Path) -> None:
    db = bench_db
    result = portfolio.run(db, size=SIZE, rounds=1, cache_dir=bench_cache,
                           projects=PROJECTS, sample=8, peer_sample=2)
    path = write_result("portfolio", result, results_dir=tmp_path / "results")
    saved = json.loads(path.read_text(encoding="utf-8"))

    assert BENCHMARKS["portfolio"] is portfolio
    assert saved["parcels"] == SIZE and saved["projects"] == PROJECTS
    assert saved["saved"] == {"creados": 10, "actualizados": 150}
    single = saved["single_profile"]
    assert single["projects"] == 8 and 0 < single["p50_ms"] <= single["p95_ms"]
    assert 0 < saved["stored_read"]["p50_ms"] <= saved["stored_read"]["p95_ms"]
    assert saved["full_refresh"]["profiles"] == PROJECTS
    zoning = saved["zoning_change"]
    assert zoning["profiles"] == PROJECTS and zoning["profiles_not_current"] == 0
    peer = saved["geopandas"]
    assert peer["sections"] == list(SECTIONS)
    assert peer["total_s"] > 0 and peer["platform_s"] > 0 and peer["ratio"] > 0
    assert peer["single"]["projects"] == 2
    # the peer computes the same profile: every section agrees on (nearly) every project
    assert set(peer["agreement"]) == set(SECTIONS)
    assert min(peer["agreement"].values()) >= 0.95, peer["agreement"]
    assert set(saved["met"]) == set(portfolio.TARGETS)
    lines = portfolio.summary(saved)
    assert any("Perfil de un proyecto en frío" in line for line in lines)
    assert any("geopandas" in line for line in lines)

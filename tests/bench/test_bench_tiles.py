"""The tiles benchmark at a tiny size, so that its code keeps working (not its targets).

tipg is a benchmark-only dependency (``make bench`` installs it): without it, the
platform and the bare SQL are measured and checked, and the comparison is left out."""

from __future__ import annotations

import json
from pathlib import Path

from bench import tiles
from bench.__main__ import BENCHMARKS
from bench.common import BenchDatabase, write_result
from bench.servers import tipg_installed

SIZE = 2_000
TILES = 20
PAGES, PAGE_SIZE = 2, 100


def test_tiles_benchmark_reports_every_figure(tmp_path: Path, bench_db: BenchDatabase,
        bench_cache: Path) -> None:
    compare = tipg_installed()
    db = bench_db
    result = tiles.run(db, size=SIZE, rounds=1, cache_dir=bench_cache,
                       tiles=TILES, concurrency=4, pages=PAGES, page_size=PAGE_SIZE,
                       compare_tipg=compare)
    path = write_result("tiles", result, results_dir=tmp_path / "results")
    saved = json.loads(path.read_text(encoding="utf-8"))

    assert saved["features"] == SIZE
    assert saved["tile_set"]["tiles"] == TILES
    assert set(saved["tile_set"]["per_zoom"]) <= {"13", "14", "15", "16", "17"}
    assert saved["tile_set"]["features"] > 0
    passes = ["bare_sql", "platform_cold", "platform_warm"] + (["tipg"] if compare else [])
    assert set(saved["tiles"]) == set(passes)
    for name in passes:
        figures = saved["tiles"][name]
        assert figures["requests"] == TILES
        assert figures["tiles_per_s"] > 0 and figures["seconds"] > 0
        assert 0 < figures["p50_ms"] <= figures["p95_ms"]
        assert set(figures["statuses"]) <= {"200", "204"}
    servers = ["platform", "tipg"] if compare else ["platform"]
    assert set(saved["items"]) == set(servers)
    for who in servers:
        assert saved["items"][who]["features_per_s"] > 0
        assert saved["content"]["items"][who]["features_per_page"] == PAGE_SIZE

    ratios = saved["ratios"]
    assert ratios["overhead_vs_bare_sql"] > 0
    expected_targets = set(tiles.TARGETS) if compare else {"overhead_vs_bare_sql_at_most"}
    assert set(saved["targets"]) == expected_targets == set(saved["met"])
    if compare:
        assert all(ratios[k] > 0 for k in ("cold_vs_tipg", "warm_vs_tipg", "items_vs_tipg"))
        assert saved["tipg"]["settings"]["TIPG_TILE_BUFFER"] == "64"
        assert saved["content"]["items"]["same_features"] is True
        assert saved["content"]["layer_names"]["tipg"] == ["parcels"]
    totals = saved["content"]["features_total"]
    assert totals["platform_cold"] == totals["bare_sql"] == totals["platform_warm"] > 0
    assert saved["platform"]["workers"] == 1
    assert {"nproc", "python", "postgis"} <= set(saved["machine"])
    assert all(line for line in tiles.summary(saved))
    assert BENCHMARKS["tiles"] is tiles

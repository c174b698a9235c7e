"""The analysis benchmark at a tiny size, so that its code keeps working (not its targets):
the three paths run in their child processes and agree with PostGIS."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from bench import analysis
from bench.common import BenchDatabase

SIZE = 2_000


def test_analysis_benchmark_measures_the_three_paths(tmp_path: Path, bench_db: BenchDatabase,
        bench_cache: Path) -> None:
    db = bench_db
    result = analysis.run(db, size=SIZE, rounds=1, cache_dir=bench_cache)
    assert result["parcels"] == SIZE
    assert result["postgis_s"] > 0 and result["dask_s"] > 0 and result["geopandas_s"] > 0
    assert result["dask_export_s"] > 0 and result["dask"]["partitions"] == analysis.WORKERS
    assert len(result["dask"]["workers_peak_rss_mib"]) == analysis.WORKERS
    assert result["dask"]["agreement"] == {t: 1.0 for t in analysis.TABLES}
    assert result["geopandas"]["agreement"] == {t: 1.0 for t in analysis.TABLES}
    assert 0 < result["client_peak_gib"] < 4
    assert set(result["met"]) == set(analysis.TARGETS)
    report = result["parcel_report"]
    assert report["estado"] in ("medido", analysis.UNAVAILABLE)
    if report["estado"] == "medido":
        assert report["calls"] == report["parcels"] > 0 and report["p95_ms"] > 0
    lines = analysis.summary(result)
    assert any(line.startswith("PostGIS") for line in lines)
    assert any("Ficha territorial" in line for line in lines)


def test_agreement_counts_rows_that_differ() -> None:
    a = pd.DataFrame({"rol": ["1", "2", "3", "4"], "superficie_m2": [1.0, 2.0, 3.0, None],
                      "viviendas_max": [0.5, 0.5, 0.5, 0.5]})
    assert analysis.agreement(a, a.copy()) == 1.0
    b = a.assign(superficie_m2=[1.1, 2.3, 3.0, None], viviendas_max=[0.5, 0.5, 0.52, 0.5])
    assert analysis.agreement(a, b) == 0.5  # 1.1 within 0.1; 2.3 and 0.52 not
    assert analysis.agreement(a, b.drop(columns="viviendas_max")) == 0.0
    assert analysis.agreement(a, a.iloc[:2]) == 0.0

"""``python -m bench hostile`` on a few cheap cases of the corpus, one or more per write
path (the whole corpus is the benchmark's): every figure reported, the targets met, and
a case whose expectation is made wrong is counted as unexpected, not as passed."""

from __future__ import annotations

import dataclasses

from bench import hostile
from bench.__main__ import BENCHMARKS
from bench.common import BenchDatabase
from tests.hostile.corpus import CASES, WRITE_PATHS

SUBSET = ["ingest/pajarita (GeoPackage)", "ingest/espiga (GeoJSON)",
          "ingest/.shp con 3 registros y .dbf con 2", "proyecto/NaN", "proyecto/3D con Z",
          "propuesta/claves repetidas", "adjunto/../../etc/passwd.pdf",
          "planilla/bomba ZIP (.xlsx)"]


def test_hostile_benchmark_reports_every_figure(bench_db: BenchDatabase) -> None:
    assert BENCHMARKS["hostile"] is hostile
    result = hostile.run(bench_db, size=1, rounds=1, only=SUBSET)
    assert result["inputs_tried"] == len(SUBSET) and result["corpus_size"] == len(CASES)
    assert set(result["by_path"]) == set(WRITE_PATHS)
    assert result["attempts"] == len(SUBSET) + 1  # proyecto/NaN also as a PUT
    assert result["refused_as_expected"] == 6 and result["repaired_and_reported"] == 3
    assert result["unexpected"] == 0, result["unexpected_samples"]
    assert result["server_errors"] == 0 and result["data_changed"] == 0
    assert 0 < result["max_seconds"] < hostile.DEADLINE_S
    assert result["max_growth_mb"] < hostile.MAX_GROWTH_MB
    assert all(result["met"].values()), result["met"]
    assert sum(f["attempts"] for f in result["by_path"].values()) == result["attempts"]
    statuses = {a["case"]: a["status"] for a in result["attempts_detail"]}
    assert statuses["proyecto/3D con Z"] == 201 and statuses["proyecto/NaN"] == 422
    lines = hostile.summary(result)
    assert lines[0].startswith(f"Entradas probadas: {len(SUBSET)} de {len(CASES)}")
    assert "resultados inesperados: 0" in lines[1] and "datos modificados: 0" in lines[2]


def test_an_outcome_other_than_the_expected_one_is_unexpected(bench_db: BenchDatabase) -> None:
    """The judge is the corpus: with its expectation altered, the same inputs (still
    refused, nothing stored) are reported as unexpected, with the reason."""
    by_name = {c.name: c for c in CASES}
    wrong = [dataclasses.replace(by_name["ingest/pajarita (GeoPackage)"],
                                 message="otro motivo"),
             dataclasses.replace(by_name["propuesta/claves repetidas"], status=422)]
    hostile.prepare(bench_db)
    attempts = hostile.run_corpus(bench_db.settings, wrong)
    assert [a.outcome for a in attempts] == ["inesperado", "inesperado"]
    assert attempts[0].problem and attempts[0].problem.startswith("mensaje distinto")
    assert attempts[1].problem and attempts[1].problem.startswith("HTTP 400 en vez de 422")
    assert not any(a.data_changed for a in attempts)
    figures = hostile.figures(attempts)
    assert figures["unexpected"] == 2 and figures["refused_as_expected"] == 0

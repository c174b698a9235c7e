"""One throwaway PostGIS cluster and one dataset cache for the benchmarks' smoke tests of
a test process: the demo layers are loaded once on it and restored from a copy by the
next benchmark (:meth:`bench.common.BenchDatabase.load_demo`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.common import BenchDatabase, throwaway_database


@pytest.fixture(scope="session")
def bench_db() -> Iterator[BenchDatabase]:
    with throwaway_database() as db:
        yield db


@pytest.fixture(scope="session")
def bench_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the small scale datasets are generated, once per test process."""
    return tmp_path_factory.mktemp("bench-cache")

"""Shared fixtures: a throwaway PostGIS cluster for the whole run, started by the tests."""

from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from gis import migrate
from gis.localdb import LocalCluster
from gis.schema import PLATFORM_SCHEMAS
from gis.settings import Settings

PROJECT = Path(__file__).resolve().parent.parent
os.environ["COLUMNS"] = "250"  # the CLI's tables as in a wide terminal, in every worker
RAW = PROJECT / "data" / "raw"


@pytest.fixture(scope="session")
def cluster() -> Iterator[LocalCluster]:
    root = Path(tempfile.mkdtemp(prefix="secplac-test-pg-"))
    os.chmod(root, 0o755)
    pg = LocalCluster(root / "pg", throwaway=True)
    pg.init()
    yield pg
    pg.destroy()
    root.rmdir() if root.exists() and not any(root.iterdir()) else None


@pytest.fixture(scope="session")
def base_settings(cluster: LocalCluster, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    processed = tmp_path_factory.mktemp("processed")
    settings = Settings(database_url=cluster.url(), processed_dir=processed, raw_dir=RAW,
                        state_dir=cluster.root, user="pruebas")
    migrate.upgrade(settings)
    return settings


def reset_database(settings: Settings) -> None:
    """Drop every platform schema and migrate again: an empty database."""
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {', '.join(PLATFORM_SCHEMAS)} CASCADE")
    migrate.upgrade(settings)


@pytest.fixture
def settings(base_settings: Settings, tmp_path: Path) -> Settings:
    """An empty, migrated database and a fresh processed folder, for one test."""
    reset_database(base_settings)
    return base_settings.model_copy(update={"processed_dir": tmp_path / "processed"})


def query(settings: Settings, sql: str, params: tuple = ()) -> list[tuple]:  # type: ignore[type-arg]
    with psycopg.connect(settings.database_url) as conn:
        return conn.execute(sql, params).fetchall()  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def demo_raw() -> Path:
    """The demo raw files (the generated cadastre is not committed: made here if missing).

    Under pytest-xdist every worker asks; a lock file makes one generate and the others wait.
    """
    from gis.demo.load import missing_demo_files

    settings = Settings(raw_dir=RAW)
    with open(RAW / ".demo-generate.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if missing_demo_files(settings):
            from gis.demo import generate

            generate(RAW)
    return RAW

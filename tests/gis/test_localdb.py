"""The project's own PostgreSQL cluster: socket only, secret password, data kept."""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from pathlib import Path

import psycopg
import pytest

from gis import migrate
from gis.localdb import LocalCluster
from gis.settings import Settings


def test_cluster_is_private_and_keeps_data_across_restarts() -> None:
    root = Path(tempfile.mkdtemp(prefix="secplac-localdb-"))
    os.chmod(root, 0o755)
    cluster = LocalCluster(root / "pg")
    try:
        cluster.init()
        password_file = cluster.password_file
        assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
        assert len(password_file.read_text().strip()) >= 24
        with psycopg.connect(cluster.url()) as conn:
            assert conn.execute("SHOW listen_addresses").fetchone() == ("",)
            assert conn.execute("SHOW unix_socket_directories").fetchone() == (
                str(cluster.socket_dir),)
            assert conn.execute("SHOW password_encryption").fetchone() == ("scram-sha-256",)
            conn.execute("CREATE TABLE kept (x int)")
            conn.execute("INSERT INTO kept VALUES (42)")
        if os.geteuid() == 0:
            assert (cluster.data_dir.owner()) == "postgres"
        bad = cluster.url().replace(password_file.read_text().strip(), "adivinanza")
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(bad)
        assert cluster.stop() and not cluster.running()
        assert cluster.start() and cluster.running()
        with psycopg.connect(cluster.url()) as conn:
            assert conn.execute("SELECT x FROM kept").fetchone() == (42,)
        cluster.init()  # idempotent: an existing cluster is reused, not recreated
        with psycopg.connect(cluster.url()) as conn:
            assert conn.execute("SELECT x FROM kept").fetchone() == (42,)
    finally:
        cluster.destroy()
        shutil.rmtree(root, ignore_errors=True)


def test_migrations_match_the_layer_declarations(base_settings: Settings) -> None:
    """The schema the migrations build is exactly what layers/ declares (no drift)."""
    import sqlalchemy as sa
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from gis.database import sqlalchemy_url
    from gis.migrate import comparison_options
    from gis.schema import metadata

    engine = sa.create_engine(sqlalchemy_url(base_settings))
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts=comparison_options())
        diff = compare_metadata(ctx, metadata)
    engine.dispose()
    assert diff == []
    assert migrate.current_revision(base_settings) == migrate.head_revision(base_settings)

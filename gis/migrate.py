"""Apply and inspect schema migrations (Alembic) on the platform's database."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from gis.database import sqlalchemy_url
from gis.schema import CATALOG_SCHEMA
from gis.settings import Settings

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(settings: Settings) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["sqlalchemy_url"] = sqlalchemy_url(settings)
    return cfg


def upgrade(settings: Settings, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (the newest by default)."""
    command.upgrade(alembic_config(settings), revision)


def current_revision(settings: Settings) -> str | None:
    engine = sa.create_engine(sqlalchemy_url(settings))
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"version_table_schema": CATALOG_SCHEMA})
            return ctx.get_current_revision()
    finally:
        engine.dispose()


def head_revision(settings: Settings) -> str | None:
    return ScriptDirectory.from_config(alembic_config(settings)).get_current_head()

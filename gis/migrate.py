"""Apply and inspect schema migrations (Alembic) on the platform's database."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from geoalchemy2 import alembic_helpers

from gis.database import sqlalchemy_url
from gis.schema import CATALOG_SCHEMA, MANAGED_SCHEMAS
from gis.settings import Settings

MIGRATIONS = Path(__file__).parent / "migrations"


def _include_name(name, type_, parent_names):  # type: ignore[no-untyped-def]
    if type_ == "schema":
        return name in MANAGED_SCHEMAS
    return True


def _include_object(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
    if type_ == "table" and reflected and compare_to is None:
        return False  # tables we do not declare (e.g. made by hand) are left alone
    return alembic_helpers.include_object(obj, name, type_, reflected, compare_to)


def comparison_options() -> dict[str, object]:
    """How Alembic compares the database with ``gis.schema`` (env.py and the drift test)."""
    return {
        "include_schemas": True,
        "include_name": _include_name,
        "include_object": _include_object,
        "version_table_schema": CATALOG_SCHEMA,
        "process_revision_directives": alembic_helpers.writer,
        "render_item": alembic_helpers.render_item,
    }


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

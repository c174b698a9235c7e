"""Alembic environment: migrates the database named in the platform settings."""

from alembic import context
from sqlalchemy import create_engine, text

from gis.migrate import comparison_options
from gis.schema import CATALOG_SCHEMA, metadata

config = context.config


def run_migrations_online() -> None:
    engine = create_engine(config.attributes["sqlalchemy_url"])
    with engine.connect() as connection:
        # The version table lives in the catalog schema, which must exist before it.
        connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {CATALOG_SCHEMA}"))
        connection.commit()
        context.configure(connection=connection, target_metadata=metadata,
                          **comparison_options())
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()

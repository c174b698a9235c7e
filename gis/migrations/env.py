"""Alembic environment: migrates the database named in the platform settings."""

from alembic import context
from geoalchemy2 import alembic_helpers
from sqlalchemy import create_engine, text

from gis.schema import CATALOG_SCHEMA, MANAGED_SCHEMAS, metadata

config = context.config


def include_name(name, type_, parent_names):  # type: ignore[no-untyped-def]
    if type_ == "schema":
        return name in MANAGED_SCHEMAS
    return True


def include_object(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
    if type_ == "table" and reflected and compare_to is None:
        return False  # tables we do not declare (e.g. made by hand) are left alone
    return alembic_helpers.include_object(obj, name, type_, reflected, compare_to)


def run_migrations_online() -> None:
    engine = create_engine(config.attributes["sqlalchemy_url"])
    with engine.connect() as connection:
        # The version table lives in the catalog schema, which must exist before it.
        connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {CATALOG_SCHEMA}"))
        connection.commit()
        context.configure(
            connection=connection,
            target_metadata=metadata,
            include_schemas=True,
            include_name=include_name,
            include_object=include_object,
            version_table_schema=CATALOG_SCHEMA,
            process_revision_directives=alembic_helpers.writer,
            render_item=alembic_helpers.render_item,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()

"""Connections to the platform's PostGIS, from the settings (local cluster or DATABASE_URL)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import sqlalchemy as sa

from gis.errors import DatabaseUnavailableError
from gis.localdb import LocalCluster
from gis.settings import Settings


def database_url(settings: Settings) -> str:
    """libpq URL of the database: ``DATABASE_URL`` if given, else the local cluster's."""
    if settings.database_url:
        return settings.database_url
    return LocalCluster(settings.local_cluster_dir).url()


def sqlalchemy_url(settings: Settings) -> str:
    url = database_url(settings)
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


@contextmanager
def connect(settings: Settings, *, autocommit: bool = False) -> Iterator[psycopg.Connection]:
    """A psycopg connection; a Spanish :class:`DatabaseUnavailableError` if none can be had."""
    try:
        conn = psycopg.connect(database_url(settings), autocommit=autocommit,
                               application_name="secplac")
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailableError(
            "No se pudo conectar a la base de datos.",
            hint="Inicie la base local con «secplac db up» o revise DATABASE_URL. "
            f"Detalle: {str(exc).strip().splitlines()[0] if str(exc).strip() else exc}",
        ) from exc
    with conn:
        yield conn


def create_engine(settings: Settings) -> sa.Engine:
    return sa.create_engine(sqlalchemy_url(settings), pool_pre_ping=True)

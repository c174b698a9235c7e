"""Request dependencies shared by the routers."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
from fastapi import Request
from psycopg_pool import ConnectionPool

from gis.settings import Settings


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_connection(request: Request) -> Iterator[psycopg.Connection]:
    """A pooled connection in autocommit mode (writers open their own transaction)."""
    pool: ConnectionPool = request.app.state.pool
    with pool.connection() as conn:
        yield conn

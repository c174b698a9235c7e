"""Request dependencies shared by the routers."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
from fastapi import Request

from gis.database import connect
from gis.settings import Settings


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_connection(request: Request) -> Iterator[psycopg.Connection]:
    with connect(get_settings(request)) as conn:
        yield conn

"""Database errors that do not mean the database is down get their own answer: a query
cancelled by ``statement_timeout`` is a 503 saying so, a query over one of PostgreSQL's
limits is a 400; a lost connection is the «base de datos no disponible» 503. Each is
caused for real in PostgreSQL, through a route added to the application for the test."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import psycopg
import pytest
from fastapi import Depends

from api.app import DB_DOWN, OVER_A_LIMIT, QUERY_TOO_LONG, create_app
from api.dependencies import get_connection
from gis.settings import Settings
from tests.api.conftest import serve

CAUSES = {
    "cancelada": "SET LOCAL statement_timeout = '50ms'; SELECT pg_sleep(2)",
    "limite": "SELECT concat(" + ", ".join(["1"] * 120) + ")",
    "caida": "SELECT pg_terminate_backend(pg_backend_pid())",
}


@pytest.fixture(scope="module")
def server(api_settings: Settings) -> Iterator[str]:
    app = create_app(api_settings)

    @app.get("/prueba-error/{cause}")
    def fail(cause: str, conn: psycopg.Connection = Depends(get_connection)) -> dict:  # type: ignore[type-arg]  # noqa: B008
        with conn.transaction():  # SET LOCAL: the pooled connection keeps no setting
            for statement in CAUSES[cause].split("; "):
                conn.execute(statement)  # type: ignore[arg-type]
        return {}

    yield from serve(app, log_level="error")


def test_each_database_error_gets_its_answer(server: str) -> None:
    with httpx.Client(base_url=server, timeout=30) as http:
        cancelled = http.get("/prueba-error/cancelada")
        assert cancelled.status_code == 503
        assert cancelled.json()["description"] == QUERY_TOO_LONG[0]
        limit = http.get("/prueba-error/limite")
        assert limit.status_code == 400 and limit.json()["description"] == OVER_A_LIMIT[0]
        lost = http.get("/prueba-error/caida")
        assert lost.status_code == 503 and lost.json()["description"] == DB_DOWN[0]
        # the database is up: the next request is served
        assert http.get("/collections/zoning/items", params={"limit": 1}).status_code == 200

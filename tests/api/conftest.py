"""A real HTTP server (uvicorn on a free loopback port) over the test database."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from api.app import create_app
from gis.demo.load import load_demo
from gis.settings import Settings
from tests.conftest import reset_database


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="package")
def api_settings(base_settings: Settings, demo_raw, tmp_path_factory) -> Settings:  # type: ignore[no-untyped-def]
    reset_database(base_settings)
    settings = base_settings.model_copy(
        update={"processed_dir": tmp_path_factory.mktemp("api-processed")})
    load_demo(settings)
    return settings


@pytest.fixture(scope="package")
def server(api_settings: Settings) -> Iterator[str]:
    port = free_port()
    config = uvicorn.Config(create_app(api_settings), host="127.0.0.1", port=port,
                            log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def http(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, timeout=30) as client:
        yield client

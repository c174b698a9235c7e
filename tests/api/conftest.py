"""A real HTTP server (uvicorn on a free loopback port) over the test database."""

from __future__ import annotations

import functools
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
import uvicorn
from psycopg import sql

from api.app import create_app
from gis import migrate
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


def demo_database(base_settings: Settings, name: str, processed_dir: Path) -> Settings:
    """A database ``name`` of its own on the test cluster (made anew), migrated, with the
    demo loaded: for tests whose writes must touch nothing shared (fuzzing, access)."""
    assert base_settings.database_url
    with psycopg.connect(base_settings.database_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    head, sep, tail = base_settings.database_url.partition("?")  # …@/secplac?host=…
    settings = base_settings.model_copy(update={
        "database_url": head.rsplit("/", 1)[0] + "/" + name + sep + tail,
        "processed_dir": processed_dir})
    migrate.upgrade(settings)
    load_demo(settings)
    return settings


@pytest.fixture(scope="package")
def app(api_settings: Settings):  # type: ignore[no-untyped-def]
    """The application under test (its state, e.g. the tile cache, can be inspected)."""
    return create_app(api_settings)


def serve(app, log_level: str = "warning") -> Iterator[str]:  # type: ignore[no-untyped-def]
    """Serve ``app`` with uvicorn on a free loopback port in a thread; yields its URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level=log_level)
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


@pytest.fixture(scope="package")
def server(app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    yield from serve(app)


@pytest.fixture
def http(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, timeout=30) as client:
        yield client


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--use-gl=angle", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
]


@pytest.fixture(scope="package")
def browser():  # type: ignore[no-untyped-def]
    """Debian's Chromium, headless, driven by Playwright (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                      args=CHROMIUM_ARGS)
        # Playwright's wait_for_function runs eval() in the page, which the pages'
        # Content-Security-Policy forbids: contexts bypass the policy unless a test asks
        # for it (tests/api/test_security_headers.py checks the pages under it).
        chromium.new_context = functools.partial(chromium.new_context, bypass_csp=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, server: str):  # type: ignore[no-untyped-def]
    """A fresh page; every request that fails or leaves the machine is recorded in
    ``page.failed_requests`` (offline rule: pages load nothing from the internet)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    pg = context.new_page()
    pg.failed_requests = []  # type: ignore[attr-defined]
    pg.on("requestfailed", lambda r: pg.failed_requests.append(f"{r.url} {r.failure}"))
    pg.on("response", lambda r: pg.failed_requests.append(f"{r.url} HTTP {r.status}")
          if r.status >= 400 else None)
    pg.on("request", lambda r: pg.failed_requests.append(f"{r.url} (fuera del servidor)")
          if not r.url.startswith((server, "data:", "blob:", "about:")) else None)
    yield pg
    context.close()

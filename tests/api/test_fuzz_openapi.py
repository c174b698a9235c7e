"""Property-based fuzzing of the whole HTTP API from its own OpenAPI document.

Schemathesis reads ``/openapi.json`` from a running server and sends every operation a
bounded number of generated requests, valid and invalid, authenticated as an
administrator so that writes reach their handlers. Each response must not be a server
error (5xx), must match the schema the operation declares for its status, and must come
back within :data:`REQUEST_TIMEOUT` seconds (a hang fails the test).

The fuzzer writes (creates, edits, deletes, applies proposals), so it runs against its
own database, a fresh copy of the demo (``secplac_fuzz``) served by its own server: the
package's shared demo database is never touched.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from api.app import create_app
from gis.analysis import ANALYSES
from gis.auth import create_user, get_user, issue_access_token
from gis.database import connect
from gis.settings import Settings
from layers import REGISTRY
from tests.api.conftest import demo_database, serve
from tests.conftest import query

FUZZ_DB = "secplac_fuzz"
MAX_EXAMPLES = 8
"""Generated requests per operation (bounded: the whole run stays within minutes)."""
REQUEST_TIMEOUT = 30.0
"""Seconds a single request may take before the test counts it as a hang."""
CHECKS = [not_a_server_error, response_schema_conformance]
KNOWN: dict[str, list[object]] = {}
"""Real values of path parameters (layer names, project codes, proposal ids…), filled by
the ``known_values`` fixture from the fuzzing database: random identifiers alone would
almost always get a 404 and never reach the handlers behind them."""
TILES = [(10, 308, 613), (12, 1233, 2454), (14, 4932, 9816), (0, 0, 0)]
"""Tiles over San Antonio (and the world tile) in WebMercatorQuad."""


@pytest.fixture(scope="module")
def fuzz_settings(base_settings: Settings, demo_raw, tmp_path_factory) -> Settings:  # type: ignore[no-untyped-def]
    """A database of its own with the demo loaded: the fuzzer may write anything there."""
    return demo_database(base_settings, FUZZ_DB, tmp_path_factory.mktemp("fuzz-processed"))


@pytest.fixture(scope="module")
def fuzz_server(fuzz_settings: Settings) -> Iterator[str]:
    yield from serve(create_app(fuzz_settings), log_level="error")


@pytest.fixture(scope="module")
def admin_headers(fuzz_settings: Settings) -> dict[str, str]:
    with connect(fuzz_settings) as conn:
        create_user(conn, "fuzzadmin", "Administración de pruebas", "admin",
                    "clave-de-prueba-123")
        create_user(conn, "fuzzeditora", "Editora de pruebas", "editor",
                    "clave-de-prueba-123")
        conn.commit()
        token = issue_access_token(fuzz_settings, get_user(conn, "fuzzadmin"))
    return {"Authorization": f"Bearer {token}"}


SCHEMA_DOCUMENT = create_app(Settings(database_url="postgresql://sin-conexion@/x")).openapi()
"""The application's own OpenAPI document (building the app opens no connection; the
test checks that the running server serves this very document)."""
schema = schemathesis.openapi.from_dict(SCHEMA_DOCUMENT)


@schema.hook
def flatmap_path_parameters(context, path_parameters):  # type: ignore[no-untyped-def]
    """Half the time, swap generated identifiers for real ones (see :data:`KNOWN`)."""
    if not path_parameters:
        return st.just(path_parameters)
    real = {name: st.sampled_from(KNOWN[name]) for name in path_parameters if KNOWN.get(name)}
    tile = {"tileMatrix", "tileRow", "tileCol"} <= path_parameters.keys() or \
        {"z", "x", "y"} <= path_parameters.keys()
    if not real and not tile:
        return st.just(path_parameters)

    def swapped(draw):  # type: ignore[no-untyped-def]
        out = dict(path_parameters)
        for name, values in real.items():
            if draw(st.booleans()):
                out[name] = draw(values)
        if tile and draw(st.booleans()):
            z, x, y = draw(st.sampled_from(TILES))
            keys = ("tileMatrix", "tileCol", "tileRow") if "tileMatrix" in out else "zxy"
            out.update(zip(keys, (z, x, y), strict=True))
        return out

    return st.composite(swapped)()


@pytest.fixture(scope="module")
def known_values(fuzz_settings: Settings) -> None:
    with connect(fuzz_settings) as conn:
        codes = [r[0] for r in conn.execute("SELECT codigo FROM cartera.registro "
                                            "ORDER BY codigo LIMIT 20")]
    layers = sorted(REGISTRY)
    KNOWN.update({
        "collectionId": layers, "coleccion": layers, "styleId": layers,
        "nombre": [*layers, *ANALYSES],
        "tileMatrixSetId": ["WebMercatorQuad"], "tms": ["WebMercatorQuad"],
        "codigo": codes, "proposal_id": [1, 2, 3], "adjunto": [1, 2],
        "action": ["enviar", "revisar", "solicitar_cambios", "aprobar", "rechazar"],
        "username": ["fuzzeditora"], "token_id": [1, 2]})


def test_the_server_serves_the_fuzzed_document(fuzz_server: str) -> None:
    assert httpx.get(f"{fuzz_server}/openapi.json", timeout=30).json() == SCHEMA_DOCUMENT


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
          phases=[Phase.explicit, Phase.generate, Phase.shrink],
          suppress_health_check=list(HealthCheck))
def test_every_operation(case: schemathesis.Case, fuzz_server: str,
                         admin_headers: dict[str, str], known_values: None) -> None:
    case.call_and_validate(base_url=fuzz_server, headers=admin_headers,
                           timeout=REQUEST_TIMEOUT, checks=CHECKS)


# Regressions: each input below once made the server answer 500.

HUGE = "2206375304615862708169867264"


@pytest.mark.parametrize(("path", "params", "where"), [
    ("/buscar", {"q": "puerto\x00"}, "«q»"),
    ("/proyectos", {"q": "\x00"}, "«q»"),
    ("/admin/auditoria", {"usuario": "a\x00"}, "«usuario»"),
    ("/proyectos/MUN-2024-%00", {}, "ruta"),
])
def test_nul_in_the_url_is_refused_in_spanish(fuzz_server: str, admin_headers: dict[str, str],
                                              path: str, params: dict[str, str],
                                              where: str) -> None:
    res = httpx.get(fuzz_server + path, params=params, headers=admin_headers, timeout=30)
    assert res.status_code == 400, res.text
    assert where in res.json()["description"] and "carácter nulo" in res.json()["description"]


def test_nul_in_a_body_is_refused_and_nothing_is_stored(
        fuzz_server: str, fuzz_settings: Settings, admin_headers: dict[str, str]) -> None:
    before = query(fuzz_settings, "SELECT count(*) FROM cartera.registro")
    res = httpx.post(f"{fuzz_server}/proyectos", headers=admin_headers, timeout=30,
                     json={"codigo": "MUN-2024-901", "nombre": "Plaza\x00", "sector": "salud"})
    assert res.status_code == 400, res.text
    assert "«nombre»" in res.json()["description"]
    assert query(fuzz_settings, "SELECT count(*) FROM cartera.registro") == before
    res = httpx.post(f"{fuzz_server}/auth/token", timeout=30,
                     data={"username": "fuzzadmin\x00", "password": "x"})
    assert res.status_code == 400 and "«username»" in res.json()["description"], res.text
    res = httpx.post(f"{fuzz_server}/auth/token", timeout=30,  # the same without the NUL
                     data={"username": "fuzzadmin", "password": "x"})
    assert res.status_code in (400, 401) and "carácter nulo" not in res.text, res.text


@pytest.mark.parametrize("path", ["/admin/auditoria?desplazamiento=" + HUGE,
                                  "/collections/zoning/items?offset=" + HUGE])
def test_huge_offsets_are_refused_in_spanish(fuzz_server: str, admin_headers: dict[str, str],
                                             path: str) -> None:
    res = httpx.get(fuzz_server + path, headers=admin_headers, timeout=30)
    assert res.status_code == 400, res.text
    assert "supera el máximo permitido" in res.json()["description"]


def test_an_escaped_backslash_before_u0000_is_not_a_nul() -> None:
    from api.input_guard import _body_nul

    assert _body_nul(b'{"a": "x\\\\u0000"}', is_json=True) is None
    assert _body_nul(b'{"a": ["x", {"b": "\\u0000"}]}', is_json=True) == \
        "El campo «a[1].b» del cuerpo JSON"

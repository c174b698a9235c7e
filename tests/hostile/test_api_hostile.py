"""Every hostile input of the corpus sent to the API's write paths: the geometry of a
project (``POST`` and ``PUT /proyectos``), of a zoning proposal's change, attachments and
portfolio workbooks. Each is refused with a Spanish message (what, where, what to do),
within bounded time and memory, and the stored data is exactly as it was; the refusals of
signed-in users are in the audit log, and nothing else is."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import shapely

from gis.settings import Settings
from tests.api.test_proposals import auth, tokens  # noqa: F401  (fixture)
from tests.conftest import query
from tests.hostile.corpus import ORIGIN_LONLAT, Case, cases, million_vertex_json
from tests.hostile.limits import watch
from tests.hostile.paths import (
    CODE,
    NEW_CODE,
    REPAIRED_CODE,
    TITLE,
    api_problem,
    api_state,
    change_body,
    project_body,
    refusals,
    target_project,
)


@pytest.fixture(scope="module")
def http(server: str) -> Iterator[httpx.Client]:
    """One client for the whole module (the module's fixtures write through it too)."""
    with httpx.Client(base_url=server, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def project(http: httpx.Client, tokens: dict[str, str]) -> Iterator[str]:  # noqa: F811
    created = http.post("/proyectos", json=target_project(), headers=auth(tokens, "editora"))
    assert created.status_code == 201, created.text
    yield CODE
    etag = http.get(f"/proyectos/{CODE}").headers["ETag"]
    assert http.delete(f"/proyectos/{CODE}", headers=auth(tokens, "revisora", etag)
                       ).status_code == 204


@pytest.fixture(scope="module")
def proposal(http: httpx.Client, tokens: dict[str, str],  # noqa: F811
             api_settings: Settings) -> dict[str, Any]:
    zone = query(api_settings, "SELECT codigo FROM layers.zoning ORDER BY ST_Area(geom) "
                               "DESC LIMIT 1")[0][0]
    res = http.post("/propuestas", json={"titulo": "Entradas hostiles", "justificacion":
                                         "Prueba."}, headers=auth(tokens, "editora"))
    assert res.status_code == 201, res.text
    return {"id": res.json()["id"], "zona": zone}


def send(http: httpx.Client, headers: dict[str, str], method: str, url: str,
         body: bytes) -> httpx.Response:
    return http.request(method, url, content=body, headers={
        **headers, "Content-Type": "application/json"})


def check(case: Case, response: httpx.Response, api_settings: Settings,
          before: dict[str, Any], refused_before: list[tuple[str, str]]) -> None:
    new = refusals(api_settings)[len(refused_before):]
    problem = api_problem(case, response.status_code, response.json(), new)
    assert problem is None, problem
    assert api_state(api_settings) == before


@pytest.mark.parametrize(("case", "method"), [
    (c, m) for c in cases("proyecto") if c.expect == "refused" for m in ("POST", "PUT")
    if m == "POST" or c.name != "proyecto/150.000 vértices"],  # (6 MB: the same check)
    ids=lambda v: getattr(v, "name", v))
def test_hostile_project_geometry(http: httpx.Client, tokens: dict[str, str],  # noqa: F811
                                  api_settings: Settings, project: str, case: Case,
                                  method: str) -> None:
    body = project_body(case.build(), project if method == "PUT" else NEW_CODE)
    headers = auth(tokens, "editora")
    url = "/proyectos"
    if method == "PUT":
        url = f"/proyectos/{project}"
        headers["If-Match"] = http.get(url).headers["ETag"]
    before, refused_before = api_state(api_settings), refusals(api_settings)
    with watch() as usage:
        response = send(http, headers, method, url, body)
    print(f"{case.name} {method}: {usage.seconds:.2f} s, +{usage.growth_mb:.0f} MB")
    usage.check(case.name)
    check(case, response, api_settings, before, refused_before)


def test_a_height_is_dropped_and_the_project_stored_flat(
        http: httpx.Client, tokens: dict[str, str], api_settings: Settings) -> None:  # noqa: F811
    """The one geometry case the API accepts: a point with a height (from a GPS) is the
    same place; the height is dropped, as it is on ingest."""
    case, = [c for c in cases("proyecto") if c.expect == "repaired"]
    body = project_body(case.build(), REPAIRED_CODE)
    response = send(http, auth(tokens, "editora"), "POST", "/proyectos", body)
    assert response.status_code == 201, response.text
    try:
        saved = response.json()["geometria"]
        assert saved["type"] == "Point" and len(saved["coordinates"]) == 2
        assert saved["coordinates"] == pytest.approx(list(ORIGIN_LONLAT), abs=1e-7)
        wkt = query(api_settings, "SELECT ST_AsText(geom) FROM layers.projects "
                                  "WHERE codigo = 'MUN-2026-973'")[0][0]
        assert not shapely.from_wkt(wkt).has_z
    finally:
        assert http.delete("/proyectos/MUN-2026-973", headers=auth(
            tokens, "revisora", response.headers["ETag"])).status_code == 204


@pytest.mark.parametrize("case", cases("propuesta"), ids=lambda c: c.name)
def test_hostile_proposal_change(http: httpx.Client, tokens: dict[str, str],  # noqa: F811
                                 api_settings: Settings, proposal: dict[str, Any],
                                 case: Case) -> None:
    url = f"/propuestas/{proposal['id']}"
    etag = http.get(url).headers["ETag"]
    body = change_body(proposal["zona"], case.build())
    before, refused_before = api_state(api_settings), refusals(api_settings)
    with watch() as usage:
        response = send(http, auth(tokens, "editora", etag), "POST", f"{url}/cambios", body)
    print(f"{case.name}: {usage.seconds:.2f} s, +{usage.growth_mb:.0f} MB")
    usage.check(case.name)
    check(case, response, api_settings, before, refused_before)
    assert http.get(url).headers["ETag"] == etag


@pytest.mark.parametrize("case", cases("adjunto") + cases("planilla"), ids=lambda c: c.name)
def test_hostile_upload(http: httpx.Client, tokens: dict[str, str],  # noqa: F811
                        api_settings: Settings, project: str, case: Case) -> None:
    name, data = case.build()
    url = f"/proyectos/{project}/adjuntos" if case.path == "adjunto" else "/proyectos/importar"
    before, refused_before = api_state(api_settings), refusals(api_settings)
    with watch() as usage:
        response = http.post(url, headers=auth(tokens, "editora"),
                             files={"archivo": (name, data, "application/octet-stream")})
    print(f"{case.name}: {usage.seconds:.2f} s, +{usage.growth_mb:.0f} MB")
    usage.check(case.name)
    if case.expect == "refused":
        check(case, response, api_settings, before, refused_before)
        return
    assert response.status_code == case.status, response.text  # a folder in the name
    entry = response.json()
    assert entry["nombre"] == case.message and "/" not in entry["nombre"]
    assert http.delete(entry["url"], headers=auth(tokens, "editora")).status_code == 204


def test_an_oversized_body_sent_in_chunks_is_cut_off(
        http: httpx.Client, tokens: dict[str, str], api_settings: Settings) -> None:  # noqa: F811
    """Without a Content-Length (chunked transfer) the body is counted as it arrives and
    refused as soon as it passes the limit, not after it has all been held in memory."""
    body = project_body(million_vertex_json(), NEW_CODE)
    sent = [0]

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 1 << 20):
            sent[0] += 1
            yield body[start:start + (1 << 20)]

    before = api_state(api_settings)
    with watch() as usage:
        response = http.post("/proyectos", content=chunks(), headers={
            **auth(tokens, "editora"), "Content-Type": "application/json"})
    usage.check("chunked")
    assert response.status_code == 413, response.text
    assert "supera el máximo de 8 MB" in response.json()["description"]
    assert api_state(api_settings) == before


def test_the_corpus_leaves_the_api_working(http: httpx.Client, tokens: dict[str, str],  # noqa: F811
                                           project: str, proposal: dict[str, Any]) -> None:
    """After every refusal, ordinary edits of the same project and proposal go through."""
    etag = http.get(f"/proyectos/{project}").headers["ETag"]
    body = {"codigo": project, "nombre": TITLE + " (editado)", "sector": "áreas verdes",
            "etapa": "diseño"}
    res = http.put(f"/proyectos/{project}", json=body, headers=auth(tokens, "editora", etag))
    assert res.status_code == 200, res.text
    assert res.json()["nombre"].endswith("(editado)")
    url = f"/propuestas/{proposal['id']}"
    res = http.post(f"{url}/cambios", json={"op": "normas", "codigo": proposal["zona"],
                                            "normas": {"altura_maxima": 14.0}},
                    headers=auth(tokens, "editora", http.get(url).headers["ETag"]))
    assert res.status_code == 201, res.text

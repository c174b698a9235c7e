"""Every hostile input of the corpus sent to the API's write paths: the geometry of a
project (``POST`` and ``PUT /proyectos``), of a zoning proposal's change, attachments and
portfolio workbooks. Each is refused with a Spanish message (what, where, what to do),
within bounded time and memory, and the stored data is exactly as it was; the refusals of
signed-in users are in the audit log, and nothing else is."""

from __future__ import annotations

import json
import re
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

CODE = "MUN-2026-971"
"""The project the hostile edits and attachments are aimed at."""
TITLE = "Proyecto de prueba de entradas hostiles"


def stored(settings: Settings) -> dict[str, Any]:
    """What a refused write must leave as it was (the audit log: its accepted writes)."""
    one = {
        "proyectos": "SELECT count(*), md5(string_agg(codigo || md5(ST_AsBinary(geom)) || "
                     "nombre, ',' ORDER BY codigo)) FROM layers.projects",
        "registro": "SELECT string_agg(codigo || ':' || version, ',' ORDER BY codigo) "
                    "FROM cartera.registro",
        "adjuntos": "SELECT count(*), string_agg(id || nombre || sha256, ',' ORDER BY id) "
                    "FROM cartera.adjuntos",
        "revisiones": "SELECT string_agg(layer || ':' || revision, ',' ORDER BY layer) "
                      "FROM catalog.layer_revisions",
        "versiones": "SELECT string_agg(layer || ':' || version || ':' || "
                     "coalesce(valid_to::text, ''), ',' ORDER BY layer, version) "
                     "FROM catalog.layer_versions",
        "propuestas": "SELECT string_agg(id || estado || revision, ',' ORDER BY id) "
                      "FROM proposals.proposals",
        "cambios": "SELECT count(*) FROM proposals.changes",
        "zonas": "SELECT count(*), md5(string_agg(md5(ST_AsBinary(geom)), ',' ORDER BY fid)) "
                 "FROM layers.zoning",
        "auditoria": "SELECT count(*) FROM audit.log WHERE outcome = 'ok'",
    }
    return {k: query(settings, sql) for k, sql in one.items()}


def refusals(settings: Settings) -> list[tuple[str, str]]:
    return query(settings, "SELECT action, detail FROM audit.log WHERE outcome = "
                           "'rechazado' ORDER BY id")


@pytest.fixture(scope="module")
def http(server: str) -> Iterator[httpx.Client]:
    """One client for the whole module (the module's fixtures write through it too)."""
    with httpx.Client(base_url=server, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def project(http: httpx.Client, tokens: dict[str, str]) -> Iterator[str]:  # noqa: F811
    body = {"codigo": CODE, "nombre": TITLE, "sector": "áreas verdes", "etapa": "diseño",
            "geometria": {"type": "Point", "coordinates": list(ORIGIN_LONLAT)}}
    created = http.post("/proyectos", json=body, headers=auth(tokens, "editora"))
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


def project_body(geometry: bytes) -> bytes:
    fields = json.dumps({"codigo": CODE, "nombre": TITLE, "sector": "áreas verdes",
                         "etapa": "diseño"}).encode()
    return fields[:-1] + b', "geometria": ' + geometry + b"}"


def send(http: httpx.Client, headers: dict[str, str], method: str, url: str,
         body: bytes) -> httpx.Response:
    return http.request(method, url, content=body, headers={
        **headers, "Content-Type": "application/json"})


def check(case: Case, response: httpx.Response, api_settings: Settings,
          before: dict[str, Any], refused_before: list[tuple[str, str]]) -> None:
    said = json.dumps(response.json(), ensure_ascii=False)
    assert response.status_code == case.status, said
    assert re.search(case.message, said), said
    assert response.json().get("hint"), said  # what to do about it
    assert stored(api_settings) == before
    new = refusals(api_settings)[len(refused_before):]
    if case.status == 422:  # reached its endpoint: the refusal is audited, with its reason
        assert [detail for _, detail in new] == [response.json()["description"][:500]], new
    else:  # refused before any endpoint (400, 413): nothing recorded
        assert new == [], new


@pytest.mark.parametrize(("case", "method"), [
    (c, m) for c in cases("proyecto") if c.expect == "refused" for m in ("POST", "PUT")
    if m == "POST" or c.name != "proyecto/150.000 vértices"],  # (6 MB: the same check)
    ids=lambda v: getattr(v, "name", v))
def test_hostile_project_geometry(http: httpx.Client, tokens: dict[str, str],  # noqa: F811
                                  api_settings: Settings, project: str, case: Case,
                                  method: str) -> None:
    body = project_body(case.build())
    headers = auth(tokens, "editora")
    url = "/proyectos"
    if method == "PUT":
        url = f"/proyectos/{project}"
        headers["If-Match"] = http.get(url).headers["ETag"]
    else:
        body = body.replace(CODE.encode(), b"MUN-2026-972", 1)
    before, refused_before = stored(api_settings), refusals(api_settings)
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
    body = project_body(case.build()).replace(CODE.encode(), b"MUN-2026-973", 1)
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
    body = (json.dumps({"op": "geometria", "codigo": proposal["zona"]})[:-1].encode()
            + b', "geometria": ' + case.build() + b"}")
    before, refused_before = stored(api_settings), refusals(api_settings)
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
    before, refused_before = stored(api_settings), refusals(api_settings)
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
    body = project_body(million_vertex_json()).replace(CODE.encode(), b"MUN-2026-972", 1)
    sent = [0]

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 1 << 20):
            sent[0] += 1
            yield body[start:start + (1 << 20)]

    before = stored(api_settings)
    with watch() as usage:
        response = http.post("/proyectos", content=chunks(), headers={
            **auth(tokens, "editora"), "Content-Type": "application/json"})
    usage.check("chunked")
    assert response.status_code == 413, response.text
    assert "supera el máximo de 8 MB" in response.json()["description"]
    assert stored(api_settings) == before


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

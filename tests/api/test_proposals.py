"""Zoning proposals over real HTTP: the whole workflow, optimistic concurrency, conflicts
and rebase, impact against PostGIS, versions by date, and every misuse refused."""

from __future__ import annotations

from typing import Any

import httpx
import mapbox_vector_tile
import morecantile
import pytest
import shapely
from pyproj import Transformer

from gis.auth import create_user, issue_access_token
from gis.database import connect
from tests.conftest import query

PASSWORD = "clave-de-prueba-123"
TO_LONLAT = Transformer.from_crs(32719, 4326, always_xy=True)


@pytest.fixture(scope="module")
def tokens(api_settings) -> dict[str, str]:  # type: ignore[no-untyped-def]
    people = {"editora": "editor", "editor2": "editor", "revisora": "revisor",
              "adminp": "admin", "lectora": "lector"}
    out = {}
    with connect(api_settings) as conn:
        existing = {r[0] for r in conn.execute("SELECT username FROM auth.users")}
        for name, role in people.items():
            if name not in existing:
                create_user(conn, name, name.title(), role, PASSWORD)
            conn.commit()
            from gis.auth import get_user

            out[name] = issue_access_token(api_settings, get_user(conn, name))
    return out


def auth(tokens: dict[str, str], who: str, etag: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {tokens[who]}"}
    if etag:
        headers["If-Match"] = etag
    return headers


def lonlat(geom: shapely.Geometry) -> dict[str, Any]:
    import json

    moved = shapely.transform(geom, lambda xy: _stack(TO_LONLAT.transform(xy[:, 0], xy[:, 1])))
    return json.loads(shapely.to_geojson(moved))


def _stack(xy):  # type: ignore[no-untyped-def]
    import numpy as np

    return np.column_stack(xy)


def a_zone(api_settings, family: str = "residencial") -> tuple[str, shapely.Geometry]:  # type: ignore[no-untyped-def]
    code, wkt = query(api_settings, "SELECT codigo, ST_AsText(geom) FROM layers.zoning "
                      "WHERE familia = %s ORDER BY ST_Area(geom) DESC LIMIT 1", (family,))[0]
    return code, shapely.from_wkt(wkt)


def cut_line(zone: shapely.Geometry) -> shapely.LineString:
    """A north-south line through the zone's representative point, beyond its box."""
    p = zone.representative_point()
    minx, miny, maxx, maxy = zone.bounds
    return shapely.LineString([(p.x, miny - 50), (p.x, maxy + 50)])


def new_proposal(http: httpx.Client, tokens: dict[str, str], who: str = "editora",
                 title: str = "Propuesta de prueba") -> dict[str, Any]:
    res = http.post("/propuestas", json={"titulo": title, "justificacion": "Prueba."},
                    headers=auth(tokens, who))
    assert res.status_code == 201, res.text
    return res.json()


def test_whole_workflow_split_change_height_approve_apply(http: httpx.Client, tokens,  # type: ignore[no-untyped-def]
                                                          api_settings) -> None:
    code, zone = a_zone(api_settings)
    versions_before = query(api_settings, "SELECT max(version) FROM catalog.layer_versions "
                            "WHERE layer = 'zoning'")[0][0]
    p = new_proposal(http, tokens)
    etag = p["etag"]
    res = http.post(f"/propuestas/{p['id']}/cambios", headers=auth(tokens, "editora", etag),
                    json={"op": "dividir", "codigo": code, "nuevo_codigo": code + "-B",
                          "geometria": lonlat(cut_line(zone))})
    assert res.status_code == 201, res.text
    etag = res.headers["etag"]
    res = http.post(f"/propuestas/{p['id']}/cambios", headers=auth(tokens, "editora", etag),
                    json={"op": "normas", "codigo": code + "-B",
                          "normas": {"altura_maxima": 21.0, "pisos_maximos": 6}})
    assert res.status_code == 201, res.text
    etag = res.headers["etag"]
    check = http.get(f"/propuestas/{p['id']}/validacion").json()
    assert check["valida"], check
    impact = http.get(f"/propuestas/{p['id']}/impacto").json()
    assert impact["zonas_cambiadas"] == sorted([code, code + "-B"])
    assert "La propuesta modifica 2 zona(s)" in impact["resumen"]
    diff = http.get(f"/propuestas/{p['id']}/diferencias").json()
    changed = {f["properties"]["codigo"]: f["properties"] for f in diff["features"]
               if "cambio" in f["properties"]}
    assert changed[code + "-B"]["cambio"] == "creada"

    # the author cannot approve; a reviewer can
    res = http.post(f"/propuestas/{p['id']}/acciones/enviar", headers=auth(tokens, "editora",
                                                                            etag))
    assert res.status_code == 200, res.text
    etag = res.headers["etag"]
    own = http.post(f"/propuestas/{p['id']}/acciones/aprobar",
                    headers=auth(tokens, "editora", etag))
    assert own.status_code == 403
    res = http.post(f"/propuestas/{p['id']}/acciones/aprobar",
                    headers=auth(tokens, "revisora", etag), json={"nota": "Conforme."})
    assert res.status_code == 200, res.text
    etag = res.headers["etag"]
    assert res.json()["estado"] == "aprobada"
    before_apply = http.get("/collections/zoning/items",
                            params={"filter": f"codigo = '{code}-B'"}).json()
    assert before_apply["numberMatched"] == 0
    project = query(api_settings, "SELECT codigo FROM layers.projects ORDER BY codigo "
                    "LIMIT 1")[0][0]
    assert http.get(f"/proyectos/{project}/perfil").status_code == 200  # stored now
    stored_at = query(api_settings, "SELECT calculado FROM profiles.project_profiles "
                      "WHERE codigo = %s", (project,))[0][0]
    res = http.post(f"/propuestas/{p['id']}/aplicar", headers=auth(tokens, "adminp", etag))
    assert res.status_code == 200, res.text
    applied = res.json()
    assert applied["estado"] == "aplicada"
    assert applied["version_aplicada"] == versions_before + 1
    # dependent project profiles were refreshed by the apply itself, not on next read
    assert query(api_settings, "SELECT calculado FROM profiles.project_profiles WHERE "
                 "codigo = %s", (project,))[0][0] > stored_at

    # the new zone is served at once, in features and in tiles
    now = http.get("/collections/zoning/items", params={"filter": f"codigo = '{code}-B'"})
    assert now.json()["numberMatched"] == 1
    assert now.json()["features"][0]["properties"]["altura_maxima"] == 21.0
    p_lon, p_lat = TO_LONLAT.transform(*zone.representative_point().coords[0])
    t = morecantile.tms.get("WebMercatorQuad").tile(p_lon, p_lat, 13)
    tile = http.get(f"/collections/zoning/tiles/WebMercatorQuad/{t.z}/{t.y}/{t.x}")
    codes = {f["properties"]["codigo"] for f in
             mapbox_vector_tile.decode(tile.content)["zoning"]["features"]}
    assert code + "-B" in codes
    # the old version stays readable by date
    valid_from = query(api_settings, "SELECT valid_from FROM catalog.layer_versions WHERE "
                       "layer = 'zoning' AND version = %s", (versions_before + 1,))[0][0]
    old = http.get("/collections/zoning/items", params={
        "filter": f"codigo = '{code}-B'",
        "datetime": _before(valid_from)})
    assert old.json()["numberMatched"] == 0
    vdiff = http.get("/zonificacion/diferencias",
                     params={"desde": versions_before, "hasta": versions_before + 1}).json()
    assert {f["properties"]["codigo"] for f in vdiff["features"]} >= {code, code + "-B"}
    audit_rows = query(api_settings, "SELECT action FROM audit.log WHERE target = %s "
                       "AND outcome = 'ok'", (f"propuesta/{p['id']}",))
    assert {"propuesta.crear", "propuesta.cambio", "propuesta.enviar", "propuesta.aprobar",
            "propuesta.aplicar"} <= {r[0] for r in audit_rows}


def _before(moment) -> str:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    return (moment - timedelta(milliseconds=500)).isoformat()


def test_stale_etag_says_who_changed_what(http: httpx.Client, tokens) -> None:  # type: ignore[no-untyped-def]
    p = new_proposal(http, tokens)
    first = http.post(f"/propuestas/{p['id']}/comentarios", json={"nota": "hola"},
                      headers=auth(tokens, "revisora"))
    assert first.status_code == 201
    res = http.post(f"/propuestas/{p['id']}/acciones/enviar",
                    headers=auth(tokens, "editora", '"propuesta-0-r0"'))
    assert res.status_code == 412
    assert "editora" in res.json()["description"]
    missing = http.post(f"/propuestas/{p['id']}/acciones/enviar",
                        headers=auth(tokens, "editora"))
    assert missing.status_code == 428


def test_conflicting_proposals_are_flagged_and_need_rebase(http: httpx.Client, tokens,  # type: ignore[no-untyped-def]
                                                           api_settings) -> None:
    code, _ = a_zone(api_settings, "mixta")
    ids = []
    for who in ("editora", "editor2"):
        p = new_proposal(http, tokens, who, f"Cambio de {who}")
        res = http.post(f"/propuestas/{p['id']}/cambios", headers=auth(tokens, who, p["etag"]),
                        json={"op": "normas", "codigo": code,
                              "normas": {"antejardin": 4.0 if who == "editora" else 5.0}})
        assert res.status_code == 201, res.text
        ids.append((p["id"], res.headers["etag"]))
    one = http.get(f"/propuestas/{ids[0][0]}").json()
    assert [c["id"] for c in one["conflictos"]] == [ids[1][0]]
    assert one["conflictos"][0]["zonas_comunes"] == [code]
    # apply the first, then the second needs a rebase
    pid, etag = ids[0]
    etag = http.post(f"/propuestas/{pid}/acciones/enviar",
                     headers=auth(tokens, "editora", etag)).headers["etag"]
    etag = http.post(f"/propuestas/{pid}/acciones/aprobar",
                     headers=auth(tokens, "revisora", etag)).headers["etag"]
    assert http.post(f"/propuestas/{pid}/aplicar",
                     headers=auth(tokens, "adminp", etag)).status_code == 200
    other = http.get(f"/propuestas/{ids[1][0]}").json()
    assert other["requiere_rebase"] is True
    submit = http.post(f"/propuestas/{ids[1][0]}/acciones/enviar",
                       headers=auth(tokens, "editor2", other["etag"]))
    assert submit.status_code == 409 and "rebase" in submit.json()["description"]
    rebased = http.post(f"/propuestas/{ids[1][0]}/rebase",
                        headers=auth(tokens, "editor2", other["etag"]))
    assert rebased.status_code == 200, rebased.text
    assert rebased.json()["requiere_rebase"] is False


def _zoning_snapshot(api_settings) -> list[tuple]:  # type: ignore[no-untyped-def,type-arg]
    return query(api_settings, "SELECT codigo, md5(ST_AsBinary(geom)), md5(row_to_json(z)::text)"
                 " FROM layers.zoning z ORDER BY codigo")


def test_bad_edits_are_refused_in_spanish_and_change_nothing(http: httpx.Client, tokens,  # type: ignore[no-untyped-def]
                                                             api_settings) -> None:
    code, zone = a_zone(api_settings)
    other_code, other = a_zone(api_settings, "área verde")
    snapshot = _zoning_snapshot(api_settings)
    p = new_proposal(http, tokens)
    url = f"/propuestas/{p['id']}/cambios"
    minx, miny, maxx, maxy = zone.bounds
    bowtie = shapely.Polygon([(minx, miny), (maxx, maxy), (maxx, miny), (minx, maxy)])
    far = shapely.box(minx - 20_000, miny, minx - 19_000, miny + 1_000)
    grown = zone.buffer(60)
    shrunk = zone.buffer(-30)
    cases = [
        ({"op": "geometria", "codigo": code, "geometria": lonlat(bowtie)}, 422, "se cruza"),
        ({"op": "geometria", "codigo": code, "geometria": {
            "type": "Polygon", "coordinates": [[[-71.6, -33.6], [-71.59, -33.6],
                                                [-71.59, -33.59]]]}}, 422, "no se puede leer"),
        ({"op": "geometria", "codigo": code, "geometria": lonlat(far)}, 422,
         "fuera del límite urbano"),
        ({"op": "geometria", "codigo": code, "geometria": lonlat(grown)}, 422, "superponen"),
        ({"op": "geometria", "codigo": code, "geometria": lonlat(shrunk)}, 422, "Vacío"),
        ({"op": "fusionar", "codigos": [code, other_code]}, 422, "no son contiguas"),
        ({"op": "dividir", "codigo": code, "nuevo_codigo": "X",
          "geometria": lonlat(shapely.LineString([(minx - 500, miny - 500),
                                                   (minx - 400, miny - 400)]))}, 422,
         "no atraviesa"),
        ({"op": "normas", "codigo": code, "normas": {"altura_maxima": -2}}, 422, "mínimo"),
        ({"op": "normas", "codigo": code, "normas": {"coef_ocupacion_suelo": 3}}, 422,
         "máximo"),
        ({"op": "normas", "codigo": "NO-EXISTE", "normas": {"antejardin": 2}}, 422,
         "no existe"),
        ({"op": "teletransportar", "codigo": code}, 422, "desconocida"),
    ]
    if zone.distance(other) < 1:
        cases.remove(cases[5])
    for body, status, words in cases:
        res = http.post(url, json=body, headers=auth(tokens, "editora", p["etag"]))
        assert res.status_code == status, (body["op"], res.text)
        assert words.lower() in res.json()["description"].lower(), (words, res.text)
    overlap = http.post(url, json=cases[3][0], headers=auth(tokens, "editora", p["etag"]))
    assert overlap.json()["problemas"][0]["geometria"]["type"] in ("Polygon", "MultiPolygon")
    # misuse
    res = http.post(url, json={"op": "normas", "codigo": code, "normas": {"antejardin": 2}},
                    headers=auth(tokens, "editor2", p["etag"]))
    assert res.status_code == 403 and "solo su autor" in res.json()["description"]
    res = http.post("/propuestas", json={"titulo": "x"}, headers=auth(tokens, "lectora"))
    assert res.status_code == 403
    assert http.post("/propuestas", json={"titulo": "x"}).status_code == 401
    res = http.post(f"/propuestas/{p['id']}/aplicar", headers=auth(tokens, "adminp", p["etag"]))
    assert res.status_code == 409 and "aprobadas" in res.json()["description"]
    assert http.get(f"/propuestas/{p['id']}").json()["cambios"] == []
    assert _zoning_snapshot(api_settings) == snapshot
    refused = query(api_settings, "SELECT count(*) FROM audit.log WHERE target = %s AND "
                    "outcome = 'rechazado'", (f"propuesta/{p['id']}",))[0][0]
    assert refused >= len(cases) + 2

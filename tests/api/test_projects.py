"""The project registry over real HTTP: roles, the full create/read/update/delete cycle,
optimistic concurrency, Spanish field problems, attachments and the profile kept current."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.test_proposals import auth, tokens  # noqa: F401  (fixture)
from tests.conftest import query

CODE = "MUN-2026-901"


@pytest.fixture(scope="module")
def spots(api_settings) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """Two points (lon/lat) in different PRC zones of the demo comuna, with the zones."""
    rows = query(api_settings, "SELECT codigo, ST_X(p), ST_Y(p) FROM (SELECT codigo, "
                 "ST_Transform(ST_PointOnSurface(geom), 4326) AS p FROM layers.zoning "
                 "ORDER BY ST_Area(geom) DESC LIMIT 2) AS s")
    return [{"zona": z, "geometria": {"type": "Point", "coordinates": [x, y]}}
            for z, x, y in rows]


@pytest.fixture(scope="module", autouse=True)
def leave_the_demo_portfolio_as_found(api_settings):  # type: ignore[no-untyped-def]
    """The demo database is shared by the API tests: remove the projects made here."""
    yield
    from gis.database import connect
    from gis.portfolio import store

    with connect(api_settings) as conn:
        conn.autocommit = True
        for (code,) in conn.execute("SELECT codigo FROM cartera.registro "
                                    "WHERE codigo LIKE 'MUN-2026-9%%'").fetchall():
            store.delete_project(conn, api_settings, "pruebas", code, "*")


def new_project(spot: dict[str, Any], **changes: Any) -> dict[str, Any]:
    data = {"codigo": CODE, "nombre": "Mejoramiento plaza de prueba", "sector": "áreas verdes",
            "etapa": "diseño", "tipo": "proyecto", "geometria": spot["geometria"],
            "financiamiento": [{"fuente": "PMU", "anio": 2026, "solicitado": "59.000.000",
                                "aprobado": 59_000_000}]}
    data.update(changes)
    return data


def test_writes_need_the_right_role(http: httpx.Client, tokens: dict[str, str],  # noqa: F811
                                    spots: list[dict[str, Any]]) -> None:
    body = new_project(spots[0], codigo="MUN-2026-902")
    assert http.post("/proyectos", json=body).status_code == 401
    refused = http.post("/proyectos", json=body, headers=auth(tokens, "lectora"))
    assert refused.status_code == 403
    assert http.get("/proyectos/MUN-2026-902").status_code == 404
    created = http.post("/proyectos", json=body, headers=auth(tokens, "editora"))
    assert created.status_code == 201, created.text
    etag = created.headers["ETag"]
    assert http.delete("/proyectos/MUN-2026-902",
                       headers=auth(tokens, "editora", etag)).status_code == 403
    assert http.delete("/proyectos/MUN-2026-902",
                       headers=auth(tokens, "revisora", etag)).status_code == 204
    assert http.get("/proyectos/MUN-2026-902").status_code == 404


def test_full_cycle_with_profile_and_conflict(http: httpx.Client, api_settings: Any,
                                              tokens: dict[str, str],  # noqa: F811
                                              spots: list[dict[str, Any]]) -> None:
    created = http.post("/proyectos", json=new_project(spots[0]),
                        headers=auth(tokens, "editora"))
    assert created.status_code == 201, created.text
    assert created.headers["Location"] == f"/proyectos/{CODE}"
    first = created.json()
    assert first["fuentes"] == ["PMU"] and first["monto_clp"] == 59_000_000
    profile = http.get(f"/proyectos/{CODE}/perfil").json()
    assert profile["zonas_prc"]["zonas"][0]["codigo"] == spots[0]["zona"]

    listed = http.get("/proyectos", params={"fuente": "PMU", "etapa": "diseño"}).json()
    assert CODE in {p["codigo"] for p in listed["proyectos"]}
    assert all("PMU" in p["fuentes"] and p["etapa"] == "diseño" for p in listed["proyectos"])

    # two editors opened version 1; the second to save gets a conflict
    moved = new_project(spots[1], etapa="ejecución", nota="Obra adjudicada")
    saved = http.put(f"/proyectos/{CODE}", json=moved,
                     headers=auth(tokens, "editor2", first["etag"]))
    assert saved.status_code == 200, saved.text
    late = http.put(f"/proyectos/{CODE}", json=new_project(spots[0], nombre="Otro nombre"),
                    headers=auth(tokens, "editora", first["etag"]))
    assert late.status_code == 412
    assert "Conflicto de edición: editor2" in late.json()["description"]
    current = http.get(f"/proyectos/{CODE}").json()
    assert current["nombre"] == "Mejoramiento plaza de prueba" and current["version"] == 2
    assert [h["etapa"] for h in current["historial"]] == ["diseño", "ejecución"]
    # the stored profile follows the move
    profile = http.get(f"/proyectos/{CODE}/perfil").json()
    assert profile["zonas_prc"]["zonas"][0]["codigo"] == spots[1]["zona"]
    assert profile["proyecto"]["etapa"] == "ejecución"
    without = http.put(f"/proyectos/{CODE}", json=moved, headers=auth(tokens, "editora"))
    assert without.status_code == 428
    refused = query(api_settings, "SELECT count(*) FROM audit.log WHERE action = "
                    "'proyecto.editar' AND outcome = 'rechazado' AND target = %s",
                    (f"proyecto/{CODE}",))
    assert refused[0][0] >= 2


@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"codigo": "30132469-4"}, "codigo", "dígito verificador"),
    ({"financiamiento": [{"fuente": "PMU", "anio": 2026, "aprobado": -1}]},
     "financiamiento[1].aprobado", "no puede ser negativo"),
    ({"financiamiento": [{"fuente": "PMU", "anio": 2026, "aprobado": "mucho"}]},
     "financiamiento[1].aprobado", "no es un número"),
    ({"financiamiento": [{"fuente": "Casino", "anio": 2026}]},
     "financiamiento[1].fuente", "fuente de financiamiento"),
    ({"etapa": "licitación"}, "etapa", "no es un valor válido"),
    ({"geometria": {"type": "Point", "coordinates": [-70.65, -33.45]}}, "geometria",
     "fuera de la comuna"),
])
def test_bad_input_is_named_and_nothing_saved(http: httpx.Client, api_settings: Any,
                                              tokens: dict[str, str],  # noqa: F811
                                              spots: list[dict[str, Any]],
                                              changes: dict[str, Any], field: str,
                                              words: str) -> None:
    body = new_project(spots[0], codigo="MUN-2026-903")
    body.update(changes)
    before = query(api_settings, "SELECT count(*), sum(monto_clp) FROM layers.projects")
    response = http.post("/proyectos", json=body, headers=auth(tokens, "editora"))
    assert response.status_code == 422, response.text
    problems = {p["campo"]: p["mensaje"] for p in response.json()["problemas"]}
    assert words in problems[field]
    assert query(api_settings, "SELECT count(*), sum(monto_clp) FROM layers.projects") \
        == before


def test_executed_above_approved_is_saved_with_a_warning(
        http: httpx.Client, tokens: dict[str, str],  # noqa: F811
        spots: list[dict[str, Any]]) -> None:
    body = new_project(spots[0], codigo="MUN-2026-904", financiamiento=[
        {"fuente": "FRIL", "anio": 2025, "aprobado": 100_000_000, "ejecutado": 120_000_000}])
    response = http.post("/proyectos", json=body, headers=auth(tokens, "editora"))
    assert response.status_code == 201
    assert response.json()["advertencias"] == [
        "FRIL 2025: el monto ejecutado ($ 120.000.000) supera el aprobado ($ 100.000.000)."]


def test_attachments_round_trip(http: httpx.Client, tokens: dict[str, str],  # noqa: F811
                                spots: list[dict[str, Any]]) -> None:
    body = new_project(spots[0], codigo="MUN-2026-905")
    assert http.post("/proyectos", json=body, headers=auth(tokens, "editora")).status_code \
        == 201
    photo = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    up = http.post("/proyectos/MUN-2026-905/adjuntos", headers=auth(tokens, "editora"),
                   files={"archivo": ("..\\obra.png", photo, "image/png")},
                   data={"descripcion": "Avance de obra"})
    assert up.status_code == 201, up.text
    down = http.get(up.json()["url"])
    assert down.content == photo and down.headers["content-type"] == "image/png"
    assert "obra.png" in down.headers["content-disposition"]
    bad = http.post("/proyectos/MUN-2026-905/adjuntos", headers=auth(tokens, "editora"),
                    files={"archivo": ("virus.pdf", b"MZ\x90\x00", "application/pdf")})
    assert bad.status_code == 422 and "no es de un tipo admitido" in bad.json()["description"]
    assert http.post("/proyectos/MUN-2026-905/adjuntos",
                     files={"archivo": ("a.png", photo, "image/png")}).status_code == 401


def test_unknown_filter_value_is_explained(http: httpx.Client) -> None:
    response = http.get("/proyectos", params={"etapa": "licitación"})
    assert response.status_code == 400
    assert "ejecución" in response.json()["hint"]

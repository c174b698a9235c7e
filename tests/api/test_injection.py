"""Hostile text in every parameter that reaches SQL or names something: CQL2 filters (text
and JSON), sortby, properties, bbox, datetime, the CRS parameters, simple equality
parameters, and the collection, layer, style, raster, analysis, project and proposal names
of every path. Each gets a Spanish 400/404 (or, for a value compared as a value, an empty
200), never a 500 and never a hang; a canary table and the demo data are unchanged
afterwards; and PostgreSQL's own statement log shows that none of these strings ever
reached it as SQL text: where one reached the database at all, it was a bound parameter.

A server of this module's own is used: its database sessions start after
``log_statement = 'all'`` is set on the database (and reset at the end)."""

from __future__ import annotations

import json
import re
import socket
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from api.app import create_app
from gis.cql import MAX_FILTER_CHARS
from gis.localdb import LocalCluster
from gis.settings import Settings
from tests.api.conftest import serve
from tests.api.test_proposals import auth, tokens  # noqa: F401  (fixture)
from tests.conftest import query

MARK = "iny7k"
"""In every hostile string: found in a statement's text, it would be SQL injection."""
CONTROL = f"{MARK}-control"
"""Sent once as SQL text by the test itself: proves the log would show an injection."""
CANARY = "canario_inyeccion"
DROP = f"; DROP TABLE public.{CANARY}; --"
SPANISH = re.compile(r"«|\b(no|la|el|de|del|un|una|use|capa|filtro|existe)\b", re.I)
ITEMS = "/collections/zoning/items"
STATE = """SELECT
    (SELECT md5(string_agg((to_jsonb(z) - 'geom')::text, '|' ORDER BY fid)) FROM layers.zoning z),
    (SELECT md5(string_agg((to_jsonb(p) - 'geom')::text, '|' ORDER BY fid)) FROM layers.parcels p),
    (SELECT md5(string_agg(layer || version || coalesce(valid_to::text, ''), '|'
                           ORDER BY layer, version))
       FROM catalog.layer_versions WHERE layer <> 'projects'),
    (SELECT md5(string_agg(to_jsonb(r)::text, '|' ORDER BY codigo)) FROM cartera.registro r),
    (SELECT count(*) FROM proposals.proposals), (SELECT count(*) FROM auth.users)"""
"""What no request of this module may change (the zoning, the cadastre, the layer
versions, the portfolio, the proposals and the users)."""


@dataclass
class Logged:
    client: httpx.Client
    url: str
    log: Path
    start: int


@pytest.fixture(scope="module")
def logged(api_settings: Settings, cluster: LocalCluster,
           tokens: dict[str, str]) -> Iterator[Logged]:  # noqa: F811
    """This module's server (statements logged), a canary table and the state to keep."""
    url = str(api_settings.database_url)
    db = str(conninfo_to_dict(url)["dbname"])
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE TABLE public.{} AS SELECT generate_series(1, 3) AS n")
                      .format(sql.Identifier(CANARY)))
        admin.execute(sql.SQL("ALTER DATABASE {} SET log_statement = 'all'")
                      .format(sql.Identifier(db)))
    start = cluster.log_file.stat().st_size
    with psycopg.connect(url, autocommit=True) as control:
        control.execute(sql.SQL("SELECT {}").format(sql.Literal(CONTROL)))
    try:
        for address in serve(create_app(api_settings)):
            with httpx.Client(base_url=address, timeout=60) as client:
                yield Logged(client, address, cluster.log_file, start)
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(sql.SQL("ALTER DATABASE {} RESET log_statement")
                          .format(sql.Identifier(db)))
            admin.execute(sql.SQL("DROP TABLE IF EXISTS public.{}")
                          .format(sql.Identifier(CANARY)))


@pytest.fixture(scope="module")
def before(logged: Logged, api_settings: Settings) -> tuple[Any, ...]:
    return tuple(query(api_settings, STATE)[0])


def refused(res: httpx.Response, statuses: tuple[int, ...] = (400, 404),
            words: str = "") -> dict[str, Any]:
    """``res`` is a Spanish JSON refusal with one of ``statuses`` (and ``words``)."""
    assert res.status_code in statuses, (res.request.url, res.status_code, res.text[:300])
    assert res.headers["content-type"].startswith("application/json"), res.headers
    body = res.json()
    text = body["description"] + " " + body.get("hint", "")
    assert SPANISH.search(text), text
    assert words.lower() in text.lower(), (words, text)
    return body  # type: ignore[no-any-return]


def empty_or_refused(res: httpx.Response) -> None:
    """A hostile value compared as a value matches nothing; or the filter is refused."""
    if res.status_code == 200:
        assert res.json()["numberMatched"] == 0, res.text[:300]
    else:
        refused(res, (400,))


# --- values inside filters and parameters ------------------------------------------------------

LITERAL_ATTACKS = [  # SQL in CQL2 text, on purpose
    f"nombre = '{MARK}{DROP}'",
    f"nombre = '{MARK}'' OR ''1''=''1'",
    f"nombre = '{MARK}\\' OR 1=1 --'",
    f"nombre = '{MARK}$$ OR TRUE $$'",
    f"nombre = '{MARK}*/ OR 1=1 /*'",
    f"casei(nombre) LIKE casei('%{MARK}%'' UNION SELECT usename FROM pg_user --')",  # noqa: S608
    f"nombre IN ('{MARK}', '{MARK}); DELETE FROM public.{CANARY}; --')",  # noqa: S608
    f"nombre = '{MARK}' UNION SELECT * FROM catalog.layer_versions",  # noqa: S608
    f"codigo = '{MARK}' OR codigo = '{MARK}\"; DROP TABLE layers.zoning; --'",
]


@pytest.mark.parametrize("cql", LITERAL_ATTACKS)
def test_sql_in_filter_text_values_is_only_a_value(logged: Logged, cql: str) -> None:
    empty_or_refused(logged.client.get(ITEMS, params={"filter": cql}))


def test_sql_in_json_filter_and_equality_values_is_only_a_value(logged: Logged) -> None:
    attack = f"{MARK}' OR '1'='1{DROP}"
    doc = {"op": "or", "args": [
        {"op": "=", "args": [{"property": "nombre"}, attack]},
        {"op": "like", "args": [{"property": "codigo"}, f"%{attack}"]}]}
    empty_or_refused(logged.client.get(ITEMS, params={"filter": json.dumps(doc),
                                                      "filter-lang": "cql2-json"}))
    for path, name in ((ITEMS, "nombre"), (ITEMS, "altura_maxima"),
                       ("/collections/projects/items", "fuentes"),
                       ("/collections/projects/items", "fecha_inicio")):
        res = logged.client.get(path, params={name: attack})
        assert res.status_code == 200 and res.json()["numberMatched"] == 0, res.text[:300]


NAME_ATTACKS = [
    ({"filter": f'"nombre{DROP}{MARK}" = 1'}, "no tiene la propiedad"),
    ({"filter": f"{MARK}(nombre) = 'x'"}, "no soportada"),
    ({"filter": f"pg_sleep(10) = 1 AND nombre = '{MARK}'"}, "no soportada"),
    ({"filter": json.dumps({"op": "=", "args": [{"property": f"nombre\" OR 1=1 --{MARK}"},
                                                "x"]}), "filter-lang": "cql2-json"},
     "no tiene la propiedad"),
    ({"filter": json.dumps({"op": f"= 1{DROP}{MARK}", "args": [{"property": "nombre"}, 1]}),
      "filter-lang": "cql2-json"}, "mal formado"),
    ({"filter": json.dumps({"op": "pg_sleep", "args": [10, MARK]}),
      "filter-lang": "cql2-json"}, "mal formado"),
    ({"filter": "nombre = 'x'", "filter-lang": f"sql{MARK}"}, "no soportado"),
    ({"filter": "S_INTERSECTS(geom, POINT(0 0))", "filter-crs": f"EPSG:4326'{DROP}{MARK}"},
     "no soportado"),
    ({"sortby": f"nombre{DROP}{MARK}"}, "No se puede ordenar"),
    ({"sortby": f'-"nombre"{MARK}'}, "No se puede ordenar"),
    ({"properties": f"nombre,codigo FROM layers.zoning{DROP}{MARK}"}, "desconocidas"),
    ({"bbox": f"-71.7,-33.7,-71.5,-33.5){DROP}{MARK}"}, "bbox"),
    ({"bbox": "-71.7,-33.7,-71.5,-33.5", "bbox-crs": f"EPSG:4326{DROP}{MARK}"},
     "no soportado"),
    ({"datetime": f"2026-01-01'{DROP}{MARK}"}, "datetime no válido"),
    ({"crs": f"http://www.opengis.net/def/crs/EPSG/0/4326'{DROP}{MARK}"}, "no soportado"),
    ({f"nombre' OR 1=1 --{MARK}": "1"}, "Parámetro desconocido"),
    ({"f": f"json{MARK}"}, "Formato"),
    ({"limit": f"10{DROP}{MARK}"}, "número entero"),
    ({"offset": f"0{DROP}{MARK}"}, "número entero"),
]


@pytest.mark.parametrize("params, words", NAME_ATTACKS)
def test_hostile_names_and_parameters_are_refused_in_spanish(logged: Logged,
                                                             params: dict[str, str],
                                                             words: str) -> None:
    refused(logged.client.get(ITEMS, params=params), (400,), words)


# --- filters PostgreSQL could not run: refused before, not a 500 --------------------------------

MIXTURES = [
    ("zoning", "nombre + 1 = 2", "aritmética"),
    ("zoning", "altura_maxima BETWEEN 'a' AND 'b'", "No se puede comparar"),
    ("zoning", "altura_maxima IN ('a', 'b')", "No se puede comparar"),
    ("zoning", "altura_maxima = TRUE", "No se puede comparar"),
    ("zoning", "altura_maxima = DATE('2020-01-01')", "No se puede comparar"),
    ("zoning", "geom = 1", "geometría"),
    ("zoning", "nombre = POINT(1 1)", "geometría"),
    ("zoning", "nombre LIKE 5", "patrón"),
    ("zoning", "casei(geom) = 'x'", "texto"),
    ("zoning", "altura_maxima / 0 > 1", "división por cero"),
    ("zoning", "altura_maxima / (altura_maxima - altura_maxima) > 1", "división por cero"),
    ("zoning", "S_INTERSECTS(geom, POINT(200 100))", "fuera del mundo"),
    ("zoning", "S_INTERSECTS(geom, POINT(1e308 1e308))", "fuera del mundo"),
    ("zoning", "altura_maxima = -altura_maxima", "mal formado"),
    ("projects", "fecha_inicio > 'ayer'", "no es una fecha"),
    ("projects", "avance_fisico > 'x'", "No se puede comparar"),
    ("projects", json.dumps({"op": ">", "args": [{"property": "avance_fisico"},
                                                 {"timestamp": "2020-01-01T00:00:00Z"}]}),
     "No se puede comparar"),
    ("zoning", json.dumps({"op": "s_intersects", "args": [
        {"property": "geom"}, {"type": "Point", "coordinates": ["a", "b"]}]}), "mal formad"),
    ("zoning", json.dumps({"op": "s_intersects", "args": [
        {"property": "geom"}, {"type": "Polygon", "coordinates": [[[0, 0], [1, 1]]]}]}),
     "mal formad"),
]


@pytest.mark.parametrize("layer, cql, words", MIXTURES)
def test_filters_postgresql_could_not_run_get_a_400(logged: Logged, layer: str, cql: str,
                                                    words: str) -> None:
    lang = "cql2-json" if cql.startswith("{") else "cql2-text"
    res = logged.client.get(f"/collections/{layer}/items",
                            params={"filter": cql, "filter-lang": lang})
    refused(res, (400,), words)


def test_what_was_fixed_still_filters_right(logged: Logged, api_settings: Settings) -> None:
    """Accent folding (``accenti``, once a 500: no ``unaccent`` extension) and dates
    written as text still work."""
    [(code, name)] = query(api_settings, "SELECT codigo, nombre FROM layers.projects "
                           "WHERE nombre ~ '[áéíóú]' ORDER BY codigo LIMIT 1")
    plain = "".join(c for c in unicodedata.normalize("NFD", name)
                    if unicodedata.category(c) != "Mn").replace("'", "''")
    projects = "/collections/projects/items"
    res = logged.client.get(projects, params={"filter": f"accenti(nombre) = accenti('{plain}')"})
    assert res.status_code == 200, res.text
    assert code in [f["properties"]["codigo"] for f in res.json()["features"]]
    assert logged.client.get(projects, params={"filter": f"nombre = '{plain}'"}
                             ).json()["numberMatched"] == 0
    res = logged.client.get("/collections/projects/items",
                            params={"filter": "fecha_inicio > '2024-06-30'", "limit": 1})
    later = query(api_settings, "SELECT count(*) FROM layers.projects "
                  "WHERE fecha_inicio > '2024-06-30'")[0][0]
    assert res.status_code == 200 and res.json()["numberMatched"] == later


# --- deep and huge ----------------------------------------------------------------------------

def test_nesting_and_size_are_bounded(logged: Logged) -> None:
    client = logged.client
    cases: list[tuple[dict[str, str], tuple[int, ...], str]] = [
        ({"filter": "(" * 3000 + "altura_maxima > 1" + ")" * 3000}, (200, 400), ""),
        ({"filter": " AND ".join(["altura_maxima > 1"] * 700)}, (400,), "anidado"),
        ({"filter": '{"op":"not","args":[' * 1000 + '{"op":"=","args":[{"property":'
          '"altura_maxima"},1]}' + "]}" * 1000, "filter-lang": "cql2-json"}, (400,), ""),
        ({"filter": "[" * 5000 + "]" * 5000, "filter-lang": "cql2-json"}, (400,), ""),
        ({"filter": " OR ".join([f"nombre = '{MARK}'"] * (MAX_FILTER_CHARS // 16 + 10))},
         (400,), "máximo"),
    ]
    for params, statuses, words in cases:
        started = time.monotonic()
        res = client.get(ITEMS, params=params)
        assert time.monotonic() - started < 10
        if res.status_code != 200:
            refused(res, statuses, words)
    # repeated names add nothing (json_build_object once failed past 100 arguments)
    res = client.get(ITEMS, params={"properties": ",".join(["nombre"] * 2000),
                                    "sortby": ",".join(["-codigo"] * 1000), "limit": 2})
    assert res.status_code == 200
    assert [list(f["properties"]) for f in res.json()["features"]] == [["nombre"]] * 2


def test_a_megabyte_request_line_never_reaches_the_application(logged: Logged) -> None:
    parts = urlsplit(logged.url)
    target = ITEMS + "?filter=" + quote(" OR ".join([f"nombre = '{MARK}'"] * 60_000))
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as s:
        try:
            s.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            answer = s.recv(200)
        except (ConnectionResetError, BrokenPipeError):
            answer = b""
    assert answer == b"" or answer.startswith((b"HTTP/1.1 4", b"HTTP/1.0 4")), answer
    assert logged.client.get(ITEMS, params={"limit": 1}).status_code == 200


# --- names in paths -------------------------------------------------------------------------

NAMES = [f"zoning'{DROP}{MARK}", f'zoning"{MARK}', f"<script>alert('{MARK}')</script>",
         f"../../{MARK}/passwd", "x" * 3000 + MARK, f"zoning\x00{MARK}"]
PATHS = [
    "/collections/{}", "/collections/{}/items", "/collections/{}/items/1",
    "/collections/{}/queryables", "/collections/{}/tiles",
    "/collections/{}/tiles/WebMercatorQuad", "/collections/{}/tiles/WebMercatorQuad/"
    "tilejson.json", "/collections/{}/tiles/WebMercatorQuad/14/9850/4870",
    "/collections/{}/styles/default", "/styles/{}", "/tiles/{}", "/tileMatrixSets/{}",
    "/collections/zoning/tiles/{}", "/collections/zoning/items/{}", "/rasters/{}",
    "/rasters/{}/tilejson.json", "/rasters/{}/tiles/WebMercatorQuad/12/1/1.png",
    "/rasters/{}/valor?lon=-71.6&lat=-33.6", "/mapas/{}", "/capas/{}", "/analisis/{}",
    "/analisis/{}?formato=csv", "/proyectos/{}", "/proyectos/{}/perfil",
    "/proyectos/{}/ficha", "/proyectos/{}/ficha.pdf", "/mapas/proyectos/{}",
    "/proyectos/{}/adjuntos/1", "/propuestas/{}", "/propuestas/{}/validacion",
    "/analisis/cumplimiento?formato={}", "/analisis/cumplimiento_resumen?por={}",
    "/analisis/cumplimiento?sector={}", "/analisis/informe?rol={}",
    "/proyectos/exportar?formato={}", "/inversion/territorio?unidad={}",
    "/inversion/desglose?por={}", "/inversion/mapa-folium?columna={}",
    "/proyectos?sector={}", "/collections/zoning/items?f={}",
]


@pytest.mark.parametrize("name", NAMES, ids=range(len(NAMES)))
def test_hostile_names_in_every_path_get_a_spanish_400_or_404(logged: Logged,
                                                             name: str) -> None:
    for template in PATHS:
        res = logged.client.get(template.format(quote(name, safe="")))
        refused(res, (400, 404))
        if "<script>" in name:
            assert "<script>" not in res.text or res.headers["content-type"].startswith(
                "application/json")


def test_hostile_names_in_write_paths(logged: Logged, tokens: dict[str, str]) -> None:  # noqa: F811
    admin = auth(tokens, "adminp", "*")
    name = quote(f"MUN-2026-001'{DROP}{MARK}", safe="")
    body = {"codigo": "MUN-2026-001", "nombre": "x", "sector": "salud", "etapa": "idea",
            "geometria": {"type": "Point", "coordinates": [-71.6, -33.6]}}
    client = logged.client
    for res in (client.put(f"/proyectos/{name}", json=body, headers=admin),
                client.delete(f"/proyectos/{name}", headers=admin),
                client.post(f"/proyectos/{name}/adjuntos", headers=admin,
                            files={"archivo": ("a.txt", b"hola", "text/plain")}),
                client.delete(f"/proyectos/{name}/adjuntos/1", headers=admin),
                client.post(f"/analisis/{name}", json={"type": "Point",
                                                       "coordinates": [-71.6, -33.6]}),
                client.post(f"/propuestas/{name}/cambios", json={}, headers=admin),
                client.post(f"/propuestas/1/acciones/{name}", json={}, headers=admin)):
        refused(res, (400, 404, 422))


# --- last: nothing changed, nothing reached PostgreSQL as SQL text -----------------------------

def log_entries(text: str) -> list[str]:
    """The server log's entries (one per prefixed line, with its continuation lines)."""
    return re.split(r"\n(?=\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)", text)


def test_zz_nothing_changed_and_nothing_reached_sql_as_text(logged: Logged,
                                                            api_settings: Settings,
                                                            before: tuple[Any, ...]) -> None:
    assert query(api_settings, "SELECT count(*) FROM public.canario_inyeccion")[0][0] == 3
    assert tuple(query(api_settings, STATE)[0]) == before
    with logged.log.open("rb") as f:
        f.seek(logged.start)
        text = f.read().decode("utf-8", "replace")
    marked = [e for e in log_entries(text) if MARK in e.lower()]
    control = [e for e in marked if CONTROL in e]
    assert any(re.search(r"LOG:\s+(statement|execute)", e) for e in control), \
        "the statement log would not show a statement's text"
    as_parameters = [e for e in marked if re.search(r"DETAIL:\s+parameters:", e, re.I)]
    assert as_parameters, "the statement log recorded no bound parameter with the mark"
    as_text = [e[:400] for e in marked if e not in as_parameters and e not in control]
    assert as_text == [], as_text

"""GET /buscar over real HTTP against the demo data: rol in any spelling, address, project
code and name; Spanish errors; attacks that never reach the database as SQL."""

from __future__ import annotations

import unicodedata

import httpx
import pytest

from gis.search import MAX_LIMIT, MAX_QUERY_LENGTH
from tests.conftest import query


def find(http: httpx.Client, text: str, **params: int) -> list[dict]:  # type: ignore[type-arg]
    res = http.get("/buscar", params={"q": text, **params})
    assert res.status_code == 200, res.text
    doc = res.json()
    assert doc["cantidad"] == len(doc["resultados"])
    return doc["resultados"]  # type: ignore[no-any-return]


def parcel_with_long_rol(settings) -> tuple[int, str, str, tuple[float, float]]:  # type: ignore[no-untyped-def]
    """A parcel whose rol has significant digits in both parts (e.g. 01234-00056), its
    address and a point on it."""
    fid, rol, address, lon, lat = query(
        settings, "SELECT fid, rol, direccion, ST_X(p), ST_Y(p) FROM layers.parcels, "
        "LATERAL ST_Transform(ST_PointOnSurface(geom), 4326) AS p "
        "WHERE rol ~ '^0[1-9][0-9]{3}-000[1-9][0-9]$' ORDER BY fid LIMIT 1")[0]
    return fid, rol, address, (lon, lat)


def spellings(rol: str) -> list[str]:
    block, lot = (int(p) for p in rol.split("-"))
    return [rol, f"{block}-{lot}", f"{block}/{lot}", f" {block} - {lot} ", f"{block} {lot}",
            f"0{block}-{lot:05d}"]


def test_rol_in_several_spellings_finds_the_parcel_first(http: httpx.Client,
                                                        api_settings) -> None:  # type: ignore[no-untyped-def]
    fid, rol, _, (lon, lat) = parcel_with_long_rol(api_settings)
    for text in spellings(rol):
        hits = find(http, text)
        assert hits, text
        first = hits[0]
        assert (first["capa"], first["fid"], first["etiqueta"]) == ("parcels", fid, rol), text
        assert first["titulo_capa"] == "Catastro de predios"
        assert first["campo"] == "rol" and first["titulo_campo"] == "Rol de avalúo"
        west, south, east, north = first["bbox"]
        assert west <= lon <= east and south <= lat <= north
        assert east - west < 0.01 and north - south < 0.01
        assert first["punto"] == pytest.approx([lon, lat], abs=1e-6)  # on the parcel


def test_partial_rol_lists_the_parcels_of_the_block(http: httpx.Client, api_settings) -> None:  # type: ignore[no-untyped-def]
    _, rol, _, _ = parcel_with_long_rol(api_settings)
    block = rol.split("-")[0] + "-"
    hits = find(http, block, limite=5)
    assert len(hits) == 5
    assert all(h["capa"] == "parcels" and h["etiqueta"].startswith(block) for h in hits)


def test_address_ignores_case(http: httpx.Client, api_settings) -> None:  # type: ignore[no-untyped-def]
    fid, _, address, _ = parcel_with_long_rol(api_settings)
    hits = find(http, address.upper(), limite=MAX_LIMIT)
    match = [h for h in hits if h["fid"] == fid and h["capa"] == "parcels"]
    assert match and match[0]["campo"] == "direccion" and match[0]["coincidencia"] == address


def test_project_code_and_name(http: httpx.Client, api_settings) -> None:  # type: ignore[no-untyped-def]
    fid, code, name = query(api_settings, "SELECT fid, codigo, nombre FROM layers.projects "
                            "WHERE nombre ~ '[áéíóú]' ORDER BY fid LIMIT 1")[0]
    first = find(http, code)[0]
    assert (first["capa"], first["fid"], first["campo"]) == ("projects", fid, "codigo")
    assert first["etiqueta"] == name  # the layer's label field, not the code
    plain = "".join(c for c in unicodedata.normalize("NFD", name.lower())
                    if unicodedata.category(c) != "Mn")
    by_name = find(http, plain, limite=MAX_LIMIT)
    assert any(h["capa"] == "projects" and h["fid"] == fid for h in by_name), plain


def test_zone_and_place_names(http: httpx.Client, api_settings) -> None:  # type: ignore[no-untyped-def]
    code = query(api_settings, "SELECT codigo FROM layers.zoning ORDER BY fid LIMIT 1")[0][0]
    assert find(http, code.lower())[0]["etiqueta"] == code
    hits = find(http, "san antonio")
    assert hits[0]["capa"] == "comunas" and hits[0]["etiqueta"] == "San Antonio"
    for hit in hits:
        west, south, east, north = hit["bbox"]
        assert -72 < west <= east < -71 and -34 < south <= north < -33


def test_limit_is_respected(http: httpx.Client) -> None:
    assert len(find(http, "a", limite=3)) == 3
    assert len(find(http, "a")) == 10


@pytest.mark.parametrize("params", [{}, {"q": ""}, {"q": "   "}])
def test_empty_query_is_a_spanish_400(http: httpx.Client, params: dict) -> None:  # type: ignore[type-arg]
    res = http.get("/buscar", params=params)
    assert res.status_code == 400
    body = res.json()
    assert body["code"] == "SearchError"
    assert body["description"] == "Escriba qué buscar."
    assert "rol" in body["hint"]


def test_too_long_query_and_bad_limits_are_spanish_400s(http: httpx.Client) -> None:
    res = http.get("/buscar", params={"q": "x" * (MAX_QUERY_LENGTH + 1)})
    assert res.status_code == 400 and "demasiado larga" in res.json()["description"]
    for limit in (0, MAX_LIMIT + 1, "diez"):
        res = http.get("/buscar", params={"q": "san", "limite": limit})
        assert res.status_code == 400, limit
        assert "limite" in res.json()["description"]


INJECTIONS = [
    "'; DROP TABLE layers.parcels; --",
    "' OR '1'='1",
    "1999-54' UNION SELECT usename, passwd FROM pg_shadow --",
    "%' OR 1=1 --",
    "\\'; SELECT pg_sleep(5); --",
    "\x00",
]


@pytest.mark.parametrize("attack", INJECTIONS)
def test_sql_injection_is_only_text(http: httpx.Client, api_settings, attack: str) -> None:  # type: ignore[no-untyped-def]
    before = query(api_settings, "SELECT count(*) FROM layers.parcels")[0][0]
    res = http.get("/buscar", params={"q": attack}, timeout=4)
    assert res.status_code in (200, 400), res.text
    if res.status_code == 200:
        assert res.json()["resultados"] == []
    assert query(api_settings, "SELECT count(*) FROM layers.parcels")[0][0] == before


@pytest.mark.parametrize("text", ["%", "_", "\\", ".*", "(", "[a-z]", "a|b", "^", "$", "\\d",
                                  "(a+)+$", "ß", "😀"])
def test_pattern_characters_match_only_themselves(http: httpx.Client, text: str) -> None:
    for hit in find(http, text, limite=MAX_LIMIT):
        assert text.lower() in hit["coincidencia"].lower(), (text, hit)
    assert find(http, "%") == [] and find(http, ".*") == []

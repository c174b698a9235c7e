"""OGC API - Features over real HTTP against the demo data: core, CRS, CQL2, bad input."""

from __future__ import annotations

import json

import httpx
import pytest
import shapely
from pyproj import Transformer

from layers import vector_layers
from tests.conftest import query

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG = "http://www.opengis.net/def/crs/EPSG/0/{}"


def test_landing_conformance_and_collections(http: httpx.Client) -> None:
    landing = http.get("/", headers={"Accept": "application/json"}).json()
    rels = {lnk["rel"] for lnk in landing["links"]}
    assert {"self", "conformance", "data", "service-desc", "service-doc"} <= rels
    conf = http.get("/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in conf
    assert "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter" in conf
    cols = http.get("/collections").json()["collections"]
    assert {c["id"] for c in cols} == {lyr.name for lyr in vector_layers()}
    zoning = next(c for c in cols if c["id"] == "zoning")
    assert zoning["title"] == "Zonificación Plan Regulador Comunal"
    west, south, east, north = zoning["extent"]["spatial"]["bbox"][0]
    assert -71.8 < west < east < -71.4 and -33.8 < south < north < -33.4
    assert EPSG.format(32719) == zoning["storageCrs"] and CRS84 in zoning["crs"]


def test_items_paging_matches_postgis(http: httpx.Client, api_settings) -> None:  # type: ignore[no-untyped-def]
    total = query(api_settings, "SELECT count(*) FROM layers.zoning")[0][0]
    first = http.get("/collections/zoning/items", params={"limit": 5})
    assert first.status_code == 200
    assert first.headers["content-type"] == "application/geo+json"
    assert first.headers["content-crs"] == f"<{CRS84}>"
    page = first.json()
    assert page["numberMatched"] == total and page["numberReturned"] == 5
    seen = [f["id"] for f in page["features"]]
    while nxt := next((lnk["href"] for lnk in page["links"] if lnk["rel"] == "next"), None):
        page = http.get(nxt).json()
        seen += [f["id"] for f in page["features"]]
    assert sorted(seen) == [r[0] for r in query(api_settings,
                                                "SELECT fid FROM layers.zoning ORDER BY fid")]


def test_single_item_and_its_geometry_within_a_centimetre(http: httpx.Client,
                                                          api_settings) -> None:  # type: ignore[no-untyped-def]
    fid, wkt = query(api_settings, "SELECT fid, ST_AsText(geom) FROM layers.parcels "
                     "ORDER BY fid LIMIT 1")[0]
    stored = shapely.from_wkt(wkt)
    feat = http.get(f"/collections/parcels/items/{fid}",
                    params={"crs": EPSG.format(32719)}).json()
    assert feat["id"] == fid and "rol" in feat["properties"]
    served = shapely.geometry.shape(feat["geometry"])
    assert served.hausdorff_distance(stored) < 0.01
    lonlat = http.get(f"/collections/parcels/items/{fid}").json()
    to_utm = Transformer.from_crs(4326, 32719, always_xy=True)
    back = shapely.transform(shapely.geometry.shape(lonlat["geometry"]),
                             lambda xy: list(zip(*to_utm.transform(*xy.T), strict=True)))
    assert back.hausdorff_distance(stored) < 0.01


def test_epsg_4326_is_lat_lon_and_3857_is_metres(http: httpx.Client) -> None:
    a = http.get("/collections/port_terminals/items", params={"limit": 1}).json()
    b = http.get("/collections/port_terminals/items",
                 params={"limit": 1, "crs": EPSG.format(4326)})
    assert b.headers["content-crs"] == f"<{EPSG.format(4326)}>"
    lon, lat = a["features"][0]["geometry"]["coordinates"][0][0][0]
    lat2, lon2 = b.json()["features"][0]["geometry"]["coordinates"][0][0][0]
    assert (lon, lat) == pytest.approx((lon2, lat2), abs=1e-7)
    assert -34 < lat < -33 and -72 < lon < -71
    c = http.get("/collections/port_terminals/items",
                 params={"limit": 1, "crs": EPSG.format(3857)}).json()
    x, y = c["features"][0]["geometry"]["coordinates"][0][0][0]
    assert -8_000_000 < x < -7_900_000 and -4_100_000 < y < -3_900_000


def test_bbox_in_crs84_and_in_utm_agree(http: httpx.Client, api_settings) -> None:  # type: ignore[no-untyped-def]
    box = (-71.62, -33.60, -71.60, -33.58)
    a = http.get("/collections/parcels/items",
                 params={"bbox": ",".join(map(str, box)), "limit": 1}).json()
    to_utm = Transformer.from_crs(4326, 32719, always_xy=True)
    utm = to_utm.transform_bounds(*box, densify_pts=21)
    expected = query(api_settings, "SELECT count(*) FROM layers.parcels WHERE ST_Intersects("
                     "geom, ST_MakeEnvelope(%s, %s, %s, %s, 32719))", tuple(utm))[0][0]
    assert a["numberMatched"] == expected > 0
    b = http.get("/collections/parcels/items", params={
        "bbox": ",".join(map(str, utm)), "bbox-crs": EPSG.format(32719), "limit": 1}).json()
    assert b["numberMatched"] == expected


@pytest.mark.parametrize("cql, sql", [
    ("familia = 'residencial'", "familia = 'residencial'"),
    ("altura_maxima > 10 AND NOT (familia = 'industrial')",
     "altura_maxima > 10 AND NOT familia = 'industrial'"),
    ("nombre LIKE 'Zona%'", "nombre LIKE 'Zona%%'"),
    ("codigo IN ('ZR1', 'ZM1', 'ZC1')", "codigo IN ('ZR1', 'ZM1', 'ZC1')"),
    ("altura_maxima BETWEEN 7 AND 14", "altura_maxima BETWEEN 7 AND 14"),
    ("area_proteccion IS NULL", "area_proteccion IS NULL"),
    ("S_INTERSECTS(geom, POINT(-71.61 -33.59))",
     "ST_Intersects(geom, ST_Transform(ST_SetSRID(ST_Point(-71.61, -33.59), 4326), 32719))"),
    ("S_WITHIN(geom, POLYGON((-71.7 -33.7, -71.5 -33.7, -71.5 -33.5, -71.7 -33.5, "
     "-71.7 -33.7)))", "ST_Within(geom, ST_Transform(ST_MakeEnvelope(-71.7, -33.7, -71.5, "
     "-33.5, 4326), 32719))"),
])
def test_cql2_text_filters_match_sql(http: httpx.Client, api_settings, cql: str,  # type: ignore[no-untyped-def]
                                     sql: str) -> None:
    expected = query(api_settings, f"SELECT count(*) FROM layers.zoning WHERE {sql}")[0][0]  # noqa: S608
    got = http.get("/collections/zoning/items", params={"filter": cql, "limit": 1})
    assert got.status_code == 200, got.text
    assert got.json()["numberMatched"] == expected


def test_cql2_json_and_filter_crs(http: httpx.Client, api_settings) -> None:  # type: ignore[no-untyped-def]
    doc = {"op": "and", "args": [
        {"op": "=", "args": [{"property": "familia"}, "residencial"]},
        {"op": ">=", "args": [{"property": "coef_constructibilidad"}, 1]}]}
    expected = query(api_settings, "SELECT count(*) FROM layers.zoning WHERE familia = "
                     "'residencial' AND coef_constructibilidad >= 1")[0][0]
    got = http.get("/collections/zoning/items", params={
        "filter": json.dumps(doc), "filter-lang": "cql2-json", "limit": 1}).json()
    assert got["numberMatched"] == expected
    x, y = Transformer.from_crs(4326, 32719, always_xy=True).transform(-71.61, -33.59)
    utm = http.get("/collections/zoning/items", params={
        "filter": f"S_INTERSECTS(geom, POINT({x} {y}))", "filter-crs": EPSG.format(32719)})
    lonlat = http.get("/collections/zoning/items",
                      params={"filter": "S_INTERSECTS(geom, POINT(-71.61 -33.59))"})
    assert utm.json()["numberMatched"] == lonlat.json()["numberMatched"] == 1
    assert utm.json()["features"][0]["id"] == lonlat.json()["features"][0]["id"]


def test_properties_sortby_and_simple_equality(http: httpx.Client) -> None:
    got = http.get("/collections/zoning/items", params={
        "properties": "codigo,altura_maxima", "sortby": "-altura_maxima", "limit": 50}).json()
    props = [f["properties"] for f in got["features"]]
    assert all(set(p) == {"codigo", "altura_maxima"} for p in props)
    heights = [p["altura_maxima"] for p in props if p["altura_maxima"] is not None]
    assert heights == sorted(heights, reverse=True)
    res = http.get("/collections/zoning/items", params={"familia": "portuaria"}).json()
    assert res["numberMatched"] >= 1
    assert {f["properties"]["familia"] for f in res["features"]} == {"portuaria"}


def test_queryables_list_every_declared_field(http: httpx.Client) -> None:
    doc = http.get("/collections/zoning/queryables").json()
    assert doc["properties"]["altura_maxima"]["type"] == "number"
    assert doc["properties"]["familia"]["enum"][0] == "residencial"
    assert doc["properties"]["usos_permitidos"]["type"] == "array"
    assert "geom" in doc["properties"]


def test_html_pages_in_spanish(http: httpx.Client) -> None:
    page = http.get("/collections/zoning/items", params={"f": "html", "limit": 3})
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "Zonificación Plan Regulador Comunal" in page.text
    assert "Altura máxima de edificación" in page.text
    assert http.get("/", headers={"Accept": "text/html"}).text.count("<h2>") >= 5


def test_datetime_reads_the_version_in_force(http: httpx.Client) -> None:
    now = http.get("/collections/zoning/items",
                   params={"datetime": "2100-01-01T00:00:00Z", "limit": 1}).json()
    assert now["numberMatched"] > 0
    old = http.get("/collections/zoning/items", params={"datetime": "1999-01-01"})
    assert old.status_code == 404
    assert "no tenía una versión vigente" in old.json()["description"]


BAD_REQUESTS = [
    ("/collections/no_existe/items", {}, 404, "no existe"),
    ("/collections/zoning/items", {"filter": "no_existe = 1"}, 400, "no tiene la propiedad"),
    ("/collections/zoning/items", {"filter": "familia = "}, 400, "mal formado"),
    ("/collections/zoning/items", {"filter": "{bad", "filter-lang": "cql2-json"}, 400,
     "mal formado"),
    ("/collections/zoning/items", {"filter": "x", "filter-lang": "sql"}, 400, "no soportado"),
    ("/collections/zoning/items", {"bbox": "-71,-33,-72,-34"}, 400, "mínimo mayor"),
    ("/collections/zoning/items", {"bbox": "-200,-33,-71,-32"}, 400, "fuera del mundo"),
    ("/collections/zoning/items", {"bbox": "a,b,c,d"}, 400, "bbox mal formado"),
    ("/collections/zoning/items", {"bbox": "1,2,3"}, 400, "4 (o 6) números"),
    ("/collections/zoning/items", {"crs": "http://www.opengis.net/def/crs/EPSG/0/9999"}, 400,
     "no soportado"),
    ("/collections/zoning/items", {"crs": "urn:nada"}, 400, "no soportado"),
    ("/collections/zoning/items", {"limit": "0"}, 400, "limit"),
    ("/collections/zoning/items", {"limit": "diez"}, 400, "número entero"),
    ("/collections/zoning/items", {"sortby": "-no_existe"}, 400, "No se puede ordenar"),
    ("/collections/zoning/items", {"properties": "codigo,nada"}, 400, "desconocidas"),
    ("/collections/zoning/items", {"nada": "1"}, 400, "Parámetro desconocido"),
    ("/collections/zoning/items", {"datetime": "ayer"}, 400, "datetime no válido"),
    ("/collections/zoning/items/abc", {}, 400, "no válido"),
    ("/collections/zoning/items/999999999", {}, 404, "no tiene la entidad"),
    ("/collections/dem/items", {}, 400, "raster"),
]


@pytest.mark.parametrize("path, params, status, words", BAD_REQUESTS)
def test_bad_requests_get_ogc_exceptions_in_spanish(http: httpx.Client, path: str,
                                                    params: dict, status: int,  # type: ignore[type-arg]
                                                    words: str) -> None:
    res = http.get(path, params=params)
    assert res.status_code == status, res.text
    body = res.json()
    assert set(body) >= {"code", "description"}
    assert words.lower() in (body["description"] + body.get("hint", "")).lower()


def test_limit_above_maximum_is_capped_and_said(http: httpx.Client) -> None:
    res = http.get("/collections/parcels/items", params={"limit": 50_000, "properties": "rol"})
    assert res.status_code == 200
    body = res.json()
    assert body["numberReturned"] == 10_000
    assert "máximo" in body["aviso"] and res.headers["x-aviso"] == "limit-ajustado"


INJECTIONS = [
    "'; DROP TABLE layers.zoning; --",
    "familia = 'x'' OR 1=1 --'",
    "codigo = 'a'); DELETE FROM layers.zoning; --",
    "\" OR \"1\"=\"1",
    "familia = 'residencial' UNION SELECT * FROM catalog.layer_versions",
]


@pytest.mark.parametrize("attack", INJECTIONS)
def test_sql_injection_never_reaches_the_database(http: httpx.Client, api_settings,  # type: ignore[no-untyped-def]
                                                  attack: str) -> None:
    before = query(api_settings, "SELECT count(*) FROM layers.zoning")[0][0]
    for params in ({"filter": attack}, {"sortby": attack}, {"properties": attack},
                   {"familia": attack}, {"bbox": attack}, {"crs": attack},
                   {"datetime": attack}, {attack: "1"}):
        res = http.get("/collections/zoning/items", params=params)
        assert res.status_code in (200, 400), (params, res.status_code, res.text)
        if res.status_code == 200:
            assert res.json()["numberMatched"] == 0  # equality on a value, never SQL
    assert http.get(f"/collections/{attack}/items").status_code in (400, 404)
    assert query(api_settings, "SELECT count(*) FROM layers.zoning")[0][0] == before

"""OGC API - Tiles: vector tiles decoded with mapbox-vector-tile, TileJSON, styles, and a
cache that never serves a stale tile and drops only the changed layer."""

from __future__ import annotations

import httpx
import mapbox_vector_tile
import morecantile
import pytest
import shapely

from gis.tiles import EXTENT
from layers import vector_layers
from tests.conftest import query

TMS = morecantile.tms.get("WebMercatorQuad")
CENTRE = (-71.61, -33.59)  # San Antonio centro


def tile_at(lon: float, lat: float, z: int) -> morecantile.Tile:
    return TMS.tile(lon, lat, z)


def decode(data: bytes) -> dict:  # type: ignore[type-arg]
    return mapbox_vector_tile.decode(data, default_options={"y_coord_down": True})


def test_collection_tile_has_the_layer_features_attributes_and_coordinates(
        http: httpx.Client, api_settings) -> None:  # type: ignore[no-untyped-def]
    t = tile_at(*CENTRE, 14)
    res = http.get(f"/collections/zoning/tiles/WebMercatorQuad/{t.z}/{t.y}/{t.x}")
    assert res.status_code == 200
    assert res.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    layers = decode(res.content)
    assert list(layers) == ["zoning"]
    feats = layers["zoning"]["features"]
    bounds = TMS.xy_bounds(t)
    rows = query(api_settings, "SELECT fid, codigo FROM layers.zoning WHERE ST_Intersects("
                 "ST_Transform(geom, 3857), ST_MakeEnvelope(%s, %s, %s, %s, 3857))",
                 (bounds.left, bounds.bottom, bounds.right, bounds.top))
    assert {f["id"] for f in feats} == {r[0] for r in rows}
    by_id = {f["id"]: f for f in feats}
    for fid, codigo in rows:
        assert by_id[fid]["properties"]["codigo"] == codigo
        assert "altura_maxima" in by_id[fid]["properties"]
    # The tile's point for the centre lies inside the zone PostGIS says holds it.
    x, y = TMS.xy(*CENTRE)
    px = (x - bounds.left) / (bounds.right - bounds.left) * EXTENT
    py = (bounds.top - y) / (bounds.top - bounds.bottom) * EXTENT
    holder = query(api_settings, "SELECT fid FROM layers.zoning WHERE ST_Intersects(geom, "
                   "ST_Transform(ST_SetSRID(ST_Point(%s, %s), 4326), 32719))", CENTRE)[0][0]
    shape = shapely.geometry.shape(by_id[holder]["geometry"])
    assert shape.buffer(2).contains(shapely.Point(px, py))


@pytest.mark.parametrize("layer", [lyr.name for lyr in vector_layers()])
def test_every_collection_serves_tiles(http: httpx.Client, layer: str) -> None:
    tj = http.get(f"/collections/{layer}/tiles/WebMercatorQuad/tilejson.json").json()
    assert tj["tilejson"] == "3.0.0" and tj["vector_layers"][0]["id"] == layer
    z = max(13, tj["minzoom"])
    t = tile_at(*CENTRE, z)
    url = tj["tiles"][0].format(z=t.z, x=t.x, y=t.y)
    res = http.get(url)
    assert res.status_code in (200, 204)
    if res.status_code == 200:
        assert list(decode(res.content)) == [layer]


def test_map_tileset_carries_several_layers(http: httpx.Client) -> None:
    t = tile_at(*CENTRE, 15)
    res = http.get(f"/tiles/WebMercatorQuad/{t.z}/{t.y}/{t.x}")
    layers = set(decode(res.content))
    assert {"zoning", "parcels", "census_zones", "comunas", "urban_limit"} <= layers
    low = tile_at(*CENTRE, 10)
    assert "parcels" not in decode(http.get(f"/tiles/WebMercatorQuad/10/{low.y}/{low.x}").content)


def test_styles_are_generated_from_declarations(http: httpx.Client) -> None:
    style = http.get("/styles/mapa").json()
    assert style["version"] == 8
    ids = {lyr["id"] for lyr in style["layers"]}
    assert {"zoning-relleno", "parcels-borde", "port_routes-linea", "projects-punto"} <= ids
    zoning_fill = next(lyr for lyr in style["layers"] if lyr["id"] == "zoning-relleno")
    assert zoning_fill["paint"]["fill-color"][0] == "match"
    assert "#57a773" in zoning_fill["paint"]["fill-color"]  # área verde
    legend = style["metadata"]["secplac:leyendas"]["hazard_zones"]
    assert [e["etiqueta"] for e in legend["entradas"]] == ["Nivel alto", "Nivel medio",
                                                           "Nivel bajo"]
    one = http.get("/collections/projects/styles/default").json()
    assert one["sources"]["projects"]["url"].endswith(
        "/collections/projects/tiles/WebMercatorQuad/tilejson.json")


def test_etag_revalidation_and_cache_control(http: httpx.Client) -> None:
    t = tile_at(*CENTRE, 14)
    url = f"/collections/zoning/tiles/WebMercatorQuad/{t.z}/{t.y}/{t.x}"
    first = http.get(url)
    assert first.headers["cache-control"] == "no-cache"
    again = http.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


def test_change_to_a_layer_is_served_at_once_and_drops_only_its_tiles(
        http: httpx.Client, app, api_settings) -> None:  # type: ignore[no-untyped-def]
    from gis.database import connect
    from gis.tiles import bump_revision

    cache = app.state.tile_cache
    t = tile_at(*CENTRE, 14)
    zoning = f"/collections/zoning/tiles/WebMercatorQuad/{t.z}/{t.y}/{t.x}"
    parcels = f"/collections/parcels/tiles/WebMercatorQuad/{t.z}/{t.y}/{t.x}"
    old_zoning, old_parcels = http.get(zoning), http.get(parcels)
    fid, old_code = query(api_settings, "SELECT fid, codigo FROM layers.zoning WHERE "
                          "ST_Intersects(geom, ST_Transform(ST_SetSRID(ST_Point(%s, %s), "
                          "4326), 32719))", CENTRE)[0]
    assert "zoning" in cache.layers_cached() and "parcels" in cache.layers_cached()
    try:
        with connect(api_settings) as conn:  # an edit, committed with its revision bump
            conn.execute("UPDATE layers.zoning SET codigo = 'EDITADA' WHERE fid = %s", (fid,))
            bump_revision(conn, "zoning")
        hits = cache.hits
        fresh = http.get(zoning, headers={"If-None-Match": old_zoning.headers["etag"]})
        assert fresh.status_code == 200 and fresh.headers["etag"] != old_zoning.headers["etag"]
        codes = {f["id"]: f["properties"]["codigo"]
                 for f in decode(fresh.content)["zoning"]["features"]}
        assert codes[fid] == "EDITADA"
        same = http.get(parcels)
        assert same.headers["etag"] == old_parcels.headers["etag"]
        assert cache.hits == hits + 1  # parcels came from the cache; zoning did not
    finally:
        with connect(api_settings) as conn:
            conn.execute("UPDATE layers.zoning SET codigo = %s WHERE fid = %s", (old_code, fid))
            bump_revision(conn, "zoning")


@pytest.mark.parametrize("path, status", [
    ("/collections/zoning/tiles/WebMercatorQuad/14/99999/1", 404),
    ("/collections/zoning/tiles/WebMercatorQuad/30/0/0", 404),
    ("/collections/zoning/tiles/WebMercatorQuad/-1/0/0", 404),
    ("/collections/zoning/tiles/OtroEsquema/1/0/0", 404),
    ("/collections/zoning/tiles/WebMercatorQuad/a/0/0", 400),
    ("/collections/nada/tiles/WebMercatorQuad/1/0/0", 404),
    ("/tiles/WebMercatorQuad/5/40/40", 404),
    ("/styles/otro", 404),
])
def test_bad_tile_requests(http: httpx.Client, path: str, status: int) -> None:
    res = http.get(path)
    assert res.status_code == status, res.text
    assert {"code", "description"} <= set(res.json())


def test_tile_matrix_set_document(http: httpx.Client) -> None:
    doc = http.get("/tileMatrixSets/WebMercatorQuad").json()
    assert doc["id"] == "WebMercatorQuad" and len(doc["tileMatrices"]) >= 23


def test_ingest_of_a_new_version_is_served_at_once(http: httpx.Client, api_settings,  # type: ignore[no-untyped-def]
                                                   tmp_path) -> None:
    """A CLI-style ingest (another connection, another transaction) changes the tiles the
    next request gets: the terminals moved 1 km north show up in the new tile."""
    import geopandas as gpd

    from gis.ingest import ingest
    from tests.conftest import RAW

    raw = gpd.read_file(RAW / "puerto" / "terminales_portuarios.geojson")
    centroid = raw.to_crs(32719).geometry.union_all().centroid
    lon, lat = gpd.GeoSeries([centroid], crs=32719).to_crs(4326).iloc[0].coords[0]
    t = tile_at(lon, lat, 12)
    url = f"/collections/port_terminals/tiles/WebMercatorQuad/{t.z}/{t.y}/{t.x}"
    before = http.get(url)
    names_before = {f["properties"]["nombre"] for f in
                    decode(before.content)["port_terminals"]["features"]}
    renamed = raw.assign(name=raw["name"] + " (nueva versión)")  # source column names
    path = tmp_path / "terminales_v2.geojson"
    renamed.to_file(path, driver="GeoJSON")
    try:
        ingest(api_settings, "port_terminals", path)
        after = http.get(url, headers={"If-None-Match": before.headers["etag"]})
        assert after.status_code == 200
        names_after = {f["properties"]["nombre"] for f in
                       decode(after.content)["port_terminals"]["features"]}
        assert names_after == {n + " (nueva versión)" for n in names_before}
    finally:
        ingest(api_settings, "port_terminals", RAW / "puerto" / "terminales_portuarios.geojson")

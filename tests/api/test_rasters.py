"""Raster layers on the map over real HTTP: PNG tiles, TileJSON, legend, value at a point."""

from __future__ import annotations

import warnings
from pathlib import Path

import httpx
import morecantile
import numpy as np
import pytest
import rasterio
from rasterio.errors import NotGeoreferencedWarning
from rasterio.io import MemoryFile
from rasterio.warp import transform as warp_transform

from gis.ingest import ingest
from gis.raster_tiles import PointOutsideRasterError, raster_value
from gis.settings import Settings
from layers import get_layer
from layers.base import RasterLayer
from tests.conftest import RAW, query

TMS = morecantile.tms.get("WebMercatorQuad")
SAN_ANTONIO = (-71.6, -33.59)
EAST_OF_RASTER = (-71.1, -33.59)
WEST_EDGE = (-71.6463, -33.65)
"""On the DEM's west edge: its tile is partly covered."""


def tile_path(name: str, lon: float, lat: float, zoom: int = 12) -> str:
    t = TMS.tile(lon, lat, zoom)
    return f"/rasters/{name}/tiles/WebMercatorQuad/{t.z}/{t.x}/{t.y}.png"


def decode_png(body: bytes) -> np.ndarray:
    """RGBA bands (4, rows, cols) of a PNG, decoded by GDAL."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with MemoryFile(body) as mem, mem.open() as png:
            assert png.driver == "PNG"
            return png.read()


def get_png(http: httpx.Client, path: str) -> np.ndarray:
    response = http.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    rgba = decode_png(response.content)
    assert rgba.shape == (4, 256, 256)
    return rgba


def ramp_distance(rgb: np.ndarray, layer: RasterLayer) -> np.ndarray:
    """Distance in RGB space from each colour (n, 3) to the layer's ramp polyline."""
    stops = np.array([[int(s.color[i:i + 2], 16) for i in (1, 3, 5)] for s in layer.ramp],
                     dtype=float)
    best = np.full(len(rgb), np.inf)
    for a, b in zip(stops[:-1], stops[1:], strict=True):
        t = np.clip(((rgb - a) @ (b - a)) / ((b - a) @ (b - a)), 0, 1)
        best = np.minimum(best, np.linalg.norm(rgb - (a + t[:, None] * (b - a)), axis=1))
    return best


def stored_file(settings: Settings, name: str) -> Path:
    rows = query(settings, "SELECT data_location FROM catalog.layer_versions "
                           "WHERE layer = %s AND valid_to IS NULL", (name,))
    return Path(rows[0][0])


def read_at(path: Path, lon: float, lat: float) -> tuple[float, bool]:
    """The cell value under a WGS 84 point, read straight from the GeoTIFF, and whether it
    is nodata."""
    with rasterio.open(path) as src:
        xs, ys = warp_transform("EPSG:4326", src.crs, [lon], [lat])
        row, col = src.index(xs[0], ys[0])
        value = float(src.read(1, window=((row, row + 1), (col, col + 1)))[0, 0])
        return value, value == src.nodata


def test_raster_list_with_extent_and_legend(http: httpx.Client) -> None:
    rasters = {r["nombre"]: r for r in http.get("/rasters").json()}
    assert set(rasters) == {"dem", "tsunami_depth"}
    dem = rasters["dem"]
    assert dem["titulo"] == "Modelo digital de elevación"
    assert dem["version"] >= 1
    west, south, east, north = dem["limites"]
    assert west < SAN_ANTONIO[0] < east and south < SAN_ANTONIO[1] < north
    assert -71.7 < west < -71.6 and -71.35 < east < -71.3
    assert -33.85 < south < -33.75 and -33.6 < north < -33.5
    assert dem["zoom_minimo"] <= dem["zoom_maximo"]
    legend = dem["leyenda"]
    assert legend["titulo"] == "Elevación" and legend["unidad"] == "m"
    declared = get_layer("dem")
    assert isinstance(declared, RasterLayer)
    assert [(p["valor"], p["color"]) for p in legend["paradas"]] == [
        (s.value, s.color) for s in declared.ramp]
    assert legend["paradas"][1]["etiqueta"] == "50 m"
    assert "{z}/{x}/{y}.png" in dem["enlaces"]["teselas"]
    assert http.get("/rasters/dem").json()["limites"] == dem["limites"]


def test_tile_over_san_antonio_is_coloured_with_the_ramp(http: httpx.Client) -> None:
    rgba = get_png(http, tile_path("dem", *SAN_ANTONIO))
    opaque = rgba[3] == 255
    assert opaque.all()  # the DEM covers this tile entirely
    colours = rgba[:3].reshape(3, -1).T.astype(float)
    layer = get_layer("dem")
    assert isinstance(layer, RasterLayer)
    assert ramp_distance(colours, layer).max() < 2.5
    assert len(np.unique(colours, axis=0)) > 20  # a gradient, not a flat fill


def test_tile_outside_the_raster_is_transparent(http: httpx.Client) -> None:
    assert (get_png(http, tile_path("dem", *EAST_OF_RASTER))[3] == 0).all()
    assert (get_png(http, "/rasters/dem/tiles/WebMercatorQuad/6/10/20.png")[3] == 0).all()
    edge = get_png(http, tile_path("dem", *WEST_EDGE))[3]
    assert (edge == 0).any() and (edge == 255).any()


def test_nodata_is_transparent(http: httpx.Client, api_settings: Settings) -> None:
    path = stored_file(api_settings, "tsunami_depth")
    with rasterio.open(path) as src:
        data = src.read(1)
        rows, cols = np.nonzero(data == src.nodata)
        x, y = src.xy(rows[len(rows) // 2], cols[len(cols) // 2])
        lon, lat = (c[0] for c in warp_transform(src.crs, "EPSG:4326", [x], [y]))
    alpha = get_png(http, tile_path("tsunami_depth", lon, lat, zoom=14))[3]
    assert (alpha == 0).any()
    body = http.get("/rasters/tsunami_depth/valor", params={"lon": lon, "lat": lat}).json()
    assert body["valor"] is None
    assert body["mensaje"] == "Sin datos en este punto."


@pytest.mark.parametrize("name", ["dem", "tsunami_depth"])
def test_value_at_a_point_is_the_geotiff_cell(http: httpx.Client, api_settings: Settings,
                                              name: str) -> None:
    lon, lat = SAN_ANTONIO
    expected, nodata = read_at(stored_file(api_settings, name), lon, lat)
    response = http.get(f"/rasters/{name}/valor", params={"lon": lon, "lat": lat})
    assert response.status_code == 200
    body = response.json()
    layer = get_layer(name)
    assert isinstance(layer, RasterLayer)
    assert body["titulo"] == layer.title and body["banda"] == layer.band_title
    assert body["unidad"] == "m"
    if nodata:
        assert body["valor"] is None
    else:
        assert body["valor"] == pytest.approx(expected, abs=1e-5)


def test_value_from_projected_coordinates(http: httpx.Client, api_settings: Settings) -> None:
    lon, lat = SAN_ANTONIO
    [x], [y] = warp_transform("EPSG:4326", "EPSG:32719", [lon], [lat])
    found = raster_value(api_settings, "dem", x, y, crs="EPSG:32719")
    body = http.get("/rasters/dem/valor", params={"lon": lon, "lat": lat}).json()
    assert found.value == body["valor"] and found.unit == "m"
    with pytest.raises(PointOutsideRasterError, match="x 400000, y 6.28e"):
        raster_value(api_settings, "dem", 400_000, 6_280_000, crs="EPSG:32719")


def test_tilejson(http: httpx.Client, server: str) -> None:
    doc = http.get("/rasters/dem/tilejson.json").json()
    assert doc["tilejson"] == "3.0.0"
    assert doc["name"] == "Modelo digital de elevación"
    assert doc["scheme"] == "xyz"
    [template] = doc["tiles"]
    prefix = f"{server}/rasters/dem/tiles/WebMercatorQuad/{{z}}/{{x}}/{{y}}.png?v="
    assert template.startswith(prefix)
    listed = next(r for r in http.get("/rasters").json() if r["nombre"] == "dem")
    assert doc["bounds"] == pytest.approx(listed["limites"])
    assert 0 <= doc["minzoom"] <= doc["maxzoom"] <= 24
    west, south, east, north = doc["bounds"]
    assert west < doc["center"][0] < east and south < doc["center"][1] < north
    t = TMS.tile(*SAN_ANTONIO, 12)
    response = http.get(template.format(z=t.z, x=t.x, y=t.y))
    assert response.status_code == 200
    assert "immutable" in response.headers["cache-control"]  # versioned URL
    assert http.get(tile_path("dem", *SAN_ANTONIO)).headers["cache-control"] == "no-cache"


@pytest.mark.parametrize(("path", "status", "description"), [
    ("/rasters/no_existe/tilejson.json", 404, "El raster «no_existe» no existe."),
    ("/rasters/no_existe/tiles/WebMercatorQuad/12/1233/2454.png", 404,
     "El raster «no_existe» no existe."),
    ("/rasters/parcels/valor?lon=-71.6&lat=-33.59", 404, "La capa «parcels» no es un raster."),
    ("/rasters/dem/tiles/WebMercatorQuad/25/0/0.png", 404,
     "El nivel de zoom 25 no existe en WebMercatorQuad."),
    ("/rasters/dem/tiles/WebMercatorQuad/-1/0/0.png", 404,
     "El nivel de zoom -1 no existe en WebMercatorQuad."),
    ("/rasters/dem/tiles/WebMercatorQuad/3/8/0.png", 404,
     "La tesela 3/8/0 no existe en WebMercatorQuad."),
    ("/rasters/dem/tiles/WebMercatorQuad/3/0/-1.png", 404,
     "La tesela 3/0/-1 no existe en WebMercatorQuad."),
    ("/rasters/dem/tiles/EPSG3857/12/1233/2454.png", 404,
     "El conjunto de teselas «EPSG3857» no está disponible."),
    ("/rasters/dem/valor?lon=-71.6&lat=-133.59", 400,
     "Coordenadas fuera del mundo: lon -71.6, lat -133.59."),
    ("/rasters/dem/valor?lon=200&lat=-33.59", 400,
     "Coordenadas fuera del mundo: lon 200, lat -33.59."),
    ("/rasters/dem/valor?lon=nan&lat=-33.59", 400, "Las coordenadas deben ser números finitos."),
    ("/rasters/dem/valor?lon=-71.1&lat=-33.59", 404,
     "El punto lon -71.1, lat -33.59 queda fuera del raster «Modelo digital de elevación»."),
])
def test_bad_requests_are_spanish_ogc_exceptions(http: httpx.Client, path: str, status: int,
                                                 description: str) -> None:
    response = http.get(path)
    assert response.status_code == status
    body = response.json()
    assert body["description"] == description
    assert body["code"]


@pytest.mark.parametrize(("path", "parameter", "words"), [
    ("/rasters/dem/tiles/WebMercatorQuad/doce/1233/2454.png", "z", "número entero"),
    ("/rasters/dem/valor?lon=abc&lat=-33.59", "lon", "número"),
    ("/rasters/dem/valor?lat=-33.59", "lon", "falta"),
])
def test_malformed_parameters_are_spanish_400(http: httpx.Client, path: str, parameter: str,
                                              words: str) -> None:
    # Worded once for every router by the app's validation handler.
    response = http.get(path)
    assert response.status_code == 400
    description = response.json()["description"]
    assert f"«{parameter}»" in description and words in description


def test_point_outside_names_the_raster_extent(http: httpx.Client) -> None:
    body = http.get("/rasters/dem/valor", params={"lon": -71.1, "lat": -33.59}).json()
    assert body["hint"].startswith("El raster cubre lon -71.64")


def test_etag_follows_the_version(http: httpx.Client, api_settings: Settings) -> None:
    path = tile_path("dem", *SAN_ANTONIO)
    first = http.get(path)
    etag = first.headers["etag"]
    version = http.get("/rasters/dem").json()["version"]
    assert f"-v{version}-" in etag
    unchanged = http.get(path, headers={"If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.content == b""
    old_template = http.get("/rasters/dem/tilejson.json").json()["tiles"][0]

    # Same data as a new version: the shared demo database stays consistent for other tests.
    report = ingest(api_settings, "dem", RAW / "riesgos" / "dem_50m.tif")
    assert report.version == version + 1

    after = http.get(path, headers={"If-None-Match": etag})
    assert after.status_code == 200
    assert after.headers["etag"] != etag and f"-v{version + 1}-" in after.headers["etag"]
    assert (decode_png(after.content) == decode_png(first.content)).all()
    new_template = http.get("/rasters/dem/tilejson.json").json()["tiles"][0]
    assert new_template != old_template
    t = TMS.tile(*SAN_ANTONIO, 12)
    stale = http.get(old_template.format(z=t.z, x=t.x, y=t.y))
    assert stale.headers["cache-control"] == "no-cache"

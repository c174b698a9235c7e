"""Raster layers on the web map: coloured PNG tiles, the value at a point and the legend.

Tiles are cut by rio-tiler in the OGC ``WebMercatorQuad`` tile matrix set (morecantile)
from the GeoTIFF of the layer's version in force (``catalog.layer_versions.data_location``)
and coloured with the ramp declared in ``layers/``: linear between stops, clamped to the
first and last colour, transparent where the raster has no data.

>>> from gis.raster_tiles import current_raster, raster_value, render_tile  # doctest: +SKIP
>>> dem = current_raster(settings, "dem")                                   # doctest: +SKIP
>>> png = render_tile(dem, 12, 1233, 2454)                                  # doctest: +SKIP
>>> raster_value(settings, "dem", -71.6, -33.59).value                      # doctest: +SKIP
31.0
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import morecantile
import numpy as np
import psycopg
import shapely
from rasterio.crs import CRS as RioCRS
from rasterio.errors import RasterioIOError
from rio_tiler.errors import PointOutsideBounds, TileOutsideBounds
from rio_tiler.io import Reader
from rio_tiler.utils import render

from gis.catalog import LayerVersion, catalog, layer_versions
from gis.crs import crs_label, parse_crs, to_storage
from gis.database import connect
from gis.errors import NotFoundError, PlatformError, SetupError
from gis.settings import Settings
from layers import REGISTRY, raster_layers
from layers.base import RasterLayer

TMS_ID = "WebMercatorQuad"
TMS = morecantile.tms.get(TMS_ID)
TILE_SIZE = 256
WGS84 = RioCRS.from_epsg(4326)
PNG_ZLEVEL = 3
"""zlib level of the tiles: twice as fast as GDAL's default 6, for a quarter more bytes."""
RENDER_REVISION = 1
"""Bump when the rendering changes, so that browsers drop tiles drawn the old way."""

Database = Settings | psycopg.Connection


class UnknownRasterError(NotFoundError):
    def __init__(self, name: str, *, vector: bool = False) -> None:
        names = ", ".join(lyr.name for lyr in raster_layers())
        super().__init__(
            f"La capa «{name}» no es un raster." if vector else f"El raster «{name}» no existe.",
            hint=f"Rasters disponibles: {names}.",
        )


class RasterNotLoadedError(NotFoundError):
    def __init__(self, layer: RasterLayer) -> None:
        super().__init__(f"La capa «{layer.title}» aún no tiene una versión cargada.",
                         hint=f"Cárguela con «secplac ingest {layer.name} archivo.tif».")


class RasterFileMissingError(SetupError):
    pass


class TileOutsideMatrixError(NotFoundError):
    pass


class CoordinatesError(PlatformError):
    http_status = 400


class PointOutsideRasterError(NotFoundError):
    pass


@dataclass(frozen=True)
class CurrentRaster:
    """The GeoTIFF of a raster layer's version in force."""

    layer: RasterLayer
    version: LayerVersion

    @property
    def path(self) -> Path:
        return Path(self.version.data_location)

    @property
    def revision(self) -> str:
        """Changes with the version, the ramp and the rendering: an ETag for its tiles."""
        return f"{self.layer.name}-v{self.version.version}-{_ramp_digest(self.layer)}"


@dataclass(frozen=True)
class RasterExtent:
    bounds: tuple[float, float, float, float]
    """West, south, east, north in longitude/latitude (WGS 84)."""
    minzoom: int
    maxzoom: int
    """Zoom levels of WebMercatorQuad matching the raster's overview and full resolution."""

    def describe(self) -> str:
        w, s, e, n = self.bounds
        return f"lon {w:.4f} a {e:.4f}, lat {s:.4f} a {n:.4f}"


@dataclass(frozen=True)
class RasterValue:
    layer: RasterLayer
    version: int
    lon: float
    lat: float
    value: float | None
    """None where the raster has no data (inside its extent)."""

    @property
    def unit(self) -> str:
        return self.layer.unit


@dataclass(frozen=True)
class LegendStop:
    value: float
    color: str
    label: str


@dataclass(frozen=True)
class Legend:
    """A continuous colour ramp: colours blend linearly between stops."""

    title: str
    unit: str
    stops: tuple[LegendStop, ...]


# --- layers and versions -------------------------------------------------------------------

def raster_layer(layer: RasterLayer | str) -> RasterLayer:
    """The declaration of a raster layer; :class:`UnknownRasterError` if there is none."""
    if isinstance(layer, RasterLayer):
        return layer
    found = REGISTRY.get(layer)
    if not isinstance(found, RasterLayer):
        raise UnknownRasterError(layer, vector=found is not None)
    return found


def current_raster(db: Database, layer: RasterLayer | str) -> CurrentRaster:
    """The version in force of a raster layer, looked up in the catalog."""
    layer = raster_layer(layer)
    if isinstance(db, Settings):
        with connect(db) as conn:
            versions = layer_versions(conn, layer.name)
    else:
        versions = layer_versions(db, layer.name)
    version = next((v for v in versions if v.in_force), None)
    if version is None:
        raise RasterNotLoadedError(layer)
    return CurrentRaster(layer, version)


def raster_catalog(conn: psycopg.Connection) -> list[tuple[RasterLayer, CurrentRaster | None]]:
    """Every raster layer of the registry with its version in force (None if never loaded)."""
    return [(e.layer, CurrentRaster(e.layer, e.current) if e.current else None)
            for e in catalog(conn) if isinstance(e.layer, RasterLayer)]


def raster_extent(raster: CurrentRaster) -> RasterExtent:
    return _extent(str(raster.path))


@lru_cache(maxsize=64)
def _extent(path: str) -> RasterExtent:
    # Files are never rewritten (a new version gets a new path): safe to cache by path.
    reader = READERS.get(path)
    w, s, e, n = (float(b) for b in reader.get_geographic_bounds(WGS84))
    return RasterExtent((w, s, e, n), int(reader.minzoom), int(reader.maxzoom))


# --- tiles ---------------------------------------------------------------------------------

def tile_matrix_set(tms_id: str) -> morecantile.TileMatrixSet:
    if tms_id != TMS_ID:
        raise TileOutsideMatrixError(
            f"El conjunto de teselas «{tms_id[:60]}» no está disponible.",
            hint=f"Use {TMS_ID}.")
    return TMS


def check_tile(z: int, x: int, y: int) -> morecantile.Tile:
    """The tile, or :class:`TileOutsideMatrixError` if it is not in WebMercatorQuad."""
    if not TMS.minzoom <= z <= TMS.maxzoom:
        raise TileOutsideMatrixError(
            f"El nivel de zoom {z} no existe en {TMS_ID}.",
            hint=f"Los niveles van de {TMS.minzoom} a {TMS.maxzoom}.")
    matrix = TMS.matrix(z)
    if not (0 <= x < matrix.matrixWidth and 0 <= y < matrix.matrixHeight):
        raise TileOutsideMatrixError(
            f"La tesela {z}/{x}/{y} no existe en {TMS_ID}.",
            hint=f"Con zoom {z}, x va de 0 a {matrix.matrixWidth - 1} e y de 0 a "
            f"{matrix.matrixHeight - 1}.")
    return morecantile.Tile(x=x, y=y, z=z)


def render_tile(raster: CurrentRaster, z: int, x: int, y: int) -> bytes:
    """A 256×256 RGBA PNG of the tile; fully transparent where the raster has no data.

    A tile outside the raster is a transparent PNG rather than an empty 204: every client
    (MapLibre, Leaflet/folium, QGIS) draws it without reporting an error.
    """
    check_tile(z, x, y)
    reader = READERS.get(str(raster.path))
    if not reader.tile_exists(x, y, z):
        return transparent_tile()
    try:
        image = reader.tile(x, y, z, tilesize=TILE_SIZE, resampling_method="bilinear",
                            reproject_method="bilinear")
    except TileOutsideBounds:
        return transparent_tile()
    values = image.array[0]
    if values.mask.all():
        return transparent_tile()
    rgb = colorize(values, raster.layer)
    alpha = np.where(np.ma.getmaskarray(values), 0, 255).astype("uint8")
    return render(rgb, alpha, img_format="PNG", ZLEVEL=PNG_ZLEVEL)


def colorize(values: np.ma.MaskedArray, layer: RasterLayer) -> np.ndarray:
    """RGB (3, rows, cols, uint8) of ``values`` on the layer's ramp, linear between stops."""
    stops, channels = _ramp(layer)
    filled = np.ma.filled(values.astype("float64"), stops[0])
    return np.stack([np.interp(filled, stops, c).round().astype("uint8") for c in channels])


@lru_cache(maxsize=1)
def transparent_tile() -> bytes:
    blank = np.zeros((3, TILE_SIZE, TILE_SIZE), dtype="uint8")
    return render(blank, np.zeros((TILE_SIZE, TILE_SIZE), dtype="uint8"), img_format="PNG")


@lru_cache(maxsize=32)
def _ramp(layer: RasterLayer) -> tuple[np.ndarray, np.ndarray]:
    stops = np.array([s.value for s in layer.ramp], dtype="float64")
    if len(stops) < 2 or np.any(np.diff(stops) <= 0):
        raise ValueError(f"layer {layer.name}: ramp stops must increase")
    rgb = np.array([_rgb(s.color) for s in layer.ramp], dtype="float64")
    return stops, rgb.T


def _rgb(color: str) -> tuple[int, int, int]:
    text = color.lstrip("#")
    if len(text) != 6:
        raise ValueError(f"colour {color!r} is not #rrggbb")
    return int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16)


@lru_cache(maxsize=32)
def _ramp_digest(layer: RasterLayer) -> str:
    text = repr((RENDER_REVISION, TILE_SIZE, layer.nodata, layer.ramp))
    return hashlib.sha256(text.encode()).hexdigest()[:10]


# --- value at a point ----------------------------------------------------------------------

def raster_value(db: Database, layer: RasterLayer | str, lon: float, lat: float,
                 crs: str = "EPSG:4326") -> RasterValue:
    """The value of the raster in force at a point.

    ``lon``/``lat`` are x/y in ``crs`` (WGS 84 longitude/latitude by default). Raises
    :class:`CoordinatesError` for coordinates that are not a place on Earth and
    :class:`PointOutsideRasterError`, naming the raster's extent, outside the raster.

    Examples
    --------
    >>> v = raster_value(settings, "dem", -71.6, -33.59)      # doctest: +SKIP
    >>> f"{v.layer.band_title}: {v.value:.1f} {v.unit}"        # doctest: +SKIP
    'Elevación: 31.0 m'
    """
    raster = current_raster(db, layer)
    source_crs = parse_crs(crs)
    check_coordinates(lon, lat, geographic=source_crs.is_geographic)
    extent = raster_extent(raster)
    # The raster's own extent picks the datum transformation meant for this area.
    point = to_storage(shapely.points([lon], [lat]), source_crs, extent.bounds)[0]
    reader = READERS.get(str(raster.path))
    try:
        sample = reader.point(point.x, point.y, coord_crs=reader.crs)
    except PointOutsideBounds:
        where = (f"lon {lon:g}, lat {lat:g}" if source_crs.is_geographic
                 else f"x {lon:g}, y {lat:g} ({crs_label(source_crs)})")
        raise PointOutsideRasterError(
            f"El punto {where} queda fuera del raster «{raster.layer.title}».",
            hint=f"El raster cubre {extent.describe()}.") from None
    masked = bool(np.ma.getmaskarray(sample.array)[0])
    value = None if masked else float(sample.array[0])
    return RasterValue(raster.layer, raster.version.version, lon, lat, value)


def check_coordinates(lon: float, lat: float, *, geographic: bool = True) -> None:
    """:class:`CoordinatesError` unless the coordinates are finite (and on Earth)."""
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise CoordinatesError("Las coordenadas deben ser números finitos.")
    if geographic and not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise CoordinatesError(
            f"Coordenadas fuera del mundo: lon {lon:g}, lat {lat:g}.",
            hint="La longitud va de -180 a 180 y la latitud de -90 a 90 (WGS 84); "
            "en San Antonio, cerca de lon -71.6, lat -33.6.")


# --- legend --------------------------------------------------------------------------------

def legend(layer: RasterLayer | str) -> Legend:
    """The legend of a raster layer, from its declared ramp."""
    layer = raster_layer(layer)
    stops = tuple(LegendStop(s.value, s.color, f"{s.value:g} {layer.unit}")
                  for s in layer.ramp)
    return Legend(layer.band_title, layer.unit, stops)


# --- open datasets -------------------------------------------------------------------------

class ReaderCache:
    """Open rio-tiler readers, kept per worker thread and GeoTIFF path.

    A GDAL dataset handle (and the GDAL environment rasterio attaches to it) belongs to
    the thread that opened it. The API renders in a fixed pool of worker threads, so each
    thread keeps its own few readers: opened once, reused for every tile, closed by the
    same thread when least recently used. Files are immutable per version (a new version
    has a new path), so a reader never goes stale.
    """

    def __init__(self, max_paths: int = 8) -> None:
        self.max_paths = max_paths
        self._local = threading.local()

    def get(self, path: str) -> Reader:
        """This thread's reader of ``path``; use it only in this thread."""
        readers: OrderedDict[str, Reader] | None = getattr(self._local, "readers", None)
        if readers is None:
            readers = self._local.readers = OrderedDict()
        if path in readers:
            readers.move_to_end(path)
            return readers[path]
        reader = readers[path] = _open_reader(path)
        while len(readers) > self.max_paths:
            readers.popitem(last=False)[1].close()
        return reader


def _open_reader(path: str) -> Reader:
    try:
        return Reader(path, tms=TMS)
    except RasterioIOError as exc:
        raise RasterFileMissingError(
            "No se pudo abrir el archivo del raster en el servidor.",
            hint=f"Revise que exista «{path}» (detalle: {exc}).") from exc


READERS = ReaderCache()

"""Geometries across the web boundary: GeoJSON in lon/lat (CRS84) ↔ storage CRS."""

from __future__ import annotations

import json
import math
from functools import lru_cache
from typing import Any

import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

from gis.errors import PlatformError
from layers.base import STORAGE_SRID

MAX_VERTICES = 100_000
"""A drawn zone or line with more vertices than this is refused (hostile input guard)."""


class GeometryInputError(PlatformError):
    http_status = 422


@lru_cache(maxsize=2)
def _transformer(to_storage: bool) -> Transformer:
    src, dst = (4326, STORAGE_SRID) if to_storage else (STORAGE_SRID, 4326)
    return Transformer.from_crs(src, dst, always_xy=True)


def _transform(geom: BaseGeometry, to_storage: bool) -> BaseGeometry:
    t = _transformer(to_storage)
    return shapely.transform(geom, lambda xy: _stack(*t.transform(xy[:, 0], xy[:, 1])))


def _stack(x: Any, y: Any) -> Any:
    import numpy as np

    return np.column_stack([x, y])


def to_lonlat_geojson(geom: BaseGeometry) -> dict[str, Any]:
    """A storage-CRS geometry as a GeoJSON geometry in lon/lat, 8 decimals (1 mm)."""
    moved = _transform(geom, False)
    try:
        rounded = shapely.set_precision(moved, 1e-8)
    except shapely.errors.GEOSException:
        # GEOS cannot snap some invalid geometries (a validation problem's pieces may
        # overlap): round the coordinates instead, keeping the shape as it is.
        rounded = shapely.transform(moved, lambda xy: _round(xy, 8))
    data: dict[str, Any] = json.loads(shapely.to_geojson(rounded))
    return data


def _round(xy: Any, decimals: int) -> Any:
    import numpy as np

    return np.round(xy, decimals)


def from_lonlat_geojson(data: Any, what: str = "geometría") -> BaseGeometry:
    """A GeoJSON geometry in lon/lat as a storage-CRS geometry, checked on the way."""
    if isinstance(data, dict) and data.get("type") == "GeometryCollection":
        raise GeometryInputError(
            f"La {what} es una colección de geometrías (GeometryCollection), que no se admite.",
            hint="Envíe un Point, LineString o Polygon, o su forma Multi (MultiPoint, "
                 "MultiLineString, MultiPolygon) para varias partes del mismo tipo.")
    if not isinstance(data, dict) or "type" not in data or "coordinates" not in data:
        raise GeometryInputError(f"La {what} no es una geometría GeoJSON.",
                                 hint='Ejemplo: {"type": "Polygon", "coordinates": [[[...]]]}')
    try:
        vertices = _positions(data["coordinates"])
        if vertices > MAX_VERTICES:  # refused before any work on them
            raise _too_many(what, vertices)
        text = json.dumps(data, allow_nan=False)
    except ValueError:
        raise GeometryInputError(f"La {what} tiene coordenadas no finitas (NaN o infinito).",
                                 hint="Cada coordenada debe ser un número: [longitud, latitud]."
                                 ) from None
    except RecursionError:
        raise GeometryInputError(f"La {what} está anidada a demasiados niveles.",
                                 hint='Ejemplo: {"type": "Polygon", "coordinates": [[[...]]]}'
                                 ) from None
    try:
        geom = shapely.from_geojson(text)
    except (shapely.errors.GEOSException, ValueError, TypeError) as exc:
        raise GeometryInputError(
            f"La {what} no se puede leer como GeoJSON.",
            hint="Cada coordenada debe ser [longitud, latitud] (o con altura: [longitud, "
                 f"latitud, altura]), con números. Detalle técnico: {str(exc)[:200]}") from None
    coords = shapely.get_coordinates(geom, include_z=bool(shapely.has_z(geom)))
    if len(coords) > MAX_VERTICES:
        raise _too_many(what, len(coords))
    if not all(math.isfinite(c) for c in coords.ravel()):
        raise GeometryInputError(f"La {what} tiene coordenadas no finitas (NaN o infinito).")
    if coords.shape[1] > 2:
        geom = shapely.force_2d(geom)
    lon, lat = coords[:, 0], coords[:, 1]
    if (abs(lon) > 180).any() or (abs(lat) > 90).any():
        raise GeometryInputError(f"La {what} tiene coordenadas fuera del mundo.",
                                 hint="GeoJSON va en longitud, latitud (WGS 84).")
    if ((lat >= -76) & (lat <= -66) & (lon >= -56) & (lon <= -17)).all():
        # Chile's longitudes read as latitudes and its latitudes as longitudes
        raise GeometryInputError(f"La {what} parece tener latitud y longitud invertidas.",
                                 hint="GeoJSON va en longitud, latitud: p. ej. [-71.61, -33.59].")
    return _transform(geom, True)


def _positions(coordinates: Any) -> int:
    """How many positions a GeoJSON ``coordinates`` value holds, counted by lists of
    positions (not one by one): cheap enough to refuse a huge geometry before reading it."""
    if not isinstance(coordinates, list) or not coordinates:
        return 0
    if not isinstance(coordinates[0], list):
        return 1  # a single position
    if not coordinates[0] or not isinstance(coordinates[0][0], list):
        return len(coordinates)  # a list of positions
    return sum(_positions(part) for part in coordinates)


def _too_many(what: str, vertices: int) -> GeometryInputError:
    return GeometryInputError(f"La {what} tiene {vertices:,} vértices; el máximo es "
                              f"{MAX_VERTICES:,}.".replace(",", "."),
                              hint="Simplifique la geometría (p. ej. con «Simplificar» de "
                              "QGIS y una tolerancia de 0,5 m) o divídala en partes.")

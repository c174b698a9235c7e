"""Coordinate reference systems: the storage CRS, parsing user input, the work area."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.aoi import AreaOfInterest
from pyproj.exceptions import CRSError
from pyproj.transformer import TransformerGroup

from gis.errors import PlatformError
from layers.base import STORAGE_SRID

STORAGE_CRS = CRS.from_epsg(STORAGE_SRID)

LEGACY_DATUMS = {24879: "PSAD56 / UTM 19S", 29189: "SAD69 / UTM 19S"}


class CRSInputError(PlatformError):
    pass


def parse_crs(text: str) -> CRS:
    """A CRS from what a user types: ``EPSG:24879``, ``24879``, a WKT or a PROJ string."""
    value = text.strip()
    if value.isdigit():
        value = f"EPSG:{value}"
    try:
        return CRS.from_user_input(value)
    except CRSError:
        raise CRSInputError(
            f"Sistema de coordenadas no reconocido: «{text}».",
            hint="Use un código EPSG, por ejemplo EPSG:4326 (WGS 84), EPSG:32719 "
            "(WGS 84 / UTM 19S), EPSG:5361 (SIRGAS-Chile / UTM 19S), EPSG:24879 "
            "(PSAD56 / UTM 19S) o EPSG:29189 (SAD69 / UTM 19S).",
        ) from None


def crs_label(crs: CRS | None) -> str:
    if crs is None:
        return "sin sistema de coordenadas"
    epsg = crs.to_epsg(min_confidence=70)
    return f"EPSG:{epsg} ({crs.name})" if epsg else crs.name


@lru_cache(maxsize=32)
def _transformer(src_wkt: str, area: tuple[float, float, float, float]) -> Transformer:
    # The area of interest makes PROJ pick the datum transformation meant for central
    # Chile (e.g. PSAD56 → WGS 84 for Chile south of 26°S), not a global average.
    group = TransformerGroup(CRS.from_wkt(src_wkt), STORAGE_CRS, always_xy=True,
                             area_of_interest=AreaOfInterest(*area))
    if not group.transformers:
        raise CRSInputError(
            f"No hay una transformación disponible desde {crs_label(CRS.from_wkt(src_wkt))} "
            "al sistema de almacenamiento (EPSG:32719)."
        )
    return group.transformers[0]


def to_storage(geoms: shapely.lib.Geometry, src: CRS,
               area: tuple[float, float, float, float]):  # type: ignore[no-untyped-def]
    """Geometries (array) transformed from ``src`` to the storage CRS, vectorised."""
    if src == STORAGE_CRS:
        return geoms
    transformer = _transformer(src.to_wkt(), area)

    def project(coords):  # type: ignore[no-untyped-def]
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        coords[:, 0], coords[:, 1] = x, y
        return coords

    return shapely.transform(geoms, project)


def xy_to_storage(x: np.ndarray, y: np.ndarray, src: CRS,
                  area: tuple[float, float, float, float]) -> None:
    """Coordinates (contiguous float64 arrays) transformed in place from ``src`` to the
    storage CRS: the same operation as :func:`to_storage`, without geometries."""
    if src == STORAGE_CRS:
        return
    _transformer(src.to_wkt(), area).transform(x, y, inplace=True)


def transformation_description(src: CRS, area: tuple[float, float, float, float]) -> str:
    """The coordinate operation used from ``src`` to storage, for the load report."""
    if src == STORAGE_CRS:
        return "sin transformación"
    return _transformer(src.to_wkt(), area).description


def area_of_interest_storage(area: tuple[float, float, float, float]) -> shapely.Polygon:
    """The work area (lon/lat box) as a polygon in the storage CRS."""
    box = shapely.segmentize(shapely.box(*area), 0.01)
    return to_storage(box, CRS.from_epsg(4326), area)

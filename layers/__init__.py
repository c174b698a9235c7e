"""Registry of every layer of the platform: name → declaration.

Identifiers that reach SQL (table names, column names) come only from here.
"""

from gis.errors import NotFoundError
from layers import (
    census_zones,
    comunas,
    dem,
    hazard_zones,
    land_use,
    parcels,
    planning_sectors,
    port_routes,
    port_terminals,
    projects,
    tsunami_depth,
    urban_limit,
    zoning,
)
from layers.base import STORAGE_SRID, Layer, RasterLayer, VectorLayer

REGISTRY: dict[str, Layer] = {
    m.LAYER.name: m.LAYER
    for m in (
        comunas, census_zones, planning_sectors, urban_limit, zoning, land_use, parcels,
        port_routes, port_terminals, hazard_zones, dem, tsunami_depth, projects,
    )
}


class UnknownLayerError(NotFoundError):
    def __init__(self, name: str) -> None:
        super().__init__(
            f"La capa «{name}» no existe.",
            hint=f"Capas disponibles: {', '.join(sorted(REGISTRY))}.",
        )
        self.name = name


def get_layer(name: str) -> Layer:
    """The declaration of the layer called ``name``; :class:`UnknownLayerError` if none."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise UnknownLayerError(name) from None


def vector_layers() -> list[VectorLayer]:
    return [lyr for lyr in REGISTRY.values() if isinstance(lyr, VectorLayer)]


def raster_layers() -> list[RasterLayer]:
    return [lyr for lyr in REGISTRY.values() if isinstance(lyr, RasterLayer)]


__all__ = ["REGISTRY", "STORAGE_SRID", "get_layer", "vector_layers", "raster_layers",
           "UnknownLayerError"]

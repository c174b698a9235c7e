"""The platform's engine: database, CRS, ingest, catalog, analysis.

Public API for notebooks::

    import gis
    zonas = gis.read_layer("zoning", where={"familia": "residencial"}, crs=4326)
    with gis.connect() as conn: ...
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gis.reading import connect, read_layer
    from gis.settings import Settings

# Resolved on first use, so that ``layers`` can import ``gis.errors`` without pulling in
# the whole engine (which imports the layer registry back).
_PUBLIC = {"connect": "gis.reading", "read_layer": "gis.reading", "Settings": "gis.settings"}


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        return getattr(import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'gis' has no attribute {name!r}")


__all__ = ["Settings", "connect", "read_layer"]

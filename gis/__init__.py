"""The platform's engine: database, CRS, ingest, catalog, analysis.

Public API for notebooks::

    import gis
    zonas = gis.read_layer("zoning", where={"familia": "residencial"}, crs=4326)
    with gis.connect() as conn: ...
"""

from gis.reading import connect, read_layer
from gis.settings import Settings

__all__ = ["Settings", "connect", "read_layer"]

"""Water and coast of the comuna, derived from the real comuna polygons: the ocean (west of
the province's coastline), the Maipo channel between San Antonio and Santo Domingo, the
coastline, the course of the río Maipo and the stretch of coast of the port."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from gis.demo.common import largest_part, polygonal
from gis.demo.territory import RealInputs

SANTO_DOMINGO = "05606"
PORT_SPAN = (6279350.0, 6281250.0)
"""Northings (EPSG:32719) of the coast of the port: the breakwater and basin of census
zone 05601051001, read off the chilemapas boundary."""
MAIPO_EXTENSION = 6_000.0
"""Metres the river course is prolonged upstream past the comuna's southern corner."""


@dataclass(frozen=True)
class Geography:
    """Water and coast, EPSG:32719."""

    extent: tuple[float, float, float, float]
    """The area studied: comuna bounding box plus 1 km, snapped to 50 m."""
    ocean: shapely.Geometry
    channel: shapely.Geometry
    """The Maipo channel (water between San Antonio and Santo Domingo)."""
    coast: shapely.Geometry
    """The comuna's ocean coastline (line)."""
    maipo: shapely.LineString
    """Course of the río Maipo, from the mouth upstream."""
    port_coast: shapely.Geometry
    """The coastline of the port (line)."""

    @property
    def mouth(self) -> shapely.Point:
        """The river mouth (first point of the course)."""
        return shapely.Point(self.maipo.coords[0])

    @property
    def water(self) -> shapely.Geometry:
        """Ocean and channel."""
        return shapely.union(self.ocean, self.channel)


def study_extent(comuna: shapely.Geometry, margin: float = 1_000.0,
                 cell: float = 50.0) -> tuple[float, float, float, float]:
    """Bounding box of ``comuna`` plus ``margin``, snapped outward to ``cell``."""
    minx, miny, maxx, maxy = comuna.bounds
    return (np.floor((minx - margin) / cell) * cell, np.floor((miny - margin) / cell) * cell,
            np.ceil((maxx + margin) / cell) * cell, np.ceil((maxy + margin) / cell) * cell)


def sea_polygon(province: shapely.Geometry,
                bounds: tuple[float, float, float, float]) -> shapely.Geometry:
    """The sea inside ``bounds``: the parts outside the province that reach the west edge."""
    box = shapely.box(*bounds)
    outside = shapely.get_parts(polygonal(shapely.difference(box, province)))
    west = [p for p in outside if p.bounds[0] <= bounds[0] + 1.0]
    return polygonal(shapely.union_all(west))


def _maipo_course(inputs: RealInputs, channel: shapely.Geometry) -> shapely.LineString:
    comuna = inputs.comuna
    sd = inputs.comunas.loc[inputs.comunas.codigo_comuna == SANTO_DOMINGO].geometry.iloc[0]
    bank = shapely.intersection(comuna.boundary,
                                shapely.union(channel, sd).buffer(40.0))
    merged = shapely.line_merge(shapely.union_all(shapely.get_parts(bank)))
    parts = shapely.get_parts(merged)
    line = parts[int(np.argmax(shapely.length(parts)))]
    coords = np.asarray(line.coords)
    if coords[0, 1] < coords[-1, 1]:  # start at the mouth (north-west end)
        coords = coords[::-1]
    direction = coords[-1] - coords[-8]
    direction /= np.linalg.norm(direction)
    coords = np.vstack([coords, coords[-1] + direction * MAIPO_EXTENSION])
    return shapely.LineString(coords).simplify(20.0)


def build_geography(inputs: RealInputs) -> Geography:
    """Derive ocean, channel, coastline, Maipo course and port coast from the comunas.

    Parameters
    ----------
    inputs : RealInputs

    Returns
    -------
    Geography
    """
    comuna = inputs.comuna
    extent = study_extent(comuna)
    province = inputs.province
    pminx = min(province.bounds[0], extent[0]) - 2_000.0
    wide = (pminx, extent[1] - 5_000.0, extent[2], extent[3] + 5_000.0)
    sea = sea_polygon(province, wide)
    opened = polygonal(shapely.intersection(sea.buffer(-110.0).buffer(110.0), sea))
    channel = polygonal(shapely.difference(sea, largest_part(opened)), 10_000.0)
    ocean = polygonal(shapely.difference(sea, channel))
    coast = shapely.line_merge(shapely.intersection(comuna.boundary, ocean.buffer(5.0)))
    coast = largest_line(coast)
    maipo = _maipo_course(inputs, channel)
    band = shapely.box(extent[0], PORT_SPAN[0], extent[2], PORT_SPAN[1])
    port_coast = shapely.intersection(coast, band)
    return Geography(extent=extent, ocean=ocean, channel=channel, coast=coast, maipo=maipo,
                     port_coast=port_coast)


def largest_line(geom: shapely.Geometry) -> shapely.LineString:
    """The longest linestring of a (multi)line geometry."""
    parts = shapely.get_parts(geom)
    return parts[int(np.argmax(shapely.length(parts)))]

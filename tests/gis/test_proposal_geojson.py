"""Geometries across the web boundary of proposals (gis.proposals.geojson)."""

from __future__ import annotations

import shapely

from gis.proposals.geojson import from_lonlat_geojson, to_lonlat_geojson

X0, Y0 = 260_000.0, 6_280_000.0  # near San Antonio in UTM 19S


def test_round_trip_to_the_millimetre() -> None:
    zone = shapely.box(X0, Y0, X0 + 100, Y0 + 100)
    back = from_lonlat_geojson(to_lonlat_geojson(zone))
    assert back.hausdorff_distance(zone) < 0.005  # metres


def test_an_invalid_problem_geometry_is_still_written() -> None:
    """Validation problems can be invalid (overlapping pieces): GEOS cannot snap them to
    the grid, so their coordinates are rounded instead of failing the whole response."""
    pieces = shapely.MultiPolygon([shapely.box(X0, Y0, X0 + 10, Y0 + 10),
                                   shapely.box(X0 + 5, Y0 + 5, X0 + 15, Y0 + 15)])
    assert not pieces.is_valid
    data = to_lonlat_geojson(pieces)
    assert data["type"] == "MultiPolygon" and len(data["coordinates"]) == 2
    lon, lat = data["coordinates"][0][0][0]
    assert -72 < lon < -71 and -34 < lat < -33
    assert round(lon, 8) == lon and round(lat, 8) == lat

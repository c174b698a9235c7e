"""Geometry checks: what is repaired (and reported), what is rejected (and why)."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from pyproj import CRS

from gis.crs import area_of_interest_storage
from gis.ingest.geometry import check_geometries
from layers.base import GeometryKind

AREA = (-71.90, -34.00, -71.25, -33.20)
X, Y = 258_700.0, 6_279_200.0


def run(geoms: list, kind: GeometryKind = GeometryKind.MULTIPOLYGON):  # type: ignore[no-untyped-def]
    wkb = np.array([None if g is None else shapely.to_wkb(g) for g in geoms], dtype=object)
    return check_geometries(wkb, kind, CRS.from_epsg(32719), AREA,
                            area_of_interest_storage(AREA))


def square(x: float = X, y: float = Y, size: float = 50) -> shapely.Polygon:
    return shapely.box(x, y, x + size, y + size)


def test_valid_polygon_is_promoted_to_multipolygon() -> None:
    result = run([square()])
    assert not result.rejected and result.geoms[0].geom_type == "MultiPolygon"
    assert result.geoms[0].area == pytest.approx(2500)


def test_bow_tie_is_rejected_with_reason() -> None:
    bow_tie = shapely.Polygon([(X, Y), (X + 50, Y + 50), (X + 50, Y), (X, Y + 50)])
    result = run([bow_tie, square()])
    (reason, mask), = result.rejected.items()
    assert "autointersección" in reason and mask.tolist() == [True, False]
    assert result.geoms[0] is None and result.geoms[1] is not None


def test_inverted_hole_is_repaired_without_changing_area() -> None:
    # A shell that touches itself (an "inverted hole"): invalid, but its meaning is clear.
    ring = [(X, Y), (X + 100, Y), (X + 100, Y + 100), (X + 50, Y + 100), (X + 60, Y + 50),
            (X + 40, Y + 50), (X + 50, Y + 100), (X, Y + 100), (X, Y)]
    poly = shapely.Polygon(ring)
    assert not poly.is_valid
    result = run([poly])
    assert not result.rejected
    assert list(result.repaired.values())[0].tolist() == [True]
    assert result.geoms[0].is_valid
    assert result.geoms[0].area == pytest.approx(abs(shapely.area(poly)), rel=1e-3)


def test_empty_null_nan_and_infinite_are_rejected() -> None:
    nan = shapely.Polygon([(X, Y), (np.nan, Y), (X + 5, Y + 5), (X, Y)])
    inf = shapely.Polygon([(X, Y), (np.inf, Y), (X + 5, Y + 5), (X, Y)])
    result = run([None, shapely.Polygon(), nan, inf, square()])
    reasons = {r: m.nonzero()[0].tolist() for r, m in result.rejected.items()}
    assert reasons["sin geometría (vacía o nula)"] == [0, 1]
    assert reasons["coordenadas no finitas (NaN o infinito)"] == [2, 3]


def test_z_is_dropped_and_reported() -> None:
    poly_z = shapely.Polygon([(X, Y, 10), (X + 50, Y, 12), (X + 50, Y + 50, 11), (X, Y, 10)])
    result = run([poly_z])
    assert not shapely.has_z(result.geoms[0])
    assert "coordenada Z" in next(iter(result.repaired))


def test_wrong_type_for_the_layer() -> None:
    result = run([shapely.LineString([(X, Y), (X + 10, Y)]), square()])
    assert list(result.rejected) == ["tipo de geometría LineString: la capa espera polígonos"]


def test_out_of_area_reports_distance() -> None:
    far = square(X + 200_000, Y)
    result = run([far])
    assert result.outside_km is not None and result.outside_km > 100


def test_corrupt_wkb_is_rejected_not_crashing() -> None:
    wkb = np.array([b"\x01\x03\x00\x00\x00garbage", shapely.to_wkb(square())], dtype=object)
    result = check_geometries(wkb, GeometryKind.MULTIPOLYGON, CRS.from_epsg(32719), AREA,
                              area_of_interest_storage(AREA))
    assert list(result.rejected) == ["geometría ilegible (WKB dañado)"]

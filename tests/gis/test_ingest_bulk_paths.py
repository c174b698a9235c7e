"""The ingest's bulk shortcuts give exactly what the plain code gives: the rol normaliser,
the WKB coordinate reader/rewriter and the binary COPY encoder (round trip through
PostgreSQL)."""

from __future__ import annotations

import random
from datetime import date

import numpy as np
import psycopg
import pyarrow as pa
import shapely

from gis.ingest.attributes import _normalize_rol_bulk
from gis.ingest.pgcopy import HEADER, TRAILER, encode_rows, rows_buffer
from gis.ingest.wkb import read_coordinates
from gis.settings import Settings
from layers.base import FieldType
from layers.parcels import normalize_rol


def test_bulk_rol_normaliser_agrees_with_normalize_rol() -> None:
    rng = random.Random(7)
    alphabet = "0123456789 -/\t.a١٢"  # includes Arabic-Indic digits, left to the function
    values = ["1999-54", " 00001 / 2 ", "123456-1", "12-", "-12", "", "1 1", "99999-99999",
              "1999 54", "١٢-٣", None]
    values += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 13)))
               for _ in range(5_000)]
    out, undecided = _normalize_rol_bulk(pa.array(values, pa.string()))
    for value, got, left in zip(values, out.to_pylist(), undecided, strict=True):
        if value is None:
            assert got is None
        elif not left:
            assert got == normalize_rol(value), value


def test_wkb_coordinates_rewrite_is_exact_and_leaves_unusual_values_alone() -> None:
    geoms = [shapely.Point(1.5, 2.5), shapely.box(0, 0, 3, 4),
             shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(5, 5, 6, 7)]),
             shapely.LineString([(0, 0), (1, 2), (3, 3)]),
             shapely.Polygon(shapely.box(0, 0, 10, 10).exterior.coords,
                             [shapely.box(2, 2, 3, 3).exterior.coords])]
    unusual = [shapely.to_wkb(shapely.Point(1, 2, 3)),  # 3D
               shapely.to_wkb(shapely.Point(1, 2), byte_order=0),  # big-endian
               shapely.to_wkb(shapely.GeometryCollection([shapely.Point(0, 0)]))]
    data = [shapely.to_wkb(g) for g in geoms] + unusual + [None]
    coords = read_coordinates(pa.array(data, pa.binary()))
    assert coords.read.tolist() == [True] * len(geoms) + [False] * len(unusual) + [False]

    def shift(x: np.ndarray, y: np.ndarray) -> None:
        x += 1000.0
        y -= 0.5

    coords.transform(shift)
    rewritten = coords.values_with_coordinates()
    for i, g in enumerate(geoms):
        expected = shapely.transform(g, lambda xy: xy + np.array([1000.0, -0.5]))
        assert shapely.from_wkb(rewritten[i]).equals_exact(expected, 0)
        ring_closed = shapely.from_wkb(rewritten[i])
        if ring_closed.geom_type == "Polygon":
            assert ring_closed.exterior.is_closed
    for i, raw in enumerate(unusual, start=len(geoms)):
        assert bytes(rewritten[i]) == raw


def test_binary_copy_rows_round_trip_through_postgresql(settings: Settings) -> None:
    fields = [
        (pa.array(["a", None, "ñandú «x»"], pa.string()), FieldType.TEXT),
        (pa.array([1, None, -(2**40)], pa.int64()), FieldType.INTEGER),
        (pa.array([1.25, float("inf"), None], pa.float64()), FieldType.FLOAT),
        (pa.array([date(2017, 4, 19), None, date(1990, 1, 1)], pa.date32()), FieldType.DATE),
        (pa.array([True, False, None], pa.bool_()), FieldType.BOOLEAN),
        (pa.array([["x", "y"], None, []], pa.list_(pa.string())), FieldType.TEXT_LIST),
    ]
    points = [shapely.set_srid(shapely.Point(i, -i), 32719) for i in range(3)]
    geometry = pa.array(shapely.to_wkb(points, include_srid=True), pa.binary())
    rows = encode_rows(fields, geometry)
    with psycopg.connect(settings.database_url or "") as conn:
        conn.execute("CREATE TEMP TABLE t (s text, i bigint, f float8, d date, b boolean, "
                     "l text[], geom geometry)")
        with conn.cursor() as cur, cur.copy("COPY t FROM STDIN (FORMAT binary)") as copy:
            copy.write(HEADER)
            copy.write(rows_buffer(rows))
            copy.write(TRAILER)
        got = conn.execute("SELECT s, i, f, d, b, l, ST_AsText(geom), ST_SRID(geom) FROM t"
                           ).fetchall()
    assert got == [
        ("a", 1, 1.25, date(2017, 4, 19), True, ["x", "y"], "POINT(0 0)", 32719),
        (None, None, float("inf"), None, False, None, "POINT(1 -1)", 32719),
        ("ñandú «x»", -(2**40), None, date(1990, 1, 1), None, [], "POINT(2 -2)", 32719),
    ]

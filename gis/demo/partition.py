"""Exact partitions of a region: carve labelled shapes out of it, split by Voronoi, and
hand slivers to their neighbours, so that the parts never overlap and cover the region."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import shapely

from gis.demo.common import polygonal

Labelled = list[tuple[Any, shapely.Geometry]]


def carve(region: shapely.Geometry, shapes: Sequence[tuple[Hashable, shapely.Geometry]],
          min_area: float = 1.0) -> tuple[Labelled, shapely.Geometry]:
    """Cut ``shapes`` out of ``region`` in order; earlier shapes win where they overlap.

    Parameters
    ----------
    region : Polygon or MultiPolygon
    shapes : sequence of (label, geometry)
    min_area : float
        Parts smaller than this (m²) are ignored (left in the remainder).

    Returns
    -------
    pieces : list of (label, geometry)
        Non-empty intersections, disjoint from one another.
    remainder : geometry
        What is left of ``region``.
    """
    pieces: Labelled = []
    remaining = region
    for label, shape in shapes:
        part = polygonal(shapely.intersection(remaining, shape), min_area)
        if part.is_empty:
            continue
        pieces.append((label, part))
        remaining = polygonal(shapely.difference(remaining, part))
    return pieces, remaining


def voronoi_split(region: shapely.Geometry, seeds: np.ndarray) -> list[shapely.Geometry]:
    """Split ``region`` into the Voronoi cells of ``seeds`` (one geometry per seed, in order,
    possibly empty)."""
    if len(seeds) == 1:
        return [region]
    cells = shapely.voronoi_polygons(shapely.MultiPoint(seeds), extend_to=region,
                                     ordered=True)
    cells = shapely.get_parts(cells)
    return [polygonal(shapely.intersection(region, c)) for c in cells]


def _thin(parts: np.ndarray, min_area: float, min_width: float) -> np.ndarray:
    area = shapely.area(parts)
    width = 2 * area / np.maximum(shapely.length(parts), 1e-9)
    return (area < min_area) | (width < min_width)


def absorb_slivers(pieces: Sequence[tuple[Any, shapely.Geometry]], min_area: float,
                   min_width: float = 0.0, orphan_label: Hashable = None) -> Labelled:
    """Give every small or thin part (and every part labelled ``orphan_label``) to the
    neighbour with which it shares the longest boundary; merge parts by label.

    Parameters
    ----------
    pieces : list of (label, geometry)
        A partition (labels may repeat).
    min_area : float
        Parts below this area (m²) are absorbed.
    min_width : float
        Parts whose mean width (2·area/perimeter, m) is below this are absorbed.
    orphan_label : hashable
        Label of the parts that must always be absorbed (e.g. unassigned gaps).

    Returns
    -------
    list of (label, geometry)
        One entry per surviving label, in first-appearance order.
    """
    labels: list[Any] = []
    found: list[shapely.Geometry] = []
    for label, geom in pieces:
        for p in shapely.get_parts(geom):
            labels.append(label)
            found.append(p)
    parts = np.array(found, dtype=object)
    owner = np.array(range(len(parts)))
    small = _thin(parts, min_area, min_width)
    small |= np.array([lab == orphan_label for lab in labels])
    tree = shapely.STRtree(parts)

    def root(k: int) -> int:
        while owner[k] != k:
            k = owner[k]
        return k

    for i in np.argsort(shapely.area(parts), kind="stable"):
        if not small[i]:
            continue
        cand = [j for j in tree.query(parts[i], predicate="intersects") if root(j) != i]
        if not cand:
            continue
        ring = shapely.boundary(parts[i])
        shared = shapely.length(shapely.intersection(ring, shapely.buffer(parts[cand], 0.05)))
        if shared.max() <= 0:
            continue
        owner[i] = cand[int(np.argmax(shared))]
    order: dict[Hashable, list[int]] = {}
    for i in range(len(parts)):
        order.setdefault(labels[root(i)], []).append(i)
    out: Labelled = []
    for label, idx in order.items():
        if label == orphan_label:
            continue
        out.append((label, polygonal(shapely.union_all(parts[idx]))))
    return out

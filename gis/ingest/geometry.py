"""Geometry checks on ingest: decode, type, finite coordinates, CRS, validity, area.

Repairs are made only when they keep the meaning (the area stays within 0.1 %); anything
else is rejected with the reason, by feature.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from pyproj import CRS

from gis.crs import to_storage
from layers.base import GeometryKind

# shapely type ids
POINT, LINESTRING, POLYGON, MULTIPOINT, MULTILINESTRING, MULTIPOLYGON, COLLECTION = (
    0, 1, 3, 4, 5, 6, 7)
TYPE_NAMES = {0: "Point", 1: "LineString", 2: "LinearRing", 3: "Polygon", 4: "MultiPoint",
              5: "MultiLineString", 6: "MultiPolygon", 7: "GeometryCollection"}
ACCEPTED = {
    GeometryKind.POINT: {POINT},
    GeometryKind.MULTIPOINT: {POINT, MULTIPOINT},
    GeometryKind.MULTILINESTRING: {LINESTRING, MULTILINESTRING},
    GeometryKind.MULTIPOLYGON: {POLYGON, MULTIPOLYGON},
    GeometryKind.ANY: {POINT, LINESTRING, POLYGON, MULTIPOINT, MULTILINESTRING, MULTIPOLYGON},
}
KIND_WORDS = {
    GeometryKind.POINT: "puntos", GeometryKind.MULTIPOINT: "puntos",
    GeometryKind.MULTILINESTRING: "líneas", GeometryKind.MULTIPOLYGON: "polígonos",
    GeometryKind.ANY: "puntos, líneas o polígonos",
}
AREA_TOLERANCE = 0.001
OUTSIDE_REASON = ("fuera del área de trabajo (provincia de San Antonio); revise el sistema de "
                  "coordenadas")


@dataclass
class GeometryResult:
    geoms: np.ndarray
    """Storage-CRS geometries; None where rejected."""
    rejected: dict[str, np.ndarray]
    """Reason → boolean mask of rejected rows."""
    repaired: dict[str, np.ndarray]
    outside_km: float | None = None
    """Distance from the work area to the nearest feature outside it, if any."""


def check_geometries(wkb: np.ndarray, kind: GeometryKind, src_crs: CRS,
                     area: tuple[float, float, float, float],
                     work_area: shapely.Polygon) -> GeometryResult:
    """Decode WKB, check and repair, transform to the storage CRS."""
    n = len(wkb)
    rejected: dict[str, np.ndarray] = {}
    repaired: dict[str, np.ndarray] = {}
    ok = np.ones(n, bool)

    def reject(reason: str, mask: np.ndarray) -> None:
        mask = mask & ok
        if mask.any():
            rejected[reason] = mask
            ok[mask] = False

    geoms = _decode(wkb, reject)
    reject("sin geometría (vacía o nula)", shapely.is_missing(geoms) | shapely.is_empty(geoms))

    types = shapely.get_type_id(geoms)
    for type_id in np.unique(types[ok]):
        if type_id not in ACCEPTED[kind]:
            reject(f"tipo de geometría {TYPE_NAMES.get(int(type_id), type_id)}: la capa "
                   f"espera {KIND_WORDS[kind]}", types == type_id)

    if shapely.has_z(geoms[ok]).any():
        has_z = np.zeros(n, bool)
        has_z[ok] = shapely.has_z(geoms[ok])
        geoms[has_z] = shapely.force_2d(geoms[has_z])
        repaired["se descartó la coordenada Z (altura)"] = has_z

    coords, index = shapely.get_coordinates(geoms[ok], return_index=True)
    bad_coords = np.zeros(n, bool)
    bad_coords[np.flatnonzero(ok)[np.unique(index[~np.isfinite(coords).all(axis=1)])]] = True
    reject("coordenadas no finitas (NaN o infinito)", bad_coords)

    geoms[ok] = to_storage(geoms[ok], src_crs, area)

    # A bounding-box test: robust on invalid geometries, and the work area is a box.
    inside = np.zeros(n, bool)
    b = shapely.bounds(geoms[ok])
    wx0, wy0, wx1, wy1 = work_area.bounds
    inside[ok] = (b[:, 0] <= wx1) & (b[:, 2] >= wx0) & (b[:, 1] <= wy1) & (b[:, 3] >= wy0)
    outside = ok & ~inside
    outside_km = (float(shapely.distance(work_area, geoms[outside]).min()) / 1000
                  if outside.any() else None)
    reject(OUTSIDE_REASON, outside)

    _validate(geoms, ok, kind, reject, repaired)
    geoms[ok] = _promote(geoms[ok], kind)
    geoms[~ok] = None
    return GeometryResult(geoms=geoms, rejected=rejected, repaired=repaired,
                          outside_km=outside_km)


def _decode(wkb: np.ndarray, reject) -> np.ndarray:  # type: ignore[no-untyped-def]
    try:
        return np.asarray(shapely.from_wkb(wkb, on_invalid="raise"), dtype=object)
    except shapely.errors.GEOSException:
        pass
    geoms = np.asarray(shapely.from_wkb(wkb, on_invalid="ignore"), dtype=object)
    broken = shapely.is_missing(geoms) & np.array([w is not None for w in wkb])
    reject("geometría ilegible (WKB dañado)", broken)
    return geoms


def _validate(geoms: np.ndarray, ok: np.ndarray, kind: GeometryKind, reject,  # type: ignore[no-untyped-def]
              repaired: dict[str, np.ndarray]) -> None:
    valid = np.ones(len(geoms), bool)
    valid[ok] = shapely.is_valid(geoms[ok])
    invalid = np.flatnonzero(ok & ~valid)
    if not len(invalid):
        return
    fixed_mask = np.zeros(len(geoms), bool)
    for reason_mask_key, idx in _repair(geoms, invalid, kind).items():
        mask = np.zeros(len(geoms), bool)
        mask[idx] = True
        if reason_mask_key.startswith("!"):
            reject(reason_mask_key[1:], mask)
        else:
            fixed_mask |= mask
    if fixed_mask.any():
        repaired["geometría inválida reparada sin cambiar su forma (anillos, orientación, "
                 "vértices repetidos)"] = fixed_mask


def _repair(geoms: np.ndarray, invalid: np.ndarray,
            kind: GeometryKind) -> dict[str, list[int]]:
    """Repair in place where the result keeps the meaning; '!reason' keys are rejections."""
    outcome: dict[str, list[int]] = {}
    for i in invalid:
        original = geoms[i]
        reason = shapely.is_valid_reason(original)
        fixed = shapely.make_valid(original, method="structure", keep_collapsed=False)
        fixed = _same_dimension(fixed, shapely.get_dimensions(original))
        same = fixed is not None and not fixed.is_empty and _same_size(original, fixed, kind)
        if same:
            geoms[i] = fixed
            outcome.setdefault("ok", []).append(i)
        else:
            outcome.setdefault(f"!geometría inválida que no se puede reparar sin cambiar su "
                               f"forma ({_spanish_reason(reason)})", []).append(i)
    return outcome


def _same_dimension(geom: shapely.Geometry, dim: int) -> shapely.Geometry | None:
    parts = [p for p in shapely.get_parts(geom) if shapely.get_dimensions(p) == dim]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else shapely.union_all(parts)


def _same_size(original: shapely.Geometry, fixed: shapely.Geometry, kind: GeometryKind) -> bool:
    if shapely.get_dimensions(original) == 2:
        before = abs(shapely.area(original))
        after = shapely.area(fixed)
        return before > 0 and abs(after - before) <= AREA_TOLERANCE * before
    if shapely.get_dimensions(original) == 1:
        before = shapely.length(original)
        return before > 0 and abs(shapely.length(fixed) - before) <= AREA_TOLERANCE * before
    return True


def _spanish_reason(reason: str) -> str:
    words = {"Self-intersection": "autointersección", "Ring Self-intersection":
             "autointersección de anillo", "Too few points": "muy pocos vértices",
             "Hole lies outside shell": "agujero fuera del polígono",
             "Nested shells": "polígonos anidados", "Interior is disconnected":
             "interior desconectado", "Invalid Coordinate": "coordenada no válida"}
    for en, es in words.items():
        if reason.startswith(en):
            return es + reason[len(en):]
    return reason


def _promote(geoms: np.ndarray, kind: GeometryKind) -> np.ndarray:
    """Single parts as multi-part, as the layer's column type requires."""
    target = {GeometryKind.MULTIPOLYGON: (POLYGON, shapely.multipolygons),
              GeometryKind.MULTILINESTRING: (LINESTRING, shapely.multilinestrings),
              GeometryKind.MULTIPOINT: (POINT, shapely.multipoints)}.get(kind)
    if target is None or not len(geoms):
        return geoms
    single, make_multi = target
    out = geoms.copy()
    is_single = shapely.get_type_id(geoms) == single
    if is_single.any():
        out[is_single] = make_multi(geoms[is_single], indices=np.arange(is_single.sum()))
    return out

"""Geometry checks on ingest: decode, type, finite coordinates, CRS, validity, area.

Repairs are made only when they keep the meaning (the area stays within 0.1 %); anything
else is rejected with the reason, by feature.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely
from pyproj import CRS

from gis.crs import to_storage, xy_to_storage
from gis.ingest.pgcopy import first_bytes
from gis.ingest.wkb import read_coordinates
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
SWAPPED_REASON = ("latitud y longitud invertidas: las coordenadas están como (latitud, "
                  "longitud) y deben ir como (longitud, latitud)")
MAX_VERTICES = 250_000
"""Most vertices accepted in one feature: far more than any zone, parcel or boundary of
the comuna needs, far fewer than a hostile or runaway geometry that would slow every tile,
validation and analysis that touches it."""
TOO_MANY_VERTICES_REASON = (f"más de {MAX_VERTICES:,} vértices en una sola entidad; "
                            "simplifíquela (p. ej. con una tolerancia de 0,1 m) o divídala"
                            ).replace(",", ".")
UNTRANSFORMABLE_REASON = ("coordenadas fuera del rango de su sistema de coordenadas (no se "
                          "pueden transformar al de la plataforma)")


@dataclass
class GeometryResult:
    geoms: np.ndarray
    """Storage-CRS geometries; None where rejected."""
    rejected: dict[str, np.ndarray]
    """Reason → boolean mask of rejected rows."""
    repaired: dict[str, np.ndarray]
    outside_km: float | None = None
    """Distance from the work area to the nearest feature outside it, if any."""
    wkb: np.ndarray | None = None
    """Storage WKB (bytes) of each geometry left as it was decoded; None elsewhere. Only
    without promotion."""


def check_geometries(wkb: np.ndarray | pa.Array, kind: GeometryKind, src_crs: CRS,
                     area: tuple[float, float, float, float],
                     work_area: shapely.Polygon, *, promote: bool = True) -> GeometryResult:
    """Decode WKB, check and repair, transform to the storage CRS.

    Values in the usual WKB form (see :mod:`gis.ingest.wkb`) are checked for finite
    coordinates and transformed before being decoded, straight in their bytes; the others
    are decoded first and go through GEOS. Both give the same coordinates.

    With ``promote`` false, single parts are left as they are, for :func:`encode_wkb` to
    promote them in the WKB, which is much cheaper than building new geometries; then
    ``GeometryResult.wkb`` holds the storage WKB of the geometries left as decoded.
    """
    values = _as_binary_array(wkb)
    n = len(values)
    rejected: dict[str, np.ndarray] = {}
    repaired: dict[str, np.ndarray] = {}
    ok = np.ones(n, bool)

    def reject(reason: str, mask: np.ndarray) -> None:
        mask = mask & ok
        if mask.any():
            rejected[reason] = mask
            ok[mask] = False

    coords = read_coordinates(values)
    fast = coords.read
    finite = np.isfinite(coords.x) & np.isfinite(coords.y)
    not_finite = np.zeros(n, bool)
    not_finite[coords.point_value[~finite]] = True
    coords.transform(lambda x, y: xy_to_storage(x, y, src_crs, area))
    raw = coords.values_with_coordinates()

    transformed = np.isfinite(coords.x) & np.isfinite(coords.y)
    untransformable = np.zeros(n, bool)
    untransformable[coords.point_value[finite & ~transformed]] = True

    geoms = _decode(raw, reject)
    reject("sin geometría (vacía o nula)", shapely.is_missing(geoms) | shapely.is_empty(geoms))
    reject(TOO_MANY_VERTICES_REASON, shapely.get_num_coordinates(geoms) > MAX_VERTICES)

    types = shapely.get_type_id(geoms)
    for type_id in np.unique(types[ok]):
        if type_id not in ACCEPTED[kind]:
            reject(f"tipo de geometría {TYPE_NAMES.get(int(type_id), type_id)}: la capa "
                   f"espera {KIND_WORDS[kind]}", types == type_id)

    slow = ok & ~fast  # still in the file's CRS, perhaps with Z
    if shapely.has_z(geoms[slow]).any():
        has_z = np.zeros(n, bool)
        has_z[slow] = shapely.has_z(geoms[slow])
        geoms[has_z] = shapely.force_2d(geoms[has_z])
        repaired["se descartó la coordenada Z (altura)"] = has_z

    not_finite[_non_finite(geoms, slow)] = True
    reject("coordenadas no finitas (NaN o infinito)", not_finite)

    slow &= ok
    geoms[slow] = to_storage(geoms[slow], src_crs, area)
    untransformable[_non_finite(geoms, slow)] = True
    untransformable &= ok

    # A bounding-box test: robust on invalid geometries, and the work area is a box.
    inside = np.zeros(n, bool)
    b = shapely.bounds(geoms[ok])
    wx0, wy0, wx1, wy1 = work_area.bounds
    inside[ok] = (b[:, 0] <= wx1) & (b[:, 2] >= wx0) & (b[:, 1] <= wy1) & (b[:, 3] >= wy0)
    outside = ok & ~inside & ~untransformable
    outside_km = (float(shapely.distance(work_area, geoms[outside]).min()) / 1000
                  if outside.any() else None)
    if src_crs.is_geographic and (outside | untransformable).any():
        reject(SWAPPED_REASON, _swapped(values, outside | untransformable, area))
    reject(UNTRANSFORMABLE_REASON, untransformable)
    reject(OUTSIDE_REASON, outside)

    _validate(geoms, ok, kind, reject, repaired)
    if promote:
        geoms[ok] = _promote(geoms[ok], kind)
    geoms[~ok] = None
    result = GeometryResult(geoms=geoms, rejected=rejected, repaired=repaired,
                            outside_km=outside_km)
    if not promote:
        unchanged = ok & fast
        for mask in repaired.values():
            unchanged &= ~mask
        result.wkb = np.full(n, None, dtype=object)
        result.wkb[unchanged] = raw[unchanged]
    return result


def _non_finite(geoms: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Indices of the geometries selected by ``mask`` with a non-finite coordinate."""
    points, index = shapely.get_coordinates(geoms[mask], return_index=True)
    return np.flatnonzero(mask)[np.unique(index[~np.isfinite(points).all(axis=1)])]


def _swapped(values: pa.Array, outside: np.ndarray,
             area: tuple[float, float, float, float]) -> np.ndarray:
    """Which features outside the work area fall inside it with longitude and latitude
    exchanged (a file in lon/lat written as lat/lon): decoded again from the file's WKB."""
    idx = np.flatnonzero(outside)
    original = shapely.from_wkb(values.take(pa.array(idx)).to_numpy(zero_copy_only=False),
                                on_invalid="ignore")
    x0, y0, x1, y1 = shapely.bounds(original).T
    west, south, east, north = area
    mask = np.zeros(len(outside), bool)
    mask[idx] = (y0 >= west) & (y1 <= east) & (x0 >= south) & (x1 <= north)
    return mask


def _as_binary_array(wkb: np.ndarray | pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(wkb, pa.ChunkedArray):
        wkb = wkb.combine_chunks()
    if isinstance(wkb, pa.ExtensionArray):
        wkb = wkb.storage
    if isinstance(wkb, pa.Array) and (pa.types.is_binary(wkb.type)
                                      or pa.types.is_large_binary(wkb.type)):
        return wkb
    return pa.array(np.asarray(wkb, dtype=object), pa.binary())


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


_MULTI_WKB = {GeometryKind.MULTIPOLYGON: (POLYGON, 6),
              GeometryKind.MULTILINESTRING: (LINESTRING, 5),
              GeometryKind.MULTIPOINT: (POINT, 4)}
"""Layer kind → (shapely type id of its single part, WKB type code of the multi type)."""
_WKB_CODES = np.array([1, 2, 2, 3, 4, 5, 6, 7], np.uint32)
"""WKB type code by shapely type id (a LinearRing is written as a LineString)."""
_EWKB_SRID_FLAG = 0x20000000
_BINARY = pa.large_binary()
_NOTHING = pa.scalar(b"", _BINARY)
_NO_END = 2**31 - 1
"""Explicit end for ``binary_slice``: without one, Arrow 26 fails on values of unequal
lengths ("Negative buffer resize")."""


def encode_wkb(geoms: np.ndarray, kind: GeometryKind, srid: int,
               wkb: np.ndarray | None = None) -> tuple[pa.Array, pa.Array]:
    """2D little-endian WKB of checked geometries (None gives null), single parts promoted
    to the layer's multi type; and the same as EWKB with ``srid``, as PostGIS reads it.

    A single part becomes a multi of one part by prefixing its WKB with the multi's header
    (byte order, type, 1 part). EWKB is WKB with a flag in the type and the SRID after it.
    ``wkb``: the WKB of some geometries already (see :attr:`GeometryResult.wkb`); GEOS
    writes the others.
    """
    n = len(geoms)
    if wkb is None:
        written = shapely.to_wkb(geoms, byte_order=1, output_dimension=2)
    else:
        written = wkb.copy()
        missing = np.flatnonzero(~wkb.astype(bool) & ~shapely.is_missing(geoms))
        if len(missing):
            written[missing] = shapely.to_wkb(geoms[missing], byte_order=1,
                                              output_dimension=2)
    wkb = pa.array(written, _BINARY)
    types = shapely.get_type_id(geoms)
    codes = _WKB_CODES[np.clip(types, 0, 7)]
    multi = _MULTI_WKB.get(kind)
    if multi is not None and (single := types == multi[0]).any():
        codes[single] = multi[1]
        header = np.zeros((n, 9), np.uint8)
        header[:, 0] = 1
        header[:, 1:5] = np.frombuffer(multi[1].to_bytes(4, "little"), np.uint8)
        header[:, 5:9] = np.frombuffer((1).to_bytes(4, "little"), np.uint8)
        wkb = pc.binary_join_element_wise(
            first_bytes(header, np.where(single, 9, 0)), wkb, _NOTHING)
    head = np.empty((n, 9), np.uint8)
    head[:, 0] = 1
    head[:, 1:5] = (codes | _EWKB_SRID_FLAG).astype("<u4").view(np.uint8).reshape(n, 4)
    head[:, 5:9] = np.frombuffer(srid.to_bytes(4, "little"), np.uint8)
    ewkb = pc.binary_join_element_wise(first_bytes(head, np.full(n, 9)),
                                       pc.binary_slice(wkb, 5, _NO_END), _NOTHING)
    return wkb, ewkb

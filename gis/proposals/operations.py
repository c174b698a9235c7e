"""The edits a zoning proposal is made of, applied to a working copy of the zoning.

A working copy is a GeoDataFrame of zones (one row per zone code, the zoning layer's
fields, geometry in the storage CRS). Each operation takes the copy and returns a new one,
or raises :class:`OperationError` saying, in Spanish, why it cannot be done. A proposal's
result is always recomputed by replaying its operations on a zoning version, which is
also how a proposal is rebased on a newer version.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from gis.errors import PlatformError
from layers.base import Field, FieldType
from layers.zoning import LAYER as ZONING

OPERATIONS = ("crear", "geometria", "normas", "dividir", "fusionar", "eliminar")
"""crear: new zone carved out of the zones under it; geometria: new shape of a zone;
normas: change norms; dividir: split along a line; fusionar: merge adjacent zones;
eliminar: delete a zone, its area going to a neighbour."""

NORM_FIELDS = tuple(f for f in ZONING.fields if f.name != "codigo")
MIN_SHARED_BORDER_M = 1.0
"""Zones sharing less border than this are not adjacent (for merges and deletions)."""


class OperationError(PlatformError):
    """An edit that cannot be applied to the zoning as it stands."""

    http_status = 422


@dataclass
class Operation:
    """One edit: its kind, the zones it names, norms, and a polygon or a split line."""

    op: str
    codigo: str | None = None
    codigos: list[str] = field(default_factory=list)
    normas: dict[str, Any] = field(default_factory=dict)
    geometria: BaseGeometry | None = None
    nuevo_codigo: str | None = None
    destino: str | None = None

    @property
    def zones(self) -> list[str]:
        """Every zone code this operation touches (for conflict detection)."""
        names = [c for c in (self.codigo, self.nuevo_codigo, self.destino) if c]
        return sorted(set(names + list(self.codigos)))

    def payload(self) -> dict[str, Any]:
        """The operation without its geometry, as stored (JSON)."""
        data: dict[str, Any] = {"op": self.op}
        for key in ("codigo", "nuevo_codigo", "destino"):
            if getattr(self, key):
                data[key] = getattr(self, key)
        if self.codigos:
            data["codigos"] = self.codigos
        if self.normas:
            data["normas"] = self.normas
        return data

    @classmethod
    def from_payload(cls, data: dict[str, Any], geometry: BaseGeometry | None) -> Operation:
        return cls(op=data["op"], codigo=data.get("codigo"), codigos=data.get("codigos", []),
                   normas=data.get("normas", {}), geometria=geometry,
                   nuevo_codigo=data.get("nuevo_codigo"), destino=data.get("destino"))


def check_operation(op: Operation) -> None:
    """The operation is well formed on its own (kind, codes, geometry types, norm values)."""
    if op.op not in OPERATIONS:
        raise OperationError(f"Operación «{op.op}» desconocida.",
                             hint="Operaciones: " + ", ".join(OPERATIONS) + ".")
    needs_code = op.op in ("crear", "geometria", "normas", "dividir", "eliminar")
    if needs_code and not op.codigo:
        raise OperationError(f"La operación «{op.op}» requiere el código de la zona.")
    if op.op in ("crear", "geometria"):
        _check_polygon(op.geometria)
    if op.op == "dividir":
        if op.geometria is None or op.geometria.geom_type != "LineString":
            raise OperationError("Para dividir una zona se necesita una línea de corte.",
                                 hint="Dibuje una línea que cruce la zona de lado a lado.")
        if not op.nuevo_codigo:
            raise OperationError("Indique el código de la nueva zona que resulta de dividir.")
    if op.op == "fusionar" and len(set(op.codigos)) < 2:
        raise OperationError("Para fusionar se necesitan al menos dos zonas distintas.")
    if op.op == "crear":
        missing = [f.title for f in NORM_FIELDS if f.required and f.name not in op.normas]
        if missing:
            raise OperationError("Faltan datos de la nueva zona: " + ", ".join(missing) + ".")
    if op.normas:
        check_norm_values(op.normas)


def _check_polygon(geom: BaseGeometry | None) -> None:
    if geom is None or geom.is_empty:
        raise OperationError("Falta el polígono de la zona.")
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise OperationError(f"Se esperaba un polígono y llegó {geom.geom_type}.")
    if not np.isfinite(shapely.get_coordinates(geom)).all():
        raise OperationError("El polígono tiene coordenadas no finitas.")
    if not geom.is_valid:
        reason = shapely.is_valid_reason(geom)
        raise OperationError(f"El polígono no es válido: {spanish_validity(reason)}.",
                             hint="Dibuje un polígono simple, sin cruces ni lazos.")


def spanish_validity(reason: str) -> str:
    """A GEOS validity reason (``Self-intersection[x y]``) in Spanish."""
    text = reason.split("[")[0].strip()
    known = {"Self-intersection": "se cruza a sí mismo",
             "Ring Self-intersection": "un anillo se cruza a sí mismo",
             "Too few points in geometry component": "tiene muy pocos vértices",
             "Interior is disconnected": "su interior está desconectado",
             "Hole lies outside shell": "un hueco queda fuera del contorno",
             "Nested shells": "tiene contornos anidados",
             "Duplicate Rings": "tiene anillos repetidos"}
    where = reason[len(text):].strip()
    return known.get(text, text) + (f" en {where}" if where else "")


def check_norm_values(norms: dict[str, Any]) -> None:
    """Each norm is a known field with a value of its type, code and range."""
    by_name = {f.name: f for f in NORM_FIELDS}
    problems = []
    for name, value in norms.items():
        fld = by_name.get(name)
        if fld is None:
            problems.append(f"«{name}» no es una norma de la zonificación")
            continue
        problem = _value_problem(fld, value)
        if problem:
            problems.append(f"{fld.title}: {problem}")
    if problems:
        raise OperationError("Normas no válidas: " + "; ".join(problems) + ".",
                             hint="Vea los rangos y códigos en /collections/zoning/queryables.")


def _value_problem(fld: Field, value: Any) -> str | None:
    if value is None:
        return "es obligatorio" if fld.required else None
    if fld.type is FieldType.TEXT_LIST:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return "debe ser una lista de códigos"
        unknown = [v for v in value if fld.choices and v not in fld.choices]
        return f"códigos desconocidos {', '.join(unknown)}" if unknown else None
    if fld.type is FieldType.TEXT:
        if not isinstance(value, str) or not value.strip():
            return "debe ser un texto no vacío"
        if fld.choices and value not in fld.choices:
            return f"«{value}» no es un código válido ({', '.join(fld.choices)})"
        return None
    if fld.type in (FieldType.FLOAT, FieldType.INTEGER):
        if isinstance(value, bool) or not isinstance(value, int | float) or \
                not np.isfinite(value):
            return "debe ser un número"
        if fld.type is FieldType.INTEGER and int(value) != value:
            return "debe ser un número entero"
        if fld.minimum is not None and value < fld.minimum:
            return f"{value} es menor que el mínimo {fld.minimum:g}"
        if fld.maximum is not None and value > fld.maximum:
            return f"{value} supera el máximo {fld.maximum:g}"
    return None


# -- applying ------------------------------------------------------------------------------

def apply_operation(zones: gpd.GeoDataFrame, op: Operation) -> gpd.GeoDataFrame:
    """``zones`` after ``op``; :class:`OperationError` if it cannot be applied to them."""
    check_operation(op)
    handler = {"crear": _create, "geometria": _reshape, "normas": _set_norms,
               "dividir": _split, "fusionar": _merge, "eliminar": _delete}[op.op]
    before = dict(zip(zones["codigo"], shapely.to_wkb(zones.geometry.values), strict=True))
    result = handler(zones.copy(), op)
    # Only the zones this operation reshaped are snapped to the millimetre and repaired:
    # the others stay exactly as they were.
    touched = np.array([before.get(c) != w for c, w in zip(
        result["codigo"], shapely.to_wkb(result.geometry.values), strict=True)], bool)
    if touched.any():
        fixed = shapely.make_valid(shapely.set_precision(result.geometry.values[touched], 0.001))
        geoms = result.geometry.values.copy()
        geoms[touched] = [_multipolygon(g) for g in fixed]
        result["geometry"] = geoms
    return result[~result.geometry.is_empty].reset_index(drop=True)


def _row(zones: gpd.GeoDataFrame, code: str | None) -> int:
    hits = np.flatnonzero((zones["codigo"] == code).to_numpy())
    if not len(hits):
        raise OperationError(f"La zona «{code}» no existe en la zonificación de la propuesta.",
                             hint="Revise el código (p. ej. ZH-1).")
    return int(hits[0])


def _create(zones: gpd.GeoDataFrame, op: Operation) -> gpd.GeoDataFrame:
    if (zones["codigo"] == op.codigo).any():
        raise OperationError(f"Ya existe una zona «{op.codigo}».",
                             hint="Use otro código para la zona nueva.")
    assert op.geometria is not None
    zones["geometry"] = zones.geometry.difference(op.geometria)
    new = {f.name: op.normas.get(f.name) for f in NORM_FIELDS}
    new["codigo"] = op.codigo
    row = gpd.GeoDataFrame([new], geometry=[op.geometria], crs=zones.crs)
    return gpd.GeoDataFrame(_concat(zones, row), crs=zones.crs)


def _reshape(zones: gpd.GeoDataFrame, op: Operation) -> gpd.GeoDataFrame:
    i = _row(zones, op.codigo)
    zones.loc[zones.index[i], "geometry"] = op.geometria
    return zones


def _set_norms(zones: gpd.GeoDataFrame, op: Operation) -> gpd.GeoDataFrame:
    i = _row(zones, op.codigo)
    for name, value in op.normas.items():
        zones.at[zones.index[i], name] = value
    return zones


def _split(zones: gpd.GeoDataFrame, op: Operation) -> gpd.GeoDataFrame:
    from shapely.ops import split

    i = _row(zones, op.codigo)
    if (zones["codigo"] == op.nuevo_codigo).any():
        raise OperationError(f"Ya existe una zona «{op.nuevo_codigo}».")
    zone = zones.geometry.iloc[i]
    assert op.geometria is not None
    parts = [p for p in split(zone, op.geometria).geoms if p.area > 1.0]
    if len(parts) <= len(shapely.get_parts(zone)):  # a multipart zone is not cut by itself
        raise OperationError(f"La línea de corte no atraviesa la zona «{op.codigo}».",
                             hint="La línea debe cruzar la zona de un borde a otro.")
    parts.sort(key=lambda p: -p.area)
    keep = shapely.union_all(parts[:1])
    rest = shapely.union_all(parts[1:])
    zones.loc[zones.index[i], "geometry"] = keep
    new = zones.iloc[[i]].copy()
    new["codigo"] = op.nuevo_codigo
    new["geometry"] = [rest]
    for name, value in op.normas.items():
        new[name] = [value]
    return gpd.GeoDataFrame(_concat(zones, new), crs=zones.crs)


def _merge(zones: gpd.GeoDataFrame, op: Operation) -> gpd.GeoDataFrame:
    rows = [_row(zones, c) for c in op.codigos]
    geoms = [zones.geometry.iloc[r] for r in rows]
    merged = geoms[0]
    pending = list(zip(op.codigos[1:], geoms[1:], strict=True))
    while pending:  # each zone must touch the union so far (any order)
        for k, (_code, g) in enumerate(pending):
            if _shared_border(merged, g) >= MIN_SHARED_BORDER_M:
                merged = merged.union(g)
                pending.pop(k)
                break
        else:
            codes = ", ".join(c for c, _ in pending)
            raise OperationError(f"No se pueden fusionar zonas que no son contiguas: {codes} "
                                 "no comparte(n) borde con las demás.",
                                 hint="Elija zonas vecinas.")
    target = op.codigo or op.codigos[0]
    keep = rows[0]
    zones.loc[zones.index[keep], "geometry"] = merged
    zones.loc[zones.index[keep], "codigo"] = target
    for name, value in op.normas.items():
        zones.at[zones.index[keep], name] = value
    return zones.drop(index=[zones.index[r] for r in rows[1:]])


def _delete(zones: gpd.GeoDataFrame, op: Operation) -> gpd.GeoDataFrame:
    i = _row(zones, op.codigo)
    zone = zones.geometry.iloc[i]
    others = zones.drop(index=zones.index[i])
    if op.destino:
        j = _row(others, op.destino)
        if _shared_border(zone, others.geometry.iloc[j]) < MIN_SHARED_BORDER_M:
            raise OperationError(f"La zona «{op.destino}» no es vecina de «{op.codigo}»: "
                                 "no puede recibir su superficie.")
    else:
        borders = [_shared_border(zone, g) for g in others.geometry]
        if not borders or max(borders) < MIN_SHARED_BORDER_M:
            raise OperationError(f"La zona «{op.codigo}» no tiene vecinas que reciban su "
                                 "superficie.", hint="Redibuje las zonas vecinas primero.")
        j = int(np.argmax(borders))
    others.loc[others.index[j], "geometry"] = others.geometry.iloc[j].union(zone)
    return others


def _shared_border(a: BaseGeometry, b: BaseGeometry) -> float:
    return float(a.boundary.intersection(b.boundary.buffer(0.05)).length) \
        if a.distance(b) < 0.05 else 0.0


def _multipolygon(g: BaseGeometry) -> BaseGeometry:
    if g.geom_type == "Polygon":
        return shapely.MultiPolygon([g])
    if g.geom_type == "GeometryCollection":
        polys = [p for p in shapely.get_parts(g) if p.geom_type in ("Polygon", "MultiPolygon")]
        return _multipolygon(shapely.union_all(polys)) if polys else shapely.MultiPolygon()
    return g


def _concat(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    import pandas as pd

    return pd.concat([a, b], ignore_index=True)


def replay(base: gpd.GeoDataFrame, operations: list[Operation]) -> gpd.GeoDataFrame:
    """The zoning that results from ``operations`` applied in order to ``base``."""
    zones = base
    for n, op in enumerate(operations, start=1):
        try:
            zones = apply_operation(zones, op)
        except OperationError as exc:
            raise OperationError(f"Cambio {n} ({op.op}): {exc.message}", hint=exc.hint) \
                from None
    return zones

"""CQL2 filters (OGC API - Features Part 3) compiled to PostGIS SQL with bound parameters.

pygeofilter parses CQL2 text and CQL2 JSON into an AST; this module walks that AST and
builds a :class:`psycopg.sql.Composed` whose identifiers come only from the layer's
declared fields and whose values are all ``%s`` parameters. Nothing a user types reaches
the database as SQL text.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from psycopg import sql
from pygeofilter import ast, values
from pyproj import CRS

from gis.errors import PlatformError
from layers.base import FieldType, VectorLayer

FILTER_LANGS = ("cql2-text", "cql2-json")


class FilterError(PlatformError):
    """A filter that cannot be parsed or names something the layer does not have."""

    http_status = 400


@dataclass
class CompiledFilter:
    where: sql.Composable
    params: list[Any] = field(default_factory=list)


def parse_filter(text: str | dict[str, Any], lang: str = "cql2-text") -> ast.Node:
    """The AST of a CQL2 filter; :class:`FilterError` with the position if malformed."""
    from lark.exceptions import LarkError

    if lang not in FILTER_LANGS:
        raise FilterError(f"Lenguaje de filtro «{lang}» no soportado.",
                          hint=f"Use filter-lang={' o '.join(FILTER_LANGS)}.")
    try:
        if lang == "cql2-json":
            from pygeofilter.parsers.cql2_json import parse as parse_json

            doc = json.loads(text) if isinstance(text, str) else text
            return parse_json(doc)
        from pygeofilter.parsers.cql2_text import parse as parse_text

        return parse_text(text)
    except LarkError as exc:
        where = ""
        line, column = getattr(exc, "line", None), getattr(exc, "column", None)
        if column is not None:
            where = f" (columna {column}{'' if line in (None, 1) else f', línea {line}'})"
        raise FilterError(f"Filtro CQL2 mal formado{where}.",
                          hint="Ejemplo: familia = 'residencial' AND altura_maxima > 10") \
            from None
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
        raise FilterError("Filtro CQL2 JSON mal formado.",
                          hint=f"Detalle: {type(exc).__name__}. Ejemplo: "
                          '{"op": "=", "args": [{"property": "familia"}, "residencial"]}') \
            from None


_COMPARISON = {
    ast.ComparisonOp.EQ: "=", ast.ComparisonOp.NE: "<>", ast.ComparisonOp.LT: "<",
    ast.ComparisonOp.LE: "<=", ast.ComparisonOp.GT: ">", ast.ComparisonOp.GE: ">=",
}
_SPATIAL = {
    ast.SpatialComparisonOp.INTERSECTS: "ST_Intersects",
    ast.SpatialComparisonOp.DISJOINT: "ST_Disjoint",
    ast.SpatialComparisonOp.CONTAINS: "ST_Contains",
    ast.SpatialComparisonOp.WITHIN: "ST_Within",
    ast.SpatialComparisonOp.TOUCHES: "ST_Touches",
    ast.SpatialComparisonOp.CROSSES: "ST_Crosses",
    ast.SpatialComparisonOp.OVERLAPS: "ST_Overlaps",
    ast.SpatialComparisonOp.EQUALS: "ST_Equals",
}
_ARITHMETIC = {ast.ArithmeticOp.ADD: "+", ast.ArithmeticOp.SUB: "-",
               ast.ArithmeticOp.MUL: "*", ast.ArithmeticOp.DIV: "/"}
_FUNCTIONS = {"lower": "lower", "upper": "upper", "casei": "lower", "accenti": "unaccent"}
GEOMETRY_PROPERTY = "geom"
_GEOMETRY_ALIASES = ("geom", "geometry", "geometria")


class _Compiler:
    def __init__(self, layer: VectorLayer, filter_srid: int, storage_srid: int,
                 flip_axes: bool) -> None:
        self.layer = layer
        self.filter_srid = filter_srid
        self.storage_srid = storage_srid
        self.flip_axes = flip_axes
        self.params: list[Any] = []
        self.fields = {f.name: f for f in layer.fields}

    def value(self, v: Any) -> sql.Composable:
        self.params.append(v)
        return sql.SQL("%s")

    def compile(self, node: Any) -> sql.Composable:
        handler: Callable[[Any], sql.Composable] | None = getattr(
            self, f"_{type(node).__name__}", None)
        if handler is not None:
            return handler(node)
        if isinstance(node, ast.Comparison):
            return self._comparison(node)
        if isinstance(node, ast.SpatialComparisonPredicate):
            return self._spatial(node)
        if isinstance(node, ast.Arithmetic):
            return sql.SQL("({} {} {})").format(self.compile(node.lhs),
                                               sql.SQL(_ARITHMETIC[node.op]),
                                               self.compile(node.rhs))
        if isinstance(node, bool | int | float | str):
            return self.value(node)
        if isinstance(node, datetime | date):
            return self.value(node)
        if isinstance(node, values.Geometry | values.Envelope):
            return self._geometry_literal(node)
        raise FilterError(f"El filtro usa una operación no soportada: {_name(node)}.",
                          hint="Se admiten comparaciones, LIKE, IN, BETWEEN, IS NULL, AND/OR/"
                          "NOT, aritmética y predicados espaciales S_INTERSECTS, S_WITHIN...")

    # -- logic -----------------------------------------------------------------------
    def _And(self, node: ast.And) -> sql.Composable:
        return sql.SQL("({} AND {})").format(self.compile(node.lhs), self.compile(node.rhs))

    def _Or(self, node: ast.Or) -> sql.Composable:
        return sql.SQL("({} OR {})").format(self.compile(node.lhs), self.compile(node.rhs))

    def _Not(self, node: ast.Not) -> sql.Composable:
        return sql.SQL("(NOT {})").format(self.compile(node.sub_node))

    def _Include(self, node: ast.Include) -> sql.Composable:
        return sql.SQL("FALSE" if node.not_ else "TRUE")

    # -- scalar predicates -----------------------------------------------------------
    def _comparison(self, node: ast.Comparison) -> sql.Composable:
        self._check_scalar(node.lhs)
        self._check_scalar(node.rhs)
        return sql.SQL("({} {} {})").format(self.compile(node.lhs),
                                           sql.SQL(_COMPARISON[node.op]),
                                           self.compile(node.rhs))

    def _Between(self, node: ast.Between) -> sql.Composable:
        self._check_scalar(node.lhs)
        return sql.SQL("({} {}BETWEEN {} AND {})").format(
            self.compile(node.lhs), sql.SQL("NOT " if node.not_ else ""),
            self.compile(node.low), self.compile(node.high))

    def _Like(self, node: ast.Like) -> sql.Composable:
        self._check_scalar(node.lhs)
        pattern = node.pattern
        if isinstance(pattern, str):
            # CQL2 wildcards are % and _ like SQL's; only the escape character differs.
            rhs = self.value(pattern)
        else:
            rhs = self.compile(pattern)
        op = ("NOT " if node.not_ else "") + ("ILIKE" if node.nocase else "LIKE")
        return sql.SQL("({}::text {} {})").format(self.compile(node.lhs), sql.SQL(op), rhs)

    def _In(self, node: ast.In) -> sql.Composable:
        self._check_scalar(node.lhs)
        items = [self.compile(v) for v in node.sub_nodes]
        if not items:
            return sql.SQL("FALSE" if not node.not_ else "TRUE")
        return sql.SQL("({} {}IN ({}))").format(self.compile(node.lhs),
                                               sql.SQL("NOT " if node.not_ else ""),
                                               sql.SQL(", ").join(items))

    def _IsNull(self, node: ast.IsNull) -> sql.Composable:
        return sql.SQL("({} IS {}NULL)").format(self.compile(node.lhs),
                                               sql.SQL("NOT " if node.not_ else ""))

    def _Function(self, node: ast.Function) -> sql.Composable:
        name = node.name.lower()
        if name not in _FUNCTIONS or len(node.arguments) != 1:
            raise FilterError(f"Función «{node.name}» no soportada en el filtro.",
                              hint="Funciones disponibles: casei, lower, upper.")
        return sql.SQL("{}({}::text)").format(sql.SQL(_FUNCTIONS[name]),
                                             self.compile(node.arguments[0]))

    def _Attribute(self, node: ast.Attribute) -> sql.Composable:
        name = node.name
        if name in _GEOMETRY_ALIASES:
            return sql.Identifier(GEOMETRY_PROPERTY)
        if name == "fid" or name == "id":
            return sql.Identifier("fid")
        if name not in self.fields:
            raise FilterError(
                f"La capa «{self.layer.name}» no tiene la propiedad «{name}».",
                hint="Propiedades consultables: " + ", ".join(self.fields)
                + f" (ver /collections/{self.layer.name}/queryables).")
        return sql.Identifier(name)

    def _check_scalar(self, node: Any) -> None:
        if isinstance(node, ast.Attribute) and node.name in self.fields and \
                self.fields[node.name].type is FieldType.TEXT_LIST:
            raise FilterError(
                f"«{node.name}» es una lista de códigos; no se compara como un valor simple.",
                hint=f"Use LIKE sobre el texto, p. ej. {node.name} LIKE '%residencial%'.")

    # -- spatial ---------------------------------------------------------------------
    def _spatial(self, node: ast.SpatialComparisonPredicate) -> sql.Composable:
        return sql.SQL("{}({}, {})").format(sql.SQL(_SPATIAL[node.op]),
                                           self._geometry_operand(node.lhs),
                                           self._geometry_operand(node.rhs))

    def _BBox(self, node: ast.BBox) -> sql.Composable:
        env = values.Envelope(node.minx, node.maxx, node.miny, node.maxy)
        return sql.SQL("ST_Intersects({}, {})").format(self._geometry_operand(node.lhs),
                                                       self._geometry_literal(env))

    def _DistanceWithin(self, node: ast.DistanceWithin) -> sql.Composable:
        return sql.SQL("ST_DWithin({}, {}, {})").format(
            self._geometry_operand(node.lhs), self._geometry_operand(node.rhs),
            self.value(_metres(node.distance, node.units)))

    def _DistanceBeyond(self, node: ast.DistanceBeyond) -> sql.Composable:
        return sql.SQL("(NOT ST_DWithin({}, {}, {}))").format(
            self._geometry_operand(node.lhs), self._geometry_operand(node.rhs),
            self.value(_metres(node.distance, node.units)))

    def _geometry_operand(self, node: Any) -> sql.Composable:
        if isinstance(node, ast.Attribute):
            if node.name not in _GEOMETRY_ALIASES:
                raise FilterError(
                    f"«{node.name}» no es una geometría: los predicados espaciales se "
                    "aplican a la propiedad «geom».",
                    hint="Ejemplo: S_INTERSECTS(geom, POINT(-71.61 -33.59))")
            return sql.Identifier(GEOMETRY_PROPERTY)
        if isinstance(node, values.Geometry | values.Envelope):
            return self._geometry_literal(node)
        raise FilterError("Operando espacial no válido en el filtro.",
                          hint="Use la propiedad geom y una geometría WKT o GeoJSON.")

    def _geometry_literal(self, node: values.Geometry | values.Envelope) -> sql.Composable:
        if isinstance(node, values.Envelope):
            geojson: dict[str, Any] = node.geometry
        else:
            geojson = node.geometry
        geojson = _coords_checked(geojson)
        geom = sql.SQL("ST_SetSRID(ST_GeomFromGeoJSON({}), {})").format(
            self.value(json.dumps(geojson)), self.value(self.filter_srid))
        if self.flip_axes:
            geom = sql.SQL("ST_FlipCoordinates({})").format(geom)
        return sql.SQL("ST_Transform({}, {})").format(geom, self.value(self.storage_srid))


def compile_filter(node: ast.Node, layer: VectorLayer, *, filter_crs: CRS,
                   storage_srid: int, flip_axes: bool = False) -> CompiledFilter:
    """SQL for ``node`` over ``layer``'s table; spatial literals are in ``filter_crs``."""
    epsg = filter_crs.to_epsg()
    if epsg is None:
        raise FilterError("filter-crs no tiene código EPSG.", hint="Use un CRS EPSG.")
    compiler = _Compiler(layer, epsg, storage_srid, flip_axes)
    try:
        where = compiler.compile(node)
    except RecursionError:
        raise FilterError("Filtro demasiado anidado.",
                          hint="Simplifique el filtro (menos de 200 niveles).") from None
    return CompiledFilter(where, compiler.params)


def _coords_checked(geojson: dict[str, Any]) -> dict[str, Any]:
    def walk(c: Any) -> None:
        if isinstance(c, list | tuple):
            if c and all(isinstance(x, int | float) for x in c):
                if any(x != x or x in (float("inf"), float("-inf")) for x in c):
                    raise FilterError("La geometría del filtro tiene coordenadas no finitas.")
            else:
                for x in c:
                    walk(x)

    walk(geojson.get("coordinates", []))
    return geojson


def _metres(distance: float, units: str) -> float:
    factors = {"meters": 1.0, "metres": 1.0, "m": 1.0, "kilometers": 1000.0, "km": 1000.0}
    if units not in factors:
        raise FilterError(f"Unidad de distancia «{units}» no soportada.",
                          hint="Use meters o kilometers.")
    return float(distance) * factors[units]


def _name(node: Any) -> str:
    return type(node).__name__

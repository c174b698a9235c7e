"""CQL2 filters (OGC API - Features Part 3) compiled to PostGIS SQL with bound parameters.

pygeofilter parses CQL2 text and CQL2 JSON into an AST; this module walks that AST and
builds a :class:`psycopg.sql.Composed` whose identifiers come only from the layer's
declared fields and whose values are all ``%s`` parameters. Nothing a user types reaches
the database as SQL text.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import shapely
from psycopg import sql
from pygeofilter import ast, values
from pyproj import CRS

from gis.errors import PlatformError
from layers.base import FieldType, VectorLayer

FILTER_LANGS = ("cql2-text", "cql2-json")
MAX_FILTER_CHARS = 32_000
"""Longest filter text accepted (a polygon of about a thousand vertices fits)."""


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
        raise FilterError(f"Lenguaje de filtro «{lang[:40]}» no soportado.",
                          hint=f"Use filter-lang={' o '.join(FILTER_LANGS)}.")
    if isinstance(text, str) and len(text) > MAX_FILTER_CHARS:
        raise FilterError(f"El filtro tiene {len(text):,} caracteres; el máximo es "
                          f"{MAX_FILTER_CHARS:,}.".replace(",", "."),
                          hint="Acorte el filtro: use bbox para el área o una geometría "
                          "con menos vértices.")
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
        if lang == "cql2-text":
            raise FilterError("Filtro CQL2 mal formado.",
                              hint="Ejemplo: familia = 'residencial' AND altura_maxima > 10") \
                from None
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
_FUNCTIONS = ("lower", "upper", "casei", "accenti")
_ACCENTED = "áéíóúüñàèìòùâêîôûäëïöçÁÉÍÓÚÜÑÀÈÌÒÙÂÊÎÔÛÄËÏÖÇ"
_PLAIN = "aeiouunaeiouaeiouaeiocAEIOUUNAEIOUAEIOUAEIOC"
"""``accenti``: accents folded with ``translate`` (no ``unaccent`` extension needed)."""
GEOMETRY_PROPERTY = "geom"
_GEOMETRY_ALIASES = ("geom", "geometry", "geometria")

# Kinds of value a filter compares, to refuse mixtures PostgreSQL would fail on.
TEXT, NUMBER, DATE, BOOLEAN, GEOMETRY, LIST = (
    "texto", "número", "fecha", "verdadero/falso", "geometría", "lista")
_FIELD_KINDS = {FieldType.TEXT: TEXT, FieldType.INTEGER: NUMBER, FieldType.FLOAT: NUMBER,
                FieldType.DATE: DATE, FieldType.BOOLEAN: BOOLEAN, FieldType.TEXT_LIST: LIST}
_TYPES_HINT = ("Los textos van entre comillas simples ('residencial'), los números sin "
               "comillas (10.5), las fechas como DATE('2024-01-31') y las geometrías se "
               "comparan con S_INTERSECTS, S_EQUALS...")
GEOJSON_TYPES = ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon",
                 "MultiPolygon", "GeometryCollection")
GEOGRAPHIC_SRIDS = (4326,)
PROJECTED_LIMIT = 1e9
"""Largest absolute coordinate (metres) of a literal in a projected filter CRS."""


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
            for operand in (node.lhs, node.rhs):
                if self.kind(operand) not in (NUMBER, None):
                    raise FilterError(
                        f"La aritmética (+ - * /) solo se aplica a números; {_show(operand)} "
                        f"es {self.kind(operand)}.", hint=_TYPES_HINT)
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

    # -- kinds of value --------------------------------------------------------------
    def kind(self, node: Any) -> str | None:
        """What ``node`` evaluates to (:data:`TEXT`, :data:`NUMBER`...); None if unknown."""
        if isinstance(node, ast.Attribute):
            if node.name in _GEOMETRY_ALIASES:
                return GEOMETRY
            if node.name in ("fid", "id"):
                return NUMBER
            fld = self.fields.get(node.name)
            return _FIELD_KINDS.get(fld.type) if fld else None
        if isinstance(node, bool):
            return BOOLEAN
        if isinstance(node, int | float | ast.Arithmetic):
            return NUMBER
        if isinstance(node, ast.Function):
            _function_name(node)
            return TEXT
        if isinstance(node, str):
            return TEXT
        if isinstance(node, datetime | date):
            return DATE
        if isinstance(node, values.Geometry | values.Envelope):
            return GEOMETRY
        return None

    def comparable(self, lhs: Any, rhs: Any) -> tuple[Any, Any]:
        """``lhs`` and ``rhs`` fit to be compared (a text literal read as a date against
        a date); :class:`FilterError` when PostgreSQL could not compare them."""
        left, right = self.kind(lhs), self.kind(rhs)
        for node, kind in ((lhs, left), (rhs, right)):
            if kind == GEOMETRY:
                raise FilterError(f"{_show(node)} es una geometría: no se compara con = < >.",
                                  hint="Use un predicado espacial, p. ej. "
                                  "S_INTERSECTS(geom, POINT(-71.61 -33.59)).")
        if left is None or right is None or left == right:
            return lhs, rhs
        if {left, right} == {DATE, TEXT}:
            if right == TEXT and isinstance(rhs, str):
                return lhs, _as_date(rhs)
            if left == TEXT and isinstance(lhs, str):
                return _as_date(lhs), rhs
        raise FilterError(f"No se puede comparar {_show(lhs)} ({left}) con {_show(rhs)} "
                          f"({right}).", hint=_TYPES_HINT)

    # -- scalar predicates -----------------------------------------------------------
    def _comparison(self, node: ast.Comparison) -> sql.Composable:
        self._check_scalar(node.lhs)
        self._check_scalar(node.rhs)
        lhs, rhs = self.comparable(node.lhs, node.rhs)
        return sql.SQL("({} {} {})").format(self.compile(lhs),
                                           sql.SQL(_COMPARISON[node.op]),
                                           self.compile(rhs))

    def _Between(self, node: ast.Between) -> sql.Composable:
        self._check_scalar(node.lhs)
        _, low = self.comparable(node.lhs, node.low)
        _, high = self.comparable(node.lhs, node.high)
        return sql.SQL("({} {}BETWEEN {} AND {})").format(
            self.compile(node.lhs), sql.SQL("NOT " if node.not_ else ""),
            self.compile(low), self.compile(high))

    def _Like(self, node: ast.Like) -> sql.Composable:
        self._check_scalar(node.lhs)
        pattern = node.pattern
        if self.kind(pattern) not in (TEXT, None):
            raise FilterError(f"El patrón de LIKE debe ser un texto entre comillas, no "
                              f"{_show(pattern)}.", hint="Ejemplo: nombre LIKE '%Llolleo%'")
        if isinstance(pattern, str):
            # CQL2 wildcards are % and _ like SQL's; only the escape character differs.
            rhs = self.value(pattern)
        else:
            rhs = self.compile(pattern)
        op = ("NOT " if node.not_ else "") + ("ILIKE" if node.nocase else "LIKE")
        return sql.SQL("({}::text {} {})").format(self.compile(node.lhs), sql.SQL(op), rhs)

    def _In(self, node: ast.In) -> sql.Composable:
        self._check_scalar(node.lhs)
        items = [self.compile(self.comparable(node.lhs, v)[1]) for v in node.sub_nodes]
        if not items:
            return sql.SQL("FALSE" if not node.not_ else "TRUE")
        return sql.SQL("({} {}IN ({}))").format(self.compile(node.lhs),
                                               sql.SQL("NOT " if node.not_ else ""),
                                               sql.SQL(", ").join(items))

    def _IsNull(self, node: ast.IsNull) -> sql.Composable:
        return sql.SQL("({} IS {}NULL)").format(self.compile(node.lhs),
                                               sql.SQL("NOT " if node.not_ else ""))

    def _Function(self, node: ast.Function) -> sql.Composable:
        name = _function_name(node)
        argument = node.arguments[0]
        if self.kind(argument) in (GEOMETRY, LIST):
            raise FilterError(f"{name}() se aplica a un texto, no a {_show(argument)}.",
                              hint="Ejemplo: casei(nombre) = casei('Llolleo')")
        arg = sql.SQL("{}::text").format(self.compile(argument))
        if name == "accenti":
            return sql.SQL("translate({}, {}, {})").format(arg, sql.Literal(_ACCENTED),
                                                           sql.Literal(_PLAIN))
        return sql.SQL("{}({})").format(sql.SQL("upper" if name == "upper" else "lower"), arg)

    def _Attribute(self, node: ast.Attribute) -> sql.Composable:
        name = node.name
        if name in _GEOMETRY_ALIASES:
            return sql.Identifier(GEOMETRY_PROPERTY)
        if name == "fid" or name == "id":
            return sql.Identifier("fid")
        if name not in self.fields:
            raise FilterError(
                f"La capa «{self.layer.name}» no tiene la propiedad «{name[:60]}».",
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
                    f"«{node.name[:60]}» no es una geometría: los predicados espaciales se "
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
        geojson = _geometry_checked(geojson, self.filter_srid, self.flip_axes)
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


def _geometry_checked(geojson: Any, srid: int, lat_first: bool) -> dict[str, Any]:
    """``geojson`` if it is a geometry PostGIS can read, with finite coordinates inside the
    valid range of ``srid``; :class:`FilterError` (in Spanish) otherwise."""
    if not isinstance(geojson, dict) or geojson.get("type") not in GEOJSON_TYPES:
        kind = geojson.get("type") if isinstance(geojson, dict) else type(geojson).__name__
        raise FilterError(f"Geometría del filtro no válida: tipo «{str(kind)[:40]}».",
                          hint="Tipos: " + ", ".join(GEOJSON_TYPES) + ".")
    if geojson["type"] == "GeometryCollection":
        parts = geojson.get("geometries")
        if not isinstance(parts, list | tuple) or not parts:
            raise FilterError("La colección de geometrías del filtro está vacía.")
        for part in parts:
            _geometry_checked(part, srid, lat_first)
        return geojson
    _positions_checked(geojson.get("coordinates"), srid, lat_first, 0)
    try:
        shapely.from_geojson(json.dumps(geojson))
    except (shapely.errors.GEOSException, ValueError, TypeError) as exc:
        raise FilterError(f"Geometría {geojson['type']} del filtro mal formada.",
                          hint="Revise que cada anillo de un polígono se cierre y tenga al "
                          f"menos cuatro puntos. Detalle: {str(exc)[:120]}") from None
    return geojson


def _positions_checked(coords: Any, srid: int, lat_first: bool, depth: int) -> None:
    if not isinstance(coords, list | tuple) or not coords or depth > 4:
        raise FilterError("Coordenadas de la geometría del filtro mal formadas.",
                          hint="Cada posición es una lista de 2 números: [x, y].")
    if not all(isinstance(c, int | float) and not isinstance(c, bool) for c in coords):
        for c in coords:
            _positions_checked(c, srid, lat_first, depth + 1)
        return
    if len(coords) not in (2, 3, 4) or not all(math.isfinite(c) for c in coords):
        raise FilterError("La geometría del filtro tiene coordenadas no finitas o "
                          "posiciones que no son [x, y].")
    x, y = (coords[1], coords[0]) if lat_first else (coords[0], coords[1])
    if srid in GEOGRAPHIC_SRIDS:
        if not (-180 <= x <= 180 and -90 <= y <= 90):
            raise FilterError(f"Coordenada fuera del mundo en el filtro: {x}, {y}.",
                              hint="Longitudes entre -180 y 180, latitudes entre -90 y 90; "
                              "revise el orden de los ejes y filter-crs.")
    elif abs(x) > PROJECTED_LIMIT or abs(y) > PROJECTED_LIMIT:
        raise FilterError(f"Coordenada fuera de rango en el filtro: {x}, {y}.",
                          hint="Use metros del sistema indicado en filter-crs.")


def _as_date(text: str) -> date | datetime:
    """A text literal compared with a date: ``2024-01-31`` or an RFC 3339 instant."""
    try:
        if len(text) <= 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise FilterError(f"«{text[:40]}» no es una fecha.",
                          hint="Use AAAA-MM-DD, p. ej. fecha_inicio > DATE('2024-01-31').") \
            from None


def _function_name(node: ast.Function) -> str:
    """The name of a supported function of one argument; :class:`FilterError` if not."""
    name = str(node.name).lower()
    if name not in _FUNCTIONS or len(node.arguments) != 1:
        raise FilterError(f"Función «{str(node.name)[:60]}» no soportada en el filtro.",
                          hint="Funciones disponibles: " + ", ".join(_FUNCTIONS)
                          + ", con un argumento.")
    return name


def _show(node: Any) -> str:
    """How a filter operand is named in a message."""
    if isinstance(node, ast.Attribute):
        return f"«{str(node.name)[:60]}»"
    if isinstance(node, str):
        return f"'{node[:40]}'"
    if isinstance(node, ast.Function):
        return f"{str(node.name)[:40]}(...)"
    if isinstance(node, ast.Arithmetic):
        return "una operación aritmética"
    if isinstance(node, values.Geometry | values.Envelope):
        return "una geometría"
    return str(node)[:40]


def _metres(distance: float, units: str) -> float:
    factors = {"meters": 1.0, "metres": 1.0, "m": 1.0, "kilometers": 1000.0, "km": 1000.0}
    if units not in factors:
        raise FilterError(f"Unidad de distancia «{units}» no soportada.",
                          hint="Use meters o kilometers.")
    return float(distance) * factors[units]


def _name(node: Any) -> str:
    return type(node).__name__

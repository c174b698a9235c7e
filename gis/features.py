"""Feature queries for OGC API - Features: bbox, CQL2 filter, properties, sortby, CRS,
paging and "as of" dates, built as SQL from the layer registry with bound parameters.

GeoJSON is assembled by PostGIS (one JSON text per feature), so a page of features
never goes through Python objects.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

import psycopg
from psycopg import sql
from pyproj import CRS, Transformer

from gis.cql import CompiledFilter, compile_filter, parse_filter
from gis.errors import NotFoundError, PlatformError
from gis.schema import HISTORY_SCHEMA, LAYERS_SCHEMA
from layers.base import STORAGE_SRID, FieldType, VectorLayer

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/{}"
SUPPORTED_EPSG = (4326, 3857, STORAGE_SRID, 5361)
"""Output CRSs besides CRS84: WGS 84 (lat/lon), Web Mercator, storage, SIRGAS-Chile UTM 19S."""
SUPPORTED_CRS = (CRS84, *(EPSG_URI.format(c) for c in SUPPORTED_EPSG))

DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000


class QueryError(PlatformError):
    """A request parameter that is malformed or names something that does not exist."""

    http_status = 400


@dataclass(frozen=True)
class OutputCRS:
    """A CRS of the API: its URI, EPSG code, and whether its first axis is latitude."""

    uri: str
    epsg: int
    lat_first: bool

    @property
    def digits(self) -> int:
        """Decimals that keep 1 mm: 8 for degrees, 3 for metres."""
        return 8 if self.epsg == 4326 else 3


@lru_cache(maxsize=16)
def output_crs(uri: str | None) -> OutputCRS:
    """Parse a CRS URI of Part 2; CRS84 when ``uri`` is None. :class:`QueryError` if not
    one of :data:`SUPPORTED_CRS`."""
    if uri is None or uri.strip() in (CRS84, "CRS84", "OGC:CRS84"):
        return OutputCRS(CRS84, 4326, False)
    text = uri.strip()
    if text.startswith("[") and text.endswith("]"):  # safe CURIE [EPSG:4326]
        text = text[1:-1]
    epsg: int | None = None
    prefix = EPSG_URI.format("")
    if text.startswith(prefix) and text[len(prefix):].isdigit():
        epsg = int(text[len(prefix):])
    elif text.upper().startswith("EPSG:") and text[5:].isdigit():
        epsg = int(text[5:])
    if epsg not in SUPPORTED_EPSG:
        raise QueryError(f"Sistema de coordenadas no soportado: «{uri[:200]}».",
                         hint="Use uno de: " + ", ".join(SUPPORTED_CRS))
    assert epsg is not None
    axis = CRS.from_epsg(epsg).axis_info[0].direction.lower()
    return OutputCRS(EPSG_URI.format(epsg), epsg, axis in ("north", "south"))


def parse_bbox(text: str, crs: OutputCRS) -> tuple[float, float, float, float]:
    """A ``bbox`` parameter (4 or 6 numbers, in ``crs`` axis order) as a storage-CRS box."""
    parts = text.split(",")
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        raise QueryError(f"bbox mal formado: «{text[:200]}».",
                         hint="Use cuatro números separados por comas: "
                         "minlon,minlat,maxlon,maxlat (p. ej. -71.65,-33.65,-71.55,-33.55)."
                         ) from None
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4 or not all(math.isfinite(n) for n in numbers):
        raise QueryError(f"bbox debe tener 4 (o 6) números finitos; llegaron {len(parts)}.",
                         hint="minlon,minlat,maxlon,maxlat")
    if crs.lat_first:
        numbers = [numbers[1], numbers[0], numbers[3], numbers[2]]
    minx, miny, maxx, maxy = numbers
    if minx > maxx or miny > maxy:
        raise QueryError("bbox con mínimo mayor que máximo.",
                         hint="El orden es mínimo x, mínimo y, máximo x, máximo y.")
    if crs.epsg == 4326 and (minx < -180 or maxx > 180 or miny < -90 or maxy > 90):
        raise QueryError("bbox fuera del mundo: longitudes entre -180 y 180, latitudes "
                         "entre -90 y 90.", hint="Revise el orden de los ejes y bbox-crs.")
    if crs.epsg == STORAGE_SRID:
        return minx, miny, maxx, maxy
    transformer = _to_storage(crs.epsg)
    bounds = transformer.transform_bounds(minx, miny, maxx, maxy, densify_pts=21)
    if not all(math.isfinite(b) for b in bounds):
        raise QueryError("bbox no se puede llevar al sistema de la capa.",
                         hint="Use un área dentro de Chile.")
    return bounds  # type: ignore[no-any-return]


@lru_cache(maxsize=8)
def _to_storage(epsg: int) -> Transformer:
    return Transformer.from_crs(CRS.from_epsg(epsg), CRS.from_epsg(STORAGE_SRID),
                                always_xy=True)


def parse_sortby(text: str, layer: VectorLayer) -> list[tuple[str, bool]]:
    """``+campo,-campo`` as (field, descending) pairs, fields checked against the layer."""
    keys: list[tuple[str, bool]] = []
    for raw in text.split(","):
        item = raw.strip()
        if not item:
            continue
        descending = item.startswith("-")
        name = item.lstrip("+-").strip()
        if name != "id" and name not in _field_names(layer):
            raise QueryError(f"No se puede ordenar por «{name[:100]}»: la capa "
                             f"«{layer.name}» no tiene esa propiedad.",
                             hint="Propiedades: " + ", ".join(_field_names(layer)))
        column = "fid" if name == "id" else name
        if all(column != k for k, _ in keys):  # a repeated key adds nothing
            keys.append((column, descending))
    return keys


def parse_properties(text: str, layer: VectorLayer) -> list[str]:
    names = list(dict.fromkeys(p.strip() for p in text.split(",") if p.strip()))
    unknown = [n for n in names if n not in _field_names(layer)]
    if unknown:
        raise QueryError(f"Propiedades desconocidas en «properties»: "
                         f"{', '.join(u[:100] for u in unknown)}.",
                         hint="Propiedades: " + ", ".join(_field_names(layer)))
    return names


def _field_names(layer: VectorLayer) -> list[str]:
    return [f.name for f in layer.fields]


@dataclass
class FeatureQuery:
    """Everything that selects and shapes the features of one request."""

    layer: VectorLayer
    crs: OutputCRS = field(default_factory=lambda: output_crs(None))
    bbox: tuple[float, float, float, float] | None = None
    """In the storage CRS."""
    filter: CompiledFilter | None = None
    equals: dict[str, str] = field(default_factory=dict)
    """Simple ``campo=valor`` query parameters (Part 1 "parameters for filtering")."""
    properties: list[str] | None = None
    sortby: list[tuple[str, bool]] = field(default_factory=list)
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    table: sql.Composable | None = None
    """The table of the version asked for; the version in force when None."""

    def set_filter(self, text: str, lang: str, filter_crs: str | None) -> None:
        fcrs = output_crs(filter_crs)
        node = parse_filter(text, lang)
        self.filter = compile_filter(node, self.layer, filter_crs=CRS.from_epsg(fcrs.epsg),
                                     storage_srid=STORAGE_SRID, flip_axes=fcrs.lat_first)

    def source(self) -> sql.Composable:
        return self.table or sql.Identifier(LAYERS_SCHEMA, self.layer.name)

    def where(self) -> tuple[sql.Composable, list[Any]]:
        clauses: list[sql.Composable] = []
        params: list[Any] = []
        if self.bbox is not None:
            clauses.append(sql.SQL(
                "ST_Intersects(geom, ST_MakeEnvelope(%s, %s, %s, %s, {}))").format(
                sql.Literal(STORAGE_SRID)))
            params.extend(self.bbox)
        for name, value in self.equals.items():
            fld = self.layer.field(name)
            column = sql.Identifier(name)
            if fld.type is FieldType.TEXT_LIST:
                clauses.append(sql.SQL("%s = ANY({})").format(column))
            else:
                clauses.append(sql.SQL("{}::text = %s").format(column))
            params.append(value)
        if self.filter is not None:
            clauses.append(self.filter.where)
            params.extend(self.filter.params)
        if not clauses:
            return sql.SQL(""), []
        return sql.SQL(" WHERE ") + sql.SQL(" AND ").join(clauses), params

    @property
    def unfiltered(self) -> bool:
        return self.bbox is None and self.filter is None and not self.equals

    def geometry_sql(self) -> sql.Composable:
        geom: sql.Composable = sql.Identifier("geom")
        if self.crs.epsg != STORAGE_SRID:
            geom = sql.SQL("ST_Transform({}, {})").format(geom, sql.Literal(self.crs.epsg))
        if self.crs.lat_first:
            geom = sql.SQL("ST_FlipCoordinates({})").format(geom)
        return sql.SQL("ST_AsGeoJSON({}, {})::json").format(geom, sql.Literal(self.crs.digits))

    def feature_json_sql(self) -> sql.Composable:
        names = self.properties if self.properties is not None else _field_names(self.layer)
        props = sql.SQL(", ").join(
            sql.SQL("{}, {}").format(sql.Literal(n), sql.Identifier(n)) for n in names)
        return sql.SQL(
            "json_build_object('type', 'Feature', 'id', fid, 'geometry', {}, "
            "'properties', json_build_object({}))::text").format(self.geometry_sql(), props)

    def order_sql(self) -> sql.Composable:
        keys: list[sql.Composable] = [
            sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL("DESC" if desc else "ASC"))
            for name, desc in self.sortby]
        keys.append(sql.SQL("fid"))
        return sql.SQL(" ORDER BY ") + sql.SQL(", ").join(keys)


@dataclass
class FeaturePage:
    features: list[str]
    """Each feature as GeoJSON text."""
    number_matched: int
    time_stamp: str


def fetch_page(conn: psycopg.Connection, q: FeatureQuery,
               known_count: int | None = None) -> FeaturePage:
    """One page of features and the number matched (``known_count`` when unfiltered).

    The page's rows are chosen first and only they are turned into GeoJSON: PostgreSQL
    would otherwise build the JSON of every row skipped by ``OFFSET`` too."""
    where, params = q.where()
    order = q.order_sql()
    query = sql.SQL("SELECT {} FROM (SELECT * FROM {}{}{} LIMIT %s OFFSET %s) AS page{}").format(
        q.feature_json_sql(), q.source(), where, order, order)
    with conn.cursor() as cur, _evaluation_errors():
        cur.execute(query, [*params, q.limit, q.offset])
        features = [row[0] for row in cur.fetchall()]
        if q.unfiltered and known_count is not None:
            matched = known_count
        elif q.offset == 0 and len(features) < q.limit:
            matched = len(features)
        else:
            cur.execute(sql.SQL("SELECT count(*) FROM {}{}").format(q.source(), where), params)
            row = cur.fetchone()
            matched = int(row[0]) if row else 0
    stamp = datetime.now().astimezone().isoformat(timespec="seconds")
    return FeaturePage(features, matched, stamp)


_EVALUATION_PROBLEMS = {"22012": "una división por cero",
                        "22003": "un número fuera del rango admitido"}


@contextmanager
def _evaluation_errors() -> Iterator[None]:
    """A filter that parses but fails on some row's value (``altura / (a - a)``): a 400
    naming the problem, not a 500. The connection is in autocommit: nothing to roll back."""
    try:
        yield
    except psycopg.errors.DataError as exc:
        problem = _EVALUATION_PROBLEMS.get(exc.sqlstate or "", "un valor no válido")
        raise QueryError(f"El filtro no se puede evaluar: produce {problem}.",
                         hint="Revise las operaciones aritméticas y los valores del "
                         "filtro.") from None


def fetch_feature(conn: psycopg.Connection, q: FeatureQuery, fid: int) -> str:
    """One feature as GeoJSON text; :class:`NotFoundError` if there is none with ``fid``."""
    row = conn.execute(
        sql.SQL("SELECT {} FROM {} WHERE fid = %s").format(q.feature_json_sql(), q.source()),
        (fid,)).fetchone()
    if row is None:
        raise NotFoundError(f"La capa «{q.layer.name}» no tiene la entidad {fid}.",
                            hint=f"Vea /collections/{q.layer.name}/items.")
    return str(row[0])


def table_at(conn: psycopg.Connection, layer: VectorLayer, instant: datetime,
             ) -> tuple[sql.Composable, int]:
    """The table holding the version of ``layer`` in force at ``instant``, and its number."""
    row = conn.execute(
        "SELECT version, valid_to IS NULL FROM catalog.layer_versions WHERE layer = %s "
        "AND valid_from <= %s AND (valid_to IS NULL OR valid_to > %s) "
        "ORDER BY version DESC LIMIT 1", (layer.name, instant, instant)).fetchone()
    if row is None:
        first = conn.execute("SELECT min(valid_from) FROM catalog.layer_versions "
                             "WHERE layer = %s", (layer.name,)).fetchone()
        since = f" La primera es del {first[0]:%Y-%m-%d %H:%M}." if first and first[0] else ""
        raise NotFoundError(f"La capa «{layer.name}» no tenía una versión vigente el "
                            f"{instant:%Y-%m-%d %H:%M}.{since}",
                            hint="Use una fecha posterior a la primera carga.")
    version, in_force = int(row[0]), bool(row[1])
    if in_force:
        return sql.Identifier(LAYERS_SCHEMA, layer.name), version
    return sql.Identifier(HISTORY_SCHEMA, f"{layer.name}_v{version}"), version


def parse_datetime(text: str) -> datetime:
    """An instant of the ``datetime`` parameter (RFC 3339 or a date); intervals refused."""
    value = text.strip()
    if "/" in value:
        raise QueryError("datetime admite un instante, no un intervalo.",
                         hint="Ejemplo: datetime=2026-01-31T12:00:00Z o datetime=2026-01-31")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise QueryError(f"datetime no válido: «{value[:100]}».",
                         hint="Use RFC 3339, p. ej. 2026-01-31T12:00:00Z.") from None
    if parsed.tzinfo is None:
        from zoneinfo import ZoneInfo

        parsed = parsed.replace(tzinfo=ZoneInfo("America/Santiago"))
    return parsed


QUERYABLE_TYPES: dict[FieldType, dict[str, Any]] = {
    FieldType.TEXT: {"type": "string"}, FieldType.INTEGER: {"type": "integer"},
    FieldType.FLOAT: {"type": "number"}, FieldType.DATE: {"type": "string", "format": "date"},
    FieldType.BOOLEAN: {"type": "boolean"},
    FieldType.TEXT_LIST: {"type": "array", "items": {"type": "string"}},
}
GEOMETRY_SCHEMAS = {
    "Point": "https://geojson.org/schema/Point.json",
    "MultiPoint": "https://geojson.org/schema/MultiPoint.json",
    "MultiLineString": "https://geojson.org/schema/MultiLineString.json",
    "MultiPolygon": "https://geojson.org/schema/MultiPolygon.json",
    "Geometry": "https://geojson.org/schema/Geometry.json",
}


def queryables(layer: VectorLayer, self_url: str) -> dict[str, Any]:
    """JSON Schema of what a filter may name: every declared field and the geometry."""
    props: dict[str, Any] = {"geom": {"title": "Geometría",
                                      "format": f"geometry-{layer.geometry.value.lower()}",
                                      "$ref": GEOMETRY_SCHEMAS[layer.geometry.value]}}
    for f in layer.fields:
        schema: dict[str, Any] = {"title": f.title, **QUERYABLE_TYPES[f.type]}
        if f.description:
            schema["description"] = f.description
        if f.choices and f.type is FieldType.TEXT:
            schema["enum"] = list(f.choices)
        if f.choices and f.type is FieldType.TEXT_LIST:
            schema["items"] = {"type": "string", "enum": list(f.choices)}
        if f.minimum is not None:
            schema["minimum"] = f.minimum
        if f.maximum is not None:
            schema["maximum"] = f.maximum
        if f.unit:
            schema["x-unidad"] = f.unit
        if f.labels:
            schema["x-etiquetas"] = dict(f.labels)
        props[f.name] = schema
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": self_url,
            "type": "object", "title": layer.title, "properties": props,
            "additionalProperties": False}

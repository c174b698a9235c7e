"""What every analysis shares: the connection, the area analysed, the version of a layer
(by number or by date), the SQL files and fetching a result into a (Geo)DataFrame
(exporting it: :mod:`gis.analysis.exports`).

Areas
-----
``area`` selects what an analysis looks at:

- ``None``: the whole comuna;
- a planning sector, by code or name (``"S-03"``, ``"Llolleo"``), or a census zone by
  its geocódigo (``"05601011001"``);
- a polygon: a GeoDataFrame / GeoSeries with a CRS (transformed to EPSG:32719 the way
  the ingest does), a ``(geometry, crs)`` pair, or a bare shapely geometry, which must
  already be in EPSG:32719 (coordinates that look like degrees are refused).

A parcel, piece or land-use polygon belongs to the area when its point on surface lies
inside it, so that adjacent areas never count the same parcel twice. An area that does
not meet the comuna is refused.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from importlib.resources import files
from typing import Any, TypeAlias
from zoneinfo import ZoneInfo

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import shapely
from psycopg import sql
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from gis.catalog import layer_versions
from gis.crs import STORAGE_CRS, area_of_interest_storage, parse_crs, to_storage
from gis.database import connect
from gis.errors import NotFoundError, PlatformError
from gis.schema import HISTORY_SCHEMA, LAYERS_SCHEMA
from gis.settings import Settings
from layers import get_layer
from layers.base import STORAGE_SRID

Connectable: TypeAlias = psycopg.Connection | Settings
"""What an analysis runs on: an open connection, or the settings to open one."""
AreaInput: TypeAlias = (str | BaseGeometry | gpd.GeoDataFrame | gpd.GeoSeries
                        | tuple[BaseGeometry, Any])
"""What ``area`` may be (see the module docstring)."""
LOCAL_TZ = ZoneInfo("America/Santiago")
PIECE_VERTICES = 128
"""Vertices per piece when polygons are subdivided for indexed joins."""


class AnalysisInputError(PlatformError):
    """A parameter of an analysis that cannot be used as given."""


class UnknownAreaError(NotFoundError):
    """A sector code or census geocódigo that does not exist."""


class AreaOutsideError(AnalysisInputError):
    """A polygon that does not meet the comuna."""


# --- connection ----------------------------------------------------------------------------

@contextmanager
def session(source: Connectable) -> Iterator[tuple[psycopg.Connection, Settings]]:
    """``(connection, settings)`` from a connection or from settings. With a connection,
    the settings (comuna code, work area) are read from the environment."""
    if isinstance(source, Settings):
        with connect(source) as conn:
            yield conn, source
    elif isinstance(source, psycopg.Connection):
        yield source, Settings()
    else:
        raise AnalysisInputError(
            f"Se esperaba una conexión a la base de datos o la configuración; llegó "
            f"{type(source).__name__}.", hint="Use gis.settings.Settings() o "
            "gis.database.connect(settings).")


ANALYSIS_WORK_MEM = "256MB"
"""Memory for each sort or hash of an analysis: the per-parcel tables of a million rows
sort in memory instead of spilling to disk (the server's default is 64 MB)."""


@contextmanager
def analysis_transaction(conn: psycopg.Connection) -> Iterator[None]:
    """A transaction (a savepoint inside the caller's) with JIT off (compiling costs more
    than these one-off plans run) and :data:`ANALYSIS_WORK_MEM`."""
    with conn.transaction():
        conn.execute("SET LOCAL jit = off")
        conn.execute(f"SET LOCAL work_mem = '{ANALYSIS_WORK_MEM}'")
        yield


# --- SQL files -----------------------------------------------------------------------------

def sql_sections(name: str) -> dict[str, str]:
    """The ``-- name: x`` sections of ``gis/sql/{name}.sql``."""
    text = files("gis").joinpath(f"sql/{name}.sql").read_text(encoding="utf-8")
    parts = re.split(r"^-- name: (\w+)\n", text, flags=re.M)
    return {parts[i]: parts[i + 1].strip().rstrip(";") for i in range(1, len(parts), 2)}


def run_script(conn: psycopg.Connection, script: str, params: Mapping[str, Any],
               **fragments: sql.Composable) -> None:
    """Run the statements of a section (separated by ``;`` at a line end), filling the
    ``{name}`` placeholders with ``fragments`` (identifiers and SQL built here, never
    values) and binding ``params``."""
    for statement in re.split(r";\s*\n", script.rstrip().rstrip(";")):
        query = sql.SQL(statement).format(**fragments)  # type: ignore[arg-type]
        placeholders = "%(" in query.as_string(conn)  # in the statement or a fragment
        conn.execute(query, params if placeholders else None)


# --- area ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class AnalysisArea:
    """The area an analysis looks at: what it is, its Spanish name and its geometry in
    the storage CRS (None: the whole comuna, nothing filtered)."""

    tipo: str
    nombre: str
    geometry: BaseGeometry | None = None

    @property
    def wkb(self) -> bytes | None:
        return None if self.geometry is None else shapely.to_wkb(self.geometry)


WHOLE_COMUNA = AnalysisArea("comuna", "toda la comuna")


def resolve_area(conn: psycopg.Connection, settings: Settings, area: AreaInput | None
                 ) -> AnalysisArea:
    """The :class:`AnalysisArea` of ``area`` (see the module docstring)."""
    if area is None:
        return WHOLE_COMUNA
    if isinstance(area, str):
        return _named_area(conn, area)
    geometry = _polygon_in_storage(area, settings)
    _check_in_comuna(conn, settings, geometry)
    return AnalysisArea("polígono", "polígono indicado", geometry)


def _named_area(conn: psycopg.Connection, text: str) -> AnalysisArea:
    code = text.strip()
    row = conn.execute("SELECT geocodigo, ST_AsBinary(geom) FROM layers.census_zones "
                       "WHERE geocodigo = %s", (code,)).fetchone()
    if row:
        return AnalysisArea("zona censal", f"zona censal {row[0]}", shapely.from_wkb(row[1]))
    row = conn.execute("SELECT codigo, nombre, ST_AsBinary(geom) FROM layers.planning_sectors "
                       "WHERE lower(codigo) = lower(%s) OR lower(nombre) = lower(%s) "
                       "ORDER BY lower(codigo) = lower(%s) DESC LIMIT 1",
                       (code, code, code)).fetchone()
    if row:
        return AnalysisArea("sector", f"sector {row[1]} ({row[0]})", shapely.from_wkb(row[2]))
    sectors = conn.execute("SELECT codigo, nombre FROM layers.planning_sectors "
                           "ORDER BY codigo").fetchall()
    zones = [r[0] for r in conn.execute("SELECT geocodigo FROM layers.census_zones "
                                        "ORDER BY geocodigo").fetchall()]
    listed = "; ".join(f"{c} ({n})" for c, n in sectors) or "no hay sectores cargados"
    shown = ", ".join(zones[:30]) + (f" y {len(zones) - 30} más" if len(zones) > 30 else "")
    raise UnknownAreaError(
        f"«{code[:80]}» no es un sector de planificación ni una zona censal conocida.",
        hint=f"Sectores (código o nombre): {listed}. Zonas censales (geocódigo de 11 "
        f"dígitos): {shown or 'no hay zonas censales cargadas'}. También están en las "
        "capas «planning_sectors» y «census_zones» (/collections/planning_sectors/items).")


def _polygon_in_storage(area: Any, settings: Settings) -> BaseGeometry:
    if isinstance(area, gpd.GeoDataFrame | gpd.GeoSeries):
        if area.crs is None:
            raise AnalysisInputError(
                "El área (GeoDataFrame) no tiene sistema de coordenadas.",
                hint="Asígnelo con .set_crs('EPSG:4326') (o el que corresponda) antes de "
                "usarla: no se mezclan coordenadas de sistemas distintos.")
        geoms = np.asarray(area.geometry.values if isinstance(area, gpd.GeoDataFrame)
                           else area.values)
        geoms = geoms[~shapely.is_missing(geoms)]
        src = CRS.from_user_input(area.crs)
    elif isinstance(area, tuple) and len(area) == 2 and isinstance(area[0], BaseGeometry):
        geoms, src = np.asarray([area[0]]), _crs_of(area[1])
    elif isinstance(area, BaseGeometry):
        x0, y0, x1, y1 = area.bounds if not area.is_empty else (0, 0, 0, 0)
        if not area.is_empty and max(abs(x0), abs(x1)) <= 180 and max(abs(y0), abs(y1)) <= 90:
            raise AnalysisInputError(
                "El polígono parece estar en grados (longitud/latitud), pero una geometría "
                "sin sistema de coordenadas se lee en EPSG:32719 (UTM 19S, metros).",
                hint="Páselo como (geometría, 'EPSG:4326') o como GeoSeries con su CRS.")
        geoms, src = np.asarray([area]), STORAGE_CRS
    else:
        raise AnalysisInputError(
            f"Área no reconocida ({type(area).__name__}).",
            hint="Use el código o nombre de un sector, el geocódigo de una zona censal, un "
            "GeoDataFrame/GeoSeries con CRS, (geometría, crs) o un polígono en EPSG:32719.")
    merged = shapely.union_all(shapely.make_valid(to_storage(geoms, src,
                                                             settings.area_of_interest)))
    polygon = _polygonal(merged)
    if polygon.is_empty or polygon.area <= 0:
        raise AnalysisInputError("El área indicada no tiene superficie (vacía, o solo "
                                 "puntos o líneas).", hint="Indique un polígono.")
    return polygon


def _crs_of(value: Any) -> CRS:
    return value if isinstance(value, CRS) else parse_crs(str(value))


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def _check_in_comuna(conn: psycopg.Connection, settings: Settings, geom: BaseGeometry) -> None:
    row = conn.execute(
        "SELECT nombre, ST_Area(ST_Intersection(geom, ST_GeomFromWKB(%s, %s))) "
        "FROM layers.comunas WHERE codigo_comuna = %s",
        (shapely.to_wkb(geom), STORAGE_SRID, settings.comuna_code)).fetchone()
    if row is not None:
        name, inside = str(row[0]), float(row[1] or 0)
    else:  # no comuna boundary loaded: the work area
        name = "el área de trabajo"
        inside = area_of_interest_storage(settings.area_of_interest).intersection(geom).area
    if inside <= 0:
        x0, y0, x1, y1 = (round(v) for v in geom.bounds)
        raise AreaOutsideError(
            f"El polígono indicado queda fuera de la comuna ({name}): sus límites en "
            f"EPSG:32719 son x {x0}–{x1}, y {y0}–{y1}.",
            hint="Revise el sistema de coordenadas del polígono (¿longitud y latitud "
            "invertidas? ¿datum PSAD56 sin declarar?) y que dibuje un lugar de la comuna.")


def load_area(conn: psycopg.Connection, area: AnalysisArea) -> None:
    """The temporary table ``analysis_area`` (indexed pieces of the area), for
    :func:`area_condition`; nothing when the area is the whole comuna."""
    conn.execute("DROP TABLE IF EXISTS pg_temp.analysis_area")
    if area.geometry is None:
        return
    conn.execute("CREATE TEMP TABLE analysis_area ON COMMIT DROP AS SELECT ST_Subdivide("
                 "ST_GeomFromWKB(%s, %s), %s) AS geom", (area.wkb, STORAGE_SRID, PIECE_VERTICES))
    conn.execute("CREATE INDEX ON analysis_area USING gist (geom)")
    conn.execute("ANALYZE analysis_area")


def area_condition(area: AnalysisArea, expression: str, box_of: str | None = None
                   ) -> sql.Composable:
    """SQL condition «``expression`` (a geometry expression written in this package) lies
    in the area», on :func:`load_area`'s table; ``true`` for the whole comuna. With
    ``box_of`` (an indexed geometry column), rows are first narrowed by the area's
    bounding box through that column's index."""
    if area.geometry is None:
        return sql.SQL("true")
    inside = sql.SQL("EXISTS (SELECT 1 FROM analysis_area AS a WHERE ST_Intersects(a.geom, {}))"
                     ).format(sql.SQL(expression))  # type: ignore[arg-type]
    if box_of is None:
        return inside
    return sql.SQL("({} AND {})").format(area_box(box_of), inside)


def area_box(column: str) -> sql.Composable:
    """SQL condition «``column`` (an indexed geometry column written in this package)
    meets the bounding box of :func:`load_area`'s table» (call it for an area only)."""
    return sql.SQL("{} && (SELECT ST_SetSRID(ST_Extent(a.geom)::geometry, {}) "
                   "FROM analysis_area AS a)").format(
        sql.SQL(column), sql.Literal(STORAGE_SRID))  # type: ignore[arg-type]


# --- parcels and zones ---------------------------------------------------------------------

COMMON_SQL = sql_sections("analysis_common")


def parcel_sectors(conn: psycopg.Connection) -> None:
    """Temporary table ``parcel_sector`` (fid, sector): the planning sector holding the
    point on surface of each parcel of the cadastre."""
    run_script(conn, COMMON_SQL["parcel_sector"], {"vertices": PIECE_VERTICES})


# --- versions ------------------------------------------------------------------------------

@dataclass(frozen=True)
class LayerChoice:
    """The version of a layer an analysis reads: its table, number and validity start."""

    layer: str
    table: sql.Composable
    version: int
    vigente_desde: datetime
    in_force: bool = True


def layer_version(conn: psycopg.Connection, layer: str, version: int | None = None,
                  fecha: date | datetime | str | None = None) -> LayerChoice:
    """The version ``version`` of ``layer``, or the one in force on ``fecha`` (a date
    means the end of that day, Chilean time), or the one in force now.

    Raises :class:`AnalysisInputError` when both are given or ``fecha`` is unreadable,
    :class:`gis.errors.NotFoundError` when the layer was never loaded, the version does
    not exist or ``fecha`` precedes the first version (the message says its date).
    """
    if version is not None and fecha is not None:
        raise AnalysisInputError("Indique una versión o una fecha, no ambas.",
                                 hint="La fecha elige la versión vigente ese día.")
    title = get_layer(layer).title
    versions = layer_versions(conn, layer)
    if not versions:
        raise NotFoundError(f"La capa «{layer}» ({title}) no tiene versiones cargadas.",
                            hint=f"Cárguela con «secplac ingest {layer} ARCHIVO».")
    if version is not None:
        chosen = next((v for v in versions if v.version == version), None)
        if chosen is None:
            listed = ", ".join(str(v.version) for v in sorted(versions, key=lambda v: v.version))
            raise NotFoundError(f"La capa «{layer}» ({title}) no tiene versión {version}.",
                                hint=f"Versiones cargadas: {listed}.")
    elif fecha is not None:
        instant = _instant(fecha)
        first = min(versions, key=lambda v: v.valid_from)
        if instant < first.valid_from:
            raise NotFoundError(
                f"No hay {title.lower()} vigente el {_day(fecha)}: la primera versión "
                f"cargada (versión {first.version}) rige desde el "
                f"{first.valid_from.astimezone(LOCAL_TZ):%Y-%m-%d %H:%M}.",
                hint="Use esa fecha o una posterior.")
        chosen = next((v for v in versions if v.valid_from <= instant
                       and (v.valid_to is None or v.valid_to > instant)), None)
        if chosen is None:
            raise NotFoundError(f"No hay {title.lower()} vigente el {_day(fecha)}.",
                                hint="Vea las versiones con «secplac layers " + layer + "».")
    else:
        chosen = next((v for v in versions if v.in_force), versions[0])
    table = (sql.Identifier(LAYERS_SCHEMA, layer) if chosen.in_force
             else sql.Identifier(HISTORY_SCHEMA, f"{layer}_v{chosen.version}"))
    return LayerChoice(layer, table, chosen.version, chosen.valid_from, chosen.in_force)


def _instant(fecha: date | datetime | str) -> datetime:
    value: date | datetime = fecha  # type: ignore[assignment]
    if isinstance(fecha, str):
        try:
            value = datetime.fromisoformat(fecha.strip().replace("Z", "+00:00"))
        except ValueError:
            raise AnalysisInputError(f"Fecha no válida: «{fecha[:40]}».",
                                     hint="Use AAAA-MM-DD, p. ej. 2024-06-30.") from None
        if len(fecha.strip()) == 10:
            value = value.date()
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=LOCAL_TZ)
    end = datetime.combine(value + timedelta(days=1), time(), tzinfo=LOCAL_TZ)
    return end - timedelta(microseconds=1)


def _day(fecha: date | datetime | str) -> str:
    return fecha[:19] if isinstance(fecha, str) else f"{fecha:%Y-%m-%d}"


# --- results -------------------------------------------------------------------------------

def fetch_frame(conn: psycopg.Connection, query: sql.Composable | str,
                params: Mapping[str, Any] | None, columns: Mapping[str, str], *,
                geometry: bool) -> pd.DataFrame:
    """Rows of ``query`` as a DataFrame with ``columns`` (name → dtype) in that order, or
    a GeoDataFrame (EPSG:32719) when ``geometry``: then the query's last column is the
    geometry as hex WKB (:func:`geometry_column`). An empty result keeps every column and
    dtype.

    The rows travel as CSV (``COPY ... TO STDOUT``) parsed by pyarrow (multi-threaded):
    for a million rows several times faster than building Python objects cell by cell."""
    names = [*columns, "geometry"] if geometry else list(columns)
    statement = sql.SQL("COPY ({}) TO STDOUT (FORMAT csv)").format(
        sql.SQL(query) if isinstance(query, str) else query)  # type: ignore[arg-type]
    buffer = io.BytesIO()
    with conn.cursor() as cur, cur.copy(statement, params) as copy:
        for block in copy:
            buffer.write(block)
    if buffer.tell() == 0:
        frame = pd.DataFrame({n: pd.Series([], dtype=object) for n in names})
        frame = typed(frame, columns)
    else:
        buffer.seek(0)
        frame = _read_csv(buffer, names, columns)
        frame = typed(frame, columns)
    if not geometry:
        return frame
    wkb = frame.pop("geometry")
    geoms = gpd.GeoSeries.from_wkb(wkb.to_numpy(dtype=object, na_value=None),
                                   crs=STORAGE_CRS, index=frame.index)
    return gpd.GeoDataFrame(frame, geometry=geoms, crs=STORAGE_CRS)


_ARROW_TYPES = {"str": "string", "string": "string", "object": "string",
                "float64": "float64", "int64": "int64", "Int64": "int64",
                "bool": "bool", "boolean": "bool"}
"""How each dtype of a ``columns`` mapping is read from the CSV (others are inferred)."""


def _read_csv(buffer: io.BytesIO, names: list[str], columns: Mapping[str, str]
              ) -> pd.DataFrame:
    """PostgreSQL's CSV (NULL: empty; booleans t/f) with each column read as its dtype
    (text stays text: a geocódigo keeps its leading zero)."""
    import pyarrow as pa
    from pyarrow import csv

    types = {n: pa.type_for_alias(_ARROW_TYPES[columns.get(n, "str")])
             for n in names if columns.get(n, "str") in _ARROW_TYPES}  # geometry: hex text
    table = csv.read_csv(
        buffer, read_options=csv.ReadOptions(column_names=names),
        parse_options=csv.ParseOptions(newlines_in_values=True),
        convert_options=csv.ConvertOptions(
            column_types=types, null_values=[""],
            strings_can_be_null=True, true_values=["t"], false_values=["f"]))
    return table.to_pandas()


def geometry_column(expression: str, wanted: bool) -> sql.Composable:
    """``, encode(ST_AsBinary(expression), 'hex')`` as a query's last column when a
    geometry is wanted (``expression`` is written in this package, never user input)."""
    return sql.SQL(  # type: ignore[arg-type]
        f", encode(ST_AsBinary({expression}), 'hex')" if wanted else "")


def parcels_join(wanted: bool) -> sql.Composable:
    """The join to ``layers.parcels AS p`` (by ``c.fid``) that a parcel geometry needs."""
    return sql.SQL("JOIN layers.parcels AS p ON p.fid = c.fid" if wanted else "")


def typed(frame: pd.DataFrame, columns: Mapping[str, str]) -> pd.DataFrame:
    """``frame`` with each column of ``columns`` cast to its dtype (``str``: pandas'
    text dtype, missing values NaN)."""
    out = frame.copy()
    for name, dtype in columns.items():
        out[name] = out[name].astype(dtype)
    return out


def describe(frame: pd.DataFrame, analisis: str, area: AnalysisArea,
             choice: LayerChoice | None = None, **extra: Any) -> pd.DataFrame:
    """Record what was computed in ``frame.attrs`` (JSON-friendly: kept by GeoParquet)."""
    frame.attrs.update({"analisis": analisis, "area": area.nombre, **extra})
    if choice is not None:
        frame.attrs.update({"capa_versionada": choice.layer, "version": choice.version,
                            "vigente_desde": choice.vigente_desde.isoformat()})
    return frame


__all__ = ["AnalysisArea", "AnalysisInputError", "AreaOutsideError", "LayerChoice",
           "UnknownAreaError", "analysis_transaction", "area_box", "area_condition", "describe",
           "fetch_frame", "geometry_column", "layer_version", "load_area",
           "parcels_join",
           "parcel_sectors", "resolve_area", "run_script", "session",
           "sql_sections", "typed"]

"""Reading layers into GeoDataFrames, for notebooks and analyses."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import sqlalchemy as sa
from psycopg import sql
from pyproj import CRS
from pyproj.transformer import Transformer

from gis.crs import STORAGE_CRS, parse_crs
from gis.database import create_engine
from gis.errors import NotFoundError, PlatformError
from gis.schema import HISTORY_SCHEMA, LAYERS_SCHEMA
from gis.settings import Settings
from layers import get_layer
from layers.base import FieldType, VectorLayer


def connect(settings: Settings | None = None) -> sa.Connection:
    """A SQLAlchemy connection to the platform's database (close it when done).

    >>> with gis.connect() as conn:                           # doctest: +SKIP
    ...     pd.read_sql("SELECT count(*) FROM layers.parcels", conn)
    """
    return create_engine(settings or Settings()).connect()


def read_layer(name: str, *, bbox: tuple[float, float, float, float] | None = None,
               where: dict[str, Any] | None = None, columns: list[str] | None = None,
               crs: str | int | CRS = STORAGE_CRS, version: int | None = None,
               settings: Settings | None = None) -> gpd.GeoDataFrame:
    """A vector layer as a GeoDataFrame in ``crs``.

    Parameters
    ----------
    name : layer name from the registry (``secplac layers``).
    bbox : (minx, miny, maxx, maxy) in ``crs``; features intersecting its box.
    where : field → value (equality) or field → list of values (any of them).
    columns : fields to return (all by default); ``fid`` and ``geometry`` always come.
    crs : output CRS (EPSG code, ``"EPSG:4326"``...); the storage CRS (EPSG:32719) by default.
    version : a past version number; the version in force by default.

    Examples
    --------
    >>> zonas = read_layer("zoning", where={"familia": "residencial"})   # doctest: +SKIP
    >>> predios = read_layer("parcels", bbox=(-71.62, -33.60, -71.60, -33.58),
    ...                      crs=4326)                                   # doctest: +SKIP
    """
    layer = get_layer(name)
    if not isinstance(layer, VectorLayer):
        raise PlatformError(f"«{name}» es una capa raster; léala con gis.raster.")
    out_crs = crs if isinstance(crs, CRS) else parse_crs(str(crs))
    settings = settings or Settings()
    fields = _checked_fields(layer, columns)
    table = version_table(layer, version, settings)
    conditions, params = [], []
    for field_name, value in (where or {}).items():
        fld = _checked_fields(layer, [field_name])[0]
        if isinstance(value, list | tuple | set):
            conditions.append(sql.SQL("{} = ANY(%s)").format(sql.Identifier(fld)))
            params.append(list(value))
        elif layer.field(fld).type is FieldType.TEXT_LIST:
            conditions.append(sql.SQL("%s = ANY({})").format(sql.Identifier(fld)))
            params.append(value)
        else:
            conditions.append(sql.SQL("{} = %s").format(sql.Identifier(fld)))
            params.append(value)
    if bbox is not None:
        minx, miny, maxx, maxy = _bbox_to_storage(bbox, out_crs)
        conditions.append(sql.SQL("geom && ST_MakeEnvelope(%s, %s, %s, %s, 32719)"))
        params += [minx, miny, maxx, maxy]
    query = sql.SQL("SELECT fid, {fields} geom FROM {table} {where} ORDER BY fid").format(
        fields=sql.SQL("").join(sql.SQL("{}, ").format(sql.Identifier(f)) for f in fields),
        table=table,
        where=sql.SQL("WHERE ") + sql.SQL(" AND ").join(conditions) if conditions
        else sql.SQL(""),
    )
    from gis.database import connect as pg_connect

    with pg_connect(settings) as conn:
        with conn.cursor() as cur:
            cur.execute(query, params)
            rows = cur.fetchall()
            names = [d.name for d in cur.description or []]
    frame = gpd.GeoDataFrame(
        [dict(zip(names, r, strict=True)) for r in rows] if rows else {n: [] for n in names},
    )
    frame["geometry"] = gpd.GeoSeries.from_wkb(
        [bytes.fromhex(g) if isinstance(g, str) else g for g in frame.pop("geom")],
        crs=STORAGE_CRS)
    frame = gpd.GeoDataFrame(frame, geometry="geometry", crs=STORAGE_CRS)
    return frame if out_crs.equals(STORAGE_CRS) else frame.to_crs(out_crs)


def _checked_fields(layer: VectorLayer, columns: list[str] | None) -> list[str]:
    names = [f.name for f in layer.fields]
    if columns is None:
        return names
    unknown = [c for c in columns if c not in names]
    if unknown:
        raise PlatformError(f"La capa «{layer.name}» no tiene los campos: {', '.join(unknown)}.",
                            hint="Campos disponibles: " + ", ".join(names))
    return list(columns)


def version_table(layer: VectorLayer, version: int | None, settings: Settings,
                  ) -> sql.Composed:
    """The table holding ``version`` of ``layer`` (the version in force when None)."""
    if version is None:
        return sql.Identifier(LAYERS_SCHEMA, layer.name)  # type: ignore[return-value]
    from gis.catalog import layer_versions
    from gis.database import connect as pg_connect

    with pg_connect(settings) as conn:
        versions = {v.version: v for v in layer_versions(conn, layer.name)}
    if version not in versions:
        raise NotFoundError(f"La capa «{layer.name}» no tiene versión {version}.",
                            hint=f"Versiones: {', '.join(map(str, sorted(versions))) or 'ninguna'}")
    if versions[version].in_force:
        return sql.Identifier(LAYERS_SCHEMA, layer.name)  # type: ignore[return-value]
    return sql.Identifier(HISTORY_SCHEMA, f"{layer.name}_v{version}")  # type: ignore[return-value]


def _bbox_to_storage(bbox: tuple[float, float, float, float],
                     crs: CRS) -> tuple[float, float, float, float]:
    minx, miny, maxx, maxy = bbox
    if minx > maxx or miny > maxy:
        raise PlatformError("bbox mal formado: el mínimo supera al máximo.",
                            hint="Use (minx, miny, maxx, maxy).")
    if crs.equals(STORAGE_CRS):
        return bbox
    t = Transformer.from_crs(crs, STORAGE_CRS, always_xy=True)
    return t.transform_bounds(minx, miny, maxx, maxy, densify_pts=21)

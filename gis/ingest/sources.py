"""Opening incoming files: format detection, sidecar checks, CRS, streaming batches.

Every supported vector format is read as a stream of Arrow record batches whose geometry
column is WKB (``GEOMETRY_COLUMN``), so memory stays flat however big the file is.
"""

from __future__ import annotations

import hashlib
import json
import struct
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pyogrio
from pyogrio.errors import DataLayerError, DataSourceError
from pyproj import CRS

from gis.archives import UnsafeArchiveError, check_zip
from gis.ingest.jsonkeys import first_repeated_key
from gis.ingest.report import IngestError

GEOMETRY_COLUMN = "__geometry_wkb"

VECTOR_SUFFIXES = {
    ".shp": "Shapefile", ".zip": "Shapefile (ZIP)", ".gpkg": "GeoPackage",
    ".geojson": "GeoJSON", ".json": "GeoJSON", ".fgb": "FlatGeobuf",
    ".parquet": "GeoParquet", ".geoparquet": "GeoParquet", ".csv": "CSV",
}
RASTER_SUFFIXES = {".tif", ".tiff"}
SHX_HEADER, DBF_HEADER = 100, 8
"""Bytes read from a Shapefile's .shx and .dbf to compare their record counts."""

CSV_WKT_COLUMNS = ("wkt", "geom", "geometry", "geometria", "geometría", "the_geom")
CSV_X_COLUMNS = ("lon", "long", "longitud", "longitude", "x", "este", "easting")
CSV_Y_COLUMNS = ("lat", "latitud", "latitude", "y", "norte", "northing")


@dataclass
class VectorSource:
    """An opened vector file: what it declares, and how to stream it."""

    path: Path
    format: str
    crs: CRS | None
    columns: list[str]
    geometry_type: str
    feature_count: int | None
    encoding: str | None = None
    open_options: dict[str, str] = field(default_factory=dict)
    gdal_path: str = ""
    row_offset: int = 0
    """Added to the 0-based feature index to give the number users see (CSV: line)."""
    measured: bool = False
    """The file's geometries carry measures (M), which are dropped when read."""

    @property
    def row_label(self) -> str:
        return "filas del CSV" if self.format == "CSV" else "entidades (n.º)"

    def batches(self, batch_size: int) -> Iterator[pa.RecordBatch]:
        """Record batches with the attribute columns and ``GEOMETRY_COLUMN`` (WKB)."""
        if self.format == "GeoParquet":
            yield from _parquet_batches(self.path, batch_size)
            return
        try:
            with pyogrio.raw.open_arrow(
                self.gdal_path, use_pyarrow=True, batch_size=batch_size,
                encoding=self.encoding, **self.open_options,
            ) as (meta, reader):
                geom_name = meta["geometry_name"] or "wkb_geometry"
                for batch in reader:
                    names = [GEOMETRY_COLUMN if n == geom_name else n
                             for n in batch.schema.names]
                    yield batch.rename_columns(names)
        except (DataSourceError, DataLayerError, OSError) as exc:
            raise _unreadable(self.path, exc) from exc


def file_sha256(path: Path) -> str:
    """Hash of the file, and of its sidecar files for a Shapefile."""
    digest = hashlib.sha256()
    parts = [path]
    if path.suffix.lower() == ".shp":
        parts += sorted(p for p in path.parent.glob(path.stem + ".*") if p != path)
    for part in parts:
        with open(part, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def open_vector(path: Path, *, encoding: str | None = None) -> VectorSource:
    """Check and open a vector file; :class:`IngestError` in Spanish for what is wrong."""
    _check_exists(path)
    suffix = path.suffix.lower()
    if suffix in RASTER_SUFFIXES:
        raise IngestError(f"«{path.name}» es un raster; esta capa es vectorial.",
                          hint="Cárguelo en una capa raster (dem, tsunami_depth).")
    fmt = VECTOR_SUFFIXES.get(suffix)
    if fmt is None:
        raise IngestError(
            f"El formato de «{path.name}» no es compatible.",
            hint="Formatos aceptados: Shapefile (.shp o .zip), GeoPackage, GeoJSON, "
            "FlatGeobuf, GeoParquet, CSV (columna WKT o lon/lat) y GeoTIFF para rasters.",
        )
    if fmt == "GeoParquet":
        return _open_parquet(path)
    gdal_path, options = str(path), {}
    if suffix == ".shp":
        _check_shapefile_parts(path)
    elif suffix == ".zip":
        gdal_path = _zipped_shapefile(path)
        fmt = "Shapefile"
    elif fmt == "CSV":
        options = _csv_geometry_options(path)
    elif fmt == "GeoJSON":
        _check_json_keys(path)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            info = pyogrio.read_info(gdal_path, encoding=encoding, **options)
    except (DataSourceError, DataLayerError) as exc:
        raise _unreadable(path, exc) from exc
    crs = CRS.from_user_input(info["crs"]) if info["crs"] else None
    count = info["features"]
    source = VectorSource(
        path=path, format=fmt, crs=crs, columns=[str(c) for c in info["fields"]],
        geometry_type=str(info["geometry_type"]), encoding=encoding,
        feature_count=count if count is not None and count >= 0 else None,
        open_options=options, gdal_path=gdal_path, row_offset=2 if fmt == "CSV" else 1,
        measured=any("Measured (M)" in str(w.message) for w in caught),
    )
    if source.feature_count == 0:
        raise IngestError(f"«{path.name}» no contiene entidades.",
                          hint="Revise que exportó la capa correcta.")
    if fmt != "CSV" and source.geometry_type in ("None", "", None):
        raise IngestError(f"«{path.name}» no tiene geometrías: no es una capa espacial.")
    return source


def _check_exists(path: Path) -> None:
    if not path.exists():
        raise IngestError(f"No existe el archivo «{path}».")
    if path.is_dir():
        raise IngestError(f"«{path}» es una carpeta; indique el archivo a cargar.")
    if path.stat().st_size == 0:
        raise IngestError(f"«{path.name}» está vacío (0 bytes).")


def _check_shapefile_parts(path: Path) -> None:
    parts = {p.suffix.lower(): p for p in path.parent.glob(path.stem + ".*")}
    missing = [ext for ext in (".shx", ".dbf") if ext not in parts]
    if missing:
        raise IngestError(
            f"Al Shapefile «{path.name}» le falta{'n' if len(missing) > 1 else ''} "
            f"{' y '.join(path.stem + m for m in missing)}.",
            hint="Un Shapefile son varios archivos (.shp, .shx, .dbf, .prj, .cpg) con el "
            "mismo nombre en la misma carpeta; copie todos o envíelos en un .zip.",
        )
    with open(parts[".shx"], "rb") as shx, open(parts[".dbf"], "rb") as dbf:
        _check_record_counts(path.name, shx.read(SHX_HEADER), dbf.read(DBF_HEADER))


def _check_record_counts(name: str, shx: bytes, dbf: bytes) -> None:
    """The index (.shx) and the attribute table (.dbf) of a Shapefile count the same
    records: otherwise GDAL silently reads the shorter of the two, pairing or dropping
    geometries and attributes. ``shx`` and ``dbf``: the first bytes of each part."""
    if len(shx) < SHX_HEADER or len(dbf) < DBF_HEADER:
        raise IngestError(f"El Shapefile «{name}» está dañado: su .shx o su .dbf está "
                          "incompleto.", hint="Vuelva a exportar la capa desde su SIG.")
    shapes = (struct.unpack(">i", shx[24:28])[0] * 2 - 100) // 8
    rows = struct.unpack("<I", dbf[4:8])[0]
    if shapes != rows:
        raise IngestError(
            f"El Shapefile «{name}» no es coherente: tiene {shapes} geometrías (.shp/.shx) "
            f"y {rows} filas de atributos (.dbf); no se sabe qué atributos van con qué "
            "geometría.",
            hint="Sus archivos no son de la misma exportación (¿se reemplazó uno?). "
                 "Vuelva a exportar la capa completa desde su SIG.")


def _check_json_keys(path: Path) -> None:
    """Refuse a JSON file with a key repeated within one object (two ``geometry`` or two
    ``COD_ZONA`` in a feature): GDAL would keep one of them without saying so."""
    repeated = first_repeated_key(path)
    if repeated is not None:
        key, feature = repeated
        raise IngestError(
            f"«{path.name}» repite la clave «{key.decode(errors='replace')[:60]}» en "
            f"{f'la entidad n.º {feature}' if feature else 'el objeto principal'}: no se "
            "sabe cuál de los dos valores vale.",
            hint="Deje una sola vez cada clave en cada objeto (revise el programa que "
                 "escribió el archivo).")


def _zipped_shapefile(path: Path) -> str:
    try:
        names = [member.filename for member in check_zip(path, path.name)]
    except zipfile.BadZipFile:
        raise IngestError(f"«{path.name}» no es un ZIP válido (¿está truncado?).") from None
    except UnsafeArchiveError as exc:
        raise IngestError(exc.message, hint=exc.hint) from None
    shps = [n for n in names if n.lower().endswith(".shp")]
    if len(shps) != 1:
        raise IngestError(
            f"El ZIP «{path.name}» debe contener exactamente un Shapefile (.shp); "
            f"contiene {len(shps)}."
        )
    stem = shps[0][:-4].lower()
    parts = {n.lower()[len(stem):]: n for n in names if n.lower().startswith(stem)}
    missing = [e for e in (".shx", ".dbf") if e not in parts]
    if missing:
        raise IngestError(f"Al Shapefile dentro de «{path.name}» le falta {', '.join(missing)}.")
    with (zipfile.ZipFile(path) as zf, zf.open(parts[".shx"]) as shx,
          zf.open(parts[".dbf"]) as dbf):
        _check_record_counts(shps[0], shx.read(SHX_HEADER), dbf.read(DBF_HEADER))
    return f"/vsizip/{path}/{shps[0]}"


def _csv_geometry_options(path: Path) -> dict[str, str]:
    with open(path, encoding="utf-8-sig", errors="replace") as fh:
        header = fh.readline()
    delimiter = ";" if header.count(";") > header.count(",") else ","
    columns = [c.strip().strip('"').lower() for c in header.strip().split(delimiter)]
    options = {"KEEP_GEOM_COLUMNS": "NO", "SEPARATOR": "SEMICOLON" if delimiter == ";" else "COMMA"}
    wkt = [c for c in columns if c in CSV_WKT_COLUMNS]
    xs = [c for c in columns if c in CSV_X_COLUMNS]
    ys = [c for c in columns if c in CSV_Y_COLUMNS]
    if wkt:
        options["GEOM_POSSIBLE_NAMES"] = wkt[0]
    elif xs and ys:
        options["X_POSSIBLE_NAMES"], options["Y_POSSIBLE_NAMES"] = xs[0], ys[0]
    else:
        raise IngestError(
            f"El CSV «{path.name}» no tiene coordenadas.",
            hint="Incluya una columna WKT (wkt, geom) o columnas de coordenadas (lon y lat, "
            f"o x e y). Columnas encontradas: {', '.join(columns)}.",
        )
    return options


def _open_parquet(path: Path) -> VectorSource:
    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise _unreadable(path, exc) from exc
    geo = json.loads((pf.schema_arrow.metadata or {}).get(b"geo", b"null") or "null")
    if not geo:
        raise IngestError(f"«{path.name}» es Parquet pero no GeoParquet (sin metadatos «geo»).")
    primary = geo["primary_column"]
    column = geo["columns"][primary]
    if column.get("encoding", "WKB").upper() != "WKB":
        raise IngestError(f"«{path.name}»: solo se admite GeoParquet con geometría WKB.")
    crs_json = column.get("crs", "OGC:CRS84")
    crs = CRS.from_user_input(crs_json) if crs_json is not None else None
    types = column.get("geometry_types") or ["Unknown"]
    return VectorSource(
        path=path, format="GeoParquet", crs=crs,
        columns=[n for n in pf.schema_arrow.names if n != primary],
        geometry_type=types[0] if len(types) == 1 else "Unknown",
        feature_count=pf.metadata.num_rows, gdal_path=primary,
    )


def _parquet_batches(path: Path, batch_size: int) -> Iterator[pa.RecordBatch]:
    pf = pq.ParquetFile(path)
    primary = json.loads(pf.schema_arrow.metadata[b"geo"])["primary_column"]
    try:
        for batch in pf.iter_batches(batch_size=batch_size):
            names = [GEOMETRY_COLUMN if n == primary else n for n in batch.schema.names]
            yield batch.rename_columns(names)
    except (pa.ArrowInvalid, OSError) as exc:
        raise _unreadable(path, exc) from exc


def _unreadable(path: Path, exc: Exception) -> IngestError:
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return IngestError(
        f"No se pudo leer «{path.name}»: no es un archivo de datos espaciales válido o "
        "está dañado (¿truncado?).",
        hint=f"Detalle técnico: {detail}",
    )

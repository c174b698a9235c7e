"""GeoTIFF rasters: checked, reprojected to the storage CRS if needed, written as a tiled
compressed GeoTIFF in data/processed/rasters/, and registered in the catalog."""

from __future__ import annotations

import getpass
from contextlib import suppress
from pathlib import Path

import numpy as np
import rasterio
import shapely
from pyproj import CRS
from rasterio.crs import CRS as RioCRS
from rasterio.enums import Resampling
from rasterio.errors import RasterioIOError
from rasterio.warp import calculate_default_transform, reproject

from gis.crs import STORAGE_CRS, area_of_interest_storage, crs_label, parse_crs
from gis.database import connect
from gis.ingest.load import Provenance, lock_layer, record_version
from gis.ingest.report import IngestError, IngestReport
from gis.ingest.sources import RASTER_SUFFIXES, file_sha256
from gis.ingest.storage import disk_problem, storage_error
from gis.settings import Settings
from layers.base import RasterLayer

PROFILE = {"driver": "GTiff", "tiled": True, "blockxsize": 256, "blockysize": 256,
           "compress": "deflate", "predictor": 3, "dtype": "float32", "count": 1}


def ingest_raster(settings: Settings, layer: RasterLayer, path: Path,
                  options) -> IngestReport:  # type: ignore[no-untyped-def]
    if not path.exists():
        raise IngestError(f"No existe el archivo «{path}».")
    if path.suffix.lower() not in RASTER_SUFFIXES:
        raise IngestError(f"La capa «{layer.name}» es un raster: cargue un GeoTIFF (.tif).",
                          hint=f"Se recibió «{path.name}».")
    if path.stat().st_size == 0:
        raise IngestError(f"«{path.name}» está vacío (0 bytes).")
    report = IngestReport(layer=layer.name, source_file=str(path), dry_run=options.dry_run,
                          row_label="celdas")
    try:
        src = rasterio.open(path)
    except RasterioIOError as exc:
        raise IngestError(f"No se pudo leer «{path.name}» como GeoTIFF (¿dañado o truncado?).",
                          hint=f"Detalle técnico: {exc}") from exc
    with src:
        if options.crs:
            src_crs = RioCRS.from_wkt(parse_crs(options.crs).to_wkt())
        elif src.crs is not None:
            src_crs = src.crs
        else:
            raise IngestError(f"«{path.name}» no declara su sistema de coordenadas.",
                              hint="Indíquelo con --crs, por ejemplo --crs EPSG:32719.")
        report.source_crs = crs_label(CRS.from_wkt(src_crs.to_wkt()))
        _check_area(src, src_crs, settings, report)
        try:
            data, transform, nodata = _to_storage(src, src_crs, layer)
        except RasterioIOError as exc:
            raise IngestError(f"«{path.name}» está dañado: no se pudieron leer sus celdas.",
                              hint=f"Detalle técnico: {exc}") from exc
    valid = data != nodata
    report.features_read = int(valid.sum())
    if not valid.any():
        raise IngestError(f"«{path.name}» no tiene celdas con datos.", report)
    report.warnings.append(
        f"{layer.band_title}: mínimo {data[valid].min():.2f} {layer.unit}, máximo "
        f"{data[valid].max():.2f} {layer.unit}, media {data[valid].mean():.2f} {layer.unit}")
    if options.dry_run:
        return report
    with connect(settings) as conn:
        version = lock_layer(conn, layer.name)
        target = settings.processed_dir / "rasters" / layer.name / f"v{version}.tif"
        partial = target.with_name(target.name + ".partial")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            _write(partial, data, transform, nodata)
            bounds = rasterio.transform.array_bounds(data.shape[0], data.shape[1], transform)
            extent = shapely.box(*bounds)
            report.version = version
            report.features_loaded = report.features_read
            report.processed_file = str(target)
            record_version(conn, layer.name, version, "raster", str(target), Provenance(
                loaded_by=settings.user or getpass.getuser(),
                source_file=str(path.resolve()), source_sha256=file_sha256(path),
                source_crs=report.source_crs,
                fuente=options.fuente or layer.provenance.source,
                licencia=options.licencia or layer.provenance.licence,
                demo=layer.provenance.demo if options.demo is None else options.demo,
                processed_file=str(target), report=report.as_json(),
            ), feature_count=report.features_read, extent_wkb=shapely.to_wkb(extent))
            conn.commit()
        except BaseException as exc:
            conn.rollback()
            with suppress(OSError):  # a read-only folder: nothing was written there
                partial.unlink(missing_ok=True)
            if disk_problem(exc):  # a full or read-only disk: said in Spanish
                raise storage_error(exc, settings.processed_dir, report) from exc
            raise
        partial.replace(target)  # still holding the layer's lock (see lock_layer)
    return report


def _check_area(src, src_crs, settings: Settings, report: IngestReport) -> None:  # type: ignore[no-untyped-def]
    from rasterio.warp import transform_bounds

    work = area_of_interest_storage(settings.area_of_interest)
    bounds = transform_bounds(src_crs, RioCRS.from_epsg(32719), *src.bounds)
    footprint = shapely.box(*bounds)
    if not footprint.intersects(work):
        km = footprint.distance(work) / 1000
        raise IngestError(
            f"El raster queda fuera del área de trabajo, a {km:.1f} km, interpretado en "
            f"{report.source_crs}.", report,
            hint="Revise el sistema de coordenadas del archivo o indíquelo con --crs.")


def _to_storage(src, src_crs, layer: RasterLayer):  # type: ignore[no-untyped-def]
    nodata = layer.nodata
    band = src.read(1, masked=True).astype("float32")
    data = band.filled(nodata)
    data[~np.isfinite(data)] = nodata
    if CRS.from_wkt(src_crs.to_wkt()).equals(STORAGE_CRS):
        return data, src.transform, nodata
    dst_crs = RioCRS.from_epsg(32719)
    transform, width, height = calculate_default_transform(
        src_crs, dst_crs, src.width, src.height, *src.bounds)
    out = np.full((height, width), nodata, dtype="float32")
    reproject(data, out, src_transform=src.transform, src_crs=src_crs, src_nodata=nodata,
              dst_transform=transform, dst_crs=dst_crs, dst_nodata=nodata,
              resampling=Resampling.bilinear)
    return out, transform, nodata


def _write(path: Path, data: np.ndarray, transform, nodata: float) -> None:  # type: ignore[no-untyped-def]
    profile = dict(PROFILE, width=data.shape[1], height=data.shape[0], crs="EPSG:32719",
                   transform=transform, nodata=nodata)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
        dst.build_overviews([2, 4, 8, 16], Resampling.average)

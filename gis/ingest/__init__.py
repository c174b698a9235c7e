"""Ingestion: a file in data/raw (or anywhere) → checks → data/processed → PostGIS.

>>> from gis.ingest import ingest, IngestOptions            # doctest: +SKIP
>>> report = ingest(settings, "zoning", "data/raw/prc/zonificacion_prc.shp")  # doctest: +SKIP
"""

from __future__ import annotations

import getpass
import os
from collections import deque
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import psycopg
import pyarrow as pa
import shapely

from gis.crs import (
    area_of_interest_storage,
    crs_label,
    parse_crs,
    transformation_description,
)
from gis.database import connect
from gis.ingest.attributes import Converted, convert_field, resolve_mapping
from gis.ingest.geometry import OUTSIDE_REASON, GeometryResult, check_geometries, encode_wkb
from gis.ingest.leftovers import clean_layer
from gis.ingest.load import Provenance, StagedLoad, lock_layer
from gis.ingest.processed import ProcessedWriter
from gis.ingest.report import IngestError, IngestReport
from gis.ingest.sources import GEOMETRY_COLUMN, VectorSource, file_sha256, open_vector
from gis.ingest.storage import disk_problem, storage_error
from gis.schema import SQL_TYPES
from gis.settings import Settings
from layers import STORAGE_SRID, get_layer
from layers.base import Field, FieldType, GeometryKind, RasterLayer, VectorLayer

__all__ = ["IngestError", "IngestOptions", "IngestReport", "ingest"]

Progress = Callable[[int], None]
ARROW_TYPES = {
    FieldType.TEXT: pa.string(), FieldType.INTEGER: pa.int64(),
    FieldType.FLOAT: pa.float64(), FieldType.DATE: pa.date32(),
    FieldType.BOOLEAN: pa.bool_(), FieldType.TEXT_LIST: pa.list_(pa.string()),
}
assert set(ARROW_TYPES) == set(SQL_TYPES)
WORKERS = max(1, min(4, len(os.sched_getaffinity(0))))
"""Threads that check and encode batches ahead of the one being written."""


@dataclass
class IngestOptions:
    crs: str | None = None
    """CRS of the file when it declares none (or declares a wrong one)."""
    mapping: dict[str, str] = field(default_factory=dict)
    """Layer field → source column, over the declared aliases."""
    encoding: str | None = None
    dry_run: bool = False
    skip_invalid: bool = False
    """Load the valid features and report the rest, instead of refusing the file."""
    fuente: str | None = None
    licencia: str | None = None
    demo: bool | None = None


def ingest(settings: Settings, layer_name: str, path: str | Path,
           options: IngestOptions | None = None, progress: Progress | None = None,
           within: Callable[[psycopg.Connection, int], None] | None = None,
           ) -> IngestReport:
    """Check ``path`` and load it as a new version of ``layer_name``.

    Raises :class:`IngestError` (nothing written) when the file cannot be loaded as a whole,
    or when any feature is rejected and ``options.skip_invalid`` is false. ``within`` runs
    inside the load's transaction with the new version number (e.g. to mark a zoning
    proposal applied): if it raises, nothing is loaded.
    """
    options = options or IngestOptions()
    layer = get_layer(layer_name)
    path = Path(path)
    if isinstance(layer, RasterLayer):
        from gis.ingest.raster import ingest_raster

        raster_report = ingest_raster(settings, layer, path, options)
        if not options.dry_run:
            _refresh_project_profiles(settings, layer.name)
        return raster_report
    source = open_vector(path, encoding=options.encoding)
    report = IngestReport(layer=layer.name, source_file=str(path), row_label=source.row_label,
                          dry_run=options.dry_run)
    if source.measured:
        report.warnings.append("Las geometrías del archivo traen medidas M (p. ej. "
                               "kilometraje), que la capa no guarda: se descartaron.")
    src_crs = _source_crs(source, options, report)
    report.source_crs = crs_label(src_crs)
    report.transformation = transformation_description(src_crs, settings.area_of_interest)
    mapping = resolve_mapping(layer, source.columns, options.mapping, report)
    run = _Run(settings, layer, source, src_crs, mapping, report, options, progress)
    if options.dry_run:
        run.process(sink=None)
        return report
    hashing = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sha256")
    sha256 = hashing.submit(file_sha256, path)  # hashlib releases the GIL: runs alongside
    hashing.shutdown(wait=False)
    provenance = Provenance(
        loaded_by=settings.user or getpass.getuser(), source_file=str(path.resolve()),
        source_sha256="", source_crs=report.source_crs,
        fuente=options.fuente or layer.provenance.source,
        licencia=options.licencia or layer.provenance.licence,
        demo=layer.provenance.demo if options.demo is None else options.demo,
        processed_file=None, report={},
    )
    with connect(settings) as conn:
        version = lock_layer(conn, layer.name)
        report.warnings += clean_layer(conn, settings, layer.name)  # we hold its lock
        writer = ProcessedWriter(settings.processed_dir / layer.name / f"v{version}.parquet",
                                 _geoparquet_types(layer), _coded_fields(layer))
        staged = StagedLoad(conn, layer, version)
        try:
            run.process(sink=(staged, writer))
            report.version = version
            report.processed_file = str(writer.final_path)
            provenance.processed_file = report.processed_file
            provenance.report = report.as_json()
            provenance.source_sha256 = sha256.result()
            staged.finish(provenance, extent=writer.bbox)
            writer.close()  # its last rows were written while the server built indexes
            if layer.name == "projects":  # the registry follows the layer it describes
                from gis.portfolio.store import sync_registry

                sync_registry(conn, version, provenance.loaded_by)
            if within is not None:
                within(conn, version)
            conn.commit()
        except BaseException as exc:
            staged.abort()
            conn.rollback()
            writer.discard()
            if disk_problem(exc):  # a full or read-only disk: said in Spanish
                raise storage_error(exc, settings.processed_dir, report) from exc
            raise
        writer.commit()  # still holding the layer's lock (see lock_layer)
    _refresh_project_profiles(settings, layer.name)
    return report


def _refresh_project_profiles(settings: Settings, layer_name: str) -> None:
    """A new version of a layer the projects' territorial profiles depend on (zoning,
    cadastre, hazards...) recomputes the stored profiles' sections that use it, so that
    every profile is current without waiting for its next read."""
    from gis.profile import DEPENDENCIES, refresh_profiles

    if layer_name in DEPENDENCIES:
        with connect(settings) as conn:
            conn.autocommit = True
            refresh_profiles(conn, settings, only_stored=True)


def _source_crs(source: VectorSource, options: IngestOptions, report: IngestReport):  # type: ignore[no-untyped-def]
    if options.crs:
        crs = parse_crs(options.crs)
        if source.crs is not None and not source.crs.equals(crs):
            report.warnings.append(
                f"El archivo declara {crs_label(source.crs)}; se usa {crs_label(crs)} "
                "como se indicó con --crs.")
        return crs
    if source.crs is None:
        raise IngestError(
            f"«{source.path.name}» no declara su sistema de coordenadas.",
            hint="Indíquelo con --crs, por ejemplo --crs EPSG:4326 para longitud/latitud "
            "WGS 84 o --crs EPSG:24879 para PSAD56 / UTM 19S (un datum equivocado desplaza "
            "los datos cientos de metros).",
        )
    return source.crs


@dataclass
class _Prepared:
    """One batch checked and encoded by a worker thread (no shared state touched)."""

    columns: dict[str, pa.Array]
    problems: list[tuple[Field, str, list[Converted]]]
    """Per mapped field: the field, where its problems are reported, the problems."""
    geometry: GeometryResult
    wkb: pa.Array | None = None
    """WKB of the storage geometries (for the processed file), when the batch is encoded."""
    rows: pa.Array | None = None
    """COPY rows (see :meth:`StagedLoad.encode`), when the batch is encoded."""


@dataclass
class _Run:
    settings: Settings
    layer: VectorLayer
    source: VectorSource
    src_crs: object
    mapping: dict[str, str]
    report: IngestReport
    options: IngestOptions
    progress: Progress | None

    def process(self, sink: tuple[StagedLoad, ProcessedWriter] | None) -> None:
        """Check every batch and write the good rows to ``sink``.

        Worker threads convert, check and encode batches ahead (NumPy, Arrow, GEOS and
        PROJ release the GIL); this thread takes their results in file order to report,
        find repeated values and write, so the outcome is the same as one batch at a time.
        """
        work_area = area_of_interest_storage(self.settings.area_of_interest)
        seen = {f.name: set() for f in self.layer.fields if f.unique}  # type: ignore[var-annotated]
        offset, outside_km = 0, list[float]()

        def writing() -> bool:
            return sink is not None and (self.options.skip_invalid or not self.report.errors)

        # Read by the workers: whether rows will still be written (no need to encode them
        # once a refused row means that nothing will be loaded).
        encode = [writing()]

        def prepare(batch: pa.RecordBatch) -> _Prepared:
            return self._prepare(batch, work_area, encode=encode[0])

        batches = self.source.batches(self.settings.ingest_batch_size)
        with closing(_in_order(prepare, batches, WORKERS)) as prepared:
            for batch, prep in prepared:
                offset = self._take(batch, prep, offset, seen, outside_km, sink)
                encode[0] = writing()
        self._conclude(outside_km)

    def _take(self, batch: pa.RecordBatch, prep: _Prepared, offset: int,
              seen: dict[str, set], outside_km: list[float],  # type: ignore[type-arg]
              sink: tuple[StagedLoad, ProcessedWriter] | None) -> int:
        """Report a prepared batch and write its good rows; the offset of the next one."""
        n = batch.num_rows
        rows = np.arange(offset, offset + n) + self.source.row_offset
        offset += n
        bad = self._check_attributes(prep, rows, seen)
        result = prep.geometry
        for reason, mask in result.rejected.items():
            self.report.reject("geometría", reason, rows[mask])
            bad |= mask
        for reason, mask in result.repaired.items():
            self.report.repair("geometría", reason, rows[mask])
        if result.outside_km is not None:
            outside_km.append(result.outside_km)
        self.report.features_read += n
        if sink is not None and (self.options.skip_invalid or not self.report.errors):
            self._write(sink, prep, ~bad)
        if self.progress:
            self.progress(n)
        return offset

    def _prepare(self, batch: pa.RecordBatch, work_area: shapely.Polygon,
                 encode: bool) -> _Prepared:
        n = batch.num_rows
        columns: dict[str, pa.Array] = {}
        problems = []
        for fld in self.layer.fields:
            column = self.mapping.get(fld.name)
            if column is None:
                columns[fld.name] = pa.nulls(n, ARROW_TYPES[fld.type])
                continue
            where = (f"campo «{fld.name}»" if column == fld.name
                     else f"campo «{fld.name}» (columna «{column}»)")
            converted, *found = convert_field(fld, batch.column(column))
            columns[fld.name] = converted.values
            problems.append((fld, where, found))
        result = check_geometries(
            batch.column(GEOMETRY_COLUMN),
            self.layer.geometry, self.src_crs, self.settings.area_of_interest,  # type: ignore[arg-type]
            work_area, promote=False)
        prep = _Prepared(columns, problems, result)
        if encode:
            prep.wkb, ewkb = encode_wkb(result.geoms, self.layer.geometry, STORAGE_SRID,
                                        result.wkb)
            prep.rows = StagedLoad.encode(self.layer, columns, ewkb)
        return prep

    def _check_attributes(self, prep: _Prepared, rows: np.ndarray,
                          seen: dict[str, set]) -> np.ndarray:  # type: ignore[type-arg]
        """Report the batch's attribute problems and repeated values; the rows refused."""
        bad = np.zeros(len(rows), bool)
        for fld, where, problems in prep.problems:
            for p in problems:
                self.report.reject(where, p.reason, rows[p.bad])
                bad |= p.bad
            if fld.unique:
                dup = _duplicates(prep.columns[fld.name], seen[fld.name])
                if dup.any():
                    self.report.reject(where, "valor repetido (debe ser único)", rows[dup])
                    bad |= dup
        return bad

    def _write(self, sink: tuple[StagedLoad, ProcessedWriter], prep: _Prepared,
               keep: np.ndarray) -> None:
        staged, writer = sink
        columns, wkb, rows = prep.columns, prep.wkb, prep.rows
        assert wkb is not None and rows is not None
        geoms = prep.geometry.geoms
        if not keep.all():
            mask = pa.array(keep)
            columns = {k: v.filter(mask) for k, v in columns.items()}
            wkb, rows, geoms = wkb.filter(mask), rows.filter(mask), geoms[keep]
        if not len(geoms):
            return
        staged.write(rows)
        writer.write(columns, wkb.cast(pa.binary()), shapely.bounds(geoms))
        self.report.features_loaded += len(geoms)

    def _conclude(self, outside_km: list[float]) -> None:
        report = self.report
        outside = next((g for g in report.errors if g.reason == OUTSIDE_REASON), None)
        if outside is not None and outside.count == report.features_read:
            raise IngestError(
                f"Todas las entidades quedan fuera del área de trabajo, a {min(outside_km):.1f} "
                f"km o más, interpretadas en {report.source_crs}.",
                report,
                hint="El sistema de coordenadas del archivo parece equivocado: revise el .prj "
                "o indique el correcto con --crs.",
            )
        if report.errors and not self.options.skip_invalid and not self.options.dry_run:
            raise IngestError(
                f"Se rechazaron {report.rejected_count} de {report.features_read} entidades; "
                "no se cargó nada.",
                report,
                hint="Corrija el archivo, o use --omitir-invalidas para cargar solo las válidas.",
            )
        if report.features_read and report.rejected_count == report.features_read:
            raise IngestError("Ninguna entidad del archivo es válida; no se cargó nada.", report)


def _duplicates(values: pa.Array, seen: set) -> np.ndarray:  # type: ignore[type-arg]
    """Rows whose value was seen before (in this batch or an earlier one); adds the new
    values to ``seen``."""
    present = values.drop_null().to_pylist()
    batch = set(present)
    if len(batch) == len(present) and seen.isdisjoint(batch):
        seen |= batch  # the usual case: no repeats, decided in bulk
        return np.zeros(len(values), bool)
    dup = np.zeros(len(values), bool)
    for i, v in enumerate(values.to_pylist()):
        if v is None:
            continue
        if v in seen:
            dup[i] = True
        else:
            seen.add(v)
    return dup


def _in_order(fn: Callable[[pa.RecordBatch], _Prepared], batches: Iterable[pa.RecordBatch],
              workers: int) -> Generator[tuple[pa.RecordBatch, _Prepared], None, None]:
    """``(batch, fn(batch))`` in the order of ``batches``, ``fn`` running in ``workers``
    threads at most ``workers + 1`` batches ahead (memory stays bounded)."""
    pending: deque[tuple[pa.RecordBatch, Future[_Prepared]]] = deque()
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ingest")
    try:
        for batch in batches:
            pending.append((batch, pool.submit(fn, batch)))
            if len(pending) > workers:
                done, future = pending.popleft()
                yield done, future.result()
        while pending:
            done, future = pending.popleft()
            yield done, future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _coded_fields(layer: VectorLayer) -> list[str]:
    """Fields with few distinct values: codes, yes/no."""
    return [f.name for f in layer.fields if f.choices or f.type is FieldType.BOOLEAN]


def _geoparquet_types(layer: VectorLayer) -> list[str]:
    return [] if layer.geometry is GeometryKind.ANY else [layer.geometry.value]

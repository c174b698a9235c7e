"""The processed copy of each load: a GeoParquet file in data/processed/, written as the
rows stream, renamed into place only once the database load has committed.

The file is written by a thread of its own, which may lag behind the load by up to
:data:`MAX_PENDING_BYTES` of rows: its work then overlaps the end of the load (indexes
built by the server), when the client has nothing else to do.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from gis.crs import STORAGE_CRS

MAX_PENDING_BYTES = 512 * 1024 * 1024


class ProcessedWriter:
    def __init__(self, final_path: Path, geometry_types: list[str],
                 dictionary: list[str] | None = None) -> None:
        """``dictionary``: the columns worth dictionary-encoding (few distinct values),
        all when None; encoding, say, a unique key that way is wasted work."""
        self.final_path = final_path
        self.partial_path = final_path.with_name(final_path.name + ".partial")
        self.geometry_types = geometry_types
        self.dictionary = dictionary
        self._writer: pq.ParquetWriter | None = None
        self._bbox = np.array([np.inf, np.inf, -np.inf, -np.inf])
        self._pending: deque[pa.Table | None] = deque()
        self._pending_bytes = 0
        self._changed = threading.Condition()
        self._error: BaseException | None = None
        self._cancelled = False
        self._thread: threading.Thread | None = None

    def write(self, columns: dict[str, pa.Array], wkb: pa.Array, bounds: np.ndarray) -> None:
        """Queue rows for the file (waits while too many are queued)."""
        table = pa.table({**columns, "geometry": wkb})
        if len(bounds):
            self._bbox = np.concatenate([np.minimum(self._bbox[:2], np.nanmin(bounds[:, :2], 0)),
                                         np.maximum(self._bbox[2:], np.nanmax(bounds[:, 2:], 0))])
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="processed-parquet",
                                            daemon=True)
            self._thread.start()
        with self._changed:
            self._changed.wait_for(lambda: self._error is not None or not self._pending
                                   or self._pending_bytes < MAX_PENDING_BYTES)
            self._raise()
            self._pending.append(table)
            self._pending_bytes += table.nbytes
            self._changed.notify_all()

    @property
    def bbox(self) -> tuple[float, float, float, float] | None:
        """Bounds (xmin, ymin, xmax, ymax) of the geometries written so far, if any."""
        if not np.isfinite(self._bbox).all():
            return None
        xmin, ymin, xmax, ymax = (float(v) for v in self._bbox)
        return xmin, ymin, xmax, ymax

    def close(self) -> None:
        """Finish the file (still under its partial name) with its GeoParquet metadata,
        once the queued rows are written."""
        self._stop()
        self._raise()
        if self._writer is None:
            return
        self._writer.add_key_value_metadata({"geo": json.dumps(self._geo_metadata())})
        self._writer.close()

    def commit(self) -> Path:
        self.partial_path.replace(self.final_path)
        return self.final_path

    def discard(self) -> None:
        self._cancelled = True  # the thread skips what is still queued
        self._stop()
        if self._writer is not None:
            try:
                self._writer.close()
            except Exception:  # noqa: BLE001 - best effort on an already failed load
                pass
        try:
            self.partial_path.unlink(missing_ok=True)
        except OSError:  # a read-only folder: nothing could be written there anyway
            pass

    # -- the writing thread -------------------------------------------------------------

    def _work(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: bool(self._pending))
                table = self._pending[0]
            if table is None:
                return
            try:
                if self._error is None and not self._cancelled:
                    self._write_table(table)
            except BaseException as exc:  # noqa: BLE001 - handed to the loading thread
                self._error = exc
            with self._changed:
                self._pending.popleft()
                self._pending_bytes -= table.nbytes
                self._changed.notify_all()

    def _write_table(self, table: pa.Table) -> None:
        if self._writer is None:
            self.final_path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = pq.ParquetWriter(
                self.partial_path, table.schema, compression="zstd",
                use_dictionary=True if self.dictionary is None else self.dictionary)
        self._writer.write_table(table)

    def _stop(self) -> None:
        """Wait for the queued rows to be written and end the thread."""
        if self._thread is None:
            return
        with self._changed:
            self._pending.append(None)
            self._changed.notify_all()
        self._thread.join()
        self._thread = None

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def _geo_metadata(self) -> dict[str, object]:
        bbox = self._bbox.tolist() if np.isfinite(self._bbox).all() else None
        column: dict[str, object] = {
            "encoding": "WKB",
            "geometry_types": self.geometry_types,
            "crs": STORAGE_CRS.to_json_dict(),
        }
        if bbox:
            column["bbox"] = bbox
        return {"version": "1.1.0", "primary_column": "geometry", "columns": {"geometry": column}}

"""The processed copy of each load: a GeoParquet file in data/processed/, written as the
rows stream, renamed into place only once the database load has committed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from gis.crs import STORAGE_CRS


class ProcessedWriter:
    def __init__(self, final_path: Path, geometry_types: list[str]) -> None:
        self.final_path = final_path
        self.partial_path = final_path.with_name(final_path.name + ".partial")
        self.geometry_types = geometry_types
        self._writer: pq.ParquetWriter | None = None
        self._bbox = np.array([np.inf, np.inf, -np.inf, -np.inf])

    def write(self, columns: dict[str, pa.Array], wkb: pa.Array, bounds: np.ndarray) -> None:
        table = pa.table({**columns, "geometry": wkb})
        if len(bounds):
            self._bbox = np.concatenate([np.minimum(self._bbox[:2], np.nanmin(bounds[:, :2], 0)),
                                         np.maximum(self._bbox[2:], np.nanmax(bounds[:, 2:], 0))])
        if self._writer is None:
            self.final_path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = pq.ParquetWriter(self.partial_path, table.schema,
                                            compression="zstd")
        self._writer.write_table(table)

    def close(self) -> None:
        """Finish the file (still under its partial name) with its GeoParquet metadata."""
        if self._writer is None:
            return
        self._writer.add_key_value_metadata({"geo": json.dumps(self._geo_metadata())})
        self._writer.close()

    def commit(self) -> Path:
        self.partial_path.replace(self.final_path)
        return self.final_path

    def discard(self) -> None:
        if self._writer is not None:
            try:
                self._writer.close()
            except Exception:  # noqa: BLE001 - best effort on an already failed load
                pass
        self.partial_path.unlink(missing_ok=True)

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

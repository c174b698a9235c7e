"""A partitioned GeoParquet export of what the batch analyses read, for the distributed
path (:mod:`gis.analysis.distributed`, dask-geopandas).

The export is a folder::

    manifest.json              what was exported: layer versions, CRS, partitions
    parcels/part-00000.parquet the cadastre, one GeoParquet file per partition
    zoning.parquet             the zoning version analysed (norms and uses)
    hazard_zones.parquet       the hazard zones version analysed
    census_zones.parquet       census zones with their population
    land_use.parquet           security equipment (the only land use the analyses read)
    projects.parquet           investment projects (cost)

The small layers are broadcast whole to every partition; only the parcels are split.
Every geometry is in EPSG:32719, as stored.

Partitioning
------------
- ``por="hilbert"`` (default, one comuna): the parcels ordered along a Hilbert curve
  through their envelope centres and cut into ``partitions`` runs of equal size, so that
  each partition is a compact patch of the territory and meets few zone and hazard pieces.
- ``por="comuna"`` (national inputs: 9 million parcels in 345 comunas): the parcels are
  read from the database comuna by comuna (the comuna holding their point on surface,
  ``layers.comunas``), so that the client never holds more than one comuna; a comuna of
  more than :data:`ROWS_PER_PARTITION` parcels is cut along the Hilbert curve. Parcels in
  no comuna make a last partition. Each partition records its comuna in the manifest.

Examples
--------
>>> export = export_partitioned(settings, "var/lote", partitions=8)  # doctest: +SKIP
>>> export.manifest["capas"]["zoning"]["version"]                     # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import shapely
from psycopg import sql

from gis.analysis.common import (
    PIECE_VERTICES,
    AnalysisInputError,
    Connectable,
    LayerChoice,
    analysis_transaction,
    fetch_frame,
    layer_version,
    run_script,
    session,
    sql_sections,
)
from gis.analysis.exposure import SECURITY_LAND_USE
from gis.crs import STORAGE_CRS
from gis.tiles import revisions

SQL = sql_sections("analysis_partitioned")
EXPORT_FORMAT = 1
MANIFEST = "manifest.json"
PARCELS_DIR = "parcels"
ROWS_PER_PARTITION = 125_000
"""Parcels per partition when ``partitions`` is not given (and the most a comuna's
partition holds with ``por="comuna"``)."""
HILBERT_LEVEL = 16
PARTITIONINGS = ("hilbert", "comuna")

PARCEL_COLUMNS = {
    "fid": "int64", "rol": "str", "direccion": "str", "destino": "str",
    "superficie_terreno": "float64", "superficie_construida": "float64",
    "avaluo_total": "Int64",
}
"""The cadastre's columns the batch analyses read (and their dtypes in the export)."""
FETCHED = {**PARCEL_COLUMNS, "xmin": "float64", "ymin": "float64", "xmax": "float64",
           "ymax": "float64", "wkb": "str"}
"""The columns of the parcels' queries: the attributes, the envelope and the hex WKB."""

SMALL_LAYERS: dict[str, tuple[str, ...]] = {
    "zoning": ("codigo", "nombre", "usos_permitidos", "usos_prohibidos",
               "superficie_predial_minima", "densidad_maxima", "coef_constructibilidad",
               "coef_ocupacion_suelo"),
    "hazard_zones": ("tipo", "nivel"),
    "census_zones": ("geocodigo", "poblacion"),
    "land_use": ("fid", "uso"),
    "projects": ("fid", "codigo", "monto_clp"),
}
"""Each small layer exported and its columns (the order of its query in
``gis/sql/analysis_partitioned.sql``)."""


@dataclass(frozen=True)
class PartitionedExport:
    """An export folder and its manifest (see the module docstring)."""

    folder: Path
    manifest: dict[str, Any]

    @property
    def parcel_files(self) -> list[Path]:
        """The parcels' partitions, in the manifest's order."""
        return [self.folder / p["archivo"] for p in self.manifest["particiones"]]

    def layer(self, name: str) -> gpd.GeoDataFrame:
        """A small layer, whole (EPSG:32719)."""
        if name not in SMALL_LAYERS:
            raise AnalysisInputError(f"La exportación no tiene la capa «{name}».",
                                     hint="Capas: " + ", ".join(SMALL_LAYERS) + ".")
        return gpd.read_parquet(self.folder / f"{name}.parquet")


def export_partitioned(conn_or_settings: Connectable, folder: str | Path, *,
                       partitions: int | None = None, por: str = "hilbert",
                       version: int | None = None, version_amenazas: int | None = None,
                       fecha: date | datetime | str | None = None) -> PartitionedExport:
    """Write the parcels, partitioned, and the small layers the batch analyses read to
    ``folder`` as GeoParquet, with a manifest.

    Parameters
    ----------
    conn_or_settings : an open psycopg connection, or the settings to open one.
    folder : an empty or missing folder, or an earlier export (replaced).
    partitions : number of parcel partitions with ``por="hilbert"`` (default: one per
        :data:`ROWS_PER_PARTITION` parcels); not used with ``por="comuna"``.
    por : ``"hilbert"`` or ``"comuna"`` (see the module docstring).
    version, version_amenazas : the zoning and the hazard zones versions (by number);
        ``fecha`` chooses both by the date they were in force; the current ones by
        default.

    Returns
    -------
    The :class:`PartitionedExport` written.

    Raises
    ------
    AnalysisInputError
        On an unknown ``por``, a ``partitions`` below 1 (or given with ``por="comuna"``),
        or a folder holding other files (nothing is deleted).
    """
    if por not in PARTITIONINGS:
        raise AnalysisInputError(f"No se puede particionar por «{str(por)[:40]}».",
                                 hint="Use por='hilbert' (una comuna) o por='comuna'.")
    if partitions is not None and (por == "comuna" or int(partitions) < 1):
        raise AnalysisInputError(
            f"Número de particiones no válido: {partitions!r}.",
            hint="Con por='hilbert' indique un entero mayor que 0; con por='comuna' se "
            f"hace una partición por comuna (hasta {ROWS_PER_PARTITION:,} predios "
            "cada una).".replace(",", "."))
    target = Path(folder)
    _prepare_folder(target)
    with session(conn_or_settings) as (conn, settings):
        zoning = layer_version(conn, "zoning", version, fecha)
        hazards = layer_version(conn, "hazard_zones", version_amenazas, fecha)
        with analysis_transaction(conn):
            layers = {"zoning": _layer_entry(zoning), "hazard_zones": _layer_entry(hazards)}
            for name, choice in (("zoning", zoning), ("hazard_zones", hazards)):
                layers[name]["filas"] = _write_small(conn, target, name, choice)
            for name in ("census_zones", "land_use", "projects"):
                layers[name] = {"filas": _write_small(conn, target, name, None)}
            revs = revisions(conn, ["parcels", *SMALL_LAYERS])
            parts = (_write_hilbert(conn, target, partitions) if por == "hilbert"
                     else _write_by_comuna(conn, target))
        for name, entry in layers.items():
            entry["revision"] = revs[name]
        layers["parcels"] = {"revision": revs["parcels"],
                             "filas": sum(p["filas"] for p in parts)}
        manifest = {
            "formato": EXPORT_FORMAT, "crs": STORAGE_CRS.to_string(),
            "creado": datetime.now(UTC).isoformat(timespec="seconds"),
            "comuna": settings.comuna_code,
            "particionado": {"por": por, "particiones": len(parts),
                             "nivel_hilbert": HILBERT_LEVEL},
            "capas": layers, "particiones": parts,
        }
    (target / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n",
                                   encoding="utf-8")
    return PartitionedExport(target, manifest)


def open_export(folder: str | Path | PartitionedExport) -> PartitionedExport:
    """The export in ``folder``; a Spanish error when it is not one."""
    if isinstance(folder, PartitionedExport):
        return folder
    path = Path(folder) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AnalysisInputError(
            f"La carpeta {Path(folder)} no es una exportación particionada (falta "
            f"{MANIFEST}).", hint="Créela con gis.analysis.partitioned.export_partitioned"
            "(settings, carpeta).") from None
    except (OSError, ValueError) as exc:
        raise AnalysisInputError(f"No se pudo leer {path}: {exc}.",
                                 hint="Vuelva a exportar la carpeta.") from None
    if manifest.get("formato") != EXPORT_FORMAT or manifest.get("crs") != STORAGE_CRS.to_string():
        raise AnalysisInputError(
            f"La exportación de {Path(folder)} tiene otro formato ({manifest.get('formato')}) "
            f"o sistema de coordenadas ({manifest.get('crs')}).",
            hint=f"Vuelva a exportarla (formato {EXPORT_FORMAT}, {STORAGE_CRS.to_string()}).")
    return PartitionedExport(Path(folder), manifest)


# --- writing -------------------------------------------------------------------------------

def _prepare_folder(target: Path) -> None:
    """Refuse a folder holding anything but an earlier export; empty an earlier export."""
    ours = {MANIFEST, PARCELS_DIR, *(f"{n}.parquet" for n in SMALL_LAYERS)}
    if target.exists() and not target.is_dir():
        raise AnalysisInputError(f"{target} es un archivo, no una carpeta.",
                                 hint="Indique una carpeta nueva o vacía.")
    if target.exists():
        others = sorted(p.name for p in target.iterdir() if p.name not in ours)
        if others:
            raise AnalysisInputError(
                f"La carpeta {target} contiene otros archivos ({', '.join(others[:5])}"
                f"{'…' if len(others) > 5 else ''}); no se reemplazan.",
                hint="Indique una carpeta nueva o vacía, o una exportación anterior.")
        (target / MANIFEST).unlink(missing_ok=True)
        shutil.rmtree(target / PARCELS_DIR, ignore_errors=True)
    (target / PARCELS_DIR).mkdir(parents=True, exist_ok=True)


def _layer_entry(choice: LayerChoice) -> dict[str, Any]:
    return {"version": choice.version, "vigente_desde": choice.vigente_desde.isoformat()}


def _write_small(conn: psycopg.Connection, target: Path, name: str,
                 choice: LayerChoice | None) -> int:
    query = sql.SQL(SQL[name]).format(table=choice.table if choice else sql.SQL(""))
    params = {"seguridad": SECURITY_LAND_USE} if name == "land_use" else None
    rows = conn.execute(query, params).fetchall()
    columns = SMALL_LAYERS[name]
    frame = pd.DataFrame([r[:-1] for r in rows], columns=list(columns))
    for column in columns:
        if column in ("poblacion", "monto_clp", "fid"):
            frame[column] = frame[column].astype("Int64")
    geoms = shapely.from_wkb([bytes(r[-1]) if r[-1] is not None else None for r in rows])
    gpd.GeoDataFrame(frame, geometry=np.asarray(geoms, dtype=object), crs=STORAGE_CRS
                     ).to_parquet(target / f"{name}.parquet", index=False)
    return len(rows)


def _write_hilbert(conn: psycopg.Connection, target: Path, partitions: int | None
                   ) -> list[dict[str, Any]]:
    parcels = fetch_frame(conn, SQL["parcels"], None, FETCHED, geometry=False)
    count = partitions or max(1, math.ceil(len(parcels) / ROWS_PER_PARTITION))
    return _write_runs(target, parcels, count, comuna=None, first=0)


def _write_by_comuna(conn: psycopg.Connection, target: Path) -> list[dict[str, Any]]:
    run_script(conn, SQL["parcel_comuna"], {"vertices": PIECE_VERTICES})
    parts: list[dict[str, Any]] = []
    for comuna, rows in conn.execute(SQL["comunas"]).fetchall():
        parcels = fetch_frame(conn, SQL["parcels_of_comuna"], {"comuna": comuna}, FETCHED,
                              geometry=False)
        count = max(1, math.ceil(int(rows) / ROWS_PER_PARTITION))
        parts += _write_runs(target, parcels, count, comuna=comuna, first=len(parts))
    if not parts:  # no parcels at all: one empty partition keeps the schema
        empty = fetch_frame(conn, SQL["parcels_of_comuna"] + " LIMIT 0", {"comuna": None},
                            FETCHED, geometry=False)
        parts = _write_runs(target, empty, 1, comuna=None, first=0)
    return parts


def hilbert_keys(x: np.ndarray, y: np.ndarray, bounds: tuple[float, float, float, float],
                 level: int = HILBERT_LEVEL) -> np.ndarray:
    """Distance along a Hilbert curve of ``2**level`` cells a side over ``bounds`` of the
    points ``x``, ``y`` (NaN: 0)."""
    n = 1 << level
    x0, y0, x1, y1 = bounds
    span = max(x1 - x0, y1 - y0) or 1.0
    xi = np.clip(np.nan_to_num((x - x0) / span * (n - 1)), 0, n - 1).astype("int64")
    yi = np.clip(np.nan_to_num((y - y0) / span * (n - 1)), 0, n - 1).astype("int64")
    d = np.zeros(len(xi), dtype="int64")
    s = n // 2
    while s > 0:
        rx, ry = (xi & s) > 0, (yi & s) > 0
        d += s * s * ((3 * rx.astype("int64")) ^ ry.astype("int64"))
        flip = rx & ~ry
        xi, yi = np.where(flip, n - 1 - xi, xi), np.where(flip, n - 1 - yi, yi)
        xi, yi = np.where(~ry, yi, xi), np.where(~ry, xi, yi)
        s //= 2
    return d


def _write_runs(target: Path, parcels: pd.DataFrame, count: int, *, comuna: str | None,
                first: int) -> list[dict[str, Any]]:
    """``parcels`` (:data:`FETCHED`) ordered along the Hilbert curve through their
    envelopes' centres, cut into ``count`` runs of equal size written as GeoParquet
    ``parcels/part-NNNNN.parquet`` (numbered from ``first``). The WKB goes to the files
    as it came: no geometry is decoded."""
    if len(parcels):
        bounds = (parcels["xmin"].min(), parcels["ymin"].min(), parcels["xmax"].max(),
                  parcels["ymax"].max())
        keys = hilbert_keys(((parcels["xmin"] + parcels["xmax"]) / 2).to_numpy(),
                            ((parcels["ymin"] + parcels["ymax"]) / 2).to_numpy(), bounds)
        parcels = parcels.iloc[np.argsort(keys, kind="stable")].reset_index(drop=True)
    crs = STORAGE_CRS.to_json_dict()
    out = []
    for i, rows in enumerate(np.array_split(np.arange(len(parcels)),
                                            max(1, min(count, len(parcels) or 1)))):
        name = f"{PARCELS_DIR}/part-{first + i:05d}.parquet"
        part = parcels.iloc[rows]
        bbox = ([float(part["xmin"].min()), float(part["ymin"].min()),
                 float(part["xmax"].max()), float(part["ymax"].max())] if len(part) else None)
        frame = pd.DataFrame(part[list(PARCEL_COLUMNS)]).reset_index(drop=True)
        frame["geometry"] = pd.Series(
            [None if pd.isna(h) else bytes.fromhex(h) for h in part["wkb"].to_numpy(object)],
            dtype=object)
        column: dict[str, Any] = {"encoding": "WKB", "geometry_types": [], "crs": crs}
        if bbox is not None:
            column["bbox"] = bbox
        geo = {"version": "1.0.0", "primary_column": "geometry",
               "columns": {"geometry": column}}
        table = pa.Table.from_pandas(frame, preserve_index=False)
        table = table.replace_schema_metadata(
            {**(table.schema.metadata or {}), b"geo": json.dumps(geo).encode()})
        pq.write_table(table, target / name)
        out.append({"archivo": name, "filas": len(part),
                    "bbox": [round(v, 3) for v in bbox] if bbox else None, "comuna": comuna})
    return out


__all__ = ["EXPORT_FORMAT", "MANIFEST", "PARCEL_COLUMNS", "ROWS_PER_PARTITION",
           "SMALL_LAYERS", "PartitionedExport", "export_partitioned", "hilbert_keys",
           "open_export"]

"""Reading the layer catalog: each layer's declaration joined with its loaded versions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from layers import REGISTRY, get_layer
from layers.base import Layer

VERSION_COLUMNS = (
    "layer, version, kind, loaded_at, loaded_by, source_file, source_sha256, source_crs, "
    "storage_crs, feature_count, fuente, licencia, demo, data_location, processed_file, "
    "valid_from, valid_to, ST_AsText(extent) AS extent_wkt, report"
)


@dataclass
class LayerVersion:
    layer: str
    version: int
    kind: str
    loaded_at: datetime
    loaded_by: str
    source_file: str
    source_sha256: str
    source_crs: str | None
    storage_crs: str
    feature_count: int
    fuente: str
    licencia: str
    demo: bool
    data_location: str
    processed_file: str | None
    valid_from: datetime
    valid_to: datetime | None
    extent_wkt: str | None
    report: dict[str, Any]

    @property
    def in_force(self) -> bool:
        return self.valid_to is None


@dataclass
class CatalogEntry:
    layer: Layer
    current: LayerVersion | None

    @property
    def name(self) -> str:
        return self.layer.name


def layer_versions(conn: psycopg.Connection, name: str) -> list[LayerVersion]:
    """Every version of a layer, newest first."""
    get_layer(name)
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(f"SELECT {VERSION_COLUMNS} FROM catalog.layer_versions "  # noqa: S608
                    "WHERE layer = %s ORDER BY version DESC", (name,))
        return [LayerVersion(**row) for row in cur.fetchall()]


def catalog(conn: psycopg.Connection) -> list[CatalogEntry]:
    """Every registered layer with its version in force (None if never loaded)."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(f"SELECT {VERSION_COLUMNS} FROM catalog.layer_versions "  # noqa: S608
                    "WHERE valid_to IS NULL")
        current = {row["layer"]: LayerVersion(**row) for row in cur.fetchall()}
    return [CatalogEntry(layer, current.get(name)) for name, layer in REGISTRY.items()]


def is_empty(conn: psycopg.Connection) -> bool:
    row = conn.execute("SELECT NOT EXISTS (SELECT 1 FROM catalog.layer_versions)").fetchone()
    return bool(row and row[0])

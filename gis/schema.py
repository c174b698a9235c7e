"""The database schema, derived from the layer registry: one table per vector layer.

Schemas: ``layers`` holds the version in force of every vector layer, ``history`` the
tables of superseded versions, ``staging`` loads in progress, ``catalog`` the catalog.
Migrations (``gis/migrations``) are generated from this metadata and checked against it.
"""

from __future__ import annotations

import sqlalchemy as sa
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from layers import STORAGE_SRID, vector_layers
from layers.base import FieldType, VectorLayer

LAYERS_SCHEMA = "layers"
HISTORY_SCHEMA = "history"
STAGING_SCHEMA = "staging"
CATALOG_SCHEMA = "catalog"
AUTH_SCHEMA = "auth"
AUDIT_SCHEMA = "audit"
PROPOSALS_SCHEMA = "proposals"
PROFILES_SCHEMA = "profiles"
PORTFOLIO_SCHEMA = "cartera"
MANAGED_SCHEMAS = (LAYERS_SCHEMA, CATALOG_SCHEMA)
"""Schemas whose tables are declared here and compared with the migrations (drift test)."""
PLATFORM_SCHEMAS = (LAYERS_SCHEMA, HISTORY_SCHEMA, STAGING_SCHEMA, CATALOG_SCHEMA,
                    AUTH_SCHEMA, AUDIT_SCHEMA, PROPOSALS_SCHEMA, PROFILES_SCHEMA,
                    PORTFOLIO_SCHEMA)
"""Every schema the platform owns (the others' tables are declared in their migration)."""

SQL_TYPES: dict[FieldType, sa.types.TypeEngine] = {
    FieldType.TEXT: sa.Text(),
    FieldType.INTEGER: sa.BigInteger(),
    FieldType.FLOAT: sa.Double(),
    FieldType.DATE: sa.Date(),
    FieldType.BOOLEAN: sa.Boolean(),
    FieldType.TEXT_LIST: ARRAY(sa.Text()),
}

metadata = sa.MetaData()


def layer_table(layer: VectorLayer, meta: sa.MetaData, *, schema: str = LAYERS_SCHEMA,
                name: str | None = None) -> sa.Table:
    """The table of ``layer``: ``fid``, one column per field, ``geom`` in the storage CRS.

    ``name`` gives another table of the same shape (a staging table); index names follow
    the table name so that tables of several versions can coexist.
    """
    name = name or layer.name
    columns: list[sa.SchemaItem] = [
        sa.Column("fid", sa.BigInteger, sa.Identity(), nullable=False),
        *(sa.Column(f.name, SQL_TYPES[f.type], nullable=not f.required, comment=f.title)
          for f in layer.fields),
        sa.Column("geom", Geometry(layer.geometry.value.upper(), srid=STORAGE_SRID,
                                   spatial_index=False), nullable=False),
        sa.PrimaryKeyConstraint("fid", name=f"{name}_pkey"),
        sa.Index(f"{name}_geom_idx", "geom", postgresql_using="gist"),
        *(sa.Index(f"{name}_{f.name}_key", f.name, unique=True)
          for f in layer.fields if f.unique),
        # Trigram indexes serve the case- and accent-insensitive search (gis.search).
        *(sa.Index(f"{name}_{f}_trgm", f, postgresql_using="gin",
                   postgresql_ops={f: "gin_trgm_ops"}) for f in layer.search),
    ]
    return sa.Table(name, meta, *columns, schema=schema, comment=layer.title)


LAYER_TABLES = {layer.name: layer_table(layer, metadata) for layer in vector_layers()}

layer_versions = sa.Table(
    "layer_versions", metadata,
    sa.Column("layer", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False,
              server_default=sa.func.now()),
    sa.Column("loaded_by", sa.Text, nullable=False),
    sa.Column("source_file", sa.Text, nullable=False),
    sa.Column("source_sha256", sa.Text, nullable=False),
    sa.Column("source_crs", sa.Text),
    sa.Column("storage_crs", sa.Text, nullable=False),
    sa.Column("feature_count", sa.BigInteger, nullable=False),
    sa.Column("extent", Geometry("POLYGON", srid=STORAGE_SRID, spatial_index=False)),
    sa.Column("fuente", sa.Text, nullable=False),
    sa.Column("licencia", sa.Text, nullable=False),
    sa.Column("demo", sa.Boolean, nullable=False),
    sa.Column("data_location", sa.Text, nullable=False,
              comment="Table (vector) or file (raster) holding this version's data"),
    sa.Column("processed_file", sa.Text),
    sa.Column("report", JSONB, nullable=False),
    sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False,
              server_default=sa.func.now()),
    sa.Column("valid_to", sa.DateTime(timezone=True)),
    sa.PrimaryKeyConstraint("layer", "version", name="layer_versions_pkey"),
    schema=CATALOG_SCHEMA,
    comment="Every load of every layer: provenance, size and validity period",
)

layer_revisions = sa.Table(
    "layer_revisions", metadata,
    sa.Column("layer", sa.Text, primary_key=True),
    sa.Column("revision", sa.BigInteger, nullable=False),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False,
              server_default=sa.func.now()),
    schema=CATALOG_SCHEMA,
    comment="A counter per layer, raised by every change of its data (a new version or an "
    "edit): what tile caches and derived results compare against",
)

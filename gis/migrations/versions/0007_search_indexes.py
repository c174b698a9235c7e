"""trigram indexes on the searchable fields of each layer (case/accent-insensitive search)

Revision ID: 0007
Revises: 0006
"""
from alembic import op

from layers import vector_layers

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for layer in vector_layers():
        for field in layer.search:
            op.create_index(f"{layer.name}_{field}_trgm", layer.name, [field],
                            schema="layers", postgresql_using="gin",
                            postgresql_ops={field: "gin_trgm_ops"})


def downgrade() -> None:
    for layer in vector_layers():
        for field in layer.search:
            op.drop_index(f"{layer.name}_{field}_trgm", table_name=layer.name, schema="layers")

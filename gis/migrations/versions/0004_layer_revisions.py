"""layer revisions: a change counter per layer, raised by every new version or edit

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "layer_revisions",
        sa.Column("layer", sa.Text(), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.PrimaryKeyConstraint("layer", name="layer_revisions_pkey"),
        schema="catalog",
        comment="A counter per layer, raised by every change of its data (a new version or "
        "an edit): what tile caches and derived results compare against",
    )
    op.execute("""
        CREATE FUNCTION catalog.bump_layer_revision() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO catalog.layer_revisions (layer, revision) VALUES (NEW.layer, 1)
            ON CONFLICT (layer) DO UPDATE
            SET revision = catalog.layer_revisions.revision + 1, changed_at = now();
            RETURN NEW;
        END $$;
        CREATE TRIGGER layer_versions_bump_revision
        AFTER INSERT ON catalog.layer_versions
        FOR EACH ROW EXECUTE FUNCTION catalog.bump_layer_revision();
        INSERT INTO catalog.layer_revisions (layer, revision)
        SELECT layer, count(*) FROM catalog.layer_versions GROUP BY layer;
    """)


def downgrade() -> None:
    op.execute("DROP TRIGGER layer_versions_bump_revision ON catalog.layer_versions; "
               "DROP FUNCTION catalog.bump_layer_revision();")
    op.drop_table("layer_revisions", schema="catalog")

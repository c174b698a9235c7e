"""parcel zones: the PRC zone of every parcel under a zoning version, kept as a derived
table so that the batch analyses (compliance, capacity, the parcel report) share one
overlay of the cadastre with the zoning instead of each computing it again

Revision ID: 0011
Revises: 0010
"""
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE profiles.parcel_zones (
            version          integer NOT NULL,
            fid              bigint NOT NULL,
            zona             text NOT NULL,
            porcentaje_zona  double precision NOT NULL,
            PRIMARY KEY (version, fid)
        );
        COMMENT ON TABLE profiles.parcel_zones IS
            'PRC zone holding most of each parcel''s area, per zoning version (parcels '
            'outside every zone have no row); rebuilt by gis.analysis.parcel_zones when the '
            'cadastre or that version changed (profiles.derived_state, name parcel_zones:N)';
        COMMENT ON COLUMN profiles.parcel_zones.version IS 'Zoning version (catalog)';
        COMMENT ON COLUMN profiles.parcel_zones.fid IS 'layers.parcels.fid';
        COMMENT ON COLUMN profiles.parcel_zones.porcentaje_zona IS
            'Share of the parcel''s area within the zone, in percent';
    """)


def downgrade() -> None:
    op.execute("""
        DROP TABLE profiles.parcel_zones;
        DELETE FROM profiles.derived_state WHERE starts_with(name, 'parcel_zones:');
    """)

"""profile speed: residential area pre-aggregated on a grid, so that the population served
within a radius sums whole cells and cuts parcels only on the radius's edge

Revision ID: 0010
Revises: 0009
"""
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        ALTER TABLE profiles.residential_pieces ADD COLUMN celda bigint;
        COMMENT ON COLUMN profiles.residential_pieces.celda IS
            'Grid cell (profiles.residential_cells) holding the centre of the piece';
        CREATE INDEX residential_pieces_celda_idx ON profiles.residential_pieces
            (celda, geocodigo);

        CREATE TABLE profiles.residential_cells (
            celda      bigint NOT NULL,
            geocodigo  text NOT NULL,
            area       double precision NOT NULL,
            piezas     integer NOT NULL,
            centro     geometry(Point, 32719) NOT NULL,
            radio      double precision NOT NULL,
            geom       geometry(Polygon, 32719) NOT NULL,
            PRIMARY KEY (celda, geocodigo)
        );
        CREATE INDEX residential_cells_geom_idx ON profiles.residential_cells USING gist (geom);
        COMMENT ON TABLE profiles.residential_cells IS
            'Residential pieces grouped by census zone and by the grid cell holding their '
            'centre, with their total area: a cell wholly within a distance counts whole';
        COMMENT ON COLUMN profiles.residential_cells.radio IS
            'Farthest distance from centro (the cell centre) to its pieces: the cell lies '
            'wholly within d of a project when centro is within d - radio of it';
        COMMENT ON COLUMN profiles.residential_cells.geom IS
            'Extent of the pieces of the cell (they may reach beyond the cell)';

        -- a refresh rewrites each stored profile with its new sections: lz4 compresses
        -- and decompresses several times faster than the default pglz (where the server
        -- was built without it, the default stays)
        DO $$ BEGIN
            ALTER TABLE profiles.project_profiles ALTER COLUMN perfil SET COMPRESSION lz4;
        EXCEPTION WHEN OTHERS THEN
            RAISE NOTICE 'perfil sin compresión lz4: %', SQLERRM;
        END $$;

        -- the residential weights are rebuilt with the cells on their next use
        DELETE FROM profiles.derived_state WHERE name = 'residential';
    """)


def downgrade() -> None:
    op.execute("""
        ALTER TABLE profiles.project_profiles ALTER COLUMN perfil SET COMPRESSION default;
        DROP TABLE profiles.residential_cells;
        ALTER TABLE profiles.residential_pieces DROP COLUMN celda;
        DELETE FROM profiles.derived_state WHERE name = 'residential';
    """)

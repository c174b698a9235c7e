"""project profiles: the territorial profile of each investment project, kept current

Revision ID: 0008
Revises: 0007
"""
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE SCHEMA IF NOT EXISTS profiles;

        CREATE TABLE profiles.project_profiles (
            codigo      text PRIMARY KEY,
            perfil      jsonb NOT NULL,
            revisiones  jsonb NOT NULL,
            calculado   timestamptz NOT NULL DEFAULT now()
        );
        COMMENT ON TABLE profiles.project_profiles IS
            'Territorial profile of each project (gis.profile), one JSON section per '
            'concern, with the layer revisions each section was computed from';
        COMMENT ON COLUMN profiles.project_profiles.revisiones IS
            'Section name -> {layer: revision} of the layers the section depends on';

        CREATE TABLE profiles.derived_state (
            name        text PRIMARY KEY,
            revisiones  jsonb NOT NULL,
            calculado   timestamptz NOT NULL DEFAULT now()
        );
        COMMENT ON TABLE profiles.derived_state IS
            'Layer revisions each derived table of the profiles schema was built from';

        CREATE TABLE profiles.residential_pieces (
            id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            geocodigo   text NOT NULL,
            area        double precision NOT NULL,
            centro      geometry(Point, 32719) NOT NULL,
            radio       double precision NOT NULL,
            geom        geometry(Geometry, 32719) NOT NULL
        );
        COMMENT ON COLUMN profiles.residential_pieces.radio IS
            'Farthest distance from centro to the piece: a piece whose centro is within '
            'd - radio of a project lies wholly within d of it';
        CREATE INDEX residential_pieces_geom_idx ON profiles.residential_pieces
            USING gist (geom);
        COMMENT ON TABLE profiles.residential_pieces IS
            'Residential parcels (destino H) cut by census zone: the weights of the '
            'population served (areal interpolation weighted by residential parcels)';

        CREATE TABLE profiles.census_weights (
            geocodigo         text PRIMARY KEY,
            area_residencial  double precision NOT NULL
        );
        COMMENT ON TABLE profiles.census_weights IS
            'Residential parcel area of each census zone (sum of its residential pieces)';

        CREATE FUNCTION profiles.measure(g geometry, dim integer) RETURNS double precision
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
            SELECT CASE dim
                       WHEN 2 THEN ST_Area(g)
                       WHEN 1 THEN ST_Length(g)
                       ELSE ST_NPoints(g)::double precision END
        $$;
        COMMENT ON FUNCTION profiles.measure(geometry, integer) IS
            'Size of a geometry in dimension dim (that of the project it is part of): '
            'area (m2), length (m) or number of points';
    """)


def downgrade() -> None:
    op.execute("DROP SCHEMA profiles CASCADE")

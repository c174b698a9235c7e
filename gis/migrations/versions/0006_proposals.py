"""zoning proposals: changesets against the zoning in force, their review and history

Revision ID: 0006
Revises: 0005
"""
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE SCHEMA IF NOT EXISTS proposals;

        CREATE TABLE proposals.proposals (
            id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            titulo          text NOT NULL CHECK (length(titulo) BETWEEN 1 AND 300),
            justificacion   text NOT NULL DEFAULT '',
            autor           text NOT NULL,
            estado          text NOT NULL DEFAULT 'borrador' CHECK (estado IN (
                                'borrador', 'enviada', 'en_revision', 'aprobada',
                                'rechazada', 'aplicada')),
            base_version    integer NOT NULL,
            revision        integer NOT NULL DEFAULT 1,
            creada          timestamptz NOT NULL DEFAULT now(),
            actualizada     timestamptz NOT NULL DEFAULT now(),
            actualizada_por text NOT NULL,
            ultima_accion   text NOT NULL DEFAULT 'crear',
            version_aplicada integer
        );
        COMMENT ON TABLE proposals.proposals IS
            'Zoning proposals: a named changeset against a zoning version';

        CREATE TABLE proposals.changes (
            id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            proposal_id  bigint NOT NULL REFERENCES proposals.proposals(id),
            seq          integer NOT NULL,
            operacion    jsonb NOT NULL,
            zonas        text[] NOT NULL,
            geom         geometry(Geometry, 32719),
            autor        text NOT NULL,
            creada       timestamptz NOT NULL DEFAULT now(),
            UNIQUE (proposal_id, seq)
        );
        COMMENT ON TABLE proposals.changes IS
            'The operations of each proposal, replayed in order on its base version';

        CREATE TABLE proposals.comments (
            id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            proposal_id  bigint NOT NULL REFERENCES proposals.proposals(id),
            autor        text NOT NULL,
            texto        text NOT NULL CHECK (length(texto) BETWEEN 1 AND 10000),
            tipo         text NOT NULL DEFAULT 'comentario'
                         CHECK (tipo IN ('comentario', 'cambios solicitados')),
            creada       timestamptz NOT NULL DEFAULT now()
        );

        CREATE TABLE proposals.transitions (
            id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            proposal_id  bigint NOT NULL REFERENCES proposals.proposals(id),
            desde        text NOT NULL,
            hacia        text NOT NULL,
            por          text NOT NULL,
            nota         text,
            cuando       timestamptz NOT NULL DEFAULT now()
        );
        COMMENT ON TABLE proposals.transitions IS 'Workflow history of each proposal';
    """)


def downgrade() -> None:
    op.execute("DROP SCHEMA proposals CASCADE")

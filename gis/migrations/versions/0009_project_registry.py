"""project registry: the full fields of a project, its funding by source and year, its
stage history and attachments

Revision ID: 0009
Revises: 0008
"""
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

NEW_COLUMNS = (
    ("descripcion", "text", "Descripción"),
    ("tipo", "text", "Tipología"),
    ("situacion", "text", "Situación"),
    ("rate", "text", "Resultado RATE"),
    ("item_presupuestario", "text", "Ítem presupuestario (subtítulo 31)"),
    ("unidad_responsable", "text", "Unidad responsable"),
    ("eje_pladeco", "text", "Eje PLADECO"),
    ("objetivo_pladeco", "text", "Objetivo PLADECO"),
    ("beneficiarios", "bigint", "Beneficiarios"),
    ("avance_fisico", "double precision", "Avance físico"),
    ("avance_financiero", "double precision", "Avance financiero"),
    ("fecha_inicio", "date", "Fecha de inicio"),
    ("fecha_termino", "date", "Fecha de término"),
    ("fuentes", "text[]", "Fuentes de financiamiento"),
    ("monto_ejecutado_clp", "bigint", "Monto ejecutado"),
)


def upgrade() -> None:
    for name, type_, title in NEW_COLUMNS:
        op.execute(f"ALTER TABLE layers.projects ADD COLUMN {name} {type_}")
        op.execute(f"COMMENT ON COLUMN layers.projects.{name} IS '{title}'")
    op.execute("""
        COMMENT ON COLUMN layers.projects.monto_clp IS 'Costo total';
        COMMENT ON COLUMN layers.projects.anio IS 'Primer año con financiamiento';

        CREATE SCHEMA IF NOT EXISTS cartera;

        CREATE TABLE cartera.registro (
            codigo          text PRIMARY KEY,
            version         integer NOT NULL DEFAULT 1,
            creado          timestamptz NOT NULL DEFAULT now(),
            creado_por      text NOT NULL,
            modificado      timestamptz NOT NULL DEFAULT now(),
            modificado_por  text NOT NULL
        );
        COMMENT ON TABLE cartera.registro IS
            'One row per project of layers.projects: who created and last changed it, and '
            'the version an If-Match must name to change it (optimistic concurrency)';

        CREATE TABLE cartera.financiamiento (
            codigo       text NOT NULL REFERENCES cartera.registro ON DELETE CASCADE
                         ON UPDATE CASCADE,
            fuente       text NOT NULL,
            anio         integer NOT NULL CHECK (anio BETWEEN 1990 AND 2100),
            solicitado   bigint NOT NULL DEFAULT 0 CHECK (solicitado >= 0),
            aprobado     bigint NOT NULL DEFAULT 0 CHECK (aprobado >= 0),
            comprometido bigint NOT NULL DEFAULT 0 CHECK (comprometido >= 0),
            ejecutado    bigint NOT NULL DEFAULT 0 CHECK (ejecutado >= 0),
            PRIMARY KEY (codigo, fuente, anio)
        );
        COMMENT ON TABLE cartera.financiamiento IS
            'Amounts in CLP of each project by funding source and year (requested, '
            'approved, committed, executed)';

        CREATE TABLE cartera.historial (
            id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            codigo   text NOT NULL REFERENCES cartera.registro ON DELETE CASCADE
                     ON UPDATE CASCADE,
            etapa    text NOT NULL,
            fecha    timestamptz NOT NULL DEFAULT now(),
            usuario  text NOT NULL,
            nota     text
        );
        CREATE INDEX historial_codigo_idx ON cartera.historial (codigo, fecha);
        COMMENT ON TABLE cartera.historial IS
            'Stage history of each project: every change of stage, who made it and why';

        CREATE TABLE cartera.adjuntos (
            id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            codigo       text NOT NULL REFERENCES cartera.registro ON DELETE CASCADE
                         ON UPDATE CASCADE,
            nombre       text NOT NULL,
            tipo         text NOT NULL,
            bytes        bigint NOT NULL,
            sha256       text NOT NULL,
            descripcion  text,
            contenido    bytea NOT NULL,
            subido       timestamptz NOT NULL DEFAULT now(),
            subido_por   text NOT NULL
        );
        CREATE INDEX adjuntos_codigo_idx ON cartera.adjuntos (codigo);
        COMMENT ON TABLE cartera.adjuntos IS
            'Documents and photos of each project (kept in the database, backed up with it)';

        -- Existing projects (loaded as a layer before the registry) enter the registry
        -- with their single source and amount as the approved amount of their year.
        INSERT INTO cartera.registro (codigo, creado_por, modificado_por)
            SELECT codigo, 'migración', 'migración' FROM layers.projects;
        INSERT INTO cartera.financiamiento (codigo, fuente, anio, solicitado, aprobado)
            SELECT codigo, fuente_financiamiento, anio, monto_clp, monto_clp
            FROM layers.projects
            WHERE fuente_financiamiento IS NOT NULL AND anio IS NOT NULL
              AND monto_clp IS NOT NULL;
        UPDATE layers.projects SET fuentes = ARRAY[fuente_financiamiento]
            WHERE fuente_financiamiento IS NOT NULL;
        INSERT INTO cartera.historial (codigo, etapa, usuario, nota)
            SELECT codigo, etapa, 'migración', 'Etapa al ingresar al registro'
            FROM layers.projects;
        ALTER TABLE layers.projects DROP COLUMN fuente_financiamiento;
    """)


def downgrade() -> None:
    op.execute("ALTER TABLE layers.projects ADD COLUMN fuente_financiamiento text")
    op.execute("UPDATE layers.projects SET fuente_financiamiento = fuentes[1]")
    for name, _, _ in NEW_COLUMNS:
        op.execute(f"ALTER TABLE layers.projects DROP COLUMN {name}")
    op.execute("DROP SCHEMA cartera CASCADE")

"""users, roles, API tokens, login throttling and the append-only audit log

Revision ID: 0005
Revises: 0004

The ``auth`` and ``audit`` schemas are declared here only (not in gis/schema.py), so the
drift test does not compare them.
"""
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE SCHEMA IF NOT EXISTS auth;
        CREATE SCHEMA IF NOT EXISTS audit;

        CREATE TABLE auth.users (
            id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            username            text NOT NULL UNIQUE
                                CHECK (username ~ '^[a-z0-9][a-z0-9._-]{1,39}$'),
            full_name           text NOT NULL,
            role                text NOT NULL
                                CHECK (role IN ('lector', 'editor', 'revisor', 'admin')),
            password_hash       text NOT NULL,
            active              boolean NOT NULL DEFAULT true,
            created_at          timestamptz NOT NULL DEFAULT now(),
            last_login_at       timestamptz,
            sessions_valid_from timestamptz NOT NULL DEFAULT now()
        );
        COMMENT ON TABLE auth.users IS
            'Platform users: one role each; argon2id password hashes, never the passwords';
        COMMENT ON COLUMN auth.users.sessions_valid_from IS
            'Access tokens issued before this instant are refused (password change, '
            'deactivation)';

        CREATE TABLE auth.api_tokens (
            id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            user_id       bigint NOT NULL REFERENCES auth.users(id),
            name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
            token_hash    text NOT NULL UNIQUE,
            created_at    timestamptz NOT NULL DEFAULT now(),
            last_used_at  timestamptz,
            revoked_at    timestamptz,
            expires_at    timestamptz
        );
        CREATE INDEX api_tokens_user_idx ON auth.api_tokens (user_id);
        COMMENT ON TABLE auth.api_tokens IS
            'Personal API tokens (notebooks, GIS clients): only a SHA-256 of the secret';

        CREATE TABLE auth.login_failures (
            id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            username  text NOT NULL,
            client    text,
            at        timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX login_failures_username_idx ON auth.login_failures (username, at);
        CREATE INDEX login_failures_client_idx ON auth.login_failures (client, at);
        CREATE INDEX login_failures_at_idx ON auth.login_failures (at);
        COMMENT ON TABLE auth.login_failures IS
            'Recent failed logins, for throttling (shared by every worker, kept on restart)';

        CREATE TABLE audit.log (
            id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            at       timestamptz NOT NULL DEFAULT clock_timestamp(),
            actor    text,
            action   text NOT NULL,
            target   text NOT NULL,
            before   jsonb,
            after    jsonb,
            outcome  text NOT NULL DEFAULT 'ok' CHECK (outcome IN ('ok', 'rechazado')),
            detail   text,
            client   text
        );
        CREATE INDEX log_at_idx ON audit.log (at DESC);
        CREATE INDEX log_actor_idx ON audit.log (actor, at DESC);
        CREATE INDEX log_action_idx ON audit.log (action, at DESC);
        COMMENT ON TABLE audit.log IS
            'Every write and every refused attempt: who, when, what, before and after. '
            'Append-only (a trigger refuses UPDATE, DELETE and TRUNCATE)';

        CREATE FUNCTION audit.refuse_change() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'El registro de auditoría no se puede modificar ni borrar (%).',
                TG_OP USING ERRCODE = 'insufficient_privilege';
        END $$;
        CREATE TRIGGER log_append_only
        BEFORE UPDATE OR DELETE ON audit.log
        FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();
        CREATE TRIGGER log_no_truncate
        BEFORE TRUNCATE ON audit.log
        FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change();
    """)


def downgrade() -> None:
    op.execute("DROP SCHEMA audit CASCADE; DROP SCHEMA auth CASCADE")

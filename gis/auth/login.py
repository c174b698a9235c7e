"""Logins with a username and password, throttled.

After ``login_max_failures`` consecutive failures for a username within
``login_window_seconds`` (or ``login_max_failures_per_client`` from one client address),
further attempts are refused for ``login_cooldown_seconds``, even with the right
password. Failures are kept in ``auth.login_failures``: the limit holds across restarts
and across the server's workers.
"""

from __future__ import annotations

import math

import psycopg

from gis import audit
from gis.auth.errors import (
    AccountDisabledError,
    InvalidCredentialsError,
    TooManyAttemptsError,
    spanish_duration,
)
from gis.auth.roles import Role, User
from gis.auth.users import hash_password, needs_rehash, normalize_username, verify_password
from gis.errors import PlatformError
from gis.settings import Settings


def _lockout(conn: psycopg.Connection, column: str, value: str, limit: int,
             settings: Settings) -> float:
    """Seconds left of the cooldown for ``column = value`` (0 when not locked)."""
    row = conn.execute(
        f"SELECT count(*), extract(epoch FROM max(at) + make_interval(secs => %s) - now()) "  # noqa: S608
        f"FROM auth.login_failures WHERE {column} = %s "
        "AND at > now() - make_interval(secs => %s)",
        (settings.login_cooldown_seconds, value, settings.login_window_seconds)).fetchone()
    if row is None or row[0] < limit or row[1] is None:
        return 0.0
    return max(0.0, float(row[1]))


def authenticate(conn: psycopg.Connection, username: str, password: str, *, client: str,
                 settings: Settings | None = None) -> User:
    """The user whose ``username`` and ``password`` these are, or a Spanish refusal.

    ``client`` is the caller's address (throttling and audit). ``settings`` gives the
    throttling limits (the defaults when omitted). Raises
    :class:`InvalidCredentialsError` (wrong username or password: the same message for
    both), :class:`AccountDisabledError` or :class:`TooManyAttemptsError` (HTTP 429,
    saying how long to wait). Every attempt is recorded in the audit log.
    """
    policy = settings or Settings.model_construct()
    name = normalize_username(username)[:100]
    refusal: PlatformError | None = None
    user: User | None = None
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"secplac-login:{name}",))
        wait = max(_lockout(conn, "username", name, policy.login_max_failures, policy),
                   _lockout(conn, "client", client, policy.login_max_failures_per_client,
                            policy) if client else 0.0)
        if wait > 0:
            refusal = TooManyAttemptsError(
                f"Demasiados intentos fallidos de ingreso para «{name}». Espere "
                f"{spanish_duration(wait)} antes de intentar de nuevo.",
                retry_after=math.ceil(wait),
                hint="Si olvidó su contraseña, pida al administrador que la cambie.")
        else:
            row = conn.execute("SELECT id, username, full_name, role, active, password_hash "
                               "FROM auth.users WHERE username = %s", (name,)).fetchone()
            if row is None or not verify_password(row[5], password):
                refusal = _record_failure(conn, name, client, policy)
            elif not row[4]:
                refusal = AccountDisabledError(
                    f"La cuenta «{name}» está desactivada.",
                    hint="Pida al administrador de la plataforma que la vuelva a activar.")
            else:
                user = User(row[0], row[1], row[2], Role(row[3]))
                _on_success(conn, user, row[5], password)
        audit.record(conn, name if user else None, "sesion.ingresar", f"usuario/{name}",
                     outcome="ok" if user else "rechazado",
                     detail=refusal.message if refusal else None, client=client or None)
    if refusal is not None:
        raise refusal
    assert user is not None
    return user


def _record_failure(conn: psycopg.Connection, name: str, client: str,
                    policy: Settings) -> InvalidCredentialsError:
    conn.execute("DELETE FROM auth.login_failures WHERE at < now() - make_interval(secs => %s)",
                 (2 * (policy.login_window_seconds + policy.login_cooldown_seconds),))
    conn.execute("INSERT INTO auth.login_failures (username, client) VALUES (%s, %s)",
                 (name, client or None))
    row = conn.execute("SELECT count(*) FROM auth.login_failures WHERE username = %s "
                       "AND at > now() - make_interval(secs => %s)",
                       (name, policy.login_window_seconds)).fetchone()
    left = policy.login_max_failures - (row[0] if row else 0)
    cooldown = spanish_duration(policy.login_cooldown_seconds)
    hint = (f"Le quedan {left} intento{'s' if left != 1 else ''} antes de un bloqueo de "
            f"{cooldown}." if left > 0 else
            f"Se alcanzó el máximo de intentos: el ingreso queda bloqueado por {cooldown}.")
    return InvalidCredentialsError("Usuario o contraseña incorrectos.", hint=hint)


def _on_success(conn: psycopg.Connection, user: User, password_hash: str,
                password: str) -> None:
    conn.execute("DELETE FROM auth.login_failures WHERE username = %s", (user.username,))
    new_hash = hash_password(password) if needs_rehash(password_hash) else None
    conn.execute("UPDATE auth.users SET last_login_at = now(), "
                 "password_hash = coalesce(%s, password_hash) WHERE id = %s",
                 (new_hash, user.id))

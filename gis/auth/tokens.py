"""Bearer tokens: short-lived access tokens and long-lived personal API tokens.

Access tokens are JWT signed with HS256 (pyjwt), issued at login, with a ``jti`` and an
expiry of ``settings.access_token_seconds``. The key comes from ``SECPLAC_SECRET_KEY`` or
from a file generated once in ``settings.state_dir`` (never from the repository).

API tokens (``secplac_…``) are for notebooks and GIS clients: a random secret shown once,
of which only a SHA-256 is stored; they last until revoked (or an optional expiry).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from pathlib import Path

import jwt
import psycopg

from gis import audit
from gis.auth.errors import (
    AccountDisabledError,
    InvalidTokenError,
    TokenExpiredError,
    TokenRevokedError,
    local_time,
)
from gis.auth.roles import ApiToken, Role, User
from gis.errors import NotFoundError, PlatformError, SetupError
from gis.settings import Settings

JWT_ALGORITHM = "HS256"
JWT_ISSUER = "secplac-san-antonio"
API_TOKEN_PREFIX = "secplac_"
SECRET_KEY_FILE = "secret_key"
MIN_SECRET_LENGTH = 32


def signing_key(settings: Settings) -> bytes:
    """The key that signs access tokens: ``SECPLAC_SECRET_KEY`` if set, else the contents
    of ``state_dir/secret_key``, generated (mode 0600) the first time it is needed."""
    if settings.secret_key is not None:
        key = settings.secret_key.get_secret_value().encode()
        if len(key) < MIN_SECRET_LENGTH:
            raise SetupError("La clave SECPLAC_SECRET_KEY es demasiado corta.",
                             hint=f"Use al menos {MIN_SECRET_LENGTH} caracteres aleatorios, "
                             "p. ej. la salida de «openssl rand -hex 32».")
        return key
    path = settings.state_dir / SECRET_KEY_FILE
    if not path.exists():
        _write_secret_once(path)
    key = path.read_bytes().strip()
    if len(key) < MIN_SECRET_LENGTH:
        raise SetupError(f"El archivo de clave «{path}» está vacío o dañado.",
                         hint="Bórrelo para generar otro (las sesiones abiertas se cierran).")
    return key


def _write_secret_once(path: Path) -> None:
    """Write a random key to ``path`` atomically; if another process won, keep theirs."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, secrets.token_hex(32).encode() + b"\n")
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()


def issue_access_token(settings: Settings, user: User) -> str:
    """A signed access token (JWT, HS256) for ``user``, valid for
    ``settings.access_token_seconds``."""
    issued_us = time.time_ns() // 1000
    now = issued_us // 1_000_000
    claims = {"iss": JWT_ISSUER, "sub": user.username, "uid": user.id,
              "rol": user.role.value, "iat": now, "exp": now + settings.access_token_seconds,
              "jti": secrets.token_urlsafe(16),
              # iat in microseconds, the resolution of timestamptz: compared with the
              # moment sessions were closed, so a token issued in the same second or
              # millisecond as a password change still falls on the right side of it
              "iat_us": issued_us}
    return jwt.encode(claims, signing_key(settings), algorithm=JWT_ALGORITHM)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


_TOKEN_COLUMNS = ("t.id, u.username, t.name, t.created_at, t.last_used_at, t.revoked_at, "
                  "t.expires_at FROM auth.api_tokens t JOIN auth.users u ON u.id = t.user_id")


def create_api_token(conn: psycopg.Connection, user: User, name: str, *,
                     expires_days: int | None = None, actor: str | None = None) -> str:
    """Create a personal API token for ``user`` and return its secret.

    The secret is shown only now: the database keeps a SHA-256 of it. ``expires_days``
    limits its life (by default it lasts until revoked). ``actor`` defaults to the user.
    """
    label = " ".join(name.split())
    if not 1 <= len(label) <= 100:
        raise PlatformError("El nombre del token debe tener entre 1 y 100 caracteres.",
                            hint="Use un nombre que diga dónde se usa, p. ej. «QGIS oficina».")
    if expires_days is not None and expires_days < 1:
        raise PlatformError("La vigencia del token debe ser de al menos un día.")
    secret = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    with conn.transaction():
        row = conn.execute(
            "INSERT INTO auth.api_tokens (user_id, name, token_hash, expires_at) "
            "VALUES (%s, %s, %s, now() + make_interval(days => %s)) RETURNING id",
            (user.id, label, _token_hash(secret), expires_days)).fetchone()
        assert row is not None
        audit.record(conn, actor or user.username, "token.crear", f"token/{row[0]}",
                     after={"usuario": user.username, "nombre": label,
                            "vigencia_dias": expires_days})
    return secret


def list_api_tokens(conn: psycopg.Connection, user: User | None = None) -> list[ApiToken]:
    """The API tokens of ``user`` (of everyone when ``None``), newest first."""
    rows = conn.execute(f"SELECT {_TOKEN_COLUMNS} WHERE %s::bigint IS NULL "  # noqa: S608
                        "OR t.user_id = %s ORDER BY t.id DESC",
                        (user.id if user else None, user.id if user else None)).fetchall()
    return [ApiToken(*r) for r in rows]


def find_api_token(conn: psycopg.Connection, secret: str) -> ApiToken:
    """The API token whose secret is ``secret`` (e.g. to show its id right after creating
    it); :class:`NotFoundError` if there is none."""
    row = conn.execute(f"SELECT {_TOKEN_COLUMNS} WHERE t.token_hash = %s",  # noqa: S608
                       (_token_hash(secret.strip()),)).fetchone()
    if row is None:
        raise NotFoundError("No existe ese token de API.")
    return ApiToken(*row)


def revoke_api_token(conn: psycopg.Connection, token_id: int, *, by: User | None = None,
                     actor: str | None = None) -> ApiToken:
    """Revoke the API token ``token_id`` (at once and for good; revoking twice is harmless).

    ``by`` is the user asking: anyone can revoke their own tokens, an admin anyone's.
    ``None`` means the platform operator (command line).
    """
    with conn.transaction():
        row = conn.execute(f"SELECT {_TOKEN_COLUMNS} WHERE t.id = %s FOR UPDATE OF t",  # noqa: S608
                           (token_id,)).fetchone()
        token = ApiToken(*row) if row else None
        if token is None or (by is not None and not by.can(Role.ADMIN)
                             and token.username != by.username):
            raise NotFoundError(f"No existe el token de API {token_id}.",
                                hint="Vea sus tokens en GET /auth/tokens.")
        if token.revoked_at is not None:
            return token
        revoked = conn.execute("UPDATE auth.api_tokens SET revoked_at = now() WHERE id = %s "
                               "RETURNING revoked_at", (token_id,)).fetchone()
        audit.record(conn, actor or (by.username if by else None), "token.revocar",
                     f"token/{token_id}", before={"usuario": token.username,
                                                  "nombre": token.name, "revocado": False},
                     after={"revocado": True})
    return ApiToken(token.id, token.username, token.name, token.created_at,
                    token.last_used_at, revoked[0] if revoked else None, token.expires_at)


def user_from_token(conn: psycopg.Connection, settings: Settings, token: str) -> User:
    """The active user a bearer token (access token or API token) belongs to.

    Raises, each with its own Spanish message: :class:`TokenExpiredError`,
    :class:`TokenRevokedError`, :class:`InvalidTokenError` (malformed, tampered, unknown)
    and :class:`AccountDisabledError`.
    """
    token = token.strip()
    if token.startswith(API_TOKEN_PREFIX):
        return _user_from_api_token(conn, token)
    if token.count(".") == 2:
        return _user_from_access_token(conn, settings, token)
    raise InvalidTokenError("El token no es válido: no es un token de acceso ni un token de "
                            "API de la plataforma.",
                            hint="Envíe «Authorization: Bearer <token>» con el token completo.")


def _user_from_access_token(conn: psycopg.Connection, settings: Settings, token: str) -> User:
    try:
        claims = jwt.decode(token, signing_key(settings), algorithms=[JWT_ALGORITHM],
                            issuer=JWT_ISSUER,
                            options={"require": ["exp", "iat", "sub", "jti", "uid"]})
    except jwt.ExpiredSignatureError:
        raise TokenExpiredError("La sesión expiró: el token de acceso ya no es válido.",
                                hint="Ingrese de nuevo en /ingresar o pida un token nuevo "
                                "en POST /auth/token.") from None
    except jwt.InvalidTokenError:
        raise InvalidTokenError("El token de acceso no es válido (está mal formado o su "
                                "firma no corresponde).",
                                hint="Ingrese de nuevo en /ingresar o pida un token nuevo "
                                "en POST /auth/token.") from None
    row = conn.execute("SELECT id, username, full_name, role, active, (extract(epoch FROM "
                       "sessions_valid_from) * 1000000)::bigint FROM auth.users WHERE id = %s",
                       (claims["uid"],)).fetchone()
    if row is None or row[1] != claims["sub"]:
        raise InvalidTokenError("El token de acceso corresponde a un usuario que no existe.")
    if not row[4]:
        raise _disabled(row[1])
    if _issued_us(claims) < row[5]:
        raise TokenRevokedError("La sesión fue cerrada: la contraseña cambió o la cuenta fue "
                                "desactivada después de ingresar.",
                                hint="Ingrese de nuevo en /ingresar.")
    return User(row[0], row[1], row[2], Role(row[3]))


def _issued_us(claims: dict[str, object]) -> int:
    """When an access token was issued, in microseconds (tokens issued before 2026-11-26
    said it in milliseconds, ``iat_ms``; they expire within ``access_token_seconds``)."""
    if "iat_us" in claims:
        return int(str(claims["iat_us"]))
    if "iat_ms" in claims:
        return int(str(claims["iat_ms"])) * 1000
    raise InvalidTokenError("El token de acceso no es válido (no dice cuándo se emitió).",
                            hint="Ingrese de nuevo en /ingresar o pida un token nuevo en "
                            "POST /auth/token.")


def _user_from_api_token(conn: psycopg.Connection, token: str) -> User:
    row = conn.execute(
        "SELECT t.id, t.name, t.revoked_at, t.expires_at, t.expires_at <= now(), "
        "u.id, u.username, u.full_name, u.role, u.active FROM auth.api_tokens t "
        "JOIN auth.users u ON u.id = t.user_id WHERE t.token_hash = %s",
        (_token_hash(token),)).fetchone()
    if row is None:
        raise InvalidTokenError("El token de API no es válido: no existe en la plataforma.",
                                hint="Revise que lo copió completo, o cree uno nuevo en "
                                "POST /auth/tokens.")
    token_id, name, revoked_at, expires_at, expired = row[:5]
    if revoked_at is not None:
        raise TokenRevokedError(f"El token de API «{name}» fue revocado el "
                                f"{local_time(revoked_at)}.",
                                hint="Cree uno nuevo en POST /auth/tokens.")
    if expired:
        raise TokenExpiredError(f"El token de API «{name}» venció el {local_time(expires_at)}.",
                                hint="Cree uno nuevo en POST /auth/tokens.")
    if not row[9]:
        raise _disabled(row[6])
    conn.execute("UPDATE auth.api_tokens SET last_used_at = now() WHERE id = %s AND "
                 "(last_used_at IS NULL OR last_used_at < now() - interval '1 minute')",
                 (token_id,))
    return User(row[5], row[6], row[7], Role(row[8]))


def _disabled(username: str) -> AccountDisabledError:
    return AccountDisabledError(f"La cuenta «{username}» está desactivada.",
                                hint="Pida al administrador de la plataforma que la active.")

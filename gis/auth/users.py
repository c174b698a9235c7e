"""Users: create, change role or password, deactivate, list; the demo users.

Passwords are stored as argon2id hashes (argon2-cffi), never in clear. Every change is
recorded in the audit log with who made it (``actor``).
"""

from __future__ import annotations

import re
import secrets
from typing import Any

import psycopg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from gis import audit
from gis.auth.errors import LastAdminError, UserExistsError
from gis.auth.roles import Account, Role, User
from gis.errors import NotFoundError, PlatformError

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256


def normalize_username(username: str) -> str:
    return username.strip().lower()


def _valid_username(username: str) -> str:
    name = normalize_username(username)
    if not USERNAME_RE.match(name):
        raise PlatformError(f"El nombre de usuario «{username[:60]}» no es válido.",
                            hint="Use de 2 a 40 letras minúsculas sin tildes, números, punto, "
                            "guion o guion bajo (p. ej. «mperez»).")
    return name


def _check_password(password: str, username: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PlatformError(
            f"La contraseña debe tener al menos {MIN_PASSWORD_LENGTH} caracteres.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise PlatformError(
            f"La contraseña no puede tener más de {MAX_PASSWORD_LENGTH} caracteres.")
    if password.strip().lower() == username:
        raise PlatformError("La contraseña no puede ser igual al nombre de usuario.")


def parse_role(value: str | Role) -> Role:
    """The :class:`Role` named ``value``, or a Spanish error listing the roles."""
    try:
        return Role(str(value).strip().lower())
    except ValueError:
        raise PlatformError(f"El rol «{str(value)[:40]}» no existe.",
                            hint="Roles: " + ", ".join(r.value for r in Role) + ".") from None


def new_password() -> str:
    """A random password easy to type: three groups of four unambiguous characters."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(3))


_hasher = PasswordHasher()  # argon2id with the library's current (RFC 9106) parameters
_dummy_hash: str | None = None

_USER_COLUMNS = "id, username, full_name, role, active, created_at, last_login_at"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with older parameters than the current ones."""
    return _hasher.check_needs_rehash(password_hash)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches the hash (a dummy hash when ``None``: same time)."""
    global _dummy_hash
    if password_hash is None:  # same work for unknown users: no timing oracle
        _dummy_hash = _dummy_hash or _hasher.hash(secrets.token_hex(16))
        password_hash = _dummy_hash
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _account(row: tuple[Any, ...]) -> Account:
    return Account(User(row[0], row[1], row[2], Role(row[3])), row[4], row[5], row[6])


def _user_json(user: User, active: bool = True) -> dict[str, Any]:
    return {"usuario": user.username, "nombre": user.full_name, "rol": user.role.value,
            "activo": active}


def _find_account(conn: psycopg.Connection, username: str, *,
                  for_update: bool = False) -> Account:
    name = normalize_username(username)
    row = conn.execute(f"SELECT {_USER_COLUMNS} FROM auth.users WHERE username = %s"  # noqa: S608
                       + (" FOR UPDATE" if for_update else ""), (name,)).fetchone()
    if row is None:
        raise NotFoundError(f"No existe el usuario «{name[:60]}».",
                            hint="Vea los usuarios con «secplac usuarios listar».")
    return _account(row)


def get_user(conn: psycopg.Connection, username: str) -> User:
    """The user called ``username`` (active or not); :class:`NotFoundError` if none."""
    return _find_account(conn, username).user


def create_user(conn: psycopg.Connection, username: str, full_name: str, role: Role | str,
                password: str, *, actor: str | None = None) -> User:
    """Create an active user with an argon2id hash of ``password``.

    ``actor`` (who creates it) goes to the audit log. Raises :class:`UserExistsError` when
    the username is taken and a Spanish :class:`PlatformError` for an invalid username,
    role or password.
    """
    name = _valid_username(username)
    role = parse_role(role)
    _check_password(password, name)
    full_name = " ".join(full_name.split())[:200] or name
    with conn.transaction():
        row = conn.execute(
            "INSERT INTO auth.users (username, full_name, role, password_hash) "
            "VALUES (%s, %s, %s, %s) ON CONFLICT (username) DO NOTHING RETURNING id",
            (name, full_name, role.value, hash_password(password))).fetchone()
        if row is None:
            raise UserExistsError(f"Ya existe el usuario «{name}».",
                                  hint="Elija otro nombre o cambie su rol o contraseña.")
        user = User(row[0], name, full_name, role)
        audit.record(conn, actor, "usuario.crear", f"usuario/{name}", after=_user_json(user))
    return user


def set_password(conn: psycopg.Connection, username: str, password: str, *,
                 actor: str | None = None) -> None:
    """Replace the password of ``username``; the sessions opened before are closed and any
    login cooldown on the account is lifted."""
    account = _find_account(conn, username)
    _check_password(password, account.user.username)
    with conn.transaction():
        conn.execute("UPDATE auth.users SET password_hash = %s, "
                     "sessions_valid_from = clock_timestamp() WHERE id = %s",
                     (hash_password(password), account.user.id))
        conn.execute("DELETE FROM auth.login_failures WHERE username = %s",
                     (account.user.username,))
        audit.record(conn, actor, "usuario.clave", f"usuario/{account.user.username}",
                     detail="contraseña cambiada")


def _keep_an_admin(conn: psycopg.Connection, account: Account) -> None:
    """Refuse to leave the platform without an active administrator."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtext('secplac-admins'))")
    row = conn.execute("SELECT count(*) FROM auth.users WHERE role = 'admin' AND active "
                       "AND id <> %s", (account.user.id,)).fetchone()
    if account.user.role is Role.ADMIN and account.active and row and row[0] == 0:
        raise LastAdminError(
            f"«{account.user.username}» es el único administrador activo.",
            hint="Cree o active otro administrador antes de quitarle el rol o desactivarlo.")


def set_role(conn: psycopg.Connection, username: str, role: Role | str, *,
             actor: str | None = None) -> User:
    """Give ``username`` another role (effective on their next request)."""
    role = parse_role(role)
    with conn.transaction():
        account = _find_account(conn, username, for_update=True)
        if account.user.role is role:
            return account.user
        if role is not Role.ADMIN:
            _keep_an_admin(conn, account)
        conn.execute("UPDATE auth.users SET role = %s WHERE id = %s",
                     (role.value, account.user.id))
        user = User(account.user.id, account.user.username, account.user.full_name, role)
        audit.record(conn, actor, "usuario.rol", f"usuario/{user.username}",
                     before={"rol": account.user.role.value}, after={"rol": role.value})
    return user


def set_active(conn: psycopg.Connection, username: str, active: bool, *,
               actor: str | None = None) -> User:
    """Activate or deactivate ``username``. A deactivated user cannot log in, and their
    access and API tokens stop working at once (they work again if reactivated, except
    the access tokens issued before the deactivation)."""
    with conn.transaction():
        account = _find_account(conn, username, for_update=True)
        if account.active == active:
            return account.user
        if not active:
            _keep_an_admin(conn, account)
        conn.execute("UPDATE auth.users SET active = %s, sessions_valid_from = CASE WHEN %s "
                     "THEN sessions_valid_from ELSE clock_timestamp() END WHERE id = %s",
                     (active, active, account.user.id))
        audit.record(conn, actor, "usuario.activar" if active else "usuario.desactivar",
                     f"usuario/{account.user.username}", before={"activo": account.active},
                     after={"activo": active})
    return account.user


def deactivate_user(conn: psycopg.Connection, username: str, *,
                    actor: str | None = None) -> User:
    """Deactivate ``username`` (users are never deleted: the audit log refers to them)."""
    return set_active(conn, username, False, actor=actor)


def list_users(conn: psycopg.Connection) -> list[Account]:
    """Every user, active or not, by username."""
    rows = conn.execute(f"SELECT {_USER_COLUMNS} FROM auth.users "  # noqa: S608
                        "ORDER BY username").fetchall()
    return [_account(r) for r in rows]


DEMO_USERS = (
    ("admin", "Administración SECPLAC", Role.ADMIN),
    ("revisor", "Asesoría Urbana SECPLAC", Role.REVISOR),
    ("editor", "Colaboración DOM", Role.EDITOR),
    ("lector", "Planificación SECPLAC", Role.LECTOR),
)


def ensure_demo_users(conn: psycopg.Connection) -> dict[str, str]:
    """When there are no users at all, create one per role with a random password.

    Returns ``{username: password}`` of the users created (empty when there were users
    already): the only time these passwords can be seen.
    """
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('secplac-demo-users'))")
        if conn.execute("SELECT EXISTS (SELECT FROM auth.users)").fetchone() != (False,):
            return {}
        created = {}
        for username, full_name, role in DEMO_USERS:
            password = new_password()
            create_user(conn, username, full_name, role, password, actor="sistema")
            created[username] = password
    return created

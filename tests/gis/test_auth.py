"""Users, roles, logins, tokens and the audit log, on a real PostGIS."""

from __future__ import annotations

import base64
import json
import stat
import time
from pathlib import Path

import jwt
import psycopg
import pytest
from pydantic import SecretStr

from gis import audit
from gis.auth import (
    AccountDisabledError,
    InvalidCredentialsError,
    InvalidTokenError,
    LastAdminError,
    Role,
    TokenExpiredError,
    TokenRevokedError,
    TooManyAttemptsError,
    User,
    UserExistsError,
    authenticate,
    create_api_token,
    create_user,
    deactivate_user,
    ensure_demo_users,
    issue_access_token,
    list_api_tokens,
    list_users,
    revoke_api_token,
    set_active,
    set_password,
    set_role,
    signing_key,
    user_from_token,
)
from gis.errors import NotFoundError, PlatformError, SetupError
from gis.settings import Settings

CLAVE = "clave-de-prueba-1"


@pytest.fixture
def conn(settings: Settings):  # type: ignore[no-untyped-def]
    with psycopg.connect(settings.database_url, autocommit=True) as c:
        yield c


@pytest.fixture
def fast_throttle(settings: Settings) -> Settings:
    return settings.model_copy(update={"login_max_failures": 3, "login_window_seconds": 60,
                                       "login_cooldown_seconds": 2,
                                       "login_max_failures_per_client": 100})


def test_roles_admin_can_everything_and_everyone_can_read() -> None:
    admin, editor = User(1, "a", "A", Role.ADMIN), User(2, "e", "E", Role.EDITOR)
    lector, revisor = User(3, "l", "L", Role.LECTOR), User(4, "r", "R", Role.REVISOR)
    assert admin.can(Role.REVISOR) and admin.can(Role.EDITOR) and admin.can(Role.ADMIN)
    assert editor.can(Role.EDITOR) and not editor.can(Role.REVISOR)
    assert not editor.can(Role.ADMIN) and revisor.can(Role.REVISOR, Role.EDITOR)
    assert not lector.can(Role.EDITOR) and lector.can(Role.LECTOR) and lector.can()
    assert editor.can(Role.LECTOR)  # viewing is everyone's


def test_passwords_are_stored_as_argon2id_hashes(conn: psycopg.Connection,
                                                 settings: Settings) -> None:
    user = create_user(conn, "MPerez", "María Pérez", "editor", CLAVE, actor="pruebas")
    assert user == User(user.id, "mperez", "María Pérez", Role.EDITOR)
    stored = conn.execute("SELECT password_hash FROM auth.users").fetchone()[0]
    assert stored.startswith("$argon2id$") and CLAVE not in stored
    assert authenticate(conn, "mperez", CLAVE, client="10.0.0.1") == user
    assert authenticate(conn, " MPEREZ ", CLAVE, client="10.0.0.1") == user
    for name, password in (("mperez", "otra-clave-1"), ("nadie", CLAVE)):
        with pytest.raises(InvalidCredentialsError) as exc:
            authenticate(conn, name, password, client="10.0.0.1")
        assert exc.value.message == "Usuario o contraseña incorrectos."
        assert exc.value.http_status == 401
        assert exc.value.headers["WWW-Authenticate"] == "Bearer"
    log = audit.entries(conn, limit=10, action="sesion")
    assert [e["outcome"] for e in log] == ["rechazado", "rechazado", "ok", "ok"]
    assert log[-1]["actor"] == "mperez" and log[-1]["client"] == "10.0.0.1"
    assert all(CLAVE not in json.dumps(e, default=str) for e in audit.entries(conn))


def test_invalid_users_are_refused_in_spanish(conn: psycopg.Connection) -> None:
    create_user(conn, "ana", "Ana", Role.LECTOR, CLAVE)
    cases = [(("Ana María", "x", "lector", CLAVE), "no es válido"),
             (("pedro", "Pedro", "lector", "corta"), "al menos 8 caracteres"),
             (("pedro", "Pedro", "jefe", CLAVE), "El rol «jefe» no existe."),
             (("pedro", "Pedro", "lector", "pedro"), "al menos 8"),
             (("pedro1234", "Pedro", "lector", "PEDRO1234"), "igual al nombre de usuario")]
    for args, message in cases:
        with pytest.raises(PlatformError, match=message):
            create_user(conn, *args)
    with pytest.raises(UserExistsError, match="Ya existe el usuario «ana»") as exc:
        create_user(conn, "ANA", "Otra Ana", Role.EDITOR, CLAVE)
    assert exc.value.http_status == 409
    assert [a.user.username for a in list_users(conn)] == ["ana"]


def test_repeated_wrong_passwords_lock_the_account_for_a_while(
        conn: psycopg.Connection, fast_throttle: Settings) -> None:
    create_user(conn, "editor", "Editor", Role.EDITOR, CLAVE)
    create_user(conn, "otro", "Otro", Role.EDITOR, CLAVE)
    hints = []
    for _ in range(3):
        with pytest.raises(InvalidCredentialsError) as exc:
            authenticate(conn, "editor", "equivocada", client="10.0.0.2",
                         settings=fast_throttle)
        hints.append(exc.value.hint)
    assert hints[0] == "Le quedan 2 intentos antes de un bloqueo de 2 segundos."
    assert "bloqueado por 2 segundos" in hints[2]
    # Even the right password is refused during the cooldown, saying how long to wait.
    with pytest.raises(TooManyAttemptsError) as locked:
        authenticate(conn, "editor", CLAVE, client="10.0.0.2", settings=fast_throttle)
    assert locked.value.http_status == 429 and 1 <= locked.value.retry_after <= 2
    assert "Demasiados intentos fallidos de ingreso para «editor». Espere" in \
        locked.value.message
    assert locked.value.headers["Retry-After"] == str(locked.value.retry_after)
    # The failures are in the database: any worker (or a restarted server) sees them.
    with psycopg.connect(fast_throttle.database_url, autocommit=True) as other:
        with pytest.raises(TooManyAttemptsError):
            authenticate(other, "editor", CLAVE, client="10.0.0.9", settings=fast_throttle)
    assert authenticate(conn, "otro", CLAVE, client="10.0.0.2", settings=fast_throttle)
    time.sleep(2.1)
    assert authenticate(conn, "editor", CLAVE, client="10.0.0.2",
                        settings=fast_throttle).username == "editor"
    assert conn.execute("SELECT count(*) FROM auth.login_failures WHERE username = 'editor'"
                        ).fetchone() == (0,)  # a success starts the count again
    refused = audit.entries(conn, action="sesion.ingresar", outcome="rechazado")
    assert len(refused) == 5 and refused[0]["target"] == "usuario/editor"


def test_many_failures_from_one_address_lock_that_address(
        conn: psycopg.Connection, fast_throttle: Settings) -> None:
    policy = fast_throttle.model_copy(update={"login_max_failures_per_client": 4})
    create_user(conn, "lector", "Lector", Role.LECTOR, CLAVE)
    for name in ("a1", "a2", "a3", "a4"):
        with pytest.raises(InvalidCredentialsError):
            authenticate(conn, name, "x", client="10.9.9.9", settings=policy)
    with pytest.raises(TooManyAttemptsError):
        authenticate(conn, "lector", CLAVE, client="10.9.9.9", settings=policy)
    assert authenticate(conn, "lector", CLAVE, client="10.1.1.1", settings=policy)


def test_access_tokens_are_short_lived_signed_jwt(conn: psycopg.Connection,
                                                  settings: Settings) -> None:
    user = create_user(conn, "revisor", "Revisora", Role.REVISOR, CLAVE)
    token = issue_access_token(settings, user)
    claims = jwt.decode(token, signing_key(settings), algorithms=["HS256"],
                        issuer="secplac-san-antonio")
    assert claims["sub"] == "revisor" and claims["rol"] == "revisor" and claims["jti"]
    assert claims["exp"] - claims["iat"] == settings.access_token_seconds == 1800
    assert issue_access_token(settings, user) != token  # a new jti each time
    assert user_from_token(conn, settings, token) == user
    assert user_from_token(conn, settings, f"  {token} ") == user
    short = settings.model_copy(update={"access_token_seconds": 1})
    expiring = issue_access_token(short, user)
    assert user_from_token(conn, short, expiring) == user
    time.sleep(1.2)
    with pytest.raises(TokenExpiredError, match="La sesión expiró") as exc:
        user_from_token(conn, short, expiring)
    assert exc.value.http_status == 401 and "invalid_token" in exc.value.headers[
        "WWW-Authenticate"]


def _tampered(token: str, **changes: object) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(changes)
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def test_tampered_and_malformed_tokens_are_refused(conn: psycopg.Connection,
                                                   settings: Settings) -> None:
    lector = create_user(conn, "lector", "Lector", Role.LECTOR, CLAVE)
    admin = create_user(conn, "jefa", "Jefa", Role.ADMIN, CLAVE)
    token = issue_access_token(settings, lector)
    now = int(time.time())
    forged_other_key = jwt.encode({"iss": "secplac-san-antonio", "sub": "jefa",
                                   "uid": admin.id, "iat": now, "exp": now + 60,
                                   "jti": "x"}, "0" * 64, algorithm="HS256")
    unsigned = jwt.encode({"iss": "secplac-san-antonio", "sub": "jefa", "uid": admin.id,
                           "iat": now, "exp": now + 60, "jti": "x"}, None, algorithm="none")
    for bad in (_tampered(token, sub="jefa", uid=admin.id, rol="admin"), forged_other_key,
                unsigned, "abc.def.ghi", token[:-3]):
        with pytest.raises(InvalidTokenError, match="El token de acceso no es válido"):
            user_from_token(conn, settings, bad)
    for bad in ("", "basura", "secplac_inexistente"):
        with pytest.raises(InvalidTokenError, match="no es válido") as exc:
            user_from_token(conn, settings, bad)
        assert not isinstance(exc.value, TokenExpiredError | TokenRevokedError)


def test_personal_api_tokens_store_only_a_hash_and_can_be_revoked(
        conn: psycopg.Connection, settings: Settings) -> None:
    editor = create_user(conn, "editor", "Editor", Role.EDITOR, CLAVE)
    other = create_user(conn, "otro", "Otro", Role.LECTOR, CLAVE)
    admin = create_user(conn, "admin", "Admin", Role.ADMIN, CLAVE)
    secret = create_api_token(conn, editor, "QGIS  oficina")
    assert secret.startswith("secplac_") and len(secret) > 40
    row = conn.execute("SELECT token_hash, name, last_used_at FROM auth.api_tokens").fetchone()
    assert row[0] != secret and secret not in row[0] and row[1] == "QGIS oficina"
    assert row[2] is None
    assert user_from_token(conn, settings, secret) == editor
    assert conn.execute("SELECT last_used_at IS NOT NULL FROM auth.api_tokens").fetchone()[0]
    [listed] = list_api_tokens(conn, editor)
    assert listed.name == "QGIS oficina" and listed.revoked_at is None
    assert list_api_tokens(conn, other) == []
    with pytest.raises(NotFoundError):  # someone else's token: as if it did not exist
        revoke_api_token(conn, listed.id, by=other)
    revoked = revoke_api_token(conn, listed.id, by=editor)
    assert revoked.revoked_at is not None
    assert revoke_api_token(conn, listed.id, by=admin).revoked_at == revoked.revoked_at
    with pytest.raises(TokenRevokedError, match="El token de API «QGIS oficina» fue revocado"):
        user_from_token(conn, settings, secret)
    # An admin can revoke anyone's token; a token can expire.
    second = create_api_token(conn, editor, "cuaderno", expires_days=30)
    token_id = next(t.id for t in list_api_tokens(conn, editor) if t.name == "cuaderno")
    conn.execute("UPDATE auth.api_tokens SET expires_at = now() - interval '1 hour' "
                 "WHERE id = %s", (token_id,))
    with pytest.raises(TokenExpiredError, match="El token de API «cuaderno» venció el"):
        user_from_token(conn, settings, second)
    third = create_api_token(conn, editor, "tercero")
    revoke_api_token(conn, next(t.id for t in list_api_tokens(conn, editor)
                                if t.name == "tercero"), by=admin)
    with pytest.raises(TokenRevokedError):
        user_from_token(conn, settings, third)
    actions = [(e["action"], e["actor"]) for e in audit.entries(conn, action="token")]
    assert actions.count(("token.revocar", "admin")) == 1
    assert all(secret not in json.dumps(e, default=str) for e in audit.entries(conn))


def test_deactivated_users_cannot_log_in_nor_use_their_tokens(
        conn: psycopg.Connection, settings: Settings) -> None:
    create_user(conn, "admin", "Admin", Role.ADMIN, CLAVE)
    user = create_user(conn, "dom", "DOM", Role.EDITOR, CLAVE)
    access = issue_access_token(settings, user)
    api = create_api_token(conn, user, "notebook")
    deactivate_user(conn, "dom", actor="admin")
    for token in (access, api):
        with pytest.raises(AccountDisabledError, match="La cuenta «dom» está desactivada"):
            user_from_token(conn, settings, token)
    with pytest.raises(AccountDisabledError, match="desactivada"):
        authenticate(conn, "dom", CLAVE, client="10.0.0.3")
    with pytest.raises(InvalidCredentialsError):  # the wrong password says nothing more
        authenticate(conn, "dom", "equivocada", client="10.0.0.3")
    set_active(conn, "dom", True, actor="admin")
    assert user_from_token(conn, settings, api) == user
    with pytest.raises(TokenRevokedError, match="La sesión fue cerrada"):
        user_from_token(conn, settings, access)
    assert authenticate(conn, "dom", CLAVE, client="10.0.0.3") == user


def test_password_change_closes_open_sessions(conn: psycopg.Connection,
                                              settings: Settings) -> None:
    user = create_user(conn, "ana", "Ana", Role.LECTOR, CLAVE)
    token = issue_access_token(settings, user)
    set_password(conn, "ana", "nueva-clave-2", actor="ana")
    with pytest.raises(TokenRevokedError):
        user_from_token(conn, settings, token)
    with pytest.raises(InvalidCredentialsError):
        authenticate(conn, "ana", CLAVE, client="10.0.0.4")
    fresh = issue_access_token(settings, authenticate(conn, "ana", "nueva-clave-2",
                                                      client="10.0.0.4"))
    assert user_from_token(conn, settings, fresh) == user
    [entry] = audit.entries(conn, action="usuario.clave")
    assert entry["actor"] == "ana" and entry["before"] is None and entry["after"] is None


def test_role_changes_take_effect_and_the_last_admin_stays(conn: psycopg.Connection,
                                                           settings: Settings) -> None:
    admin = create_user(conn, "admin", "Admin", Role.ADMIN, CLAVE)
    user = create_user(conn, "pablo", "Pablo", Role.LECTOR, CLAVE)
    token = issue_access_token(settings, user)
    assert set_role(conn, "pablo", "revisor", actor="admin").role is Role.REVISOR
    assert user_from_token(conn, settings, token).role is Role.REVISOR  # from the database
    for change in (lambda: set_role(conn, "admin", Role.EDITOR),
                   lambda: deactivate_user(conn, "admin")):
        with pytest.raises(LastAdminError, match="único administrador activo"):
            change()
    set_role(conn, "pablo", Role.ADMIN, actor="admin")
    assert deactivate_user(conn, "admin", actor="pablo") == admin
    [entry] = audit.entries(conn, action="usuario.rol", limit=1)
    assert entry["before"] == {"rol": "revisor"} and entry["after"] == {"rol": "admin"}
    with pytest.raises(NotFoundError, match="No existe el usuario «nadie»"):
        set_role(conn, "nadie", Role.EDITOR)


def test_audit_log_is_append_only(conn: psycopg.Connection) -> None:
    audit.record(conn, "editor", "propuesta.crear", "propuesta/1",
                 after={"titulo": "Borde costero", "fecha": time.gmtime(0).tm_year})
    audit.record(conn, None, "acceso.denegado", "POST /admin/usuarios",
                 outcome="rechazado", detail="Esta operación requiere iniciar sesión.",
                 client="10.0.0.5")
    with pytest.raises(ValueError):
        audit.record(conn, "x", "y", "z", outcome="quizás")
    for sql in ("UPDATE audit.log SET actor = 'otro'", "DELETE FROM audit.log",
                "TRUNCATE audit.log"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege,
                           match="El registro de auditoría no se puede modificar ni borrar"):
            conn.execute(sql)
    rows = audit.entries(conn)
    assert [r["action"] for r in rows] == ["acceso.denegado", "propuesta.crear"]
    assert rows[1]["after"] == {"titulo": "Borde costero", "fecha": 1970}
    assert rows[0]["outcome"] == "rechazado" and rows[0]["client"] == "10.0.0.5"
    assert audit.entries(conn, actor="editor")[0]["target"] == "propuesta/1"
    assert audit.entries(conn, action="propuesta")[0]["action"] == "propuesta.crear"
    assert audit.entries(conn, action="propuest") == []
    assert len(audit.entries(conn, limit=1, offset=1)) == 1
    assert audit.entries(conn, outcome="rechazado")[0]["actor"] is None


def test_audit_entries_roll_back_with_the_write(conn: psycopg.Connection) -> None:
    with pytest.raises(RuntimeError), conn.transaction():
        audit.record(conn, "editor", "propuesta.crear", "propuesta/2")
        raise RuntimeError("the write failed")
    assert audit.entries(conn) == []


def test_signing_key_from_environment_or_a_private_file(settings: Settings,
                                                        tmp_path: Path) -> None:
    local = settings.model_copy(update={"state_dir": tmp_path / "estado"})
    key = signing_key(local)
    path = tmp_path / "estado" / "secret_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and len(key) == 64
    assert signing_key(local) == key
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind
    given = local.model_copy(update={"secret_key": SecretStr("k" * 40)})
    assert signing_key(given) == b"k" * 40
    with pytest.raises(SetupError, match="SECPLAC_SECRET_KEY es demasiado corta"):
        signing_key(local.model_copy(update={"secret_key": SecretStr("corta")}))


def test_demo_users_one_per_role_only_when_there_are_none(conn: psycopg.Connection) -> None:
    created = ensure_demo_users(conn)
    assert list(created) == ["admin", "revisor", "editor", "lector"]
    assert len(set(created.values())) == 4 and all(len(p) == 14 for p in created.values())
    for name, password in created.items():
        user = authenticate(conn, name, password, client="127.0.0.1")
        assert user.role.value == name
    assert ensure_demo_users(conn) == {}
    assert [e["actor"] for e in audit.entries(conn, action="usuario.crear")] == ["sistema"] * 4


def test_access_tokens_of_the_millisecond_format_still_work_until_they_expire(
        conn: psycopg.Connection, settings: Settings) -> None:
    """Tokens issued before their issue time moved to microseconds (iat_ms) keep their
    session until they expire, and still close with a password change; a token that
    says neither is refused."""
    user = create_user(conn, "ana", "Ana", Role.LECTOR, CLAVE)
    now = time.time()

    def signed(**extra: object) -> str:
        return jwt.encode({"iss": "secplac-san-antonio", "sub": "ana", "uid": user.id,
                           "rol": "lector", "iat": int(now), "exp": int(now) + 60, "jti": "j",
                           **extra}, signing_key(settings), algorithm="HS256")

    old_format = signed(iat_ms=int(now * 1000))
    assert user_from_token(conn, settings, old_format) == user
    with pytest.raises(InvalidTokenError, match="no dice cuándo se emitió"):
        user_from_token(conn, settings, signed())
    set_password(conn, "ana", "nueva-clave-2", actor="ana")
    with pytest.raises(TokenRevokedError):
        user_from_token(conn, settings, old_format)

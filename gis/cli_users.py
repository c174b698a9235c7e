"""``secplac usuarios`` and ``secplac tokens``: users, roles and API tokens from the shell.

Whoever runs these commands operates the platform (they can reach its database), so no
login is asked; the audit log records them as ``cli:<system user>``.
"""

from __future__ import annotations

import getpass
import os
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from gis.errors import PlatformError
from gis.settings import Settings

users_app = typer.Typer(help="Usuarios de la plataforma: crear, listar, cambiar clave o rol, "
                        "desactivar.", no_args_is_help=True)
tokens_app = typer.Typer(help="Tokens personales de API (cuadernos, clientes SIG): crear, "
                         "listar, revocar.", no_args_is_help=True)

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

DEMO_CREDENTIALS_FILE = "usuarios-demo.txt"
"""In ``settings.state_dir``: the demo users' passwords, readable only by their owner."""


def _settings() -> Settings:
    return Settings()


def _actor(settings: Settings) -> str:
    try:
        who = settings.user or getpass.getuser()
    except (KeyError, OSError):
        who = str(os.getuid())
    return f"cli:{who}"


def _ask_password(clave: str | None) -> str:
    if clave is not None:
        return clave
    first = typer.prompt("Contraseña", hide_input=True)
    if typer.prompt("Repita la contraseña", hide_input=True) != first:
        raise PlatformError("Las contraseñas no coinciden; no se cambió nada.")
    return first


def _when(value: datetime | None) -> str:
    from gis.auth.errors import local_time

    return local_time(value) if value else "—"


# -- usuarios --------------------------------------------------------------------------------

@users_app.command("crear")
def create(
    usuario: Annotated[str, typer.Argument(help="Nombre de usuario (minúsculas, p. ej. "
                                           "mperez)")],
    rol: Annotated[str, typer.Option(help="lector, editor, revisor o admin")],
    nombre: Annotated[str, typer.Option(help="Nombre completo")] = "",
    clave: Annotated[str | None, typer.Option(help="Contraseña (si se omite, se pregunta "
                                              "sin mostrarla)")] = None,
) -> None:
    """Crea un usuario con su rol (el primer administrador se crea así)."""
    from gis.auth import create_user, parse_role
    from gis.database import connect

    settings = _settings()
    role = parse_role(rol)
    password = _ask_password(clave)
    with connect(settings) as conn:
        user = create_user(conn, usuario, nombre, role, password, actor=_actor(settings))
    out.print(f"Usuario «{user.username}» creado con el rol «{user.role.value}».")


@users_app.command("listar")
def list_cmd() -> None:
    """Lista los usuarios con su rol y estado."""
    from gis.auth import list_users
    from gis.database import connect

    with connect(_settings()) as conn:
        accounts = list_users(conn)
    table = Table("Usuario", "Nombre", "Rol", "Activo", "Creado", "Último ingreso",
                  title="Usuarios de la plataforma")
    for a in accounts:
        table.add_row(a.user.username, escape(a.user.full_name), a.user.role.value,
                      "sí" if a.active else "no", _when(a.created_at), _when(a.last_login_at))
    out.print(table if accounts else "No hay usuarios. Cree el primer administrador con "
              "«secplac usuarios crear USUARIO --rol admin».")


@users_app.command("clave")
def password_cmd(
    usuario: Annotated[str, typer.Argument(help="Usuario")],
    clave: Annotated[str | None, typer.Option(help="Nueva contraseña (si se omite, se "
                                              "pregunta sin mostrarla)")] = None,
) -> None:
    """Cambia la contraseña de un usuario (cierra sus sesiones abiertas)."""
    from gis.auth import get_user, set_password
    from gis.database import connect

    settings = _settings()
    with connect(settings) as conn:
        user = get_user(conn, usuario)
        set_password(conn, user.username, _ask_password(clave), actor=_actor(settings))
    out.print(f"Contraseña de «{user.username}» cambiada.")


@users_app.command("rol")
def role_cmd(
    usuario: Annotated[str, typer.Argument(help="Usuario")],
    rol: Annotated[str, typer.Argument(help="lector, editor, revisor o admin")],
) -> None:
    """Cambia el rol de un usuario."""
    from gis.auth import set_role
    from gis.database import connect

    settings = _settings()
    with connect(settings) as conn:
        user = set_role(conn, usuario, rol, actor=_actor(settings))
    out.print(f"«{user.username}» tiene ahora el rol «{user.role.value}».")


@users_app.command("desactivar")
def deactivate(usuario: Annotated[str, typer.Argument(help="Usuario")]) -> None:
    """Desactiva un usuario: no puede ingresar y sus tokens dejan de servir."""
    from gis.auth import deactivate_user
    from gis.database import connect

    settings = _settings()
    with connect(settings) as conn:
        user = deactivate_user(conn, usuario, actor=_actor(settings))
    out.print(f"Usuario «{user.username}» desactivado.")


@users_app.command("activar")
def activate(usuario: Annotated[str, typer.Argument(help="Usuario")]) -> None:
    """Vuelve a activar un usuario desactivado."""
    from gis.auth import set_active
    from gis.database import connect

    settings = _settings()
    with connect(settings) as conn:
        user = set_active(conn, usuario, True, actor=_actor(settings))
    out.print(f"Usuario «{user.username}» activado.")


# -- tokens ----------------------------------------------------------------------------------

@tokens_app.command("crear")
def token_create(
    usuario: Annotated[str, typer.Argument(help="Usuario dueño del token")],
    nombre: Annotated[str, typer.Argument(help="Dónde se usará, p. ej. «QGIS oficina»")],
    dias: Annotated[int | None, typer.Option(help="Días de vigencia (sin límite si se "
                                             "omite)")] = None,
) -> None:
    """Crea un token personal de API y lo muestra una sola vez."""
    from gis.auth import create_api_token, find_api_token, get_user
    from gis.database import connect

    settings = _settings()
    with connect(settings) as conn:
        secret = create_api_token(conn, get_user(conn, usuario), nombre, expires_days=dias,
                                  actor=_actor(settings))
        token = find_api_token(conn, secret)
    out.print(f"Token {token.id} «{escape(token.name)}» de «{token.username}» creado. Cópielo "
              "ahora: no se volverá a mostrar.")
    out.print(secret, markup=False, soft_wrap=True)


@tokens_app.command("listar")
def token_list(usuario: Annotated[str | None, typer.Argument(help="Solo los de este "
                                                             "usuario")] = None) -> None:
    """Lista los tokens de API (sin su secreto)."""
    from gis.auth import get_user, list_api_tokens
    from gis.database import connect

    with connect(_settings()) as conn:
        tokens = list_api_tokens(conn, get_user(conn, usuario) if usuario else None)
    table = Table("Id", "Usuario", "Nombre", "Creado", "Último uso", "Estado",
                  title="Tokens personales de API")
    for t in tokens:
        state = (f"revocado {_when(t.revoked_at)}" if t.revoked_at else
                 f"vence {_when(t.expires_at)}" if t.expires_at else "vigente")
        table.add_row(str(t.id), t.username, escape(t.name), _when(t.created_at),
                      _when(t.last_used_at), state)
    out.print(table if tokens else "No hay tokens de API.")


@tokens_app.command("revocar")
def token_revoke(token_id: Annotated[int, typer.Argument(metavar="ID",
                                                         help="Id del token")]) -> None:
    """Revoca un token de API al instante y para siempre."""
    from gis.auth import revoke_api_token
    from gis.database import connect

    settings = _settings()
    with connect(settings) as conn:
        token = revoke_api_token(conn, token_id, actor=_actor(settings))
    out.print(f"Token {token.id} «{escape(token.name)}» de «{token.username}» revocado.")


# -- demo users ------------------------------------------------------------------------------

def show_demo_users(settings: Settings) -> None:
    """Create the demo users if there are no users, and print their passwords once.

    The passwords are also written to ``state_dir/usuarios-demo.txt`` (mode 0600) for
    whoever missed them; later runs only say where that file is.
    """
    from gis.auth import DEMO_USERS, ensure_demo_users
    from gis.database import connect

    path = settings.state_dir / DEMO_CREDENTIALS_FILE
    with connect(settings) as conn:
        created = ensure_demo_users(conn)
    if not created:
        if path.exists():
            out.print(f"Usuarios de demostración: sus contraseñas están en {path}.")
        return
    roles = {name: role.value for name, _, role in DEMO_USERS}
    table = Table("Usuario", "Rol", "Contraseña",
                  title="Usuarios de demostración (las contraseñas se muestran solo ahora)")
    for name, password in created.items():
        table.add_row(name, roles[name], password)
    out.print(table)
    write_demo_credentials(path, created, roles)
    out.print(f"Guardadas también en {path} (legible solo por su dueño). Cámbielas con "
              "«secplac usuarios clave USUARIO»; ingrese en /ingresar.")


def write_demo_credentials(path: Path, created: dict[str, str], roles: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["# Usuarios de demostración de la plataforma SECPLAC San Antonio",
             f"# Creados el {datetime.now():%d-%m-%Y %H:%M}. Cambie las contraseñas con",
             "# «secplac usuarios clave USUARIO». Ingreso: http://127.0.0.1:8000/ingresar",
             "", *(f"{name:<10} {roles[name]:<8} {pw}" for name, pw in created.items()), ""]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        os.fchmod(f.fileno(), 0o600)
        f.write("\n".join(lines))

"""``secplac usuarios`` and ``secplac tokens``, run as an operator would run them."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from gis import audit
from gis.auth import (
    AccountDisabledError,
    Role,
    TokenRevokedError,
    authenticate,
    get_user,
    user_from_token,
)
from gis.cli_users import show_demo_users
from gis.settings import Settings

SECPLAC = str(Path(sys.executable).parent / "secplac")


def run(settings: Settings, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, DATABASE_URL=settings.database_url or "", COLUMNS="200",
               SECPLAC_USER="operadora")
    # A new session has no controlling terminal: hidden prompts read the piped input.
    return subprocess.run([SECPLAC, *args], capture_output=True, text=True, env=env,
                          input=stdin, timeout=120, start_new_session=True)


@pytest.mark.parametrize("command", [
    ["usuarios"], ["usuarios", "crear"], ["usuarios", "listar"], ["usuarios", "clave"],
    ["usuarios", "rol"], ["usuarios", "desactivar"], ["usuarios", "activar"], ["tokens"],
    ["tokens", "crear"], ["tokens", "listar"], ["tokens", "revocar"],
])
def test_every_command_has_spanish_help(settings: Settings, command: list[str]) -> None:
    done = run(settings, *command, "--help")
    assert done.returncode == 0
    assert re.search(r"Usuarios|Tokens|Crea|Lista|Cambia|Desactiva|Vuelve|Revoca",
                     done.stdout)


def test_operator_manages_users_and_tokens(settings: Settings) -> None:
    assert "No hay usuarios" in run(settings, "usuarios", "listar").stdout
    first = run(settings, "usuarios", "crear", "jefa", "--rol", "admin", "--nombre",
                "Jefa SECPLAC", "--clave", "clave-de-jefa-1")
    assert first.returncode == 0, first.stderr
    assert "Usuario «jefa» creado con el rol «admin»." in first.stdout
    prompted = run(settings, "usuarios", "crear", "pedro", "--rol", "editor",
                   stdin="clave-de-pedro-1\nclave-de-pedro-1\n")
    assert prompted.returncode == 0, prompted.stderr
    assert "clave-de-pedro-1" not in prompted.stdout
    mismatch = run(settings, "usuarios", "crear", "luis", "--rol", "lector",
                   stdin="clave-de-luis-1\notra-clave-22\n")
    assert mismatch.returncode == 1
    assert "Las contraseñas no coinciden" in mismatch.stderr
    bad = run(settings, "usuarios", "crear", "luis", "--rol", "jefe", "--clave", "x" * 10)
    assert bad.returncode == 1 and "El rol «jefe» no existe." in bad.stderr
    assert "Traceback" not in bad.stderr
    listing = run(settings, "usuarios", "listar").stdout
    assert "Jefa SECPLAC" in listing and "pedro" in listing and "luis" not in listing

    changed = run(settings, "usuarios", "clave", "pedro",
                  stdin="nueva-clave-pedro\nnueva-clave-pedro\n")
    assert changed.returncode == 0 and "Contraseña de «pedro» cambiada." in changed.stdout
    assert run(settings, "usuarios", "rol", "pedro", "revisor").returncode == 0

    created = run(settings, "tokens", "crear", "pedro", "QGIS oficina")
    assert created.returncode == 0, created.stderr
    assert "no se volverá a mostrar" in created.stdout
    secret = re.search(r"secplac_\S+", created.stdout).group(0)  # type: ignore[union-attr]
    token_id = re.search(r"Token (\d+)", created.stdout).group(1)  # type: ignore[union-attr]
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        pedro = authenticate(conn, "pedro", "nueva-clave-pedro", client="")
        assert pedro.role is Role.REVISOR
        assert user_from_token(conn, settings, secret) == pedro
    assert "QGIS oficina" in run(settings, "tokens", "listar", "pedro").stdout
    revoked = run(settings, "tokens", "revocar", token_id)
    assert revoked.returncode == 0 and "revocado" in revoked.stdout

    off = run(settings, "usuarios", "desactivar", "pedro")
    assert off.returncode == 0 and "Usuario «pedro» desactivado." in off.stdout
    last = run(settings, "usuarios", "desactivar", "jefa")
    assert last.returncode == 1 and "único administrador activo" in last.stderr
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        with pytest.raises(TokenRevokedError):
            user_from_token(conn, settings, secret)
        with pytest.raises(AccountDisabledError):
            authenticate(conn, "pedro", "nueva-clave-pedro", client="")
        assert get_user(conn, "jefa").role is Role.ADMIN
        actors = {e["actor"] for e in audit.entries(conn, action="usuario")}
        assert actors == {"cli:operadora"}


def test_demo_users_are_printed_once_and_kept_in_a_private_file(
        settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    local = settings.model_copy(update={"state_dir": tmp_path / "estado"})
    show_demo_users(local)
    shown = capsys.readouterr().out
    path = tmp_path / "estado" / "usuarios-demo.txt"
    assert "Usuarios de demostración" in shown and str(path) in shown.replace("\n", "")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    saved = dict(re.findall(r"^(\w+)\s+\w+\s+(\S+)$", path.read_text(), re.MULTILINE))
    assert list(saved) == ["admin", "revisor", "editor", "lector"]
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        for name, password in saved.items():
            assert password in shown
            assert authenticate(conn, name, password, client="").role.value == name
    show_demo_users(local)
    again = capsys.readouterr().out
    assert "sus contraseñas están en" in again
    assert not any(p in again for p in saved.values())

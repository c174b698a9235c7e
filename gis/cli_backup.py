"""``secplac db backup``, ``db verificar-respaldo`` and ``db restore``: the platform's backups."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from gis.settings import Settings

out = Console(highlight=False)


def register_backup_commands(db_app: typer.Typer) -> None:
    """Add the backup commands to the ``secplac db`` group."""
    db_app.command("backup")(db_backup)
    db_app.command("verificar-respaldo")(db_verify)
    db_app.command("restore")(db_restore)


def _print(report) -> None:  # type: ignore[no-untyped-def]
    for line in report.summary_lines():
        out.print(line, markup=False)


def db_backup(
    destino: Annotated[Path, typer.Argument(help="Carpeta nueva donde guardar el respaldo.")],
    verificar: Annotated[bool, typer.Option(
        "--verificar", help="Verificar el respaldo restaurándolo en una base temporal.")
    ] = False,
) -> None:
    """Respalda la base (pg_dump, formato custom), los rásters y un manifiesto con sumas."""
    from gis.backup import backup, verify

    settings = Settings()
    report = backup(settings, destino)
    _print(report)
    out.print("Respaldo creado.")
    if verificar:
        verify(settings, destino)
        out.print("Verificación correcta: filas y versiones de capas coinciden.")


def db_verify(
    respaldo: Annotated[Path, typer.Argument(help="Carpeta del respaldo.")],
) -> None:
    """Comprueba sumas SHA-256 y restaura en una base temporal para comparar con el manifiesto."""
    from gis.backup import verify

    report = verify(Settings(), respaldo)
    _print(report)
    out.print("Verificación correcta: filas, revisión y versiones de capas coinciden.")


def db_restore(
    respaldo: Annotated[Path, typer.Argument(help="Carpeta del respaldo.")],
    si: Annotated[bool, typer.Option(
        "--si", help="Confirma que se reemplazan todos los datos actuales.")] = False,
) -> None:
    """Reemplaza los datos de la plataforma por los del respaldo y migra el esquema."""
    from gis.backup import restore

    report = restore(Settings(), respaldo, confirm=si)
    _print(report)
    out.print("Restauración terminada; esquema migrado a la última revisión.")

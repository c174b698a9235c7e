"""``secplac proyectos``, run as an operator would run it: import (refused, simulated,
valid rows only), list, show, create, edit, delete and export."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from gis.settings import Settings
from tests.conftest import query
from tests.gis.test_portfolio_import import (  # noqa: F401  (fixture)
    HEADER,
    bip,
    cadastre,
    lonlat,
    write_csv,
)

SECPLAC = str(Path(sys.executable).parent / "secplac")


def run(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, DATABASE_URL=settings.database_url or "", COLUMNS="200",
               SECPLAC_USER="operadora")
    return subprocess.run([SECPLAC, "proyectos", *args], capture_output=True, text=True,
                          env=env, timeout=120)


def count(settings: Settings) -> int:
    return int(query(settings, "SELECT count(*) FROM layers.projects")[0][0])


@pytest.mark.parametrize("command", ["listar", "ver", "crear", "editar", "eliminar",
                                     "importar", "exportar"])
def test_every_command_has_spanish_help(settings: Settings, command: str) -> None:
    done = run(settings, command, "--help")
    assert done.returncode == 0
    assert re.search(r"Lista|Muestra|Crea|Reemplaza|Elimina|Importa|Exporta", done.stdout)


def test_import_refused_simulated_then_valid_rows_only(cadastre: Settings,  # noqa: F811
                                                       tmp_path: Path) -> None:
    path = write_csv(tmp_path / "cartera.csv", HEADER, [
        [bip(1), "CESFAM Llolleo", "salud", "diseño", "FNDR", 2025, 900, 800, 0, *lonlat()],
        [bip(2), "Plaza", "áreas verdes", "licitación", "PMU", 2025, 50, 0, 0, *lonlat(9)],
    ])
    refused = run(cadastre, "importar", str(path))
    assert refused.returncode == 1
    assert f"Rechazada: fila 3 ({bip(2)}): Etapa: «licitación» no es un valor válido" \
        in refused.stdout
    assert "No se guardó nada: 1 de 2 filas" in refused.stderr and count(cadastre) == 0
    simulated = run(cadastre, "importar", str(path), "--simular")
    assert simulated.returncode == 1 and "Simulación: no se guardó nada." in simulated.stdout
    assert count(cadastre) == 0
    report = tmp_path / "reporte.json"
    saved = run(cadastre, "importar", str(path), "--guardar-validos", "--reporte-json",
                str(report))
    assert saved.returncode == 0, saved.stderr
    assert "Guardado: proyectos nuevos: 1; actualizados: 0." in saved.stdout
    assert json.loads(report.read_text(encoding="utf-8"))["rechazados"][0]["filas"] == [3]
    assert query(cadastre, "SELECT creado_por FROM cartera.registro") == [("cli:operadora",)]
    missing = run(cadastre, "importar", str(tmp_path / "no.xlsx"))
    assert missing.returncode == 1 and "No existe el archivo" in missing.stderr


def test_create_list_show_edit_delete_and_export(cadastre: Settings,  # noqa: F811
                                                 tmp_path: Path) -> None:
    body = {"codigo": "MUN-2025-050", "nombre": "Multicancha Villa El Sol",
            "sector": "deporte", "etapa": "perfil", "beneficiarios": "1.200",
            "financiamiento": [{"fuente": "FRIL", "anio": 2025, "solicitado": "95.000.000"}],
            "geometria": {"type": "Point", "coordinates": list(lonlat(30, 30))}}
    project = tmp_path / "proyecto.json"
    project.write_text(json.dumps(body), encoding="utf-8")
    created = run(cadastre, "crear", "--archivo", str(project))
    assert created.returncode == 0, created.stderr
    assert "Proyecto «MUN-2025-050» creado (versión 1)." in created.stdout

    listed = run(cadastre, "listar", "--fuente", "FRIL")
    assert "MUN-2025-050" in listed.stdout and "$ 95.000.000" in listed.stdout
    assert "No hay proyectos" in run(cadastre, "listar", "--sector", "salud").stdout
    bad_filter = run(cadastre, "listar", "--etapa", "licitación")
    assert bad_filter.returncode == 1 and "no es un valor válido de etapa" in bad_filter.stderr

    shown = run(cadastre, "ver", "MUN-2025-050")
    assert shown.returncode == 0, shown.stderr
    for text in ("Multicancha Villa El Sol", "Beneficiarios: 1200 personas", "FRIL", "2025",
                 "$ 95.000.000", "Perfil territorial:", "Predios afectados: 1"):
        assert text in shown.stdout, text

    body.update(etapa="diseño", financiamiento=[
        {"fuente": "FRIL", "anio": 2025, "solicitado": 95_000_000, "aprobado": 90_000_000,
         "ejecutado": 99_000_000}])
    del body["geometria"]  # the location is kept
    project.write_text(json.dumps(body), encoding="utf-8")
    edited = run(cadastre, "editar", "MUN-2025-050", "--archivo", str(project))
    assert edited.returncode == 0, edited.stderr
    assert "guardado (versión 2)" in edited.stdout
    assert query(cadastre, "SELECT r.modificado_por, p.etapa, ST_AsText(p.geom) IS NOT NULL "
                 "FROM cartera.registro r JOIN layers.projects p USING (codigo)") == [
        ("cli:operadora", "diseño", True)]
    assert "supera el aprobado" in run(cadastre, "ver", "MUN-2025-050").stdout

    project.write_text("{\"codigo\": ", encoding="utf-8")
    broken = run(cadastre, "editar", "MUN-2025-050", "--archivo", str(project))
    assert broken.returncode == 1 and "no es un JSON válido" in broken.stderr

    out = tmp_path / "cartera.xlsx"
    exported = run(cadastre, "exportar", str(out))
    assert exported.returncode == 0 and "1 proyectos exportados" in exported.stdout
    assert openpyxl.load_workbook(out).sheetnames == ["Proyectos", "Financiamiento"]
    wrong = run(cadastre, "exportar", str(tmp_path / "cartera.shp"))
    assert wrong.returncode == 1 and "No se puede exportar" in wrong.stderr

    unconfirmed = run(cadastre, "eliminar", "MUN-2025-050")
    assert unconfirmed.returncode == 1 and "repita la orden con --si" in unconfirmed.stderr
    assert count(cadastre) == 1
    deleted = run(cadastre, "eliminar", "MUN-2025-050", "--si")
    assert deleted.returncode == 0 and count(cadastre) == 0
    gone = run(cadastre, "ver", "MUN-2025-050")
    assert gone.returncode == 1 and "no existe en la cartera" in gone.stderr
    assert [a for (a,) in query(cadastre, "SELECT action FROM audit.log WHERE actor = "
                                "'cli:operadora' ORDER BY id")] == [
        "proyecto.crear", "proyecto.editar", "proyecto.eliminar"]

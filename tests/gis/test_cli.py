"""The ``secplac`` command line, run as a user would run it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gis.settings import Settings
from tests.gis.test_ingest_formats import write_zones

SECPLAC = str(Path(sys.executable).parent / "secplac")


def run(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, DATABASE_URL=settings.database_url or "",
               SECPLAC_PROCESSED_DIR=str(settings.processed_dir), COLUMNS="200")
    return subprocess.run([SECPLAC, *args], capture_output=True, text=True, env=env,
                          timeout=120)


@pytest.mark.parametrize("command", [
    [], ["db"], ["demo"], ["db", "up"], ["db", "down"], ["db", "status"], ["db", "migrate"],
    ["demo", "generate"], ["demo", "load"], ["ingest"], ["layers"], ["serve"], ["run"],
])
def test_every_command_has_spanish_help(settings: Settings, command: list[str]) -> None:
    done = run(settings, *command, "--help")
    assert done.returncode == 0
    assert any(w in done.stdout for w in ("Carga", "Base", "Lista", "Sirve", "Todo",
                                          "Datos", "Plataforma", "Genera", "Detiene",
                                          "Muestra", "Aplica", "Crea"))


def test_ingest_then_list_layers(settings: Settings, tmp_path: Path) -> None:
    done = run(settings, "ingest", "zoning", str(write_zones("shp", tmp_path)))
    assert done.returncode == 0, done.stderr
    assert "Capa «zoning» cargada: versión 1, 3 entidades." in done.stdout
    assert "EPSG:32719" in done.stdout
    listing = run(settings, "layers")
    assert listing.returncode == 0
    assert "Zonificación Plan Regulador Comunal" in listing.stdout
    assert "sin cargar" in listing.stdout
    history = run(settings, "layers", "zoning")
    assert "Historial de «zoning»" in history.stdout and "zonas.shp" in history.stdout


def test_ingest_error_exits_non_zero_with_spanish_message(settings: Settings,
                                                          tmp_path: Path) -> None:
    path = write_zones("shp", tmp_path)
    (tmp_path / "zonas.shx").unlink()
    done = run(settings, "ingest", "zoning", str(path))
    assert done.returncode == 1
    assert "Error: Al Shapefile «zonas.shp» le falta zonas.shx." in done.stderr
    assert "Traceback" not in done.stderr
    unknown = run(settings, "ingest", "zonas_prc", str(path))
    assert unknown.returncode == 1 and "La capa «zonas_prc» no existe." in unknown.stderr


def test_dry_run_reports_and_exits_by_outcome(settings: Settings, tmp_path: Path) -> None:
    ok = run(settings, "ingest", "zoning", str(write_zones("gpkg", tmp_path)), "--dry-run")
    assert ok.returncode == 0 and "no se escribió nada" in ok.stdout
    bad = tmp_path / "malo.csv"
    bad.write_text("COD_ZONA,NOM_ZONA,TIPO_ZONA,wkt\nZ1,Uno,volcánica,"
                   "\"POLYGON((258700 6279200,258800 6279200,258800 6279300,258700 6279200))\"\n")
    done = run(settings, "ingest", "zoning", str(bad), "--dry-run", "--crs", "EPSG:32719")
    assert done.returncode == 1 and "código no reconocido" in done.stdout + done.stderr


def test_mapping_option(settings: Settings, tmp_path: Path) -> None:
    import geopandas as gpd

    zones = gpd.read_file(write_zones("gpkg", tmp_path)).rename(columns={"TIPO_ZONA": "CLASE"})
    path = tmp_path / "otra.gpkg"
    zones.to_file(path)
    done = run(settings, "ingest", "zoning", str(path), "--campo", "familia=CLASE")
    assert done.returncode == 0, done.stderr
    malformed = run(settings, "ingest", "zoning", str(path), "--campo", "familia")
    assert malformed.returncode == 1 and "mal escrita" in malformed.stderr

"""``secplac analisis`` through typer's CliRunner over the small territory of
``test_analysis_common``: list the registry (an analysis registered later appears), run
analyses on areas and export them, write territorial reports, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from pyproj import Transformer
from typer.testing import CliRunner

from gis.analysis import ANALYSES, Analysis
from gis.analysis.common import AnalysisArea, describe, resolve_area, session
from gis.cli import app
from gis.settings import Settings
from tests.gis.test_analysis_common import box, territory  # noqa: F401  (fixture)

runner = CliRunner()


def secplac(settings: Settings, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["analisis", *args], env={
        "DATABASE_URL": settings.database_url or "", "COLUMNS": "250"})


def test_listar_shows_every_registered_analysis_even_a_new_one(
        territory: Settings, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
        tmp_path: Path) -> None:
    def parcels_count(conn_or_settings, *, area=None, version=None, fecha=None,  # type: ignore[no-untyped-def]
                      minimo: int = 0) -> pd.DataFrame:
        with session(conn_or_settings) as (conn, settings):
            chosen: AnalysisArea = resolve_area(conn, settings, area)
            n = conn.execute("SELECT count(*) FROM layers.parcels").fetchone()[0]
        return describe(pd.DataFrame({"predios": [n], "sobre_minimo": [n >= minimo]}),
                        "conteo", chosen)

    monkeypatch.setitem(ANALYSES, "conteo", Analysis(
        "conteo", "Conteo de predios de prueba", "Cuenta los predios.", parcels_count,
        capa_versionada=None, opciones={"minimo": "mínimo de predios"}, geometria=False))
    done = secplac(territory, "listar")
    assert done.exit_code == 0, done.output
    for analysis in ANALYSES.values():
        assert analysis.name in done.stdout and analysis.title in done.stdout
    assert "solo_eriazos" in done.stdout and "Zonas de riesgo ambiental" in done.stdout
    out = tmp_path / "conteo.csv"
    done = secplac(territory, "ejecutar", "conteo", "--opcion", "minimo=11",
                   "--salida", str(out))
    assert done.exit_code == 0, done.output
    assert pd.read_csv(out).to_dict("records") == [{"predios": 10, "sobre_minimo": False}]
    done = secplac(territory, "ejecutar", "conteo", "--version", "1", "--salida", str(out))
    assert done.exit_code == 1 and "no usa versiones ni fechas" in done.stderr


def test_ejecutar_on_a_sector_a_census_zone_and_a_polygon(territory: Settings,  # noqa: F811
                                                          tmp_path: Path) -> None:
    out = tmp_path / "cabida.csv"
    done = secplac(territory, "ejecutar", "cabida", "--sector", "Barrancas",
                   "--salida", str(out))
    assert done.exit_code == 0, done.output
    assert "Cabida normativa por predio: 5 filas (sector Barrancas (S-02), versión 1)" in \
        done.stdout
    table = pd.read_csv(out, dtype={"rol": str})
    assert table.rol.tolist() == ["00001-00004", "00001-00005", "00001-00006", "00001-00007",
                                  "00001-00010"]
    assert "geometria_wkt" in table and table.edificable_max_m2.tolist()[0] == 2500.0 * 2

    out = tmp_path / "resumen.xlsx"
    done = secplac(territory, "ejecutar", "cumplimiento_resumen", "--zona-censal",
                   "05601011001", "--opcion", "por=sector", "--fecha", "2999-01-01",
                   "--salida", str(out))
    assert done.exit_code == 0, done.output
    summary = pd.read_excel(out)
    assert summary[["sector", "predios"]].values.tolist() == [["S-01", 5], ["S-02", 5]]

    # written in lon/lat: the command must transform it, not read it as metres
    polygon = gpd.GeoSeries([box(-4, 3, 152, 203)], crs=32719).to_crs(4326)
    area = tmp_path / "area.geojson"
    polygon.to_file(area, driver="GeoJSON")
    out = tmp_path / "cumplimiento.gpkg"
    done = secplac(territory, "ejecutar", "cumplimiento", "--poligono", str(area),
                   "--salida", str(out))
    assert done.exit_code == 0, done.output
    result = gpd.read_file(out)
    assert sorted(result.rol) == ["00001-00001", "00001-00002", "00001-00003", "00001-00008",
                                  "00001-00009"]
    assert result.crs.to_epsg() == 32719


def test_ejecutar_refuses_bad_input_in_spanish(territory: Settings, tmp_path: Path  # noqa: F811
                                               ) -> None:
    out = tmp_path / "x.csv"
    cases = [
        (["ejecutar", "nada", "--salida", str(out)], "No existe el análisis «nada»"),
        (["ejecutar", "cabida", "--salida", str(tmp_path / "x.pdf")],
         "Formato de salida no reconocido"),
        (["ejecutar", "cabida", "--sector", "S-01", "--zona-censal", "05601011001",
          "--salida", str(out)], "Indique una sola área"),
        (["ejecutar", "cabida", "--sector", "S-99", "--salida", str(out)],
         "«S-99» no es un sector"),
        (["ejecutar", "cabida", "--zona-censal", "Llolleo", "--salida", str(out)],
         "no es un geocódigo"),
        (["ejecutar", "cabida", "--opcion", "solo_eriazos=quizás", "--salida", str(out)],
         "debe ser sí o no"),
        (["ejecutar", "cabida", "--opcion", "por=zona", "--salida", str(out)],
         "no tiene la opción «por»"),
        (["ejecutar", "cabida", "--opcion", "solo_eriazos", "--salida", str(out)],
         "CLAVE=VALOR"),
        (["ejecutar", "cabida", "--version", "7", "--salida", str(out)],
         "no tiene versión 7"),
        (["ejecutar", "cabida", "--fecha", "2001-01-01", "--salida", str(out)],
         "la primera versión cargada"),
        (["ejecutar", "cabida", "--poligono", str(tmp_path / "no.geojson"), "--salida",
          str(out)], "No existe el archivo"),
    ]
    for args, message in cases:
        done = secplac(territory, *args)
        assert done.exit_code == 1, (args, done.output)
        assert message in done.stderr, (args, done.stderr)
    assert not out.exists()


def test_informe_by_rol_and_point(territory: Settings, tmp_path: Path) -> None:  # noqa: F811
    out = tmp_path / "ficha.json"
    done = secplac(territory, "informe", "--rol", "1-3", "--salida", str(out))
    assert done.exit_code == 0, done.output
    ficha = json.loads(out.read_text(encoding="utf-8"))
    assert ficha["zona"]["codigo"] == "ZM-2"
    assert ficha["cumplimiento"]["resultado"] == "conforme"
    to_lonlat = Transformer.from_crs(32719, 4326, always_xy=True)
    x0, y0 = box(25, 25, 25, 25).bounds[:2]
    lon, lat = to_lonlat.transform(x0, y0)
    out = tmp_path / "ficha.html"
    done = secplac(territory, "informe", f"--punto={lon:.7f},{lat:.7f}", "--salida", str(out))
    assert done.exit_code == 0, done.output
    assert "Predio rol 00001-00001" in out.read_text(encoding="utf-8")
    for args, message in [
        (["--rol", "9-9"], "no está en el catastro"),
        (["--rol", "abc"], "no es un rol de avalúo válido"),
        (["--punto=-71.6"], "Punto no válido"),
        (["--punto=-70,-33.6"], "queda fuera de"),
        ([], "Indique un rol o un punto"),
    ]:
        done = secplac(territory, "informe", *args, "--salida", str(tmp_path / "f.pdf"))
        assert done.exit_code == 1 and message in done.stderr, (args, done.output)
    done = secplac(territory, "informe", "--rol", "1-3", "--salida", str(tmp_path / "f.doc"))
    assert done.exit_code == 1 and "Formato de la ficha no reconocido" in done.stderr
    assert not (tmp_path / "f.pdf").exists()


def test_particionar_and_distribuido_equal_ejecutar(territory: Settings,  # noqa: F811
                                                    tmp_path: Path) -> None:
    folder = tmp_path / "lote"
    done = secplac(territory, "particionar", str(folder), "--particiones", "2")
    assert done.exit_code == 0, done.output
    assert "2 particiones de predios" in done.stdout
    on_dask = tmp_path / "dask.csv"
    done = secplac(territory, "distribuido", "cumplimiento", "--carpeta", str(folder),
                   "--salida", str(on_dask), "--trabajadores", "1")
    assert done.exit_code == 0, done.output
    in_postgis = tmp_path / "postgis.csv"
    assert secplac(territory, "ejecutar", "cumplimiento", "--salida",
                   str(in_postgis)).exit_code == 0
    dask_rows = pd.read_csv(on_dask, dtype=str)
    postgis_rows = pd.read_csv(in_postgis, dtype=str)[dask_rows.columns]
    assert len(dask_rows) == 10
    pd.testing.assert_frame_equal(dask_rows, postgis_rows)
    for args, message in [
        (["distribuido", "ficha", "--carpeta", str(folder), "--salida", str(on_dask)],
         "no se ejecuta en Dask"),
        (["distribuido", "cabida", "--carpeta", str(tmp_path), "--salida", str(on_dask)],
         "no es una exportación particionada"),
        (["distribuido", "cabida", "--carpeta", str(folder), "--salida",
          str(tmp_path / "x.shp")], "Formato de salida no reconocido"),
        (["particionar", str(tmp_path / "otra"), "--por", "region"], "region"),
        (["particionar", str(tmp_path / "otra"), "--particiones", "0"], "positivo"),
    ]:
        done = secplac(territory, *args)
        assert done.exit_code == 1, (args, done.output)
        assert message in done.stderr, (args, done.stderr)

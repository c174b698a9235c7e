"""The analysts' notebooks (``notebooks/*.ipynb``) run top to bottom with nbclient against
the demo database, as an analyst runs them. Each notebook ends with its own assertions and
a ``resultados`` dict of its key figures; here those figures are checked against the
database, and the outputs against what each notebook must show (tables, figures, maps)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from gis.analysis import compliance_summary
from gis.analysis.diagnosis import sector_diagnosis
from gis.database import connect
from gis.investment import need_ranking
from gis.settings import Settings
from layers import REGISTRY
from tests.conftest import query

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
CELL_TIMEOUT_S = 300
REPORT_CELL = "import json\nprint(json.dumps(resultados, default=str))"
CENSUS = "SELECT sum(poblacion) FROM layers.census_zones"
PARCELS = "SELECT count(*) FROM layers.parcels"
PARCELS_IN_SECTOR = ("SELECT count(*) FROM layers.parcels AS p JOIN layers.planning_sectors "
                     "AS s ON ST_Contains(s.geom, ST_PointOnSurface(p.geom)) "
                     "WHERE s.nombre = %s")


def run(name: str, settings: Settings, tmp: Path) -> tuple[nbformat.NotebookNode, dict[str, Any]]:
    """Execute the notebook in a kernel (the venv's Python) whose environment points at
    ``settings``' database (and its temporary files at ``tmp``); return it with its
    outputs and its ``resultados``."""
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(REPORT_CELL))
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("SECPLAC_") and k not in ("DATABASE_URL", "MPLBACKEND")}
    env["DATABASE_URL"] = str(settings.database_url)
    env["TMPDIR"] = str(tmp)  # the notebooks' exports
    client = NotebookClient(nb, kernel_name="python3", timeout=CELL_TIMEOUT_S,
                            resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute(env=env)  # a failing cell raises CellExecutionError with its traceback
    printed = "".join(o.get("text", "") for o in nb.cells[-1].outputs
                      if o.output_type == "stream")
    return nb, json.loads(printed)


def shown(nb: nbformat.NotebookNode) -> dict[str, int]:
    """How many tables, figures and folium maps the executed notebook shows."""
    counts = {"tablas": 0, "figuras": 0, "mapas": 0}
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            assert out.output_type != "error", f"{out.ename}: {out.evalue}"
            data = out.get("data", {})
            html = data.get("text/html", "")
            counts["figuras"] += "image/png" in data
            is_map = "<iframe srcdoc=" in html and "leaflet" in html.lower()
            counts["mapas"] += is_map
            counts["tablas"] += "<table" in html and not is_map
    return counts


def scalar(settings: Settings, sql: str, params: tuple = ()) -> Any:  # type: ignore[type-arg]
    return query(settings, sql, params)[0][0]


def test_notebooks_are_stored_clean_with_the_project_kernel() -> None:
    names = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
    assert {"01", "02", "03", "04", "05", "06"} <= {n[:2] for n in names}
    for name in names:
        nb = nbformat.read(NOTEBOOKS / name, as_version=4)
        nbformat.validate(nb)
        assert nb.metadata["kernelspec"]["name"] == "python3"
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert 10 <= len(nb.cells) <= 25, (name, len(nb.cells))
        assert all(not c.outputs and c.execution_count is None for c in code), \
            f"{name} está guardado con resultados: guárdelo sin salidas"
        assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
        assert "resultados = {" in code[-1].source and "assert " in code[-1].source


def test_01_layers_catalog_versions_and_map(api_settings: Settings, tmp_path: Path) -> None:
    nb, r = run("01_explorar_capas.ipynb", api_settings, tmp_path)
    loaded = scalar(api_settings, "SELECT count(DISTINCT layer) FROM catalog.layer_versions "
                    "WHERE valid_to IS NULL")
    assert r["capas_registradas"] == len(REGISTRY) == r["capas_cargadas"] == loaded
    assert r["zonas_prc"] == scalar(api_settings, "SELECT count(*) FROM layers.zoning")
    assert r["version_zonificacion"] == scalar(
        api_settings, "SELECT version FROM catalog.layer_versions "
        "WHERE layer = 'zoning' AND valid_to IS NULL")
    assert r["proyectos"] == scalar(api_settings, "SELECT count(*) FROM layers.projects")
    assert r["poblacion_sectores"] == scalar(api_settings, CENSUS)
    seen = shown(nb)
    assert seen["mapas"] == 1 and seen["figuras"] >= 1 and seen["tablas"] >= 5


def test_02_land_use_compliance_by_zone_and_sector(api_settings: Settings, tmp_path: Path) -> None:
    nb, r = run("02_cumplimiento_uso_suelo.ipynb", api_settings, tmp_path)
    assert r["predios"] == scalar(api_settings, PARCELS)
    assert r["conformes"] + r["no_conformes"] + r["no_regulados"] == r["predios"]
    assert r["no_conformes"] > 0
    by_zone = compliance_summary(api_settings, por="zona", geometria=False)
    assert r["no_conformes"] == by_zone["no_conformes"].sum()
    assert r["zona_mas_no_conforme"] == by_zone.loc[
        by_zone["porcentaje_no_conforme"].idxmax(), "zona"]
    assert r["predios_llolleo"] == scalar(api_settings, PARCELS_IN_SECTOR, ("Llolleo",))
    seen = shown(nb)
    assert seen["mapas"] == 1 and seen["figuras"] >= 1


def test_03_hazard_exposure_rasters_and_safe_elevation(api_settings: Settings,
                                                       tmp_path: Path) -> None:
    nb, r = run("03_exposicion_riesgo_rasters.ipynb", api_settings, tmp_path)
    assert r["filas_exposicion"] == scalar(
        api_settings, "SELECT count(*) FROM (SELECT DISTINCT tipo, nivel "
        "FROM layers.hazard_zones) AS t")
    # a parcel is exposed when part of its area lies in the hazard
    assert r["predios_tsunami_alto"] == scalar(
        api_settings, "SELECT count(DISTINCT p.fid) FROM layers.parcels AS p "
        "JOIN layers.hazard_zones AS h ON ST_Intersects(p.geom, h.geom) "
        "AND ST_Area(ST_Intersection(p.geom, h.geom)) > 0 "
        "WHERE h.tipo = 'tsunami' AND h.nivel = 'alto'")
    assert 0 < r["poblacion_tsunami_alto"] < scalar(api_settings, CENSUS)
    assert r["zonas_censales"] == scalar(api_settings, "SELECT count(*) FROM "
                                         "layers.census_zones")
    assert r["predios_llolleo"] == scalar(api_settings, PARCELS_IN_SECTOR, ("Llolleo",))
    assert 0 < r["predios_llolleo_inundables"] < r["predios_llolleo"]
    seen = shown(nb)
    assert seen["mapas"] == 1 and seen["figuras"] >= 3


def test_04_investment_per_inhabitant_against_need(api_settings: Settings, tmp_path: Path) -> None:
    nb, r = run("04_inversion_equidad_territorial.ipynb", api_settings, tmp_path)
    assert r["sectores"] == scalar(api_settings, "SELECT count(*) FROM "
                                   "layers.planning_sectors")
    assert r["poblacion_sectores"] == scalar(api_settings, CENSUS)
    portfolio = float(scalar(api_settings, "SELECT sum(monto_clp) FROM layers.projects"))
    assert 0.99 * portfolio <= r["monto_sectores_clp"] <= portfolio + 1
    assert r["monto_zonas_censales_clp"] < r["monto_sectores_clp"]  # census zones: urban only
    with connect(api_settings) as conn:
        assert r["sector_prioritario"] == need_ranking(conn, "sector")["nombre"].iloc[0]
    assert r["proyectos"] == scalar(api_settings, "SELECT count(*) FROM layers.projects")
    assert r["proyectos_riesgo_alto"] == scalar(
        api_settings, "SELECT count(DISTINCT p.fid) FROM layers.projects AS p "
        "JOIN layers.hazard_zones AS h ON ST_Intersects(p.geom, h.geom) "
        "WHERE h.nivel = 'alto'")
    seen = shown(nb)
    assert seen["mapas"] == 1 and seen["figuras"] >= 3


def test_05_zoning_proposal_impact_saves_nothing(api_settings: Settings, tmp_path: Path) -> None:
    versions = "SELECT count(*) FROM catalog.layer_versions WHERE layer = 'zoning'"
    before = (scalar(api_settings, versions),
              scalar(api_settings, "SELECT count(*) FROM proposals.proposals"))
    nb, r = run("05_impacto_propuesta_zonificacion.ipynb", api_settings, tmp_path)
    largest = scalar(api_settings, "SELECT codigo FROM layers.zoning WHERE familia = "
                     "'residencial' ORDER BY ST_Area(geom) DESC LIMIT 1")
    assert r["zona"] == largest and r["zona_nueva"] == f"{largest}-B"
    assert r["zonas_cambiadas"] == sorted([largest, f"{largest}-B"])
    assert r["predios_afectados"] > 0
    assert r["viviendas_despues"] > r["viviendas_antes"] > 0
    after = (scalar(api_settings, versions),
             scalar(api_settings, "SELECT count(*) FROM proposals.proposals"))
    assert after == before
    assert scalar(api_settings, "SELECT count(*) FROM layers.zoning WHERE codigo = %s",
                  (r["zona_nueva"],)) == 0
    seen = shown(nb)
    assert seen["mapas"] == 1 and seen["figuras"] >= 1


def test_06_sector_diagnosis_with_maps(api_settings: Settings, tmp_path: Path) -> None:
    nb, r = run("06_diagnostico_sectorial.ipynb", api_settings, tmp_path)
    assert r["sectores"] == scalar(api_settings, "SELECT count(*) FROM "
                                   "layers.planning_sectors")
    assert r["poblacion"] == scalar(api_settings, CENSUS)
    assert r["predios"] == scalar(api_settings, PARCELS)
    assert 0 < r["poblacion_riesgo_alto"] < r["poblacion"]
    carta = sector_diagnosis(api_settings, unit="sector", geometria=False)
    assert r["sector_prioritario"] == carta.loc[carta["ranking"] == 1, "nombre"].item()
    seen = shown(nb)
    assert seen["mapas"] == 1 and seen["figuras"] >= 5


def test_a_notebook_fails_when_its_database_is_unreachable(tmp_path: Path) -> None:
    """The kernel uses the database it is given, with no silent fallback."""
    nowhere = Settings(database_url=f"postgresql://nadie:x@/secplac?host={tmp_path}")
    with pytest.raises(CellExecutionError, match="No se pudo conectar a la base de datos"):
        run("01_explorar_capas.ipynb", nowhere, tmp_path)

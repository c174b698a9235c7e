"""Changes between two dates on the territory of ``test_analysis_common``: a period in which
the zoning gets a second version (ZH-1 allows industry), the cadastre a second version
(1-1 becomes commerce, 1-9 shrinks, 1-10 goes, 1-11 comes), and the registry sees one
project edited (stage diseño → ejecución), one created, one created and deleted and one
deleted; an edit after the period must not count."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
import shapely

from gis.analysis.changes import (
    CADASTRE_COLUMNS,
    EVENT_COLUMNS,
    PORTFOLIO_COLUMNS,
    STAGE_COLUMNS,
    SUMMARY_COLUMNS,
    ZONING_COLUMNS,
    changes_between,
    changes_summary,
)
from gis.analysis.common import AnalysisInputError
from gis.database import connect
from gis.errors import NotFoundError
from gis.ingest import ingest
from gis.portfolio import store
from gis.portfolio.record import parse_project
from gis.settings import Settings
from tests.conftest import query
from tests.gis.test_analysis_common import (  # noqa: F401
    PARCELS,
    X,
    Y,
    box,
    territory,
    write,
    zoning,
)


def project(codigo: str, etapa: str = "diseño", x: float = 30, y: float = 30,
            nombre: str = "Plaza") -> Any:
    return parse_project({"codigo": codigo, "nombre": nombre, "sector": "áreas verdes",
                          "etapa": etapa}, geometry=shapely.Point(X + x, Y + y))


def none(value: Any) -> Any:
    """Pandas' text dtype holds missing values as NaN: None here."""
    return None if value != value else value


def clock(settings: Settings) -> datetime:
    return query(settings, "SELECT clock_timestamp()")[0][0]


def new_parcels() -> tuple[list[dict], list]:  # type: ignore[type-arg]
    rows, geoms = [], []
    for rol, destino, geom, t, c, a, s in PARCELS:
        if rol == "1-10":
            continue
        rows.append({"rol": rol, "destino": "C" if rol == "1-1" else destino,
                     "superficie_terreno": t, "superficie_construida": c, "avaluo_total": a,
                     "direccion": s})
        geoms.append(box(100, 0, 140, 50) if rol == "1-9" else geom)
    rows.append({"rol": "1-11", "destino": "C", "direccion": "Calle 11"})
    geoms.append(box(170, 60, 180, 70))
    return rows, geoms


@pytest.fixture
def period(territory: Settings, tmp_path: Path) -> tuple[Settings, datetime, datetime]:  # noqa: F811
    with connect(territory, autocommit=True) as conn:
        store.create_project(conn, territory, "editor", project("MUN-2024-001"))
        store.create_project(conn, territory, "editor", project("MUN-2024-002"))
        desde = clock(territory)
        etag = store.project_json(conn, "MUN-2024-001")["etag"]
        store.update_project(conn, territory, "editor", "MUN-2024-001",
                             project("MUN-2024-001", etapa="ejecución"), etag)
        store.create_project(conn, territory, "editor",
                             project("MUN-2024-003", etapa="idea", x=300, y=80))
        store.create_project(conn, territory, "editor", project("MUN-2024-004"))
        for codigo in ("MUN-2024-004", "MUN-2024-002"):
            store.delete_project(conn, territory, "editor", codigo,
                                 store.project_json(conn, codigo)["etag"])
    ingest(territory, "zoning", write(tmp_path / "v2", "zoning", *zoning(False)))
    ingest(territory, "parcels", write(tmp_path / "v2", "parcels", *new_parcels()))
    hasta = clock(territory)
    with connect(territory, autocommit=True) as conn:  # after the period
        etag = store.project_json(conn, "MUN-2024-003")["etag"]
        store.update_project(conn, territory, "editor", "MUN-2024-003",
                             project("MUN-2024-003", etapa="perfil", x=300, y=80,
                                     nombre="Otra"), etag)
    return territory, desde, hasta


def test_changes_in_zoning_cadastre_and_portfolio(period: tuple[Settings, datetime, datetime]
                                                  ) -> None:
    settings, desde, hasta = period
    result = changes_between(settings, desde, hasta)
    assert set(result) == {"resumen", "zonificacion", "catastro", "cartera", "etapas",
                           "eventos"}
    zones = result["zonificacion"]
    assert isinstance(zones, gpd.GeoDataFrame) and zones.zona.tolist() == ["ZH-1"]
    row = zones.iloc[0]
    assert (row.cambio, row.agregado_m2, row.quitado_m2) == ("modificada", 0.0, 0.0)
    assert row.normas_cambiadas == (
        "Usos permitidos: residencial, equipamiento salud → residencial, actividad "
        "productiva molesta; Usos prohibidos: actividad productiva molesta → —")
    parcels = result["catastro"]
    assert list(parcels.columns) == [*CADASTRE_COLUMNS, "geometry"]
    got = {r["rol"]: (r["cambio"], r["atributos_cambiados"], r["detalle"])
           for r in parcels.drop(columns="geometry").to_dict("records")}
    assert got["00001-00001"] == ("modificado", "destino", "Destino SII: H → C")
    assert got["00001-00009"] == ("modificado", "geometría",
                                  "Geometría: 2500.0 → 2000.0 m²")
    assert got["00001-00010"][0] == "eliminado" and got["00001-00011"][0] == "agregado"
    assert len(got) == 4
    added = parcels.set_index("rol").loc["00001-00011"]
    assert none(added.superficie_antes_m2) is None and added.superficie_despues_m2 == 100.0
    portfolio = result["cartera"]
    assert list(portfolio.columns) == list(PORTFOLIO_COLUMNS)
    rows = {r["codigo"]: tuple(none(r[c]) for c in ("cambio", "campos_cambiados",
                                                    "etapa_desde", "etapa_hasta", "ediciones"))
            for r in portfolio.to_dict("records")}
    assert rows == {
        "MUN-2024-001": ("modificado", "etapa", "diseño", "ejecución", 1),
        "MUN-2024-002": ("eliminado", None, "diseño", None, 1),
        "MUN-2024-003": ("creado", None, None, "idea", 1),
        "MUN-2024-004": ("creado y eliminado", None, None, None, 2),
    }
    stages = result["etapas"]
    assert list(zip(stages.codigo, stages.etapa_anterior.fillna("—"), stages.etapa,
                    strict=True)) == [("MUN-2024-001", "diseño", "ejecución"),
                                      ("MUN-2024-003", "—", "idea"),
                                      ("MUN-2024-004", "—", "diseño")]
    assert result["eventos"].accion.tolist() == [
        "proyecto.editar", "proyecto.crear", "proyecto.crear", "proyecto.eliminar",
        "proyecto.eliminar"]
    summary = result["resumen"]
    counts = dict(zip(summary.cambio, summary.cantidad, strict=True))
    assert (counts["zonas modificadas"], counts["predios agregados"],
            counts["predios modificados"], counts["predios eliminados"],
            counts["proyectos creados y eliminados"], counts["cambios de etapa"]) == (
        1, 1, 2, 1, 1, 3)
    text = summary.attrs["texto"]
    assert "Zonificación (versión 1 → 2): 1 zona modificada." in text
    assert "Catastro (versión 1 → 2): 1 predio agregado, 2 predios modificados, " \
           "1 predio eliminado." in text
    assert "Cartera: 1 proyecto creado, 1 proyecto modificado" in text


def test_changes_in_an_area_and_summary_form(period: tuple[Settings, datetime, datetime]
                                             ) -> None:
    settings, desde, hasta = period
    result = changes_between(settings, desde, hasta, area="S-02")
    assert result["catastro"].rol.tolist() == ["00001-00010", "00001-00011"]
    assert len(result["zonificacion"]) == 0 and "normas_cambiadas" in result["zonificacion"]
    # projects with a geometry in S-02 (deleted ones have none left)
    assert result["cartera"].codigo.tolist() == ["MUN-2024-003"]
    assert result["etapas"].codigo.tolist() == ["MUN-2024-003"]
    summary = changes_summary(settings, desde=desde, hasta=hasta)
    assert summary.columns.tolist() == ["tema", "cambio", "cantidad"]
    assert summary.attrs["texto"].startswith("Cambios entre el ")
    # nothing changed in a period after the last change
    now = clock(settings)
    later = changes_between(settings, now, now + timedelta(days=1))
    assert all(len(later[k]) == 0 for k in ("zonificacion", "catastro", "cartera",
                                           "etapas"))
    assert "Zonificación (versión 2 → 2): sin cambios." in later["resumen"].attrs["texto"]


def test_project_layer_versions(territory: Settings, tmp_path: Path) -> None:  # noqa: F811
    desde = clock(territory)
    ingest(territory, "projects", write(tmp_path / "p2", "projects", [
        {"codigo": "P-1", "nombre": "Escuela nueva", "sector": "educación", "etapa": "idea",
         "monto_clp": 1_000_000},
        {"codigo": "P-3", "nombre": "Sede", "sector": "educación", "etapa": "perfil"}],
        [shapely.Point(X + 30, Y + 30), shapely.Point(X + 300, Y + 80)]))
    result = changes_between(territory, desde, clock(territory))
    rows = result["cartera"][["codigo", "cambio", "campos_cambiados", "origen"]]
    assert rows.fillna("—").values.tolist() == [
        ["P-1", "modificado", "nombre", "capa versión 2"],
        ["P-2", "eliminado", "—", "capa versión 2"],
        ["P-3", "creado", "—", "capa versión 2"]]


def test_bad_dates(territory: Settings) -> None:  # noqa: F811
    now = clock(territory)
    with pytest.raises(AnalysisInputError, match="«desde» .* debe ser anterior a «hasta»"):
        changes_between(territory, now, now - timedelta(days=1))
    with pytest.raises(AnalysisInputError, match="debe ser anterior"):
        changes_between(territory, "2030-01-02", "2030-01-02")
    with pytest.raises(NotFoundError, match="primera versión cargada"):
        changes_between(territory, "2001-01-01", now)
    with pytest.raises(AnalysisInputError, match="Fecha no válida"):
        changes_between(territory, "1/1/2025", now)
    with pytest.raises(AnalysisInputError, match="no usan «version» ni «fecha»"):
        changes_summary(territory, version=1, desde="2025-01-01", hasta="2025-02-01")
    with pytest.raises(AnalysisInputError, match="Faltan las fechas"):
        changes_summary(territory, desde="2025-01-01")


def test_columns_are_documented() -> None:
    for columns in (CADASTRE_COLUMNS, PORTFOLIO_COLUMNS, STAGE_COLUMNS, EVENT_COLUMNS,
                    ZONING_COLUMNS, SUMMARY_COLUMNS):
        for column in columns:
            assert f"``{column}``" in (changes_between.__doc__ or ""), column

"""Land-use compliance against the hand-computed verdicts of the small territory of
``test_analysis_common``."""

from __future__ import annotations

import itertools

import pandas as pd
import psycopg
import pytest

from gis.analysis import AnalysisInputError, compliance, compliance_summary
from gis.analysis.compliance import conformity
from gis.demo.land_use import DESTINO_USE
from gis.settings import Settings
from layers.codes import OGUC_USES, SII_DESTINO_CLASS, SII_DESTINOS
from layers.land_use import OGUC_CLASS
from tests.gis.test_analysis_common import territory  # noqa: F401  (fixture)

EXPECTED = {  # rol → (zona, % zona, resultado, regla)
    "1-1": ("ZH-1", 100.0, "conforme", "uso residencial permitido en ZH-1"),
    "1-2": ("ZH-1", 100.0, "no conforme",
            "uso actividad productiva molesta prohibido en ZH-1"),
    "1-3": ("ZM-2", 62.5, "conforme", "uso equipamiento comercio permitido en ZM-2"),
    "1-4": ("ZM-2", 100.0, "no regulado", "uso equipamiento salud no indicado en ZM-2"),
    "1-5": ("AV-3", 100.0, "no regulado", "destino sitio eriazo sin uso OGUC regulado"),
    "1-6": ("AV-3", 100.0, "no regulado", "zona AV-3 sin uso indicado"),
    "1-7": (None, None, "no regulado", "predio fuera de las zonas del Plan Regulador"),
    "1-8": ("ZH-1", 100.0, "no regulado", "predio sin destino SII"),
    "1-9": ("ZM-2", 100.0, "no regulado", "destino sitio eriazo sin uso OGUC regulado"),
    "1-10": ("ZM-2", 100.0, "conforme", "uso equipamiento comercio permitido en ZM-2"),
}


def short(rol: str) -> str:
    m, p = rol.split("-")
    return f"{int(m)}-{int(p)}"


def test_each_parcel_with_its_zone_verdict_and_rule(territory: Settings) -> None:  # noqa: F811
    table = compliance(territory)
    got = {short(r.rol): (r.zona if isinstance(r.zona, str) else None,
                          None if pd.isna(r.porcentaje_zona) else r.porcentaje_zona,
                          r.resultado, r.regla) for r in table.itertuples()}
    assert got == EXPECTED
    row = table.set_index("rol").loc["00001-00002"]
    assert (row.destino, row.destino_nombre, row.clase_oguc) == (
        "I", "industria", "actividad productiva molesta")
    assert row.superficie_m2 == 2500.0 and row.geometry.area == 2500.0
    assert table.crs.to_epsg() == 32719
    assert table.attrs["analisis"] == "cumplimiento" and table.attrs["version"] == 1


def test_summary_by_zone_and_by_sector(territory: Settings) -> None:  # noqa: F811
    zones = compliance_summary(territory, por="zona")
    assert [(z if isinstance(z, str) else None) for z in zones.zona] == [
        "AV-3", "ZH-1", "ZM-2", None]
    rows = zones.drop(columns="geometry").fillna({"zona": "-", "nombre": "-"}).to_dict("records")
    assert rows[1] == {"zona": "ZH-1", "nombre": "Habitacional 1", "predios": 3,
                       "conformes": 1, "no_conformes": 1, "no_regulados": 1,
                       "porcentaje_no_conforme": 33.3, "superficie_m2": 8500.0,
                       "superficie_no_conforme_m2": 2500.0}
    assert (rows[2]["predios"], rows[2]["conformes"], rows[2]["no_regulados"],
            rows[2]["superficie_m2"]) == (4, 2, 2, 9042.0)
    assert (rows[3]["predios"], rows[3]["no_regulados"]) == (1, 1)  # outside the PRC
    assert zones.geometry.iloc[1].area == 10_000 and zones.geometry.iloc[3] is None
    sectors = compliance_summary(territory, por="sector", geometria=False)
    assert sectors[["sector", "nombre", "predios", "conformes", "no_conformes",
                    "no_regulados"]].values.tolist() == [
        ["S-01", "Llolleo", 5, 2, 1, 2], ["S-02", "Barrancas", 5, 1, 0, 4]]
    only = compliance_summary(territory, area="S-02", por="sector", geometria=False)
    assert only.sector.tolist() == ["S-02"]
    with pytest.raises(AnalysisInputError, match="por='zona' o por='sector'"):
        compliance_summary(territory, por="comuna")


def test_database_rule_equals_the_python_rule(territory: Settings) -> None:  # noqa: F811
    """Every class × (permitted, prohibited) combination judged by the SQL of the
    analysis and by :func:`conformity` (shared with the proposal impact)."""
    lists = [None, [], ["residencial"], ["equipamiento salud"],
             ["residencial", "equipamiento salud"]]
    cases = list(itertools.product(["residencial", "equipamiento salud", None], lists, lists))
    with psycopg.connect(territory.database_url) as conn:
        for cls, permitted, prohibited in cases:
            sql_verdict = conn.execute(
                "SELECT CASE WHEN %(c)s::text IS NULL OR coalesce(cardinality(%(p)s::text[]), 0)"
                " + coalesce(cardinality(%(x)s::text[]), 0) = 0 THEN 'no regulado' "
                "WHEN %(c)s = ANY(%(x)s::text[]) THEN 'no conforme' "
                "WHEN %(c)s = ANY(%(p)s::text[]) THEN 'conforme' ELSE 'no regulado' END",
                {"c": cls, "p": permitted, "x": prohibited}).fetchone()[0]  # type: ignore[index]
            assert sql_verdict == conformity(cls, permitted, prohibited), (cls, permitted,
                                                                           prohibited)
    from importlib.resources import files

    text = files("gis").joinpath("sql/analysis_compliance.sql").read_text(encoding="utf-8")
    assert "WHEN zona IS NULL OR clase IS NULL OR sin_usos THEN 'no regulado'" in text


def test_destino_classes_are_oguc_uses_consistent_with_land_use() -> None:
    assert set(SII_DESTINO_CLASS) <= set(SII_DESTINOS)
    assert set(SII_DESTINO_CLASS.values()) <= set(OGUC_USES)
    assert not {"A", "F", "V", "W"} & set(SII_DESTINO_CLASS)  # not regulated
    # where the land use the demo derives from a destino has a class, it is the same,
    # except the documented refinements (offices, transport, parking)
    for destino, cls in SII_DESTINO_CLASS.items():
        via_land_use = OGUC_CLASS.get(DESTINO_USE.get(destino, ""))
        if destino not in {"O", "T", "Z"}:
            assert cls == via_land_use, destino

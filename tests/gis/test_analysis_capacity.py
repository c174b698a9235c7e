"""Zoning capacity (cabida) against hand-computed values on the territory of
``test_analysis_common``; the proposal impact uses the same rules."""

from __future__ import annotations

import pandas as pd
import psycopg
from psycopg import sql

from gis.analysis import capacity, capacity_by_zone
from gis.analysis.capacity import cabida_sql, lot_area_sql
from gis.proposals.impact import CAPACITY_SQL
from gis.settings import Settings
from tests.gis.test_analysis_common import territory  # noqa: F401  (fixture)

# rol → zona, lote, edificable, ocupación, viviendas, lotes, construida, residual, eriazo
EXPECTED = {
    "1-1": ("ZH-1", 2400.0, 2400.0, 1440.0, 24.0, 12, 1000.0, 1400.0, False),
    "1-2": ("ZH-1", 2500.0, 2500.0, 1500.0, 25.0, 12, 3000.0, 0.0, False),
    "1-3": ("ZM-2", 4000.0, 8000.0, 3200.0, 80.0, 13, 0.0, 8000.0, False),
    "1-4": ("ZM-2", 2500.0, 5000.0, 2000.0, 50.0, 8, 800.0, 4200.0, False),
    "1-5": ("AV-3", 2500.0, 0.0, 0.0, 0.0, None, 0.0, 0.0, True),
    "1-6": ("AV-3", 2500.0, 0.0, 0.0, 0.0, None, 0.0, 0.0, False),
    "1-7": (None, 5000.0, 0.0, 0.0, 0.0, None, 0.0, 0.0, False),
    "1-8": ("ZH-1", 3500.0, 3500.0, 2100.0, 35.0, 17, 0.0, 3500.0, False),
    "1-9": ("ZM-2", 2500.0, 5000.0, 2000.0, 50.0, 8, 0.0, 5000.0, True),
    "1-10": ("ZM-2", 42.0, 84.0, 33.6, 0.84, 1, 0.0, 84.0, False),  # below the minimum: 1 lot
}


def short(rol: str) -> str:
    m, p = rol.split("-")
    return f"{int(m)}-{int(p)}"


def plain(value: object) -> object:
    return None if value is pd.NA or (isinstance(value, float) and pd.isna(value)) else value


def test_capacity_of_each_parcel(territory: Settings) -> None:  # noqa: F811
    table = capacity(territory)
    got = {short(r.rol): tuple(plain(v) for v in (
        r.zona, r.superficie_m2, r.edificable_max_m2, r.ocupacion_max_m2, r.viviendas_max,
        r.lotes_max, r.construida_m2, r.edificable_residual_m2, r.eriazo))
        for r in table.itertuples()}
    assert got == EXPECTED
    assert str(table.lotes_max.dtype) == "Int64"


def test_vacant_land_only_and_area(territory: Settings) -> None:  # noqa: F811
    vacant = capacity(territory, solo_eriazos=True, geometria=False)
    assert [short(r) for r in vacant.rol] == ["1-5", "1-9"]
    assert vacant.eriazo.all() and vacant.attrs["solo_eriazos"] is True
    assert [short(r) for r in capacity(territory, area="S-02").rol] == [
        "1-4", "1-5", "1-6", "1-7", "1-10"]


def test_capacity_by_zone_with_vacant_land(territory: Settings) -> None:  # noqa: F811
    zones = capacity_by_zone(territory)
    assert zones.zona.tolist() == ["AV-3", "ZH-1", "ZM-2"]  # 1-7 is outside the PRC
    rows = {r["zona"]: r for r in zones.drop(columns="geometry").to_dict("records")}
    zh1 = rows["ZH-1"]
    assert (zh1["predios"], zh1["superficie_m2"], zh1["edificable_max_m2"],
            zh1["ocupacion_max_m2"], zh1["viviendas_max"], zh1["lotes_max"],
            zh1["construida_m2"], zh1["edificable_residual_m2"], zh1["predios_eriazos"]) == (
        3, 8400.0, 8400.0, 5040.0, 84.0, 41, 4000.0, 4900.0, 0)
    zm2 = rows["ZM-2"]
    assert (zm2["predios"], zm2["superficie_m2"], zm2["edificable_max_m2"],
            zm2["viviendas_max"], zm2["lotes_max"], zm2["edificable_residual_m2"]) == (
        4, 9042.0, 18084.0, 180.84, 30, 17284.0)
    assert (zm2["predios_eriazos"], zm2["superficie_eriaza_m2"], zm2["edificable_eriazo_m2"],
            zm2["viviendas_eriazo"]) == (1, 2500.0, 5000.0, 50.0)
    av3 = rows["AV-3"]
    assert pd.isna(av3["lotes_max"]) and av3["predios_eriazos"] == 1
    assert zones.geometry.area.tolist() == [10_000.0] * 3


def test_proposal_impact_uses_the_same_capacity_rules(territory: Settings) -> None:  # noqa: F811
    assert CAPACITY_SQL["lote_predio"] == lot_area_sql("p")
    assert CAPACITY_SQL["cabida_despues"] == cabida_sql("l.lote", "n", "_despues")
    with psycopg.connect(territory.database_url) as conn:
        row = conn.execute(sql.SQL(
            "SELECT {} FROM layers.zoning AS z, (SELECT 4000.0 AS lote) AS l "
            "WHERE z.codigo = 'ZM-2'").format(cabida_sql("l.lote", "z", "_x"))).fetchone()
    assert row is not None and [float(v) for v in row] == [8000.0, 3200.0, 80.0]

"""The stored overlay of the cadastre with the zoning (profiles.parcel_zones): built by the
first analysis, equal to the overlay computed on the spot, rebuilt when the cadastre or
the zoning changes, never built for a small area."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from gis.analysis import compliance
from gis.analysis.common import layer_version
from gis.database import connect
from gis.ingest import ingest
from gis.settings import Settings
from tests.conftest import query
from tests.gis.test_analysis_common import (  # noqa: F401  (territory: fixture)
    PARCELS,
    capacity_module,
    territory,
    write,
    zoning,
)


def stored(settings: Settings) -> dict[int, dict[str, float]]:
    """version → {rol: % in zone} of the stored overlay."""
    out: dict[int, dict[str, float]] = {}
    for version, rol, zona, pct in query(
            settings, "SELECT z.version, p.rol, z.zona, z.porcentaje_zona "
            "FROM profiles.parcel_zones AS z JOIN layers.parcels AS p USING (fid)"):
        out.setdefault(version, {})[rol] = (zona, round(pct, 1))
    return out


def stamps(settings: Settings) -> dict[str, dict]:  # type: ignore[type-arg]
    return {name: rev for name, rev in query(
        settings, "SELECT name, revisiones FROM profiles.derived_state "
        "WHERE starts_with(name, 'parcel_zones:')")}


def verdicts(frame: pd.DataFrame) -> dict[str, tuple]:  # type: ignore[type-arg]
    return {r.rol: (r.zona if isinstance(r.zona, str) else None, r.resultado)
            for r in frame.itertuples()}


def test_first_analysis_stores_the_overlay_and_the_next_ones_read_it(
        territory: Settings) -> None:  # noqa: F811
    assert stored(territory) == {} and stamps(territory) == {}
    whole = compliance(territory, geometria=False)
    overlay = stored(territory)[1]
    assert overlay["00001-00003"] == ("ZM-2", 62.5)  # the parcel split between two zones
    assert "00001-00007" not in overlay  # outside the PRC: no row
    assert {rol: z for rol, (z, _) in overlay.items()} == {
        r.rol: r.zona for r in whole.itertuples() if isinstance(r.zona, str)}
    (name, stamp), = stamps(territory).items()
    assert name == "parcel_zones:1" and stamp["version"] == 1
    # the stored overlay is what a sector and the capacity read: same zones
    sector = compliance(territory, area="S-02", geometria=False)
    assert verdicts(sector) == {r: v for r, v in verdicts(whole).items()
                                if r in set(sector.rol)}
    cabida = capacity_module.capacity(territory, geometria=False)
    assert dict(zip(cabida.rol, cabida.zona.fillna("-"), strict=True)) == dict(
        zip(whole.rol, whole.zona.fillna("-"), strict=True))


def test_small_area_is_overlaid_on_the_spot_without_building(
        territory: Settings) -> None:  # noqa: F811
    parcel = next(p for p in PARCELS if p[0] == "1-3")[2]
    table = compliance(territory, area=(parcel.buffer(-1), "EPSG:32719"), geometria=False)
    assert table.rol.tolist() == ["00001-00003"]
    assert (table.zona.iloc[0], table.porcentaje_zona.iloc[0]) == ("ZM-2", 62.5)
    assert stamps(territory) == {}  # not built for one parcel
    compliance(territory, geometria=False)  # built now: the small area reads it
    again = compliance(territory, area=(parcel.buffer(-1), "EPSG:32719"), geometria=False)
    assert verdicts(again) == verdicts(table)


def test_new_zoning_or_cadastre_rebuilds_it(territory: Settings, tmp_path: Path) -> None:  # noqa: F811
    before = verdicts(compliance(territory, geometria=False))
    assert before["00001-00002"] == ("ZH-1", "no conforme")
    rows, geoms = zoning(industry_prohibited=False)
    ingest(territory, "zoning", write(tmp_path / "v2", "zoning", rows, geoms))
    after = verdicts(compliance(territory, geometria=False))
    assert after["00001-00002"] == ("ZH-1", "conforme")
    assert set(stamps(territory)) == {"parcel_zones:1", "parcel_zones:2"}
    # the first version still answers from its own overlay
    assert verdicts(compliance(territory, version=1, geometria=False)) == before
    # a new cadastre without the parcel 1-1: rebuilt from it
    rows = [{"rol": r, "destino": d} for r, d, *_ in PARCELS]
    geoms = [p[2] for p in PARCELS]
    ingest(territory, "parcels", write(tmp_path / "p2", "parcels", rows[1:], geoms[1:]))
    with connect(territory) as conn:
        zoning_now = layer_version(conn, "zoning")
    fresh = compliance(territory, geometria=False)
    assert "00001-00001" not in set(fresh.rol)
    assert set(stored(territory)[zoning_now.version]) == {
        r.rol for r in fresh.itertuples() if isinstance(r.zona, str)}
    assert stamps(territory)[f"parcel_zones:{zoning_now.version}"]["parcels"] > 1

"""The distributed batch path (dask-geopandas over a partitioned GeoParquet export) gives
the PostGIS analyses' results: on the demo data and on the hand-computed territory of
``test_analysis_common``, run on a local Dask cluster of two worker processes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from distributed import Client, LocalCluster

from gis.analysis import AnalysisInputError, capacity, compliance, hazard_exposure
from gis.analysis.distributed import (
    capacity_distributed,
    compliance_distributed,
    exposure_distributed,
    pg_round,
    pieces,
)
from gis.analysis.partitioned import MANIFEST, export_partitioned, hilbert_keys, open_export
from gis.demo.load import load_demo
from gis.ingest import ingest
from gis.settings import Settings
from tests.conftest import query
from tests.gis.test_analysis_common import box, territory, write, zoning  # noqa: F401  (fixture)
from tests.gis.test_analysis_compliance import EXPECTED, short

UNITS = {"porcentaje_zona": 0.1, "viviendas_max": 0.01, "poblacion": 0.1}
"""Rounding unit of each float column (default 0.1): the tolerance allowed, since areas
cut from differently subdivided polygons agree only to floating-point rounding."""


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as c:
        yield c


def assert_same(postgis: pd.DataFrame, dask: pd.DataFrame) -> None:
    """Same columns, dtypes and rows; texts, integers and booleans equal, floats within
    their rounding unit (and equal in at least 99.9 % of the rows)."""
    assert list(dask.columns) == list(postgis.columns)
    assert dict(dask.dtypes) == dict(postgis.dtypes)
    assert len(dask) == len(postgis)
    for name in postgis.columns:
        a, b = postgis[name], dask[name]
        assert (a.isna() == b.isna()).all(), name
        if a.dtype.kind == "f":
            x, y = a.to_numpy(float), b.to_numpy(float)
            diff = np.abs(x - y)[~np.isnan(x)]
            assert (diff <= UNITS.get(name, 0.1) * 1.001).all(), (name, diff.max())
            assert not len(diff) or (diff < 1e-9).mean() >= 0.999, name
        else:
            assert a[a.notna()].tolist() == b[b.notna()].tolist(), name


def test_demo_results_equal_postgis(settings: Settings, demo_raw: Path, tmp_path: Path,
                                    client: Client) -> None:
    load_demo(settings)
    export = export_partitioned(settings, tmp_path / "lote", partitions=4)
    manifest = json.loads((tmp_path / "lote" / MANIFEST).read_text())
    assert manifest["crs"] == "EPSG:32719" and manifest["particionado"]["por"] == "hilbert"
    assert [p["filas"] for p in manifest["particiones"]] == [7500] * 4
    assert manifest["capas"]["parcels"]["filas"] == 30_000
    assert manifest["capas"]["zoning"]["version"] == 1
    assert len(export.parcel_files) == 4 and all(f.exists() for f in export.parcel_files)

    table = compliance_distributed(export, client)
    assert_same(compliance(settings, geometria=False), table)
    assert table.resultado.nunique() == 3 and table.attrs["motor"] == "dask-geopandas"
    assert_same(capacity(settings, geometria=False), capacity_distributed(export, client))
    exposure = exposure_distributed(export, client)
    assert_same(hazard_exposure(settings), exposure)
    assert exposure.predios.sum() > 0 and exposure.poblacion.sum() > 0



def test_territory_hand_cases(territory: Settings, tmp_path: Path,  # noqa: F811
                              client: Client) -> None:
    export = export_partitioned(territory, tmp_path / "t", partitions=3)
    table = compliance_distributed(export, client, geometria=True)
    got = {short(r.rol): (r.zona if isinstance(r.zona, str) else None,
                          None if pd.isna(r.porcentaje_zona) else r.porcentaje_zona,
                          r.resultado, r.regla) for r in table.itertuples()}
    assert got == EXPECTED
    reference = compliance(territory)
    assert_same(reference.drop(columns="geometry"), table.drop(columns="geometry"))
    assert table.crs.to_epsg() == 32719
    assert shapely.equals(table.geometry.values, reference.geometry.values).all()

    assert_same(capacity(territory, geometria=False), capacity_distributed(export, client))
    vacant = capacity_distributed(export, client, solo_eriazos=True)
    assert [short(r) for r in vacant.rol] == ["1-5", "1-9"] and vacant.eriazo.all()
    assert_same(capacity(territory, solo_eriazos=True, geometria=False), vacant)

    exposure = exposure_distributed(export, client)
    assert_same(hazard_exposure(territory), exposure)
    row = exposure.set_index(["tipo", "nivel"]).loc[("tsunami", "alto")]
    assert (row.predios, row.poblacion, row.proyectos, row.equipamiento_seguridad) == (
        3, 333.3, 2, 1)
    assert exposure.set_index(["tipo", "nivel"]).loc[("remoción en masa", "alto"),
                                                     "poblacion"] == 18.8

    # the national layout: comuna by comuna (point on surface), then parcels in none
    ingest(territory, "comunas", write(tmp_path / "c", "comunas", [
        {"codigo_comuna": "05601", "nombre": "San Antonio"},
        {"codigo_comuna": "05602", "nombre": "Algarrobo"}],
        [box(-10, -10, 152, 210), box(152, -10, 300, 210)]))
    by_comuna = export_partitioned(territory, tmp_path / "t", por="comuna")
    assert [(p["comuna"], p["filas"]) for p in by_comuna.manifest["particiones"]] == [
        ("05601", 5), ("05602", 4), (None, 1)]  # 1-7's point on surface is at x 330
    assert not (tmp_path / "t" / "parcels" / "part-00003.parquet").exists()
    assert_same(reference.drop(columns="geometry"), compliance_distributed(by_comuna, client))
    assert_same(exposure, exposure_distributed(by_comuna, client))


def test_no_parcels_gives_empty_tables(settings: Settings, tmp_path: Path,
                                       client: Client) -> None:
    ingest(settings, "zoning", write(tmp_path / "v1", "zoning", *zoning()))
    ingest(settings, "hazard_zones", write(tmp_path / "v1", "hazard_zones",
                                           [{"tipo": "tsunami", "nivel": "alto"}],
                                           [box(0, 0, 10, 10)]))
    export = export_partitioned(settings, tmp_path / "vacia", partitions=2)
    assert export.manifest["capas"]["parcels"]["filas"] == 0
    assert_same(compliance(settings, geometria=False), compliance_distributed(export, client))
    assert_same(capacity(settings, geometria=False), capacity_distributed(export, client))
    assert exposure_distributed(export, client).predios.tolist() == [0]


def test_bad_folders_and_options_are_refused(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(AnalysisInputError, match="no es una exportación particionada"):
        open_export(tmp_path)
    with pytest.raises(AnalysisInputError, match="no es una exportación particionada"):
        compliance_distributed(tmp_path / "no-existe")
    busy = tmp_path / "ocupada"
    busy.mkdir()
    (busy / "notas.txt").write_text("no borrar")
    with pytest.raises(AnalysisInputError, match="contiene otros archivos"):
        export_partitioned(settings, busy)
    assert [p.name for p in busy.iterdir()] == ["notas.txt"]
    with pytest.raises(AnalysisInputError, match="por='hilbert'"):
        export_partitioned(settings, tmp_path / "x", por="region")
    with pytest.raises(AnalysisInputError, match="particiones no válido"):
        export_partitioned(settings, tmp_path / "x", partitions=0)
    with pytest.raises(AnalysisInputError, match="particiones no válido"):
        export_partitioned(settings, tmp_path / "x", partitions=2, por="comuna")
    assert not (tmp_path / "x").exists()


def test_rounding_matches_postgresql(settings: Settings) -> None:
    values = [0.05, 0.15, 0.25, 1.25, 2.675, -1.25, 12.345, 1005.0049999, 99.95,
              1e-12, 0.0, 123456.789, *np.random.default_rng(1).uniform(0, 1e5, 200)]
    for digits in (1, 2):
        rows = query(settings, "SELECT round(v::numeric, %s)::float8 FROM unnest(%s::float8[]) "
                     "WITH ORDINALITY AS t(v, i) ORDER BY i", (digits, values))
        assert pg_round(values, digits).tolist() == [r[0] for r in rows]
    assert np.isnan(pg_round([np.nan], 1)[0])


def test_pieces_cover_the_polygon_with_few_vertices() -> None:
    ring = shapely.Point(0, 0).buffer(1000, quad_segs=200)  # 801 vertices
    cut = pieces(pd.DataFrame({"codigo": ["A"]}), [ring], max_vertices=64)
    assert len(cut) > 8 and set(cut.codigo) == {"A"}
    assert (shapely.get_num_coordinates(cut.geometry.values) <= 64).all()
    assert abs(cut.area.sum() - ring.area) < 1e-6 * ring.area
    assert abs(shapely.union_all(cut.geometry.values).area - ring.area) < 1e-6 * ring.area


def test_hilbert_keys_walk_the_grid_cell_by_cell() -> None:
    assert hilbert_keys(np.array([0.0, 0, 1, 1]), np.array([0.0, 1, 1, 0]), (0, 0, 1, 1),
                        level=1).tolist() == [0, 1, 2, 3]
    x, y = (g.ravel() for g in np.meshgrid(np.arange(8.0), np.arange(8.0)))
    keys = hilbert_keys(x, y, (0, 0, 7, 7), level=3)
    assert sorted(keys.tolist()) == list(range(64))
    order = np.argsort(keys)
    steps = np.abs(np.diff(x[order])) + np.abs(np.diff(y[order]))
    assert (steps == 1).all()  # each next cell is a neighbour

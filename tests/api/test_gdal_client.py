"""GDAL/OGR's OAPIF driver (Debian's gdal-bin) as a real client of the API."""

from __future__ import annotations

import subprocess
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from layers import vector_layers
from tests.conftest import query


def ogr(*args: str) -> str:
    done = subprocess.run(args, capture_output=True, text=True, timeout=300,
                          env={"PATH": "/usr/bin:/bin", "CPL_DEBUG": "OFF",
                               "GDAL_HTTP_TIMEOUT": "120"})
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_ogrinfo_lists_every_collection(server: str) -> None:
    out = ogr("ogrinfo", "-ro", "-q", f"OAPIF:{server}/")
    for layer in vector_layers():
        assert f": {layer.name} " in out or out.rstrip().endswith(f": {layer.name}") or \
            f": {layer.name}\n" in out or f" {layer.name} (" in out, (layer.name, out)


@pytest.mark.parametrize("layer", ["zoning", "port_routes", "projects"])
def test_ogr2ogr_copies_a_collection_exactly(server: str, api_settings, tmp_path: Path,  # type: ignore[no-untyped-def]
                                             layer: str) -> None:
    target = tmp_path / f"{layer}.gpkg"
    ogr("ogr2ogr", "-f", "GPKG", str(target), f"OAPIF:{server}/collections/{layer}",
        "-t_srs", "EPSG:32719", "-oo", "PAGE_SIZE=1000")
    copied = gpd.read_file(target, fid_as_index=True)
    stored = query(api_settings, f"SELECT fid, ST_AsText(geom), row_to_json(t)::jsonb - 'geom' "  # noqa: S608
                   f"FROM layers.{layer} AS t ORDER BY fid")
    assert len(copied) == len(stored) > 0
    assert copied.crs.to_epsg() == 32719
    for fid, wkt, attrs in stored:
        row = copied.loc[fid]
        assert row.geometry.hausdorff_distance(shapely.from_wkt(wkt)) < 0.01, fid
        for name, value in attrs.items():
            if name == "fid" or value is None:
                continue
            got = row[name]
            if isinstance(value, float):
                assert got == pytest.approx(value), (fid, name)
            elif isinstance(value, list):
                assert _ogr_list(got) == value, (fid, name, got)
            elif hasattr(got, "date"):  # a date field, read back by GDAL as a date
                assert got.date().isoformat() == value, (fid, name, got, value)
            else:
                assert got == value, (fid, name, got, value)


def _ogr_list(text: str) -> list[str]:
    """GDAL's StringList text form, ``(3:a,b,c)``, as a list."""
    count, _, items = text.strip("()").partition(":")
    values = items.split(",") if items else []
    assert len(values) == int(count)
    return values

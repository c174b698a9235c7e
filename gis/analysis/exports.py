"""Exporting an analysis result to GeoPackage, GeoParquet, CSV or Excel, chosen by the
file's extension, with spreadsheet formulas neutralised."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.analysis.common import AnalysisInputError

EXPORT_FORMATS = {".gpkg": "GeoPackage", ".parquet": "GeoParquet", ".geoparquet": "GeoParquet",
                  ".csv": "CSV", ".xlsx": "Excel"}
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula."""


def export(result: pd.DataFrame, path: str | Path) -> Path:
    """Write ``result`` to ``path``, the format chosen by its extension: ``.gpkg``
    (GeoPackage), ``.parquet`` / ``.geoparquet`` (GeoParquet; plain Parquet without
    geometry), ``.csv`` (UTF-8 with BOM, the geometry as WKT in ``geometria_wkt``, in the
    result's CRS: EPSG:32719 as the analyses return it) or ``.xlsx`` (Excel, attributes
    only). In CSV and Excel, text
    cells starting with ``= + - @`` (or a tab / carriage return) get a leading ``'`` so
    that no spreadsheet runs them as formulas. List values are written ``a; b; c``
    except in Parquet.

    Examples
    --------
    >>> export(compliance(settings, area="Llolleo"), "cumplimiento.xlsx")  # doctest: +SKIP
    """
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in EXPORT_FORMATS:
        raise AnalysisInputError(
            f"Formato de exportación no reconocido: «{target.suffix or target.name}».",
            hint="Use " + ", ".join(f"{s} ({f})" for s, f in EXPORT_FORMATS.items()) + ".")
    target.parent.mkdir(parents=True, exist_ok=True)
    spatial = isinstance(result, gpd.GeoDataFrame) and result.geometry.name in result
    layer = str(result.attrs.get("analisis") or target.stem)
    if suffix in (".parquet", ".geoparquet"):
        result.to_parquet(target)
    elif suffix == ".gpkg":
        _write_gpkg(_flat_lists(result), target, layer, spatial)
    elif suffix == ".csv":
        frame = _escaped(_flat_lists(_with_wkt(result) if spatial else result))
        # CRLF rows: Python's csv module quotes a cell only for the characters of the line
        # terminator, and a bare CR left unquoted starts a new row in a spreadsheet
        frame.to_csv(target, index=False, encoding="utf-8-sig", lineterminator="\r\n")
    else:
        frame = pd.DataFrame(result.drop(columns=result.geometry.name) if spatial else result)
        _escaped(_flat_lists(frame)).to_excel(target, index=False, sheet_name=layer[:31],
                                              engine="openpyxl")
    return target


def _write_gpkg(frame: pd.DataFrame, target: Path, layer: str, spatial: bool) -> None:
    if target.exists():
        target.unlink()  # a new file, not a layer appended to an old one
    if spatial:
        gpd.GeoDataFrame(frame).to_file(target, layer=layer, driver="GPKG")
    else:
        import pyogrio

        pyogrio.write_dataframe(pd.DataFrame(frame), target, layer=layer, driver="GPKG")


def _with_wkt(frame: gpd.GeoDataFrame) -> pd.DataFrame:
    out = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    out["geometria_wkt"] = shapely.to_wkt(frame.geometry.values, rounding_precision=3)
    return out


def _flat_lists(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for name in out.columns:
        if out[name].dtype == object and out[name].map(
                lambda v: isinstance(v, list | tuple | np.ndarray)).any():
            out[name] = out[name].map(lambda v: "; ".join(map(str, v))
                                      if isinstance(v, list | tuple | np.ndarray) else v)
    return out


def _escaped(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for name in out.columns:
        dtype = out[name].dtype
        # categories too: a categorical column's text would reach the sheet unescaped
        if pd.api.types.is_object_dtype(dtype) or isinstance(
                dtype, pd.StringDtype | pd.CategoricalDtype):
            out[name] = out[name].astype(object).map(escape_cell)
    return out


def escape_cell(value: Any) -> Any:
    """``value`` made inert for a spreadsheet: a text starting with ``= + - @`` (or tab,
    carriage return) gets a leading apostrophe; anything else is returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value

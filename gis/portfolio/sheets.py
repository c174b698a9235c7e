"""Spreadsheets as municipalities keep them, read into plain grids of cells: CSV (UTF-8 or
Latin-1/Windows-1252, separated by ``,`` ``;`` or tabs) and Excel ``.xlsx`` (openpyxl).

Which row is the header and what each column means is decided by
:mod:`gis.portfolio.importer`; this module only opens the file safely (size and row caps,
clear Spanish errors for empty, damaged or unsupported files) and hands over the cells,
with the merged ranges of an Excel sheet.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gis.archives import check_zip
from gis.errors import PlatformError
from gis.ingest.attributes import fold

MAX_BYTES = 20 * 1024 * 1024
"""Largest portfolio file accepted (20 MB)."""
MAX_ROWS = 20_000
"""Most rows accepted in one sheet."""
MAX_UNZIPPED_BYTES = 256 * 2**20
"""Largest expanded size of an .xlsx workbook (a ZIP archive of XML) of at most MAX_BYTES:
openpyxl reads it all into memory."""
CSV_SUFFIXES = (".csv", ".txt")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
DELIMITERS = (";", ",", "\t")
"""CSV separators tried, in this order (the one giving a recognisable header wins)."""
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula."""


class PortfolioFileError(PlatformError):
    """A portfolio file that cannot be read as a whole (nothing was saved)."""

    http_status = 422


class PortfolioFileTooLargeError(PortfolioFileError):
    http_status = 413


@dataclass
class Grid:
    """The cells of one sheet: ``rows[i]`` is spreadsheet row ``i + 1``."""

    name: str | None
    rows: list[list[Any]]
    merged: list[tuple[str, int, int, int, int]] = field(default_factory=list)
    """Merged ranges: (A1:C1, min_row, max_row, min_col, max_col), 1-based."""


def check_size(path: Path, name: str) -> None:
    """Refuse a file over :data:`MAX_BYTES`."""
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise PortfolioFileTooLargeError(
            f"El archivo «{name}» pesa {size / 2**20:.1f} MB; el máximo es "
            f"{MAX_BYTES // 2**20} MB.",
            hint="Divida la cartera en varios archivos o quite hojas y formatos que no se usan.")


def file_kind(name: str) -> str:
    """``csv`` or ``xlsx`` from the file name; a clear error for other spreadsheets."""
    suffix = Path(name).suffix.lower()
    if suffix in CSV_SUFFIXES:
        return "csv"
    if suffix in EXCEL_SUFFIXES:
        return "xlsx"
    if suffix in (".xls", ".ods", ".numbers"):
        raise PortfolioFileError(f"El archivo «{name}» es una planilla {suffix} que no se "
                                 "puede leer directamente.",
                                 hint="Guárdelo como Excel (.xlsx) o como CSV y vuelva a "
                                      "importarlo.")
    raise PortfolioFileError(f"El archivo «{name}» no es una planilla CSV ni Excel (.xlsx).",
                             hint="Importe la cartera como .xlsx o .csv.")


def unescape(value: Any) -> Any:
    """A text cell without the apostrophe that protected a formula-like value."""
    if isinstance(value, str) and len(value) > 1 and value[0] == "'" and \
            value[1] in FORMULA_START:
        return value[1:]
    return value


def escape(value: Any) -> Any:
    """A text value made safe for a spreadsheet (formula injection): an apostrophe before a
    leading ``= + - @`` (or tab, carriage return). Numbers and dates are left alone.

    >>> escape("=HYPERLINK(\\"http://x\\")"), escape(-71.6), escape("Plaza")
    ('\\'=HYPERLINK("http://x")', -71.6, 'Plaza')
    """
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _empty(row: list[Any]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in row)


def check_not_empty(rows: list[list[Any]], what: str) -> None:
    """Refuse a sheet without any filled cell; ``what`` names it (``El archivo «x.csv»``)."""
    if all(_empty(r) for r in rows):
        raise PortfolioFileError(f"{what} está vacío: no tiene encabezado ni filas de "
                                 "proyectos.", hint="Revise que guardó o eligió la hoja "
                                 "correcta.")


def _too_many(name: str) -> PortfolioFileError:
    return PortfolioFileError(f"El archivo «{name}» tiene más de {MAX_ROWS:,} filas."
                              .replace(",", "."),
                              hint="Divida la cartera en varios archivos.")


# --- CSV --------------------------------------------------------------------------------------

def decode(data: bytes) -> tuple[str, str]:
    """The text of a CSV file and its encoding: UTF-8 (with or without BOM), else
    Windows-1252, else Latin-1."""
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes every byte")


def csv_text(path: Path, name: str) -> tuple[str, str]:
    """The text of a CSV file and its encoding."""
    data = path.read_bytes()
    text, encoding = decode(data)
    if "\x00" in text:
        raise PortfolioFileError(f"El archivo «{name}» no es un texto CSV (tiene datos "
                                 "binarios).", hint="Si es una planilla Excel, use la "
                                 "extensión .xlsx.")
    return text, encoding


def csv_grid(text: str, delimiter: str, name: str, limit: int | None = None) -> Grid:
    """The rows of a CSV text split by ``delimiter`` (the first ``limit`` rows only)."""
    rows: list[list[Any]] = []
    try:
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            rows.append([unescape(c) for c in row])
            if limit is not None and len(rows) >= limit:
                break
            if len(rows) > MAX_ROWS + 10:
                raise _too_many(name)
    except csv.Error as exc:
        raise PortfolioFileError(f"El archivo «{name}» no se puede leer como CSV (fila "
                                 f"{len(rows) + 1}).", hint=str(exc)) from None
    return Grid(None, rows)


# --- Excel ------------------------------------------------------------------------------------

def _cell(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return unescape(value)


def excel_sheets(path: Path, name: str) -> list[str]:
    """The sheet names of an Excel workbook."""
    return list(_workbook(path, name).sheetnames)


def _workbook(path: Path, name: str) -> Any:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        check_zip(path, name, max_total=MAX_UNZIPPED_BYTES)  # before openpyxl expands it
        return openpyxl.load_workbook(path, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError,
            TypeError) as exc:
        raise PortfolioFileError(f"El archivo «{name}» no se pudo abrir como libro Excel "
                                 "(.xlsx); puede estar dañado o tener otro formato.",
                                 hint=f"Ábralo en Excel y guárdelo de nuevo como .xlsx. "
                                      f"Detalle: {str(exc)[:200]}") from None


def excel_grids(path: Path, name: str, sheet: str | None) -> tuple[Grid, dict[str, Grid]]:
    """The chosen sheet (the first one when ``sheet`` is None; its name compared without
    case or accents) and every other sheet of the workbook, by name."""
    wb = _workbook(path, name)
    names = list(wb.sheetnames)
    chosen = names[0]
    if sheet is not None:
        match = [n for n in names if fold(n) == fold(sheet)]
        if not match:
            raise PortfolioFileError(f"El libro «{name}» no tiene una hoja «{sheet[:60]}».",
                                     hint="Hojas del libro: " + ", ".join(
                                         f"«{n}»" for n in names) + ".")
        chosen = match[0]
    grids = {n: _grid(wb[n], name) for n in names}
    main = grids.pop(chosen)
    check_not_empty(main.rows, f"La hoja «{chosen}» del archivo «{name}»")
    return main, grids


def _grid(ws: Any, name: str) -> Grid:
    rows: list[list[Any]] = []
    blank_run = 0
    for values in ws.iter_rows(values_only=True):
        row = [_cell(v) for v in values]
        rows.append(row)
        blank_run = blank_run + 1 if _empty(row) else 0
        if len(rows) - blank_run > MAX_ROWS + 10:
            raise _too_many(name)
    del rows[len(rows) - blank_run:]  # trailing formatted-but-empty rows
    merged = [(str(r.coord), r.min_row, r.max_row, r.min_col, r.max_col)
              for r in ws.merged_cells.ranges]
    return Grid(ws.title, rows, merged)


def check_header_not_merged(grid: Grid, header_row: int, what: str) -> None:
    """Refuse merged cells in the header row: each field needs a column of its own."""
    for coord, top, bottom, _, _ in grid.merged:
        if top <= header_row <= bottom:
            raise PortfolioFileError(
                f"Las celdas {coord} del encabezado están combinadas; separe el encabezado en "
                "una columna por campo.",
                hint=f"{what}: use «Combinar y centrar» solo en los títulos sobre la fila "
                     f"{header_row}, nunca en ella.")


def fill_merged(grid: Grid, header_row: int) -> None:
    """Cells merged across data rows (a project's fields over its funding rows) take the
    merged value on every row they cover."""
    for _, top, bottom, left, right in grid.merged:
        if top <= header_row:
            continue
        value = grid.rows[top - 1][left - 1] if left - 1 < len(grid.rows[top - 1]) else None
        for r in range(top - 1, min(bottom, len(grid.rows))):
            row = grid.rows[r]
            row.extend([None] * (right - len(row)))
            for c in range(left - 1, right):
                row[c] = value

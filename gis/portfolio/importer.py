"""Importing a portfolio "as municipalities keep it": a CSV or Excel sheet, one row per
project or one row per project, funding source and year (rows sharing the code).

The header row is found among the first rows (title rows above it are common) and its
column names are matched, without case, accents or punctuation, to the fields through
:data:`ALIASES` (declared once here; a layer field's name and label always work too).
Each project is checked with :func:`gis.portfolio.record.parse_project` and placed with
:mod:`gis.portfolio.geocode` (coordinates, rol or address on the cadastre), then inside the
comuna. Every row that cannot be read or placed is reported with its spreadsheet row number
(the header row counted, as the user sees it) and the reason, and nothing is saved unless
the valid projects are asked for (``save_valid``). A dry run checks without saving.

Examples
--------
>>> report = import_portfolio(conn, settings, "ana", Path("cartera.xlsx"),
...                           save_valid=False)                    # doctest: +SKIP
>>> report["creados"], report["rechazados"]                        # doctest: +SKIP
(148, [])
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from gis.auth import User
from gis.errors import PlatformError
from gis.ingest.attributes import fold
from gis.portfolio import geocode, store
from gis.portfolio.codes import code_problem
from gis.portfolio.record import INPUT_FIELDS, Project, ProjectInputError, parse_project
from gis.portfolio.sheets import (
    DELIMITERS,
    Grid,
    PortfolioFileError,
    check_header_not_merged,
    check_not_empty,
    check_size,
    csv_grid,
    csv_text,
    excel_grids,
    file_kind,
    fill_merged,
)
from gis.settings import Settings

HEADER_SEARCH_ROWS = 10
FUNDING_SHEET = "Financiamiento"
FUNDING_KEYS = ("fuente", "anio", "solicitado", "aprobado", "comprometido", "ejecutado", "monto")
PROJECT_KEYS = tuple(f.name for f in INPUT_FIELDS)
REQUIRED = ("codigo", "nombre", "sector", "etapa")
TITLES = {f.name: f.title for f in INPUT_FIELDS}

ALIASES: dict[str, tuple[str, ...]] = {
    "codigo": ("Código BIP", "Cod. BIP", "Cod BIP", "Código", "BIP", "Código proyecto",
               "Código del proyecto", "Código iniciativa", "cod_bip", "codigo_bip"),
    "nombre": ("Nombre del proyecto", "Nombre proyecto", "Nombre de la iniciativa",
               "Proyecto", "Iniciativa", "nombre_proyecto"),
    "descripcion": ("Descripción del proyecto",),
    "tipo": ("Tipo", "Tipo de iniciativa"),
    "sector": ("Sector de inversión",),
    "etapa": ("Etapa actual",),
    "rate": ("RATE", "RATE MDSF", "Resultado RATE"),
    "item_presupuestario": ("Ítem presupuestario", "Asignación presupuestaria",
                            "Imputación presupuestaria", "Subtítulo"),
    "unidad_responsable": ("Unidad técnica", "Responsable", "Unidad"),
    "eje_pladeco": ("Eje", "Lineamiento PLADECO", "Lineamiento"),
    "objetivo_pladeco": ("Objetivo",),
    "beneficiarios": ("N° beneficiarios", "Número de beneficiarios", "Población beneficiaria"),
    "avance_fisico": ("% avance físico",),
    "avance_financiero": ("% avance financiero",),
    "fecha_inicio": ("Fecha inicio", "Inicio"),
    "fecha_termino": ("Fecha término", "Término"),
    "fuente": ("Fuente de financiamiento", "Fuente financiamiento", "Fuente"),
    "anio": ("Año", "Año presupuestario", "Año de financiamiento", "anio", "ano"),
    "solicitado": ("Monto solicitado", "Solicitado"),
    "aprobado": ("Monto aprobado", "Aprobado"),
    "comprometido": ("Monto comprometido", "Comprometido"),
    "ejecutado": ("Monto ejecutado", "Ejecutado", "Gasto ejecutado"),
    "monto": ("Monto", "Monto total", "Inversión total"),
    "longitud": ("Longitud", "Lon", "Lng", "Long"),
    "latitud": ("Latitud", "Lat"),
    "este": ("Este", "UTM Este", "Coordenada este", "X UTM"),
    "norte": ("Norte", "UTM Norte", "Coordenada norte", "Y UTM"),
    "x": ("X", "Coordenada X"),
    "y": ("Y", "Coordenada Y"),
    "wkt": ("WKT", "Geometría", "Geometría WKT", "geom"),
    "rol": ("Rol", "Rol SII", "Rol de avalúo", "rol_sii"),
    "direccion": ("Dirección", "Domicilio"),
}
"""Column names (as written in municipal spreadsheets) of each field; compared without
case, accents, punctuation or text in parentheses ("Monto solicitado ($)" is "monto
solicitado"). ``monto`` is a single total (taken as requested and approved)."""
IGNORED = ("N°", "Nº", "Nro", "Número", "Correlativo", "fid", "Fuentes", "Fuentes resumen",
           "Costo total", "monto_clp", "monto_ejecutado_clp", "Primer año",
           "Total solicitado", "Total aprobado", "Total comprometido", "Total ejecutado")
"""Columns left aside without a warning: row counters and the summaries an export adds."""


def column_key(header: str) -> str:
    """A column name reduced for matching: "Monto solicitado ($)" → "monto solicitado".

    >>> column_key("  Cód. BIP "), column_key("Avance físico (%)"), column_key("N°")
    ('cod bip', 'avance fisico', 'n')
    """
    text = re.sub(r"\([^)]*\)", " ", str(header))
    return " ".join(re.sub(r"[^0-9a-z]+", " ", fold(text).replace("_", " ")).split())


def _alias_table() -> dict[str, str]:
    table: dict[str, str] = {}

    def add(alias: str, key: str) -> None:
        norm = column_key(alias)
        if table.get(norm, key) != key:
            raise ValueError(f"column alias {alias!r} declared for {table[norm]} and {key}")
        table[norm] = key

    for key, aliases in ALIASES.items():
        for alias in aliases:
            add(alias, key)
    for fld in INPUT_FIELDS:
        for alias in (fld.name, fld.title, *fld.source):
            add(alias, fld.name)
    for alias in IGNORED:
        add(alias, "")
    return table


COLUMNS = _alias_table()
"""Normalised column name → field key ("" for columns ignored on purpose)."""


class PortfolioImportError(PlatformError):
    """Rows were rejected and nothing was saved; ``informe`` is the import report."""

    http_status = 422

    def __init__(self, message: str, informe: dict[str, Any], *, hint: str) -> None:
        super().__init__(message, hint=hint)
        self.informe = informe


@dataclass
class Row:
    number: int
    """Row number as shown by the spreadsheet (its header row counted)."""
    sheet: str | None
    values: dict[str, Any]

    @property
    def where(self) -> str:
        return f"Hoja «{self.sheet}», fila {self.number}" if self.sheet else \
            f"Fila {self.number}"


@dataclass
class Table:
    rows: list[Row]
    header_row: int
    headers: dict[str, str]
    """Field key → the column name as written."""
    unused: list[str]


# --- reading ---------------------------------------------------------------------------------

def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip()) and \
        not (isinstance(value, float) and math.isnan(value))


def _header_score(row: list[Any]) -> int:
    return len({COLUMNS.get(column_key(c)) for c in row if isinstance(c, str) and c.strip()}
               - {None, ""})


def _find_header(grid: Grid) -> int | None:
    """Index (0-based) of the header among the first rows: the row naming most fields."""
    best, index = 1, None
    for i, row in enumerate(grid.rows[:HEADER_SEARCH_ROWS]):
        score = _header_score(row)
        if score > best:
            best, index = score, i
    return index


def _no_header(what: str) -> PortfolioFileError:
    return PortfolioFileError(
        f"{what} no tiene una fila de encabezado reconocible en sus primeras "
        f"{HEADER_SEARCH_ROWS} filas.",
        hint="La planilla debe tener una fila con los nombres de las columnas, p. ej. "
             "Código BIP, Nombre del proyecto, Sector, Etapa, Longitud y Latitud (o Rol, o "
             "Dirección).")


def _table(grid: Grid, what: str, required: Iterable[str], location: bool, *,
           main_sheet: bool = False) -> Table:
    index = _find_header(grid)
    if index is None:
        raise _no_header(what)
    header_row = index + 1
    check_header_not_merged(grid, header_row, what)
    headers: dict[str, str] = {}
    positions: dict[str, int] = {}
    unused = []
    for col, cell in enumerate(grid.rows[index]):
        if not _present(cell):
            continue
        name = " ".join(str(cell).split())
        key = COLUMNS.get(column_key(name))
        if key is None or key in headers:
            unused.append(name)
        elif key:
            headers[key], positions[key] = name, col
    missing = [k for k in required if k not in headers]
    if location and not _has_location_columns(headers):
        missing.append("ubicación")
    if missing:
        names = {"codigo": "Código", "nombre": "Nombre del proyecto", "sector": "Sector",
                 "etapa": "Etapa", "fuente": "Fuente de financiamiento", "anio": "Año",
                 "ubicación": "una columna de ubicación (Longitud y Latitud, Este y Norte, "
                              "WKT, Rol o Dirección)"}
        found = [str(c) for c in grid.rows[index] if _present(c)]
        raise PortfolioFileError(
            f"{what}: faltan columnas obligatorias: {', '.join(names[m] for m in missing)}.",
            hint=f"Columnas encontradas en la fila {header_row}: "
                 + ", ".join(f"«{c}»" for c in found[:40]) + ".")
    fill_merged(grid, header_row)
    rows = []
    for number, cells in enumerate(grid.rows[header_row:], start=header_row + 1):
        values = {k: cells[c] for k, c in positions.items() if c < len(cells)}
        if any(_present(v) for v in values.values()):
            rows.append(Row(number, None if main_sheet else grid.name, values))
    return Table(rows, header_row, headers, unused)


def _has_location_columns(headers: dict[str, str]) -> bool:
    return any(k in headers for k in ("wkt", "rol", "direccion")) or \
        {"longitud", "latitud"} <= set(headers) or {"este", "norte"} <= set(headers) or \
        {"x", "y"} <= set(headers)


def read_tables(path: Path, name: str, sheet: str | None
                ) -> tuple[Table, Table | None, dict[str, Any]]:
    """The projects table, the funding sheet's table (Excel, when the projects sheet has
    no funding source column) and facts about the file for the report."""
    check_size(path, name)
    kind = file_kind(name)
    facts: dict[str, Any] = {"archivo": name, "formato": kind}
    if kind == "csv":
        if sheet is not None:
            raise PortfolioFileError(f"«{name}» es un CSV: no tiene hojas.",
                                     hint="Quite la opción de hoja.")
        text, facts["codificacion"] = csv_text(path, name)
        delimiter = max(DELIMITERS, key=lambda d: _header_score_of(text, d, name))
        facts["separador"] = delimiter
        grid = csv_grid(text, delimiter, name)
        check_not_empty(grid.rows, f"El archivo «{name}»")
        return _table(grid, f"El archivo «{name}»", REQUIRED, True), None, facts
    main, others = excel_grids(path, name, sheet)
    facts["hoja"] = main.name
    table = _table(main, f"La hoja «{main.name}»", REQUIRED, True, main_sheet=True)
    funding = next((g for n, g in others.items() if fold(n) == fold(FUNDING_SHEET)), None)
    if funding is None or "fuente" in table.headers:
        return table, None, facts
    return table, _table(funding, f"La hoja «{funding.name}»", ("codigo", "fuente", "anio"),
                         False), facts


def _header_score_of(text: str, delimiter: str, name: str) -> int:
    grid = csv_grid(text, delimiter, name, limit=HEADER_SEARCH_ROWS)
    return max((_header_score(r) for r in grid.rows), default=0)


# --- checking --------------------------------------------------------------------------------

@dataclass
class Group:
    """The rows of one project (same code), in file order."""

    codigo: str
    rows: list[Row]
    funding_rows: list[Row]


def _code_text(value: Any) -> str:
    return str(value).strip() if _present(value) else ""


def _is_total_row(row: Row) -> bool:
    first = next((v for v in row.values.values() if _present(v)), "")
    return isinstance(first, str) and fold(first).startswith(("total", "subtotal"))


def _group(table: Table, funding: Table | None, report: dict[str, Any]
           ) -> list[Group]:
    groups: dict[str, Group] = {}
    for row in table.rows:
        text = _code_text(row.values.get("codigo"))
        if _is_total_row(row):
            report["advertencias"].append(f"{row.where}: fila de totales omitida.")
            continue
        if not text:
            _reject(report, [row], None, ["falta el código del proyecto (columna "
                                          f"«{table.headers['codigo']}»)"])
            continue
        code = code_problem(text)[0]
        groups.setdefault(code, Group(code, [], [])).rows.append(row)
        if "fuente" in table.headers:
            groups[code].funding_rows.append(row)
    for row in funding.rows if funding else []:
        code = code_problem(_code_text(row.values.get("codigo")))[0]
        if code in groups:
            groups[code].funding_rows.append(row)
        elif not _is_total_row(row):
            _reject(report, [row], code or None, [
                f"el código «{code}» no está en la hoja de proyectos" if code
                else "falta el código del proyecto"])
    return list(groups.values())


def _same(a: Any, b: Any) -> bool:
    return fold(str(a)) == fold(str(b))


def _project_data(group: Group, headers: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    """The project's fields from its rows (repeated values must agree) and its funding."""
    data: dict[str, Any] = {}
    problems = []
    for row in group.rows:
        for key in PROJECT_KEYS:
            value = row.values.get(key)
            if not _present(value):
                continue
            if key in data and not _same(data[key], value) and key != "codigo":
                problems.append(f"{row.where}: «{headers[key]}» es «{str(value)[:40]}» pero "
                                f"otra fila del mismo proyecto dice «{str(data[key])[:40]}»")
            data.setdefault(key, value)
    funding = []
    for row in group.funding_rows:
        amounts = {k: row.values.get(k) for k in FUNDING_KEYS}
        if not any(_present(v) for v in amounts.values()):
            continue
        if _present(amounts.pop("monto")) and not _present(amounts["solicitado"]) and \
                not _present(amounts["aprobado"]):
            amounts["solicitado"] = amounts["aprobado"] = row.values["monto"]
        funding.append(amounts)
    data["financiamiento"] = funding
    return data, problems


def _funding_where(field: str, group: Group, headers: dict[str, str]) -> str:
    """``financiamiento[2].aprobado`` as the spreadsheet shows it: row and column."""
    match = re.match(r"financiamiento\[(\d+)\](?:\.(\w+))?", field)
    if not match:
        return headers.get(field, field)
    rows = [r for r in group.funding_rows
            if any(_present(r.values.get(k)) for k in FUNDING_KEYS)]
    index = int(match[1]) - 1
    where = rows[index].where if index < len(rows) else "financiamiento"
    column = match[2]
    return f"{where}, «{headers.get(column, column)}»" if column else where


def _check_group(group: Group, headers: dict[str, str], cadastre: geocode.CadastreLocator,
                 conn: psycopg.Connection, settings: Settings,
                 existing: dict[str, dict[str, Any]], report: dict[str, Any]
                 ) -> Project | None:
    data, problems = _project_data(group, headers)
    data.update(existing.get(group.codigo, {}))  # what the file lacks keeps its value
    project = None
    try:
        project = parse_project(data)
    except ProjectInputError as exc:
        problems += [f"{_funding_where(p['campo'], group, headers)}: {p['mensaje']}"
                     for p in exc.problems]
    located = next((r for r in group.rows if geocode.has_location(r.values)), None)
    location = geocode.locate(located.values, cadastre) if located else None
    if location is None:
        if group.codigo not in existing:
            problems.append("falta la ubicación: indique longitud y latitud, este y norte "
                            "(UTM 19S), WKT, rol o dirección")
    elif location.problem:
        problems.append(location.problem)
    else:
        try:
            store.check_location(conn, settings, location.geometry, group.codigo)  # type: ignore[arg-type]
        except ProjectInputError as exc:
            problems += [p["mensaje"] for p in exc.problems]
    if problems or project is None:
        _reject(report, group.rows, group.codigo, problems)
        return None
    if location is not None:
        report["ubicaciones"][location.how] += 1
    for warning in project.warnings + (location.warnings if location else []):
        report["advertencias"].append(f"{_warning_row(warning, group).where} "
                                      f"({group.codigo}): {warning}")
    project.geometry = location.geometry if location else None
    return project


def _warning_row(warning: str, group: Group) -> Row:
    """The funding row a warning about "FUENTE AÑO: …" is about (else the first row)."""
    head = fold(warning.split(":")[0])
    return next((r for r in group.funding_rows if fold(
        f"{r.values.get('fuente')} {r.values.get('anio')}") == head), group.rows[0])


def _reject(report: dict[str, Any], rows: list[Row], codigo: str | None,
            reasons: list[str]) -> None:
    report["rechazados"].append({
        "filas": [r.number for r in rows], "hoja": rows[0].sheet or report.get("hoja"),
        "codigo": codigo,
        "motivos": reasons})
    report["filas_rechazadas"] += len(rows)


# --- importing -------------------------------------------------------------------------------

def import_portfolio(conn: psycopg.Connection, settings: Settings, user: User | str,
                     path: Path, *, sheet: str | None = None, save_valid: bool = False,
                     dry_run: bool = False, name: str | None = None) -> dict[str, Any]:
    """Check a portfolio file and save its projects (created or replaced by code).

    Parameters
    ----------
    conn : psycopg.Connection
        Saving happens in one transaction (all the projects saved, or none).
    settings : Settings
    user : User or str
        Who imports (recorded in the registry and the audit log).
    path : Path
        A ``.csv`` or ``.xlsx`` file.
    sheet : str, optional
        Excel sheet to read (the first one by default).
    save_valid : bool
        Save the valid projects when some rows are rejected (otherwise nothing is saved).
    dry_run : bool
        Check everything, save nothing.
    name : str, optional
        The file name the user knows (an upload is saved under a temporary name).

    Returns
    -------
    dict
        The report: rows read, projects, created, updated, rejected rows with their
        reasons, warnings.

    Raises
    ------
    PortfolioFileError
        The file cannot be read as a whole (empty, damaged, header not found or merged,
        required columns missing, too large).
    PortfolioImportError
        Rows were rejected and ``save_valid`` was not asked (or no row was valid);
        its ``informe`` is the report. Nothing was saved.
    """
    name = name or Path(path).name
    table, funding, facts = read_tables(Path(path), name, sheet)
    report: dict[str, Any] = {
        **facts, "fila_encabezado": table.header_row, "columnas": table.headers,
        "columnas_no_usadas": table.unused, "filas_leidas": len(table.rows) + (
            len(funding.rows) if funding else 0),
        "proyectos": 0, "validos": 0, "creados": 0, "actualizados": 0,
        "filas_rechazadas": 0, "rechazados": [], "advertencias": [],
        "ubicaciones": Counter(), "simulacion": dry_run, "guardado": False}
    if table.unused:
        report["advertencias"].append("Columnas no usadas: " + ", ".join(
            f"«{c}»" for c in table.unused) + ".")
    if funding is not None:
        report["hoja_financiamiento"] = funding.rows[0].sheet if funding.rows else None
    elif any(k in table.headers for k in FUNDING_KEYS) and "fuente" not in table.headers:
        report["advertencias"].append("Los montos y años se ignoraron: falta la columna "
                                      "«Fuente de financiamiento».")
    groups = _group(table, funding, report)
    if not groups and not report["rechazados"]:
        raise PortfolioFileError(f"«{name}» no tiene filas de proyectos bajo el encabezado "
                                 f"(fila {table.header_row}).")
    report["proyectos"] = len(groups)
    cadastre = geocode.CadastreLocator(conn)
    cadastre.prefetch_rols(r.values.get("rol") for g in groups for r in g.rows)
    existing = _kept_values(conn, [g.codigo for g in groups], table, funding, report)
    projects = [p for g in groups if (p := _check_group(
        g, table.headers, cadastre, conn, settings, existing, report)) is not None]
    report["validos"] = len(projects)
    report["ubicaciones"] = dict(report["ubicaciones"])
    report["rechazados"].sort(key=lambda r: (r["hoja"] or "", r["filas"][0]))
    if report["rechazados"] and not dry_run and (not save_valid or not projects):
        raise _refusal(report, save_valid)
    if not dry_run and projects:
        saved = store.save_projects(conn, settings, user, projects, source=name)
        report.update(creados=saved["creados"], actualizados=saved["actualizados"],
                      guardado=True)
    return report


def _kept_values(conn: psycopg.Connection, codes: list[str], table: Table,
                 funding: Table | None, report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """For each project already in the registry, the current values of the fields the file
    has no column for (and its funding, when the file has none): an import replaces only
    what the file brings."""
    existing = [r[0] for r in conn.execute(
        "SELECT codigo FROM cartera.registro WHERE codigo = ANY(%s)", (codes,))]
    absent = [k for k in PROJECT_KEYS if k not in table.headers]
    if funding is None and "fuente" not in table.headers:
        absent.append("financiamiento")
    if not existing or not absent:
        return {code: {} for code in existing}
    report["advertencias"].append(
        f"{len(existing)} proyectos ya estaban en la cartera: conservan lo que el archivo no "
        "trae (" + ", ".join(TITLES.get(k, "financiamiento") for k in absent) + ").")
    return {code: {k: v for k, v in store.project_json(conn, code).items() if k in absent}
            for code in existing}


def _refusal(report: dict[str, Any], save_valid: bool) -> PortfolioImportError:
    rejected, total = report["filas_rechazadas"], report["filas_leidas"]
    if save_valid:
        return PortfolioImportError(
            f"Ningún proyecto de «{report['archivo']}» es válido (filas con errores: "
            f"{rejected} de {total}); no se guardó nada.", report,
            hint="Corrija las filas indicadas y vuelva a importar el archivo.")
    return PortfolioImportError(
        f"No se guardó nada: {rejected} de {total} filas de «{report['archivo']}» tienen "
        f"errores (proyectos rechazados: {len(report['rechazados'])}).", report,
        hint="Corrija las filas indicadas y vuelva a importar, o guarde solo los proyectos "
             "válidos (opción «guardar válidos»).")

"""Exporting the project registry: GeoPackage, GeoJSON, Excel and CSV.

- GeoPackage (EPSG:32719): layer ``proyectos`` (one feature per project, every field of
  ``layers.projects`` and the funding totals) and the table ``financiamiento`` (one row
  per project, source and year).
- GeoJSON (RFC 7946, longitude/latitude): one feature per project, its funding rows in
  the property ``financiamiento``.
- Excel: sheet «Proyectos» (one row per project, columns named as in a municipal
  spreadsheet, with the totals) and sheet «Financiamiento» (one row per project, source
  and year).
- CSV (UTF-8 with BOM, commas): one row per project, source and year (the project's
  fields repeated), the form municipalities keep and :mod:`gis.portfolio.importer` reads.

The spreadsheets locate each project by its geometry as WKT in lon/lat plus a point
(Longitud, Latitud), so they import back unchanged. Text cells that a spreadsheet would
take as a formula (``= + - @``) are written with a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
import json
import re
import tempfile
import zipfile
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path
from typing import Any

import psycopg
import shapely
from psycopg import sql
from psycopg.rows import dict_row

from gis.errors import PlatformError
from gis.portfolio import store
from gis.portfolio.geocode import sql_sections
from gis.portfolio.record import AMOUNTS, INPUT_FIELDS
from gis.portfolio.sheets import escape
from gis.proposals.geojson import to_lonlat_geojson
from layers.base import STORAGE_SRID
from layers.projects import LAYER

FORMATS = {
    "gpkg": ("application/geopackage+sqlite3", ".gpkg"),
    "geojson": ("application/geo+json", ".geojson"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx"),
    "csv": ("text/csv; charset=utf-8", ".csv"),
}
"""Export format → (media type, file extension)."""
TOTALS = tuple(f"total_{a}" for a in AMOUNTS)
SUMMARY_HEADERS = {"fuentes": "Fuentes (resumen)", "monto_clp": "Costo total ($)",
                   "anio": "Primer año"}
"""Spreadsheet headers of the funding summaries (names the importer leaves aside)."""
FUNDING_HEADERS = {"fuente": "Fuente de financiamiento", "anio": "Año",
                   **{a: f"Monto {a} ($)" for a in AMOUNTS}}
TOTAL_HEADERS = {f"total_{a}": f"Total {a} ($)" for a in AMOUNTS}
LOCATION_HEADERS = {"longitud": "Longitud", "latitud": "Latitud", "wkt": "WKT"}
MONEY = "#,##0"


class ExportError(PlatformError):
    http_status = 400


def field_header(name: str) -> str:
    """The spreadsheet header of an input field: its title and unit ("Avance físico (%)")."""
    fld = LAYER.field(name)
    return f"{fld.title} ({fld.unit})" if fld.unit else fld.title


def format_of(path: Path, fmt: str | None = None) -> str:
    """The export format named, or the one of ``path``'s extension."""
    wanted = (fmt or Path(path).suffix.lstrip(".")).lower()
    wanted = {"json": "geojson", "xls": "xlsx"}.get(wanted, wanted)
    if wanted not in FORMATS:
        raise ExportError(f"No se puede exportar la cartera como «{wanted or path}».",
                          hint="Formatos: gpkg (GeoPackage), geojson, xlsx (Excel) o csv.")
    return wanted


# --- reading the registry ------------------------------------------------------------------

def portfolio_rows(conn: psycopg.Connection, *, sector: str | None = None,
                   etapa: str | None = None, fuente: str | None = None
                   ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The projects (fields, ``geometry`` in EPSG:32719, totals) and their funding rows,
    filtered like :func:`gis.portfolio.store.list_projects`."""
    codes = [r["codigo"] for r in store.list_projects(conn, sector=sector, etapa=etapa,
                                                      fuente=fuente)]
    query = sql.SQL(sql_sections()["export_projects"]).format(  # type: ignore[arg-type]
        columns=sql.SQL(", ").join(sql.Identifier("p", f.name) for f in LAYER.fields))
    with conn.cursor(row_factory=dict_row) as cur:
        projects = cur.execute(query, {"codigos": codes}).fetchall()
        funding = cur.execute(sql_sections()["export_funding"],  # type: ignore[arg-type]
                              {"codigos": codes}).fetchall()
    for p in projects:
        p["geometry"] = shapely.from_wkb(bytes(p.pop("wkb")))
    return projects, funding


def _location(geometry: Any) -> dict[str, Any]:
    lonlat = shapely.geometry.shape(to_lonlat_geojson(geometry))
    anchor = to_lonlat_geojson(geometry.representative_point())["coordinates"]
    return {"longitud": anchor[0], "latitud": anchor[1],
            "wkt": shapely.to_wkt(lonlat, rounding_precision=8, trim=True)}


# --- writers ---------------------------------------------------------------------------------

def export_portfolio(conn: psycopg.Connection, path: Path, fmt: str | None = None, *,
                     sector: str | None = None, etapa: str | None = None,
                     fuente: str | None = None) -> int:
    """Write the registry (optionally filtered) to ``path``; the number of projects.

    ``fmt`` is ``gpkg``, ``geojson``, ``xlsx`` or ``csv`` (from the extension when None).
    """
    kind = format_of(path, fmt)
    projects, funding = portfolio_rows(conn, sector=sector, etapa=etapa, fuente=fuente)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    {"gpkg": write_gpkg, "geojson": write_geojson, "xlsx": write_xlsx,
     "csv": write_csv}[kind](projects, funding, path)
    return len(projects)


def export_bytes(conn: psycopg.Connection, fmt: str, **filters: str | None) -> bytes:
    """The export as bytes (for a download)."""
    kind = format_of(Path("x"), fmt)
    with tempfile.TemporaryDirectory(prefix="secplac-export-") as tmp:
        path = Path(tmp) / f"cartera{FORMATS[kind][1]}"
        export_portfolio(conn, path, kind, **filters)
        return path.read_bytes()


def write_gpkg(projects: list[dict[str, Any]], funding: list[dict[str, Any]],
               path: Path) -> None:
    import geopandas as gpd
    import pandas as pd
    import pyogrio

    path.unlink(missing_ok=True)
    names = [f.name for f in LAYER.fields] + list(TOTALS)
    frame = gpd.GeoDataFrame(
        [{**{n: p[n] for n in names}, "fuentes": "; ".join(p["fuentes"] or []) or None}
         for p in projects], columns=names,
        geometry=[p["geometry"] for p in projects], crs=STORAGE_SRID)
    for name in ("fecha_inicio", "fecha_termino"):
        frame[name] = pd.to_datetime(frame[name])
    pyogrio.write_dataframe(frame, path, layer="proyectos", driver="GPKG",
                            geometry_type="Unknown")
    table = pd.DataFrame(funding, columns=["codigo", "fuente", "anio", *AMOUNTS])
    pyogrio.write_dataframe(table, path, layer="financiamiento", driver="GPKG", append=True)


def write_geojson(projects: list[dict[str, Any]], funding: list[dict[str, Any]],
                  path: Path) -> None:
    by_code = _funding_by_code(funding)
    features = [{
        "type": "Feature", "id": p["codigo"],
        "geometry": to_lonlat_geojson(p["geometry"]),
        "properties": {**{f.name: _plain(p[f.name]) for f in LAYER.fields},
                       **{t: p[t] for t in TOTALS},
                       "financiamiento": [{k: v for k, v in f.items() if k != "codigo"}
                                          for f in by_code[p["codigo"]]]},
    } for p in projects]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features},
                               ensure_ascii=False), encoding="utf-8")


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _funding_by_code(funding: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in funding:
        grouped[row["codigo"]].append(row)
    return grouped


def _input_cells(p: dict[str, Any]) -> dict[str, Any]:
    return {field_header(f.name): p[f.name] for f in INPUT_FIELDS}


def project_sheet_rows(projects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One spreadsheet row per project: fields, summaries, totals and location."""
    rows = []
    for p in projects:
        location = _location(p["geometry"])
        rows.append({
            **_input_cells(p),
            SUMMARY_HEADERS["fuentes"]: "; ".join(p["fuentes"] or []) or None,
            SUMMARY_HEADERS["monto_clp"]: p["monto_clp"], SUMMARY_HEADERS["anio"]: p["anio"],
            **{TOTAL_HEADERS[t]: p[t] for t in TOTALS},
            **{LOCATION_HEADERS[k]: v for k, v in location.items()}})
    return rows


def funding_cells(row: dict[str, Any]) -> dict[str, Any]:
    """A funding row under its spreadsheet headers (empty cells for ``{}``)."""
    return {h: row.get(k) for k, h in FUNDING_HEADERS.items()}


def write_csv(projects: list[dict[str, Any]], funding: list[dict[str, Any]],
              path: Path) -> None:
    by_code = _funding_by_code(funding)
    rows = []
    for p in projects:
        fixed = {**_input_cells(p), **{LOCATION_HEADERS[k]: v for k, v in
                                       _location(p["geometry"]).items()}}
        for f in by_code[p["codigo"]] or [{}]:
            rows.append({**fixed, **funding_cells(f)})
    header = [field_header(f.name) for f in INPUT_FIELDS] + list(FUNDING_HEADERS.values()) \
        + list(LOCATION_HEADERS.values())
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=header, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({k: _csv_cell(v) for k, v in r.items()} for r in rows)
    path.write_text(buffer.getvalue(), encoding="utf-8-sig", newline="")


def _csv_cell(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return escape(value)


def write_xlsx(projects: list[dict[str, Any]], funding: list[dict[str, Any]],
               path: Path) -> None:
    names = {p["codigo"]: p["nombre"] for p in projects}
    sheets = {
        "Proyectos": project_sheet_rows(projects),
        "Financiamiento": [{field_header("codigo"): f["codigo"],
                            field_header("nombre"): names.get(f["codigo"]),
                            **funding_cells(f)} for f in funding],
    }
    header = {"Proyectos": [field_header(f.name) for f in INPUT_FIELDS]
              + list(SUMMARY_HEADERS.values()) + list(TOTAL_HEADERS.values())
              + list(LOCATION_HEADERS.values()),
              "Financiamiento": [field_header("codigo"), field_header("nombre"),
                                 *FUNDING_HEADERS.values()]}
    save_workbook(workbook(sheets, header), path)


def workbook(sheets: dict[str, list[dict[str, Any]]], headers: dict[str, list[str]],
             titles: dict[str, list[str]] | None = None) -> Any:
    """An openpyxl workbook with one sheet per entry: optional title rows, a bold frozen
    header, money and date formats, and every text cell escaped against formulas."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for title in (titles or {}).get(name, []):
            ws.append([title])
            ws.cell(ws.max_row, 1).font = Font(bold=True, size=12)
        columns = headers[name]
        ws.append(columns)
        top = ws.max_row
        for cell in ws[top]:
            cell.font = Font(bold=True)
        for row in rows:
            ws.append([escape(row.get(c)) for c in columns])
        ws.freeze_panes = f"C{top + 1}"
        for i, column in enumerate(columns, start=1):
            letter = get_column_letter(i)
            ws.column_dimensions[letter].width = min(max(len(column) + 2, 12), 48)
            fmt = MONEY if "($)" in column else "DD-MM-YYYY" if "Fecha" in column else None
            if fmt:
                for (cell,) in ws.iter_rows(min_row=top + 1, min_col=i, max_col=i):
                    cell.number_format = fmt
    return wb


def save_workbook(wb: Any, path: Path, *, fixed_time: datetime | None = None) -> Path:
    """Save ``wb``; with ``fixed_time``, byte for byte reproducibly (document properties
    and zip entry times set to it)."""
    if fixed_time is None:
        wb.save(path)
        return path
    wb.properties.created = fixed_time
    buffer = io.BytesIO()
    wb.save(buffer)  # openpyxl stamps "modified" with the current time: replaced below
    stamp = fixed_time.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + stamp, data)
            entry = zipfile.ZipInfo(info.filename, fixed_time.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(entry, data)
    return path

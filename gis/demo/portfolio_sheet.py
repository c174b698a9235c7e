"""The demo portfolio written as the SECPLAC keeps it: ``cartera_proyectos.xlsx`` (title
rows over the header, one row per project, funding source and year, a notes sheet) and the
same table as ``cartera_proyectos.csv`` (UTF-8 with BOM, separated by semicolons, as Excel
saves a "CSV UTF-8" in Chile), both byte-for-byte reproducible."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from pathlib import Path
from typing import Any

from gis.demo.projects import DemoProject
from gis.portfolio.exporter import save_workbook, workbook

XLSX = "cartera_proyectos.xlsx"
CSV = "cartera_proyectos.csv"
SHEET = "Cartera"
FIXED_TIME = datetime(2025, 6, 30, 12, 0, 0)
"""Date written into the workbook: the same seed gives the same bytes."""
COLUMNS = {  # spreadsheet header: key of the project fields, funding row or location
    "N°": "n", "Código BIP": "codigo", "Nombre del proyecto": "nombre",
    "Descripción": "descripcion", "Tipología": "tipo", "Sector": "sector", "Etapa": "etapa",
    "Situación": "situacion", "RATE": "rate", "Ítem presupuestario": "item_presupuestario",
    "Unidad responsable": "unidad_responsable", "Eje PLADECO": "eje_pladeco",
    "Objetivo PLADECO": "objetivo_pladeco", "Beneficiarios": "beneficiarios",
    "Avance físico (%)": "avance_fisico", "Avance financiero (%)": "avance_financiero",
    "Fecha inicio": "fecha_inicio", "Fecha término": "fecha_termino",
    "Fuente de financiamiento": "fuente", "Año": "anio",
    "Monto solicitado ($)": "solicitado", "Monto aprobado ($)": "aprobado",
    "Monto comprometido ($)": "comprometido", "Monto ejecutado ($)": "ejecutado",
    "Rol": "rol", "Dirección": "direccion", "Longitud": "longitud", "Latitud": "latitud",
    "Este": "este", "Norte": "norte", "Geometría (WKT)": "wkt",
}
TITLES = ["Ilustre Municipalidad de San Antonio",
          "Secretaría Comunal de Planificación (SECPLAC)",
          "Cartera de proyectos de inversión al 30-06-2025 (datos de demostración)", ""]
NOTES = [
    ["Notas"],
    ["Datos de demostración generados por la plataforma (semilla fija): no son proyectos "
     "reales de la Municipalidad de San Antonio."],
    ["Una fila por proyecto, fuente de financiamiento y año; los datos del proyecto se "
     "repiten en cada una de sus filas."],
    ["Ubicación: Longitud y Latitud en WGS 84 (EPSG:4326); Geometría (WKT) en longitud y "
     "latitud para calles y áreas; Este y Norte en WGS 84 / UTM 19S (EPSG:32719); o el Rol "
     "SII o la Dirección de un predio del catastro."],
    ["Montos en pesos chilenos (CLP)."],
]


def sheet_rows(projects: list[DemoProject]) -> list[dict[str, Any]]:
    """One row per project and funding row, keyed by the spreadsheet headers."""
    rows = []
    for n, project in enumerate(projects, start=1):
        base = {"n": n, **project.fields, **project.location}
        for funding in project.funding:
            values = {**base, **funding}
            rows.append({header: values.get(key) for header, key in COLUMNS.items()})
    return rows


def write_portfolio(projects: list[DemoProject], folder: Path) -> list[Path]:
    """Write the workbook and the CSV into ``folder``; their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = sheet_rows(projects)
    wb = workbook({SHEET: rows}, {SHEET: list(COLUMNS)}, {SHEET: TITLES})
    ws = wb[SHEET]
    for r in range(1, len(TITLES)):
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=8)
    notes = wb.create_sheet("Notas")
    for line in NOTES:
        notes.append(line)
    wb.properties.creator = "SECPLAC San Antonio (demostración)"
    xlsx = save_workbook(wb, folder / XLSX, fixed_time=FIXED_TIME)
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=list(COLUMNS), delimiter=";",
                            lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({k: _text(v) for k, v in row.items()} for row in rows)
    path = folder / CSV
    path.write_text(buffer.getvalue(), encoding="utf-8-sig", newline="")
    return [xlsx, path]


def _text(value: Any) -> Any:
    return value.strftime("%d-%m-%Y") if isinstance(value, date) else value

"""``secplac proyectos``: the investment portfolio from the shell (list, show, create, edit,
delete, import a spreadsheet, export).

Whoever runs these commands operates the platform, so no login is asked; the registry and
the audit log record them as ``cli:<user>`` (``SECPLAC_USER`` or the system user). Editing
reads the project's current version and saves over it (``If-Match`` of that version).
"""

from __future__ import annotations

import getpass
import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from gis.errors import PlatformError
from gis.settings import Settings

projects_app = typer.Typer(help="Cartera de proyectos de inversión: listar, ver, crear, "
                           "editar, eliminar, importar y exportar.", no_args_is_help=True)

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

Sector = Annotated[str | None, typer.Option(help="Solo este sector, p. ej. «salud»")]
Etapa = Annotated[str | None, typer.Option(help="Solo esta etapa, p. ej. «diseño»")]
Fuente = Annotated[str | None, typer.Option(help="Solo con esta fuente, p. ej. «FNDR»")]
JsonFile = Annotated[Path, typer.Option("--archivo", help="Archivo JSON del proyecto: campos, "
                                        "financiamiento y geometria (GeoJSON lon/lat)")]


def _settings() -> Settings:
    return Settings()


def _actor(settings: Settings) -> str:
    try:
        who = settings.user or getpass.getuser()
    except (KeyError, OSError):
        who = str(os.getuid())
    return f"cli:{who}"


def _connect(settings: Settings) -> Any:
    from gis.database import connect

    return connect(settings, autocommit=True)


def _money(value: Any) -> str:
    from gis.portfolio.record import money

    return money(value) if value is not None else "—"


@projects_app.command("listar")
def list_cmd(sector: Sector = None, etapa: Etapa = None, fuente: Fuente = None,
             texto: Annotated[str | None, typer.Option(help="Texto en el código o el "
                                                       "nombre")] = None) -> None:
    """Lista los proyectos de la cartera, con filtros."""
    from gis.portfolio.store import list_projects

    with _connect(_settings()) as conn:
        rows = list_projects(conn, sector=sector, etapa=etapa, fuente=fuente, text=texto)
    table = Table("Código", "Nombre", "Sector", "Etapa", "Fuentes", "Costo total",
                  "Ejecutado", "Avance físico", title=f"Cartera de proyectos ({len(rows)})")
    for r in rows:
        table.add_row(r["codigo"], escape(r["nombre"]), r["sector"], r["etapa"],
                      ", ".join(r["fuentes"] or []), _money(r["monto_clp"]),
                      _money(r["monto_ejecutado_clp"]),
                      "—" if r["avance_fisico"] is None else f"{r['avance_fisico']:g} %")
    out.print(table if rows else "No hay proyectos con esos filtros.")


@projects_app.command("ver")
def show(codigo: Annotated[str, typer.Argument(help="Código BIP o municipal")]) -> None:
    """Muestra un proyecto: campos, financiamiento, historial y resumen del perfil
    territorial."""
    from gis.portfolio.record import INPUT_FIELDS
    from gis.portfolio.store import project_json

    settings = _settings()
    with _connect(settings) as conn:
        data = project_json(conn, codigo)
        profile = _profile_lines(conn, settings, codigo)
    out.print(f"[bold]{data['codigo']} — {escape(data['nombre'])}[/]")
    for fld in INPUT_FIELDS[2:]:
        if data.get(fld.name) is not None:
            unit = f" {fld.unit}" if fld.unit and fld.unit != "CLP" else ""
            out.print(f"  {fld.title}: {data[fld.name]}{unit}", markup=False)
    out.print(f"  Versión {data['version']}, modificado por {data['modificado_por']} el "
              f"{data['modificado'][:16].replace('T', ' ')}", markup=False)
    table = Table("Fuente", "Año", "Solicitado", "Aprobado", "Comprometido", "Ejecutado",
                  title="Financiamiento")
    for f in data["financiamiento"]:
        table.add_row(f["fuente"], str(f["anio"]), *(_money(f[a]) for a in (
            "solicitado", "aprobado", "comprometido", "ejecutado")))
    totals = data["totales"]
    table.add_row("Total", "", *(_money(totals[a]) for a in (
        "solicitado", "aprobado", "comprometido", "ejecutado")), style="bold")
    out.print(table if data["financiamiento"] else "Sin financiamiento registrado.")
    for warning in data["advertencias"]:
        out.print(f"Aviso: {warning}", markup=False)
    for h in data["historial"]:
        out.print(f"  {h['fecha'][:10]}  {h['etapa']:<15} {h['usuario']}  {h['nota'] or ''}",
                  markup=False)
    out.print("Perfil territorial:")
    for line in profile:
        out.print(f"  {line}", markup=False)


def _profile_lines(conn: Any, settings: Settings, codigo: str) -> list[str]:
    from gis.profile import current_profile, flat_profile

    try:
        p = flat_profile(current_profile(conn, settings, codigo))
    except PlatformError as exc:
        return [f"no disponible: {exc.message}"]
    near = f"{p['proyectos_500m']} a menos de 500 m"
    if p["posibles_conflictos"]:
        near += f" ({p['posibles_conflictos']} posibles conflictos)"
    return [
        f"Zona PRC: {p['zonas_prc'] or 'fuera de la zonificación'}; uso "
        f"{p['uso_permitido']}",
        f"Sector: {p['sector_planificacion'] or '—'}; zona censal: {p['zona_censal'] or '—'}",
        f"Riesgos: {p['riesgos'] or 'ninguno'}",
        f"Población a 500 m: {p['poblacion_500m']:,}; a 1 km: {p['poblacion_1km']:,}"
        .replace(",", "."),
        f"Predios afectados: {p['predios']}; proyectos cercanos: {near}",
    ]


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PlatformError(f"No se pudo leer «{path}».", hint=str(exc)) from None
    except ValueError as exc:
        raise PlatformError(f"«{path.name}» no es un JSON válido: {exc}.",
                            hint="Revise comas y comillas; vea un ejemplo en "
                                 "/docs (POST /proyectos).") from None
    if not isinstance(data, dict):
        raise PlatformError(f"«{path.name}» debe contener un objeto JSON con los campos del "
                            "proyecto.")
    return data


def _project(data: dict[str, Any]) -> Any:
    from gis.portfolio.record import parse_project
    from gis.proposals.geojson import from_lonlat_geojson

    raw = data.pop("geometria", None)
    geometry = from_lonlat_geojson(raw, "ubicación del proyecto") if raw is not None else None
    return parse_project(data, geometry=geometry)


@projects_app.command("crear")
def create(archivo: JsonFile) -> None:
    """Crea un proyecto desde un archivo JSON (como el cuerpo de POST /proyectos)."""
    from gis.portfolio.store import create_project

    settings = _settings()
    project = _project(_read_json(archivo))
    with _connect(settings) as conn:
        saved = create_project(conn, settings, _actor(settings), project)
    out.print(f"Proyecto «{saved['codigo']}» creado (versión {saved['version']}).")
    for warning in saved["advertencias"]:
        out.print(f"Aviso: {warning}", markup=False)


@projects_app.command("editar")
def edit(codigo: Annotated[str, typer.Argument(help="Código del proyecto")],
         archivo: JsonFile) -> None:
    """Reemplaza los campos y el financiamiento de un proyecto (y su ubicación, si el JSON
    trae «geometria») desde un archivo JSON."""
    from gis.portfolio.store import project_json, update_project

    settings = _settings()
    data = _read_json(archivo)
    data.setdefault("codigo", codigo)
    project = _project(data)
    with _connect(settings) as conn:
        current = project_json(conn, codigo)
        saved = update_project(conn, settings, _actor(settings), codigo, project,
                               current["etag"])
    out.print(f"Proyecto «{codigo}» guardado (versión {saved['version']}).")


@projects_app.command("eliminar")
def delete(codigo: Annotated[str, typer.Argument(help="Código del proyecto")],
           si: Annotated[bool, typer.Option("--si", help="Confirmar la eliminación")] = False,
           ) -> None:
    """Elimina un proyecto con su financiamiento, historial y adjuntos."""
    from gis.portfolio.store import delete_project, project_json

    settings = _settings()
    with _connect(settings) as conn:
        current = project_json(conn, codigo)
        if not si:
            err.print(f"Para eliminar «{codigo} — {current['nombre']}» con su financiamiento, "
                      "historial y adjuntos, repita la orden con --si. No se eliminó nada.")
            raise typer.Exit(1)
        delete_project(conn, settings, _actor(settings), codigo, current["etag"])
    out.print(f"Proyecto «{codigo}» eliminado.")


@projects_app.command("importar")
def import_cmd(
    archivo: Annotated[Path, typer.Argument(help="Planilla .xlsx o .csv de la cartera")],
    hoja: Annotated[str | None, typer.Option(help="Hoja del libro Excel (por omisión la "
                                             "primera)")] = None,
    guardar_validos: Annotated[bool, typer.Option(
        "--guardar-validos", help="Guardar los proyectos válidos aunque haya filas con "
        "errores")] = False,
    simular: Annotated[bool, typer.Option("--simular", help="Revisar sin guardar "
                                          "nada")] = False,
    reporte_json: Annotated[Path | None, typer.Option(
        help="Escribir el reporte completo en este archivo JSON")] = None,
) -> None:
    """Importa una planilla de proyectos (una fila por proyecto, o por proyecto, fuente y
    año), ubicando cada uno por coordenadas, rol o dirección."""
    from gis.portfolio.importer import PortfolioImportError, import_portfolio

    settings = _settings()
    if not archivo.is_file():
        raise PlatformError(f"No existe el archivo «{archivo}».")
    try:
        with _connect(settings) as conn:
            report = import_portfolio(conn, settings, _actor(settings), archivo, sheet=hoja,
                                      save_valid=guardar_validos, dry_run=simular)
    except PortfolioImportError as exc:
        _write_report(reporte_json, exc.informe)
        for line in report_lines(exc.informe):
            out.print(line, markup=False)
        raise
    _write_report(reporte_json, report)
    for line in report_lines(report):
        out.print(line, markup=False)
    if report["rechazados"] and simular:
        err.print(f"Simulación: {report['filas_rechazadas']} filas tienen errores.")
        raise typer.Exit(1)


def report_lines(report: dict[str, Any]) -> list[str]:
    """The report as Spanish lines for a terminal."""
    lines = [f"Archivo: {report['archivo']}" + (f" (hoja «{report['hoja']}»)"
                                                 if report.get("hoja") else ""),
             f"Encabezado en la fila {report['fila_encabezado']}; filas leídas: "
             f"{report['filas_leidas']}; proyectos: {report['proyectos']}; válidos: "
             f"{report['validos']}."]
    if report["ubicaciones"]:
        lines.append("Ubicación por " + ", ".join(f"{k}: {v}" for k, v in
                                                   sorted(report["ubicaciones"].items())) + ".")
    for entry in report["rechazados"]:
        rows = ", ".join(map(str, entry["filas"]))
        sheet = f"hoja «{entry['hoja']}», " if entry["hoja"] else ""
        code = f" ({entry['codigo']})" if entry["codigo"] else ""
        lines.append(f"Rechazada: {sheet}fila{'s' if len(entry['filas']) > 1 else ''} "
                     f"{rows}{code}: " + "; ".join(entry["motivos"]))
    lines += [f"Aviso: {w}" for w in report["advertencias"]]
    if report["simulacion"]:
        lines.append("Simulación: no se guardó nada.")
    elif report["guardado"]:
        lines.append(f"Guardado: proyectos nuevos: {report['creados']}; actualizados: "
                     f"{report['actualizados']}.")
    return lines


def _write_report(path: Path | None, report: dict[str, Any]) -> None:
    if path is not None:
        path.write_text(json.dumps(report, ensure_ascii=False, indent=2, default=str),
                        encoding="utf-8")


@projects_app.command("exportar")
def export(
    archivo: Annotated[Path, typer.Argument(help="Archivo de salida: .gpkg, .geojson, .xlsx "
                                            "o .csv")],
    formato: Annotated[str | None, typer.Option(help="gpkg, geojson, xlsx o csv (por "
                                                "omisión, el de la extensión)")] = None,
    sector: Sector = None, etapa: Etapa = None, fuente: Fuente = None,
) -> None:
    """Exporta la cartera (con filtros) a GeoPackage, GeoJSON, Excel o CSV."""
    from gis.portfolio.exporter import export_portfolio, format_of

    kind = format_of(archivo, formato)
    with _connect(_settings()) as conn:
        count = export_portfolio(conn, archivo, kind, sector=sector, etapa=etapa,
                                 fuente=fuente)
    out.print(f"{count} proyectos exportados a {archivo} ({kind}).")

"""``secplac``: the platform's command line (Spanish messages, English code)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from gis.cli_analysis import analysis_app
from gis.cli_backup import register_backup_commands
from gis.cli_projects import projects_app
from gis.cli_users import show_demo_users, tokens_app, users_app
from gis.errors import PlatformError
from gis.settings import Settings

app = typer.Typer(help="Plataforma de planificación territorial SECPLAC San Antonio.",
                  no_args_is_help=True, add_completion=False, rich_markup_mode=None)
db_app = typer.Typer(help="Base de datos PostGIS: iniciar, detener, estado, migrar.",
                     no_args_is_help=True)
demo_app = typer.Typer(help="Datos de demostración de San Antonio.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(demo_app, name="demo")
app.add_typer(users_app, name="usuarios")
app.add_typer(tokens_app, name="tokens")
app.add_typer(projects_app, name="proyectos")
app.add_typer(analysis_app, name="analisis")
register_backup_commands(db_app)

out = Console()
err = Console(stderr=True)


def main() -> None:
    try:
        app()
    except PlatformError as exc:
        _print_error(exc)
        sys.exit(1)


def _print_error(exc: PlatformError) -> None:
    err.print(f"[bold red]Error:[/] {escape(exc.message)}", highlight=False)
    if exc.hint:
        err.print(exc.hint, highlight=False, markup=False)
    report = getattr(exc, "report", None)
    if report is not None:
        for line in report.summary_lines():
            err.print(f"  {line}", highlight=False, markup=False)


def _settings() -> Settings:
    return Settings()


# -- database ----------------------------------------------------------------------------

def _local_cluster(settings: Settings):  # type: ignore[no-untyped-def]
    from gis.localdb import LocalCluster

    return LocalCluster(settings.local_cluster_dir)


@db_app.command("up")
def db_up() -> None:
    """Crea (si hace falta) e inicia la base PostGIS local y aplica las migraciones."""
    settings = _settings()
    if settings.database_url:
        out.print("Se usa la base indicada en DATABASE_URL; no hay base local que iniciar.")
    else:
        cluster = _local_cluster(settings)
        created = not cluster.exists()
        cluster.init()
        started = cluster.start()
        out.print("Base local creada." if created else
                  "Base local iniciada." if started else "La base local ya estaba en marcha.")
    _migrate(settings)


@db_app.command("down")
def db_down() -> None:
    """Detiene la base PostGIS local (los datos se conservan)."""
    settings = _settings()
    if settings.database_url:
        out.print("Se usa DATABASE_URL: la plataforma no detiene bases externas.")
        return
    stopped = _local_cluster(settings).stop()
    out.print("Base local detenida." if stopped else "La base local no estaba en marcha.")


@db_app.command("status")
def db_status() -> None:
    """Muestra dónde está la base, si responde y su versión de esquema."""
    from gis import migrate
    from gis.database import connect

    settings = _settings()
    if settings.database_url:
        out.print("Base: externa (DATABASE_URL)")
    else:
        cluster = _local_cluster(settings)
        state = ("en marcha" if cluster.running() else "detenida") if cluster.exists() \
            else "no creada"
        out.print(f"Base local: {cluster.root} ({state})")
        if not cluster.running():
            raise typer.Exit(1)
    with connect(settings) as conn:
        row = conn.execute("SELECT postgis_lib_version(), current_setting('server_version')"
                           ).fetchone()
        out.print(f"PostgreSQL {row[1]}, PostGIS {row[0]}" if row else "Sin respuesta")
    current, head = migrate.current_revision(settings), migrate.head_revision(settings)
    out.print(f"Esquema: revisión {current or 'ninguna'} (última: {head})"
              + ("" if current == head else " — ejecute «secplac db migrate»"))


@db_app.command("migrate")
def db_migrate() -> None:
    """Aplica las migraciones pendientes del esquema."""
    _migrate(_settings())


def _migrate(settings: Settings) -> None:
    from gis import migrate

    before = migrate.current_revision(settings)
    migrate.upgrade(settings)
    after = migrate.current_revision(settings)
    out.print(f"Esquema al día (revisión {after})." if before == after else
              f"Esquema migrado de {before or 'vacío'} a {after}.")


# -- layers and ingest ---------------------------------------------------------------------

@app.command("layers")
def layers_cmd(
    capa: Annotated[str | None, typer.Argument(help="Capa de la que ver el historial")] = None,
) -> None:
    """Lista las capas con su versión vigente y número de entidades, o el historial de una."""
    from gis.catalog import catalog, layer_versions
    from gis.database import connect

    with connect(_settings()) as conn:
        if capa:
            table = Table("Versión", "Cargada", "Por", "Entidades", "Archivo", "Vigente",
                          title=f"Historial de «{capa}»")
            for v in layer_versions(conn, capa):
                table.add_row(str(v.version), f"{v.loaded_at:%Y-%m-%d %H:%M}",
                              escape(v.loaded_by), f"{v.feature_count:,}".replace(",", "."),
                              escape(Path(v.source_file).name), "sí" if v.in_force else "no")
        else:
            table = Table("Capa", "Título", "Tema", "Versión", "Entidades", "Origen",
                          title="Capas de la plataforma")
            for entry in catalog(conn):
                cur = entry.current
                table.add_row(entry.name, entry.layer.title, entry.layer.theme.value,
                              str(cur.version) if cur else "—",
                              f"{cur.feature_count:,}".replace(",", ".") if cur else "sin cargar",
                              ("demostración" if cur.demo else "real") if cur else "")
    out.print(table)


def _parse_mapping(pairs: list[str]) -> dict[str, str]:
    mapping = {}
    for pair in pairs:
        if "=" not in pair:
            raise PlatformError(f"Correspondencia «{pair}» mal escrita.",
                                hint="Use --campo CAMPO=COLUMNA, p. ej. --campo rol=ROL_SII.")
        field, column = pair.split("=", 1)
        mapping[field.strip()] = column.strip()
    return mapping


@contextmanager
def _progress_bar(description: str, total: int | None):  # type: ignore[no-untyped-def]
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err, transient=True) as progress:
        task = progress.add_task(description, total=total)
        yield lambda n: progress.advance(task, n)


@app.command("ingest")
def ingest_cmd(
    capa: Annotated[str, typer.Argument(help="Capa de destino (ver «secplac layers»)")],
    archivo: Annotated[Path, typer.Argument(help="Archivo a cargar")],
    crs: Annotated[str | None, typer.Option(help="Sistema de coordenadas si el archivo no "
                                            "lo declara, p. ej. EPSG:24879")] = None,
    campo: Annotated[list[str] | None, typer.Option(
        help="Correspondencia CAMPO=COLUMNA (repetible)")] = None,
    mapeo: Annotated[Path | None, typer.Option(
        help="Archivo JSON {campo: columna} con la correspondencia")] = None,
    codificacion: Annotated[str | None, typer.Option(
        help="Codificación de texto (p. ej. latin1) si el archivo no la declara")] = None,
    simulacro: Annotated[bool, typer.Option("--dry-run", "--simulacro",
                                            help="Revisar sin escribir nada")] = False,
    omitir_invalidas: Annotated[bool, typer.Option(
        "--omitir-invalidas", help="Cargar las entidades válidas y reportar el resto")] = False,
    fuente: Annotated[str | None, typer.Option(help="Fuente de los datos (catálogo)")] = None,
    licencia: Annotated[str | None, typer.Option(help="Licencia de los datos")] = None,
    reporte_json: Annotated[Path | None, typer.Option(
        help="Escribir el reporte completo en este archivo JSON")] = None,
) -> None:
    """Carga un archivo (Shapefile, GeoPackage, GeoJSON, FlatGeobuf, GeoParquet, CSV o
    GeoTIFF) como nueva versión de una capa, validando y reproyectando."""
    from gis.ingest import IngestError, IngestOptions, ingest
    from gis.ingest.sources import RASTER_SUFFIXES

    mapping = _parse_mapping(campo or [])
    if mapeo:
        try:
            mapping = {**json.loads(mapeo.read_text(encoding="utf-8")), **mapping}
        except (OSError, ValueError) as exc:
            raise PlatformError(f"No se pudo leer el archivo de correspondencia «{mapeo}».",
                                hint=str(exc)) from exc
    options = IngestOptions(crs=crs, mapping=mapping, encoding=codificacion,
                            dry_run=simulacro, skip_invalid=omitir_invalidas,
                            fuente=fuente, licencia=licencia)
    total = _feature_count(archivo) if archivo.suffix.lower() not in RASTER_SUFFIXES else None
    try:
        with _progress_bar(f"Cargando {archivo.name}", total) as advance:
            report = ingest(_settings(), capa, archivo, options, advance)
    except IngestError as exc:
        if reporte_json and exc.report:
            reporte_json.write_text(json.dumps(exc.report.as_json(), ensure_ascii=False,
                                               indent=2, default=str))
        raise
    for line in report.summary_lines():
        out.print(line, highlight=False, markup=False)
    if reporte_json:
        reporte_json.write_text(json.dumps(report.as_json(), ensure_ascii=False, indent=2,
                                           default=str))
    if simulacro:
        if report.errors:
            err.print(f"Simulacro: la carga sería rechazada ({report.rejected_count} "
                      "entidades con errores).")
            raise typer.Exit(1)
        out.print("Simulacro: el archivo se puede cargar; no se escribió nada.")
    else:
        out.print(f"Capa «{capa}» cargada: versión {report.version}, "
                  f"{report.features_loaded} entidades.")


def _feature_count(path: Path) -> int | None:
    try:
        from gis.ingest.sources import open_vector

        return open_vector(path).feature_count
    except PlatformError:
        return None


# -- demo data -----------------------------------------------------------------------------

@demo_app.command("generate")
def demo_generate(
    salida: Annotated[Path | None, typer.Option(help="Carpeta de salida (por omisión "
                                                "data/raw)")] = None,
    predios: Annotated[int, typer.Option(help="Número de predios del catastro")] = 30_000,
    semilla: Annotated[int, typer.Option(help="Semilla del generador")] = 2017,
) -> None:
    """Genera los archivos de demostración (deterministas) en data/raw."""
    from gis.demo import generate

    target = salida or _settings().raw_dir
    with err.status("Generando datos de demostración…"):
        files = generate(target, parcels=predios, seed=semilla)
    for f in files:
        out.print(f"  {f}", highlight=False)
    out.print(f"{len(files)} archivos escritos en {target}.")


@demo_app.command("load")
def demo_load(
    si_vacia: Annotated[bool, typer.Option("--si-vacia", help="Solo si la base no tiene "
                                           "datos")] = False,
) -> None:
    """Carga los datos de San Antonio (reales y de demostración) en todas las capas."""
    _load_demo(_settings(), only_if_empty=si_vacia)


def _load_demo(settings: Settings, *, only_if_empty: bool) -> None:
    from gis.catalog import is_empty
    from gis.database import connect
    from gis.demo.load import DemoFile, load_demo

    if only_if_empty:
        with connect(settings) as conn:
            if not is_empty(conn):
                out.print("La base ya tiene datos; no se cargan los de demostración.")
                return
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err) as progress:
        def on_file(f: DemoFile) -> Callable[[int], None]:
            task = progress.add_task(f"{f.layer:<17} {Path(f.path).name}", total=None)
            return lambda n: progress.advance(task, n)

        reports = load_demo(settings, on_file)
    for r in reports:
        out.print(f"  {r.layer:<17} v{r.version}  {r.features_loaded:>8} entidades")
    out.print("Datos de San Antonio cargados.")


# -- serving -------------------------------------------------------------------------------

@app.command("serve")
def serve(
    host: Annotated[str | None, typer.Option(help="Dirección (por omisión 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="Puerto (por omisión 8000)")] = None,
) -> None:
    """Sirve la API y el visor en http://127.0.0.1:8000 (Ctrl-C para detener)."""
    import uvicorn

    from api.app import create_app

    settings = _settings()
    host, port = host or settings.api_host, port or settings.api_port
    out.print(f"Sirviendo en http://{host}:{port}  (Ctrl-C para detener)")
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")


@app.command("run")
def run(
    port: Annotated[int | None, typer.Option(help="Puerto (por omisión 8000)")] = None,
) -> None:
    """Todo en uno: inicia la base, migra, carga los datos si está vacía, crea los usuarios
    de demostración si no hay usuarios y sirve la API."""
    settings = _settings()
    cluster: Any = None
    if not settings.database_url:
        cluster = _local_cluster(settings)
        cluster.init()
        started = cluster.start()
    _migrate(settings)
    _load_demo(settings, only_if_empty=True)
    show_demo_users(settings)
    try:
        serve(host=None, port=port)
    finally:
        if cluster is not None and started:
            cluster.stop()
            out.print("Base local detenida (los datos se conservan).")


if __name__ == "__main__":
    main()

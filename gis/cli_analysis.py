"""``secplac analisis``: the analyses of the comuna from the shell — list them, run one on
an area and export its result, write the territorial report of a parcel or point, and run
the batch analyses on a Dask cluster over a partitioned export (``particionar``,
``distribuido``: :mod:`gis.analysis.partitioned`, :mod:`gis.analysis.distributed`).

Every analysis of the registry (:data:`gis.analysis.ANALYSES`) is offered by name,
including those added later: ``listar`` shows them with their options, ``ejecutar`` runs
one (:func:`gis.analysis.invoke.run_analysis`) and writes it by the extension of
``--salida`` (:func:`gis.analysis.exports.export`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from gis.errors import PlatformError
from gis.settings import Settings

analysis_app = typer.Typer(help="Análisis territoriales de la comuna: listar, ejecutar y "
                           "exportar, y la ficha territorial de un predio o punto.",
                           no_args_is_help=True)

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

REPORT_FORMATS = (".html", ".pdf", ".json")


def _settings() -> Settings:
    return Settings()


@contextmanager
def _reported() -> Iterator[None]:
    """Platform errors printed in Spanish (message and hint) with exit status 1."""
    try:
        yield
    except PlatformError as exc:
        err.print(f"[bold red]Error:[/] {escape(exc.message)}")
        if exc.hint:
            err.print(exc.hint, markup=False)
        raise typer.Exit(1) from None


@analysis_app.command("listar")
def list_cmd() -> None:
    """Lista los análisis disponibles con su descripción y sus opciones."""
    from gis.analysis.invoke import analysis_catalog

    table = Table("Nombre", "Análisis", "Versión de", "Opciones", title="Análisis disponibles",
                  show_lines=True)
    for a in analysis_catalog():
        options = "\n".join(f"{k}: {v}" for k, v in a["opciones"].items()) or "—"
        table.add_row(a["nombre"], f"{a['titulo']}\n{a['descripcion']}",
                      _versioned_title(a["capa_versionada"]), options)
    out.print(table)
    out.print("Ejecute uno con «secplac analisis ejecutar NOMBRE --salida archivo.gpkg».")


def _versioned_title(layer: str | None) -> str:
    if layer is None:
        return "—"
    from layers import get_layer

    return get_layer(layer).title


@analysis_app.command("ejecutar")
def run_cmd(
    nombre: Annotated[str, typer.Argument(help="Nombre del análisis (vea «listar»)")],
    salida: Annotated[Path, typer.Option(help="Archivo de resultado: .gpkg, .parquet, .csv "
                                         "o .xlsx")],
    sector: Annotated[str | None, typer.Option(help="Sector de planificación (código o "
                                               "nombre)")] = None,
    zona_censal: Annotated[str | None, typer.Option("--zona-censal", help="Zona censal "
                                                    "(geocódigo de 11 dígitos)")] = None,
    poligono: Annotated[Path | None, typer.Option(help="Polígono del área (GeoJSON, "
                                                  "GeoPackage o Shapefile, con su CRS)")
                        ] = None,
    version: Annotated[int | None, typer.Option(help="Versión de la capa versionada (p. ej. "
                                                "la zonificación)")] = None,
    fecha: Annotated[str | None, typer.Option(help="La versión vigente en esta fecha "
                                              "(AAAA-MM-DD)")] = None,
    opcion: Annotated[list[str] | None, typer.Option(help="Opción del análisis, "
                                                     "CLAVE=VALOR (repetible)")] = None,
) -> None:
    """Ejecuta un análisis sobre la comuna o un área y exporta su resultado."""
    from gis.analysis.exports import export
    from gis.analysis.invoke import choose_area, get_analysis, run_analysis

    with _reported():
        analysis = get_analysis(nombre)
        _check_output(salida)
        options = _options(opcion or [])
        area = choose_area(sector=sector, zona_censal=zona_censal,
                           poligono=_polygon(poligono) if poligono else None)
        result = run_analysis(_settings(), nombre, area=area, version=version, fecha=fecha,
                              options=options, geometria=salida.suffix.lower() != ".xlsx")
        export(result, salida)
    attrs = result.attrs
    where = attrs.get("area", "toda la comuna")
    version_note = f", versión {attrs['version']}" if "version" in attrs else ""
    rows = f"{len(result):,}".replace(",", ".")
    out.print(f"{analysis.title}: {rows} filas ({where}{version_note}).", markup=False)
    for warning in attrs.get("avisos", []) or []:
        err.print(f"Aviso: {warning}", markup=False)
    out.print(f"Resultado escrito en {salida}", markup=False)


def _check_output(salida: Path) -> None:
    from gis.analysis.exports import EXPORT_FORMATS

    if salida.suffix.lower() not in EXPORT_FORMATS:
        raise PlatformError(
            f"Formato de salida no reconocido: «{salida.name}».",
            hint="Use " + ", ".join(EXPORT_FORMATS) + " como extensión de --salida.")


def _options(items: list[str]) -> dict[str, str]:
    options: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise PlatformError(f"Opción no válida: «{item[:60]}».",
                                hint="Escríbala CLAVE=VALOR, p. ej. --opcion por=sector.")
        options[key.strip()] = value.strip()
    return options


def _polygon(path: Path) -> Any:
    import geopandas as gpd

    if not path.is_file():
        raise PlatformError(f"No existe el archivo «{path}».",
                            hint="Indique un GeoJSON, GeoPackage o Shapefile con el polígono.")
    try:
        frame = gpd.read_file(path)
    except Exception as exc:  # any reader failure: a file we cannot read as vector data
        raise PlatformError(f"No se pudo leer «{path.name}» como datos geográficos.",
                            hint=str(exc)[:200]) from None
    if frame.empty:
        raise PlatformError(f"«{path.name}» no tiene geometrías.",
                            hint="Dibuje el polígono del área y guárdelo de nuevo.")
    return frame


@analysis_app.command("informe")
def report_cmd(
    salida: Annotated[Path, typer.Option(help="Archivo de la ficha: .html, .pdf o .json")],
    rol: Annotated[str | None, typer.Option(help="Rol SII del predio, p. ej. 1999-54")] = None,
    punto: Annotated[str | None, typer.Option(help="Punto LON,LAT en grados WGS 84, p. ej. "
                                              "-71.61,-33.59")] = None,
) -> None:
    """Escribe la ficha territorial (tipo CIP) de un predio por su rol o de un punto."""
    from gis.analysis.report import parcel_report, parcel_report_html, parcel_report_pdf
    from gis.database import connect

    with _reported():
        suffix = salida.suffix.lower()
        if suffix not in REPORT_FORMATS:
            raise PlatformError(f"Formato de la ficha no reconocido: «{salida.name}».",
                                hint="Use .html, .pdf o .json como extensión de --salida.")
        where = _point(punto) if punto is not None else None
        settings = _settings()
        with connect(settings, autocommit=True) as conn:
            if suffix == ".pdf":
                salida.write_bytes(parcel_report_pdf(conn, settings, rol=rol, punto=where))
            elif suffix == ".html":
                salida.write_text(parcel_report_html(conn, settings, rol=rol, punto=where),
                                  encoding="utf-8")
            else:
                ficha = parcel_report(conn, settings, rol=rol, punto=where)
                salida.write_text(json.dumps(ficha, ensure_ascii=False, indent=2),
                                  encoding="utf-8")
    out.print(f"Ficha territorial escrita en {salida}", markup=False)


DISTRIBUTED = {"cumplimiento": "compliance_distributed", "cabida": "capacity_distributed",
               "exposicion": "exposure_distributed"}
"""The batch analyses that also run on Dask → their function in gis.analysis.distributed."""


@analysis_app.command("particionar")
def partition_cmd(
    carpeta: Annotated[Path, typer.Argument(help="Carpeta de la exportación (vacía, nueva o "
                                            "una exportación anterior, que se reemplaza)")],
    por: Annotated[str, typer.Option(help="hilbert (vecinos juntos) o comuna (datos "
                                     "nacionales)")] = "hilbert",
    particiones: Annotated[int | None, typer.Option(help="Número de particiones con "
                                                    "--por hilbert")] = None,
    fecha: Annotated[str | None, typer.Option(help="Las versiones vigentes en esta fecha "
                                              "(AAAA-MM-DD)")] = None,
) -> None:
    """Exporta los predios particionados y las capas pequeñas en GeoParquet, para los
    análisis por lotes en un clúster Dask («distribuido»)."""
    from gis.analysis.partitioned import export_partitioned

    with _reported():
        if particiones is not None and particiones < 1:
            raise PlatformError("--particiones debe ser un número positivo.",
                                hint="Omítalo para una partición cada medio millón de predios.")
        done = export_partitioned(_settings(), carpeta, partitions=particiones, por=por,
                                  fecha=fecha)
    files = len(done.parcel_files)
    out.print(f"Exportación particionada en {carpeta}: {files} particiones de predios.",
              markup=False)


@analysis_app.command("distribuido")
def distributed_cmd(
    nombre: Annotated[str, typer.Argument(help="cumplimiento, cabida o exposicion")],
    carpeta: Annotated[Path, typer.Option(help="Exportación de «secplac analisis "
                                          "particionar»")],
    salida: Annotated[Path, typer.Option(help="Archivo de resultado: .gpkg, .parquet, .csv "
                                         "o .xlsx")],
    planificador: Annotated[str | None, typer.Option(help="Dirección del planificador Dask "
                                                     "(tcp://host:8786); sin ella, un "
                                                     "clúster local")] = None,
    trabajadores: Annotated[int, typer.Option(help="Procesos del clúster local")] = 2,
) -> None:
    """Ejecuta cumplimiento, cabida o exposición sobre una exportación particionada en un
    clúster Dask: el mismo resultado que «ejecutar», para insumos de escala nacional."""
    from gis.analysis.exports import export

    with _reported():
        if nombre not in DISTRIBUTED:
            raise PlatformError(f"«{nombre[:40]}» no se ejecuta en Dask.",
                                hint="Use " + ", ".join(DISTRIBUTED) + ".")
        _check_output(salida)
        if trabajadores < 1:
            raise PlatformError("--trabajadores debe ser un número positivo.",
                                hint="P. ej. --trabajadores 2, uno por núcleo.")
        from distributed import Client, LocalCluster

        from gis.analysis import distributed as on_dask
        from gis.analysis.partitioned import open_export

        export_folder = open_export(carpeta)
        run = getattr(on_dask, DISTRIBUTED[nombre])
        if planificador:
            with Client(planificador, timeout="20s") as client:
                result = run(export_folder, client)
        else:
            with LocalCluster(n_workers=trabajadores, threads_per_worker=1,
                              dashboard_address=None) as cluster, Client(cluster) as client:
                result = run(export_folder, client)
        export(result, salida)
    rows = f"{len(result):,}".replace(",", ".")
    out.print(f"{nombre}: {rows} filas, calculadas en Dask. Resultado escrito en {salida}",
              markup=False)


def _point(text: str) -> tuple[float, float]:
    parts = text.replace(";", ",").split(",")
    try:
        lon, lat = (float(p) for p in parts)
    except ValueError:
        raise PlatformError(f"Punto no válido: «{text[:60]}».",
                            hint="Escríbalo LON,LAT en grados, p. ej. --punto=-71.61,-33.59 "
                            "(con «=» para que el signo menos no se lea como opción).") from None
    return lon, lat

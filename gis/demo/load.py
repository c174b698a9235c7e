"""Loading the demo data: the raw files, the layer each one goes into, in load order.

Every file goes through the layer ingest except the investment portfolio, which is a
municipal spreadsheet imported with :mod:`gis.portfolio.importer` (after the comuna and the
cadastre it locates projects on), as the SECPLAC would import it.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gis.database import connect
from gis.ingest import IngestOptions, IngestReport, ingest
from gis.settings import Settings


@dataclass(frozen=True)
class DemoFile:
    layer: str
    path: str
    """Relative to the raw data folder."""
    crs: str | None = None
    """For files that cannot declare their CRS (CSV)."""


PORTFOLIO = "inversion/cartera_proyectos.xlsx"
DEMO_FILES = (
    DemoFile("comunas", "territorio/comunas_censo2017.geojson"),
    DemoFile("census_zones", "territorio/zonas_censales_censo2017.geojson"),
    DemoFile("planning_sectors", "territorio/sectores_planificacion.gpkg"),
    DemoFile("urban_limit", "prc/limite_urbano.gpkg"),
    DemoFile("zoning", "prc/zonificacion_prc.shp"),
    DemoFile("land_use", "uso_suelo/uso_suelo_actual.gpkg"),
    DemoFile("parcels", "catastro/catastro_predios.gpkg"),
    DemoFile("port_routes", "puerto/rutas_acceso_puerto.geojson"),
    DemoFile("port_terminals", "puerto/terminales_portuarios.geojson"),
    DemoFile("hazard_zones", "riesgos/zonas_riesgo.gpkg"),
    DemoFile("dem", "riesgos/dem_50m.tif"),
    DemoFile("tsunami_depth", "riesgos/tsunami_profundidad.tif"),
    DemoFile("projects", PORTFOLIO),
)


def missing_demo_files(settings: Settings) -> list[DemoFile]:
    return [f for f in DEMO_FILES if not (settings.raw_dir / f.path).exists()]


def load_demo(settings: Settings,
              on_file: Callable[[DemoFile], Callable[[int], None] | None] | None = None,
              ) -> list[IngestReport]:
    """Generate the demo raw files if missing, then load every one into its layer."""
    if missing_demo_files(settings):
        from gis.demo import generate

        generate(settings.raw_dir)
    reports = []
    for demo_file in DEMO_FILES:
        progress = on_file(demo_file) if on_file else None
        path = settings.raw_dir / demo_file.path
        if demo_file.path == PORTFOLIO:
            reports.append(load_portfolio(settings, path, progress))
            continue
        reports.append(ingest(settings, demo_file.layer, path,
                              IngestOptions(crs=demo_file.crs), progress))
    return reports


def load_portfolio(settings: Settings, path: Path,
                   progress: Callable[[int], None] | None = None) -> IngestReport:
    """Import the demo portfolio workbook as the projects layer's first version, marked as
    demo data in the catalog; every row must be placed (else nothing is loaded)."""
    from gis.ingest.load import Provenance, lock_layer, record_version
    from gis.ingest.sources import file_sha256
    from gis.portfolio.importer import import_portfolio
    from layers.projects import LAYER

    who = settings.user or getpass.getuser()
    with connect(settings) as conn, conn.transaction():
        version = lock_layer(conn, LAYER.name)
        record_version(conn, LAYER.name, version, "vector", f"layers.{LAYER.name}",
                       Provenance(loaded_by=who, source_file=str(path),
                                  source_sha256=file_sha256(path), source_crs="EPSG:4326",
                                  fuente=LAYER.provenance.source,
                                  licencia=LAYER.provenance.licence, demo=True,
                                  processed_file=None, report={}),
                       feature_count=0, extent_from=LAYER.name)
        report = import_portfolio(conn, settings, f"demo:{who}", path)
        conn.execute("UPDATE catalog.layer_versions SET report = %s::jsonb WHERE layer = %s "
                     "AND version = %s", (_json(report), LAYER.name, version))
    if progress:
        progress(report["proyectos"])
    return IngestReport(layer=LAYER.name, source_file=str(path), source_crs="EPSG:4326",
                        row_label="filas", features_read=report["filas_leidas"],
                        features_loaded=report["creados"] + report["actualizados"],
                        warnings=report["advertencias"], version=version)


def _json(report: dict) -> str:  # type: ignore[type-arg]
    import json

    return json.dumps(report, ensure_ascii=False, default=str)

"""Loading the demo data: the raw files, the layer each one goes into, in load order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gis.ingest import IngestOptions, IngestReport, ingest
from gis.settings import Settings


@dataclass(frozen=True)
class DemoFile:
    layer: str
    path: str
    """Relative to the raw data folder."""
    crs: str | None = None
    """For files that cannot declare their CRS (CSV)."""


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
    DemoFile("projects", "inversion/cartera_proyectos.csv", crs="EPSG:4326"),
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
        reports.append(ingest(settings, demo_file.layer, settings.raw_dir / demo_file.path,
                              IngestOptions(crs=demo_file.crs), progress))
    return reports

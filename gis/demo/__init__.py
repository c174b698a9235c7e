"""Deterministic, seeded generator of plausible demo data for the comuna of San Antonio.

Only the real reference files of ``raw_dir / "chile"`` are read; every other file is
synthetic ("datos de demostración") and identical for the same seed and size::

    from gis.demo import generate
    generate(Path("data/raw"))                                   # all files
    generate(Path("/tmp/x"), parcels=1_000_000, only={"cadastre"})

Keys of ``only`` (see :data:`CONCERNS`): territory, zoning, land_use, cadastre, port,
terrain, hazards, projects, readme.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from gis.demo import readme
from gis.demo.cadastre import write_cadastre
from gis.demo.common import write_geojson, write_gpkg
from gis.demo.context import Context
from gis.demo.portfolio_sheet import write_portfolio
from gis.demo.terrain import write_raster
from gis.demo.territory import comunas_layer, urban_limit_layer, zones_layer
from gis.demo.zoning import write_zoning_shapefile

SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")


def _territory(ctx: Context, raw: Path) -> list[Path]:
    return [
        write_geojson(comunas_layer(ctx.inputs), raw / "territorio/comunas_censo2017.geojson"),
        write_geojson(zones_layer(ctx.inputs),
                      raw / "territorio/zonas_censales_censo2017.geojson"),
        write_gpkg(ctx.sectors, raw / "territorio/sectores_planificacion.gpkg",
                   "sectores_planificacion"),
        write_gpkg(urban_limit_layer(ctx.limit), raw / "prc/limite_urbano.gpkg",
                   "limite_urbano"),
    ]


def _zoning(ctx: Context, raw: Path) -> list[Path]:
    shp = write_zoning_shapefile(ctx.zoning, raw / "prc/zonificacion_prc.shp")
    return [shp.with_suffix(ext) for ext in SHAPEFILE_PARTS]


def _land_use(ctx: Context, raw: Path) -> list[Path]:
    return [write_gpkg(ctx.land_use, raw / "uso_suelo/uso_suelo_actual.gpkg",
                       "uso_suelo_actual")]


def _cadastre(ctx: Context, raw: Path) -> list[Path]:
    return [write_cadastre(ctx.cadastre, raw / "catastro/catastro_predios.gpkg")]


def _port(ctx: Context, raw: Path) -> list[Path]:
    return [write_geojson(ctx.routes, raw / "puerto/rutas_acceso_puerto.geojson"),
            write_geojson(ctx.terminals, raw / "puerto/terminales_portuarios.geojson")]


def _terrain(ctx: Context, raw: Path) -> list[Path]:
    t = ctx.terrain
    return [write_raster(raw / "riesgos/dem_50m.tif", t.dem, t.transform),
            write_raster(raw / "riesgos/tsunami_profundidad.tif", t.tsunami_depth(),
                         t.transform)]


def _hazards(ctx: Context, raw: Path) -> list[Path]:
    return [write_gpkg(ctx.hazards, raw / "riesgos/zonas_riesgo.gpkg", "zonas_riesgo")]


def _projects(ctx: Context, raw: Path) -> list[Path]:
    return write_portfolio(ctx.projects, raw / "inversion")


def _readme(ctx: Context, raw: Path) -> list[Path]:
    return [readme.write_readme(raw, ctx.parcels, ctx.seed)]


CONCERNS: dict[str, Callable[[Context, Path], list[Path]]] = {
    "territory": _territory, "zoning": _zoning, "land_use": _land_use,
    "cadastre": _cadastre, "port": _port, "terrain": _terrain, "hazards": _hazards,
    "projects": _projects, "readme": _readme,
}
"""The groups of files ``generate`` writes, by key of its ``only`` argument."""


def generate(raw_dir: Path, parcels: int = 30_000, seed: int = 2017,
             only: set[str] | None = None) -> list[Path]:
    """Write the demo data files under ``raw_dir``.

    Parameters
    ----------
    raw_dir : Path
        Data folder holding ``chile/`` (the real inputs); outputs go to its subfolders
        (territorio/, prc/, uso_suelo/, catastro/, puerto/, riesgos/, inversion/).
    parcels : int
        Number of cadastre lots (met exactly). Up to about 50,000 (1.5 times the nominal
        capacity of the urban blocks) they all lie in the urban limit; larger cadastres
        extend blocks with smaller lots over the rest of the comuna.
    seed : int
        Seed of every random choice: the same seed (and size) gives the same files.
    only : set of str, optional
        Keys of :data:`CONCERNS` to write; all when None.

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    ValueError
        On an unknown key in ``only`` or a non-positive ``parcels``.
    """
    keys = set(CONCERNS) if only is None else set(only)
    unknown = keys - set(CONCERNS)
    if unknown:
        raise ValueError(f"unknown keys {sorted(unknown)}; valid: {sorted(CONCERNS)}")
    if parcels < 1:
        raise ValueError("parcels must be positive")
    raw_dir = Path(raw_dir)
    ctx = Context(raw_dir, parcels, seed)
    written: list[Path] = []
    for key, writer in CONCERNS.items():
        if key in keys:
            written += writer(ctx, raw_dir)
    return written


__all__ = ["CONCERNS", "generate"]

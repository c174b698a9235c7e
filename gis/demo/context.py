"""Lazy build of everything the writers need: each product is computed once, on first use,
from the real inputs and its own seeded stream (so any subset of files is identical to
the same files of a full run)."""

from __future__ import annotations

import logging
import time
from functools import cached_property
from pathlib import Path

import geopandas as gpd
import shapely

from gis.demo import cadastre as cadastre_mod
from gis.demo import hazards as hazards_mod
from gis.demo import land_use as land_use_mod
from gis.demo import port as port_mod
from gis.demo import projects as projects_mod
from gis.demo import territory, zoning
from gis.demo.geography import Geography, build_geography
from gis.demo.terrain import Terrain, build_terrain

log = logging.getLogger("gis.demo")


def _timed(name: str):
    def wrap(fn):
        def inner(self):
            start = time.perf_counter()
            out = fn(self)
            log.info("%s: %.1f s", name, time.perf_counter() - start)
            return out
        inner.__doc__ = fn.__doc__
        return inner
    return wrap


class Context:
    """Products of one generator run (EPSG:32719 unless noted).

    Parameters
    ----------
    raw_dir : Path
        Data folder; the real inputs are read from ``raw_dir / "chile"``.
    parcels : int
        Number of cadastre lots.
    seed : int
    """

    def __init__(self, raw_dir: Path, parcels: int, seed: int) -> None:
        self.raw_dir = Path(raw_dir)
        self.parcels = parcels
        self.seed = seed

    @cached_property
    @_timed("inputs")
    def inputs(self) -> territory.RealInputs:
        """The real reference data of raw_dir/chile."""
        return territory.load_inputs(self.raw_dir / "chile")

    @property
    def comuna(self) -> shapely.Geometry:
        """The comuna of San Antonio (05601)."""
        return self.inputs.comuna

    @cached_property
    def geography(self) -> Geography:
        """Ocean, Maipo channel, coastline, river course."""
        return build_geography(self.inputs)

    @cached_property
    @_timed("terrain")
    def terrain(self) -> Terrain:
        """The synthetic DEM."""
        return build_terrain(self.geography, self.seed)

    @cached_property
    def limit(self) -> shapely.Geometry:
        """The urban limit."""
        return territory.urban_limit(self.inputs)

    @cached_property
    def sectors(self) -> gpd.GeoDataFrame:
        """The planning sectors."""
        return territory.planning_sectors(self.inputs, self.limit, self.seed)

    @cached_property
    def terminals(self) -> gpd.GeoDataFrame:
        """The port terminals."""
        return port_mod.terminals(self.geography, self.comuna)

    @cached_property
    def routes(self) -> gpd.GeoDataFrame:
        """The port access routes."""
        return port_mod.routes(self.geography, self.comuna, self.terminals, self.seed)

    @cached_property
    @_timed("hazards")
    def hazards(self) -> gpd.GeoDataFrame:
        """The hazard zones."""
        return hazards_mod.hazard_zones(self.terrain, self.geography, self.comuna,
                                        self.limit, self.terminals)

    @property
    def wetland(self) -> shapely.Geometry:
        """The Humedal de Llolleo (from the hazard zones)."""
        h = self.hazards
        return shapely.union_all(h.geometry[h.amenaza == "humedal protegido"].values)

    @cached_property
    @_timed("zoning")
    def zoning(self) -> gpd.GeoDataFrame:
        """The PRC zones with their norms."""
        pieces = zoning.layout(self.limit, self.geography, self.terminals, self.routes,
                               self.terrain.quebradas, self.wetland, self.seed)
        return zoning.zoning_table(pieces, self.sectors, self.hazards, self.routes,
                                   self.terrain.quebradas, self.seed)

    @cached_property
    @_timed("cadastre")
    def cadastre(self) -> cadastre_mod.Cadastre:
        """Blocks and lots."""
        return cadastre_mod.build_cadastre(self.zoning, self.comuna, self.limit,
                                           self.parcels, self.seed)

    @cached_property
    @_timed("land use")
    def land_use(self) -> gpd.GeoDataFrame:
        """The current land-use polygons."""
        return land_use_mod.land_use(self.cadastre, self.zoning, self.wetland, self.terrain,
                                     self.comuna, self.limit, self.seed)

    @cached_property
    def projects(self) -> list[projects_mod.DemoProject]:
        """The investment portfolio (some projects located on the cadastre's parcels)."""
        port = shapely.union_all(self.terminals.geometry.values)
        return projects_mod.portfolio_projects(self.sectors, self.geography.coast, port,
                                               self.comuna, self.cadastre.table, self.seed)

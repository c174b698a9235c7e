"""Current land use: one polygon per urban block (its predominant use, from the lots'
destinos) plus large areas: port, planned port land (vacant), green areas, wetland and the
rural comuna (agricultural valleys, forested hills)."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.demo.cadastre import Cadastre
from gis.demo.common import UTM, polygonal, rng
from gis.demo.hazards import polygonize
from gis.demo.terrain import Terrain

DESTINO_USE = {
    "H": "residencial", "C": "comercio", "O": "comercio", "G": "comercio",
    "I": "industria", "B": "industria", "L": "bodegaje y logística", "T": "infraestructura",
    "E": "equipamiento educación", "S": "equipamiento salud", "D": "equipamiento deporte",
    "Q": "equipamiento culto y cultura", "P": "equipamiento servicios", "Z": "infraestructura",
    "W": "sitio eriazo", "A": "agrícola", "F": "forestal", "V": "residencial", "M": "industria",
}
ZONE_USE = {"portuaria": "portuario", "área verde": "área verde", "protección": "área verde"}
SURVEY = (dt.date(2023, 3, 1), dt.date(2023, 12, 15))
"""Dates of the (fictitious) land-use survey campaign."""
FARM_SLOPE, FARM_HEIGHT = 8.0, 180.0
"""Rural land under this slope (degrees) and elevation (m) is farmed; the rest forested."""


def block_uses(cadastre: Cadastre) -> np.ndarray:
    """Predominant use of each block: the destino most of its lots have, ``mixto`` where
    housing and commerce/offices mix."""
    lots = pd.DataFrame({"block": cadastre.lots.block, "dest": cadastre.destino})
    share = pd.crosstab(lots.block, lots.dest, normalize="index")
    share = share.reindex(range(len(cadastre.blocks)), fill_value=0.0)
    top = share.idxmax(axis=1).map(DESTINO_USE).to_numpy(dtype=object)
    h = share.get("H", 0.0)
    trade = sum(share.get(c, 0.0) for c in "COG")
    mixed = ((h >= 0.3) & (trade >= 0.25)).to_numpy()
    top[mixed] = "mixto"
    return top


def _dates(n: int, gen: np.random.Generator) -> list[str]:
    days = (SURVEY[1] - SURVEY[0]).days
    offsets = gen.integers(0, days + 1, n)
    return [(SURVEY[0] + dt.timedelta(days=int(d))).isoformat() for d in offsets]


def _rural(terrain: Terrain, area: shapely.Geometry) -> list[tuple[str, shapely.Geometry]]:
    slope = terrain.slope_deg()
    farm = (slope < FARM_SLOPE) & (terrain.dem < FARM_HEIGHT) & ~terrain.water
    classes = np.where(terrain.water, 0, np.where(farm, 1, 2)).astype(np.uint8)
    polys = polygonize(classes, terrain, area, min_area=50_000.0)
    names = {1: "agrícola", 2: "forestal"}
    return [(names[k], g) for k, g in polys.items()]


def land_use(cadastre: Cadastre, zones: gpd.GeoDataFrame, wetland: shapely.Geometry,
             terrain: Terrain, comuna: shapely.Geometry, limit: shapely.Geometry,
             seed: int) -> gpd.GeoDataFrame:
    """Land-use polygons (EPSG:32719) with uso_actual, mz and fecha.

    Parameters
    ----------
    cadastre : Cadastre
        Blocks, their manzana numbers and the lots' destinos.
    zones : GeoDataFrame
        Zoning table (TIPO_ZONA, NOM_ZONA), EPSG:32719.
    wetland : Polygon
        Humedal de Llolleo.
    terrain : Terrain
        Used to tell farmland from forest in the rural comuna.
    comuna, limit : Polygon
    seed : int

    Returns
    -------
    GeoDataFrame
    """
    gen = rng(seed, "land-use")
    blocks = cadastre.blocks
    fam = zones.TIPO_ZONA.to_numpy(dtype=object)
    urban = blocks.zone >= 0
    in_block_zone = urban & ~np.isin(fam[np.maximum(blocks.zone, 0)], list(ZONE_USE))
    idx = np.flatnonzero(in_block_zone)
    uses = block_uses(cadastre)[idx]
    rows = pd.DataFrame({"uso_actual": uses, "mz": cadastre.manzana[idx].astype(str),
                         "fecha": _dates(len(idx), gen)})
    geoms = list(blocks.take(idx).polygons())
    large = []
    for family, name, geom in zip(zones.TIPO_ZONA, zones.NOM_ZONA, zones.geometry,
                                  strict=True):
        if family not in ZONE_USE:
            continue
        use = "sitio eriazo" if "Puerto Exterior" in name else ZONE_USE[family]
        large.append((use, polygonal(shapely.difference(geom, wetland))))
    large.append(("humedal", wetland))
    rural_area = polygonal(shapely.difference(shapely.difference(comuna, limit), wetland))
    large += _rural(terrain, rural_area)
    extra = pd.DataFrame({"uso_actual": [u for u, _ in large], "mz": None,
                          "fecha": _dates(len(large), gen)})
    table = pd.concat([rows, extra], ignore_index=True)
    out = gpd.GeoDataFrame(table, geometry=geoms + [g for _, g in large], crs=UTM)
    return out[~out.geometry.is_empty].reset_index(drop=True)

"""Demo SII cadastre: blocks over the PRC zones (and the rural comuna for large sizes),
lots with rol, address, destino, serie, areas and avalúo, written in SIRGAS-Chile."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from gis.demo.blocks import RURAL, Blocks, rural_blocks, urban_blocks
from gis.demo.common import SIRGAS_UTM, UTM, polygonal, rng, write_gpkg
from gis.demo.lots import MIN_FRONT, Lots, allocate, subdivide
from gis.demo.names import RURAL_ROADS, STREETS

URBAN_MAX_FACTOR = 1.5
"""The urban blocks take at most this many times their nominal lot count; the rest of a
large cadastre goes to rural blocks."""
PLANNED = "portuaria planificada"
DESTINOS = {  # family: (codes, probabilities)
    "residencial": ("HCWOEQSZL", (.855, .04, .055, .01, .01, .007, .005, .008, .01)),
    "mixta": ("HCOWLGESZQ", (.55, .2, .08, .05, .04, .02, .02, .02, .015, .005)),
    "centro": ("COHGPZWQSE", (.4, .2, .2, .04, .04, .04, .03, .02, .02, .01)),
    "industrial": ("ILWCTO", (.45, .35, .08, .05, .05, .02)),
    "portuaria": ("TLIOW", (.5, .35, .08, .05, .02)),
    PLANNED: ("WLT", (.7, .2, .1)),
    "equipamiento": ("EDSPQCW", (.3, .2, .15, .15, .1, .05, .05)),
    RURAL: ("AHFWB", (.7, .12, .08, .08, .02)),
}
LAND_VALUE = {  # avalúo fiscal of land, CLP per m², before the location factor
    "residencial": 38_000, "mixta": 55_000, "centro": 95_000, "industrial": 26_000,
    "portuaria": 30_000, PLANNED: 12_000, "equipamiento": 32_000, RURAL: 1_800,
}
BUILD_VALUE = {  # avalúo fiscal of buildings, CLP per m²
    "H": 185_000, "C": 230_000, "O": 260_000, "I": 120_000, "L": 95_000, "T": 110_000,
    "E": 210_000, "S": 250_000, "D": 90_000, "P": 220_000, "Q": 150_000, "G": 240_000,
    "Z": 80_000, "A": 70_000, "F": 40_000, "B": 100_000, "W": 0,
}
ROL_FORMATS = (0.55, 0.25, 0.15, 0.05)
"""Share of rols typed as 1999-54, 01999-00054, 1999-00054 and 01999-54."""


@dataclass
class Cadastre:
    """Blocks and lots with their attributes; ``table`` is in EPSG:5361."""

    blocks: Blocks
    manzana: np.ndarray
    lots: Lots
    destino: np.ndarray
    table: gpd.GeoDataFrame


def _families(zones: gpd.GeoDataFrame, blocks: Blocks) -> np.ndarray:
    """Family key of each block (the planned port zone is told apart)."""
    fam = blocks.family.astype(object).copy()
    planned = zones.NOM_ZONA.str.contains("Puerto Exterior").to_numpy()
    urban = blocks.zone >= 0
    fam[urban & planned[np.maximum(blocks.zone, 0)]] = PLANNED
    return fam


def _plan_blocks(zones: gpd.GeoDataFrame, rural_area: shapely.Geometry, parcels: int,
                 gen: np.random.Generator) -> tuple[Blocks, np.ndarray]:
    """The blocks of the cadastre and the lot count of each."""
    blocks = urban_blocks(zones, gen)
    weights = blocks.area / blocks.lot_area * gen.lognormal(0.0, 0.3, len(blocks))
    urban_target = parcels
    if parcels > URBAN_MAX_FACTOR * weights.sum():
        urban_target = int(URBAN_MAX_FACTOR * weights.sum())
        lot_area = 0.55 * rural_area.area / (parcels - urban_target)
        rural = rural_blocks(rural_area, lot_area, int(blocks.patch.max()) + 1, gen)
        blocks = Blocks.concat([blocks, rural])
        rural_w = rural.area / rural.lot_area * gen.lognormal(0.0, 0.2, len(rural))
        weights = np.concatenate([weights * (urban_target / weights.sum()),
                                  rural_w * ((parcels - urban_target) / rural_w.sum())])
    elif parcels < 3 * len(blocks):  # few lots: keep a subset of the blocks
        keep = np.sort(gen.choice(len(blocks), max(parcels // 3, 1), replace=False))
        blocks, weights = blocks.take(keep), weights[keep]
    caps = np.maximum(2 * np.floor(blocks.length / MIN_FRONT), 1).astype(np.int64)
    return blocks, allocate(parcels, weights, caps)


def _numbering(blocks: Blocks, counts: np.ndarray,
               gen: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Manzana number of each block (north to south within each patch, a few gaps) and
    predio number of each lot (1..n within its block, a few gaps)."""
    centre = blocks.origin + (blocks.u * blocks.length[:, None] +
                              blocks.v * blocks.width[:, None]) / 2
    order = np.lexsort((centre[:, 0], -np.round(centre[:, 1] / 60.0), blocks.patch))
    steps = np.where(gen.random(len(blocks)) < 0.05, gen.integers(2, 5, len(blocks)), 1)
    if 100 + steps.sum() > 99_999:
        steps[:] = 1
    manzana = np.empty(len(blocks), np.int64)
    manzana[order] = 100 + int(gen.integers(0, 60)) + np.cumsum(steps)
    if manzana.max() > 99_999:
        raise ValueError("too many blocks for 5-digit manzana numbers")
    gaps = np.where(gen.random(int(counts.sum())) < 0.05, 2, 1)
    first = np.repeat(np.cumsum(counts) - counts, counts)
    cum = np.cumsum(gaps)
    predio = cum - np.concatenate([[0], cum])[first]
    return manzana, predio


def _rols(manzana: np.ndarray, predio: np.ndarray, gen: np.random.Generator) -> np.ndarray:
    """Rols as users type them: varying zero padding of each part."""
    fmt = gen.choice(4, len(predio), p=ROL_FORMATS)
    m = pd.Series(manzana.astype(str))
    p = pd.Series(predio.astype(str))
    m = m.where(~np.isin(fmt, (1, 3)), m.str.zfill(5))
    p = p.where(~np.isin(fmt, (1, 2)), p.str.zfill(5))
    return (m + "-" + p).to_numpy()


def _addresses(blocks: Blocks, lots: Lots, fam: np.ndarray, predio: np.ndarray,
               gen: np.random.Generator) -> np.ndarray:
    """Street and number of each lot: the street of the block side the lot fronts, the
    number from the position along it (even on one side, odd on the other)."""
    b = lots.block
    n_patch = int(blocks.patch.max()) + 1
    shift = gen.integers(0, len(STREETS), n_patch)
    base = gen.integers(0, 20, n_patch) * 100
    street_row = blocks.row[b] + lots.row
    name = np.asarray(STREETS, dtype=object)[(shift[blocks.patch[b]] + 7 * street_row)
                                             % len(STREETS)]
    pitch = blocks.length[b] + 16.0
    along = (blocks.col[b] + lots.t_mid) * pitch
    number = base[blocks.patch[b]] + 2 * (along / 2.5).astype(np.int64) + lots.row + 1
    urban = pd.Series(name) + " " + pd.Series(number.astype(str))
    road = np.asarray(RURAL_ROADS, dtype=object)[(shift[blocks.patch[b]] + street_row)
                                                 % len(RURAL_ROADS)]
    rural = "Parcela " + pd.Series(predio.astype(str)) + ", Camino " + pd.Series(road)
    return np.where(fam[b] == RURAL, rural.to_numpy(), urban.to_numpy())


def _polygons(lots: Lots) -> np.ndarray:
    """Lot polygons in EPSG:5361 with coordinates rounded to 1 cm."""
    tr = Transformer.from_crs(UTM, SIRGAS_UTM, always_xy=True)
    x, y = tr.transform(lots.coords[:, 0], lots.coords[:, 1])
    xy = np.round(np.column_stack([x, y]), 2)
    return shapely.polygons(shapely.linearrings(xy, indices=lots.ring))


def _values(blocks: Blocks, lots: Lots, fam: np.ndarray, dest: np.ndarray,
            area: np.ndarray, coef: np.ndarray, centre: np.ndarray,
            gen: np.random.Generator) -> dict[str, np.ndarray]:
    """Built area and avalúos (CLP) of each lot."""
    b = lots.block
    n = len(b)
    built = area * coef[b] * gen.uniform(0.15, 0.85, n)
    built = np.where(dest == "A", np.minimum(area * 0.01, gen.uniform(40, 160, n)), built)
    built = np.where(dest == "W", 0.0, np.round(built))
    corner = blocks.origin[b] + blocks.u[b] * (blocks.length[b] * lots.t_mid)[:, None]
    factor = 0.7 + 0.8 * np.exp(-np.hypot(*(corner - centre).T) / 2_500.0)
    land_price = pd.Series(fam[b]).map(LAND_VALUE).to_numpy(float)
    av_land = np.round(area * land_price * factor * gen.lognormal(0, 0.2, n)).astype(np.int64)
    build_price = pd.Series(dest).map(BUILD_VALUE).to_numpy(float)
    av_built = np.round(built * build_price * gen.lognormal(0, 0.15, n)).astype(np.int64)
    return {"sup_const": built, "av_terreno": av_land, "av_constr": av_built,
            "av_total": av_land + av_built}


def build_cadastre(zones: gpd.GeoDataFrame, comuna: shapely.Geometry,
                   limit: shapely.Geometry, parcels: int, seed: int) -> Cadastre:
    """Generate the cadastre.

    Parameters
    ----------
    zones : GeoDataFrame
        Zoning table (EPSG:32719) with TIPO_ZONA, NOM_ZONA and COEF_CONST.
    comuna, limit : Polygon
        Comuna and urban limit (EPSG:32719).
    parcels : int
        Number of lots wanted (met exactly).
    seed : int

    Returns
    -------
    Cadastre
    """
    gen = rng(seed, "cadastre")
    rural_area = polygonal(shapely.difference(comuna, limit.buffer(30.0)), 1e5)
    blocks, counts = _plan_blocks(zones, rural_area, parcels, gen)
    lots = subdivide(blocks, counts, gen)
    fam = _families(zones, blocks)
    manzana, predio = _numbering(blocks, counts, gen)
    dest = np.empty(len(lots), dtype="<U1")
    lot_fam = fam[lots.block]
    for key, (codes, probs) in DESTINOS.items():
        sel = lot_fam == key
        dest[sel] = gen.choice(list(codes), int(sel.sum()), p=np.array(probs) / sum(probs))
    geoms = _polygons(lots)
    area = np.round(shapely.area(geoms), 2)
    coef = np.where(blocks.zone >= 0,
                    zones.COEF_CONST.to_numpy(float)[np.maximum(blocks.zone, 0)], 0.1)
    centres = zones.geometry[zones.TIPO_ZONA == "centro"]
    centre = np.asarray(shapely.union_all(centres.values).centroid.coords[0])
    values = _values(blocks, lots, fam, dest, area, coef, centre, gen)
    table = gpd.GeoDataFrame({
        "rol_sii": _rols(manzana[lots.block], predio, gen),
        "direccion": _addresses(blocks, lots, fam, predio, gen),
        "dest": dest.astype(object),
        "serie": np.where(lot_fam == RURAL, "agrícola", "no agrícola").astype(object),
        "sup_terr": area, **values,
    }, geometry=geoms, crs=SIRGAS_UTM)
    return Cadastre(blocks=blocks, manzana=manzana, lots=lots, destino=dest, table=table)


def write_cadastre(cadastre: Cadastre, path: Path) -> Path:
    """Write ``catastro_predios.gpkg`` (layer catastro_predios, no spatial index)."""
    return write_gpkg(cadastre.table, path, "catastro_predios")

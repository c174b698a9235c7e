"""Real territory (comunas, census zones with Censo 2017 counts) and the layers derived from
it: the urban limit and the planning sectors."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.demo.common import CUT, PRC_INSTRUMENT, UTM, drop_holes, polygonal, rng
from gis.demo.partition import absorb_slivers, carve, voronoi_split

COMUNAS_FILE = "comunas_provincia_san_antonio.geojson"
ZONES_FILE = "zonas_censales_san_antonio.geojson"
COMUNA_CENSUS = "censo2017_comunas_provincia_san_antonio.csv"
ZONE_CENSUS = "censo2017_zonas_san_antonio.csv"
CODES_FILE = "codigos_territoriales_region_valparaiso.csv"

RURAL_SECTORS = {  # locality: seed point as a fraction of the comuna's bounding box
    "Leyda": (0.50, 0.80),
    "Malvilla": (0.22, 0.32),
    "Cuncumén": (0.78, 0.30),
}


@dataclass(frozen=True)
class RealInputs:
    """The real reference data of ``raw_dir/chile``, in EPSG:32719."""

    comunas: gpd.GeoDataFrame
    """The 6 comunas of the province (source geometry, EPSG:4326 kept in ``comunas_wgs``)."""
    comunas_wgs: gpd.GeoDataFrame
    zones: gpd.GeoDataFrame
    zones_wgs: gpd.GeoDataFrame
    comuna_census: pd.DataFrame
    zone_census: pd.DataFrame
    codes: pd.DataFrame

    @property
    def comuna(self) -> shapely.Polygon:
        """The comuna of San Antonio (05601), EPSG:32719."""
        geom = self.comunas.loc[self.comunas.codigo_comuna == CUT, "geometry"].iloc[0]
        return polygonal(geom)

    @property
    def province(self) -> shapely.Geometry:
        """Union of the 6 comunas, EPSG:32719."""
        return shapely.union_all(self.comunas.geometry.values)


def load_inputs(chile_dir: Path) -> RealInputs:
    """Read the real inputs of ``chile_dir`` (see its SOURCE.md).

    Parameters
    ----------
    chile_dir : Path
        Folder holding the chilemapas extracts.

    Returns
    -------
    RealInputs
    """
    text = {"dtype": str}
    comunas_wgs = gpd.read_file(chile_dir / COMUNAS_FILE)
    zones_wgs = gpd.read_file(chile_dir / ZONES_FILE).sort_values("geocodigo")
    comuna_census = pd.read_csv(chile_dir / COMUNA_CENSUS, dtype={"codigo_comuna": str})
    zone_census = pd.read_csv(chile_dir / ZONE_CENSUS, dtype={"geocodigo": str})
    codes = pd.read_csv(chile_dir / CODES_FILE, **text)
    return RealInputs(
        comunas=comunas_wgs.to_crs(UTM), comunas_wgs=comunas_wgs,
        zones=zones_wgs.to_crs(UTM).reset_index(drop=True),
        zones_wgs=zones_wgs.reset_index(drop=True), comuna_census=comuna_census,
        zone_census=zone_census, codes=codes,
    )


# --------------------------------------------------------------------------- census


def _age_start(label: str) -> int:
    return int(label.split()[0])


def comunas_layer(inputs: RealInputs) -> gpd.GeoDataFrame:
    """The 6 comunas with Censo 2017 population by sex and broad age group (EPSG:4326).

    The counts are the real 5-year groups of the census file, summed.
    """
    census = inputs.comuna_census.copy()
    start = census.edad.map(_age_start)
    census["grupo"] = np.select([start < 15, start < 65], ["pob_0_14", "pob_15_64"],
                                "pob_65_mas")
    by_age = census.pivot_table(index="codigo_comuna", columns="grupo", values="poblacion",
                                aggfunc="sum")
    by_sex = census.pivot_table(index="codigo_comuna", columns="sexo", values="poblacion",
                                aggfunc="sum")
    names = inputs.codes.set_index("commune_id")["commune_name"]
    out = inputs.comunas_wgs[["codigo_comuna", "codigo_provincia", "geometry"]].copy()
    out["nombre"] = out.codigo_comuna.map(names)
    out["hombres"] = out.codigo_comuna.map(by_sex["hombres"]).astype("int64")
    out["mujeres"] = out.codigo_comuna.map(by_sex["mujeres"]).astype("int64")
    out["poblacion"] = out.hombres + out.mujeres
    for col in ("pob_0_14", "pob_15_64", "pob_65_mas"):
        out[col] = out.codigo_comuna.map(by_age[col]).astype("int64")
    cols = ["codigo_comuna", "nombre", "codigo_provincia", "poblacion", "hombres",
            "mujeres", "pob_0_14", "pob_15_64", "pob_65_mas", "geometry"]
    return out.sort_values("codigo_comuna")[cols].reset_index(drop=True)


def zones_layer(inputs: RealInputs) -> gpd.GeoDataFrame:
    """The 26 census zones with Censo 2017 population by age group (EPSG:4326)."""
    groups = {"0 a 5": "pob_0_5", "6 a 14": "pob_6_14", "15 a 64": "pob_15_64",
              "65 y mas": "pob_65_mas"}
    census = inputs.zone_census.assign(grupo=inputs.zone_census.edad.map(groups))
    if census.grupo.isna().any():
        raise ValueError(f"unexpected age groups: {set(census.edad[census.grupo.isna()])}")
    wide = census.pivot_table(index="geocodigo", columns="grupo", values="poblacion",
                              aggfunc="sum").fillna(0).astype("int64")
    out = inputs.zones_wgs[["geocodigo", "codigo_comuna", "geometry"]].copy()
    out["distrito"] = out.geocodigo.str[5:7]
    for col in groups.values():
        out[col] = out.geocodigo.map(wide[col]).fillna(0).astype("int64")
    out["poblacion"] = out[list(groups.values())].sum(axis=1)
    cols = ["geocodigo", "codigo_comuna", "distrito", "poblacion", *groups.values(),
            "geometry"]
    return out[cols]


# --------------------------------------------------------------------------- urban limit


def urban_limit(inputs: RealInputs) -> shapely.Polygon:
    """The urban limit: union of the census zones, closed (gaps < 80 m), without holes,
    clipped to the comuna and with the thin strips it leaves against the comuna's edge
    (coast, river) absorbed.

    Returns
    -------
    shapely.Polygon, EPSG:32719
    """
    comuna = inputs.comuna
    union = shapely.union_all(inputs.zones.geometry.buffer(1.0, join_style="mitre").values)
    closed = union.buffer(40, join_style="mitre").buffer(-40, join_style="mitre")
    limit = polygonal(shapely.intersection(drop_holes(closed), comuna), 5_000)
    rest = polygonal(shapely.difference(comuna, limit))
    core = polygonal(shapely.intersection(rest.buffer(-30).buffer(30), rest))
    strips = shapely.get_parts(polygonal(shapely.difference(rest, core)))
    small = [p for p in shapely.get_parts(rest) if p.area < 50_000]
    touching = [p for p in [*strips, *small] if p.distance(limit) < 0.5]
    limit = shapely.union_all([limit, *touching])
    return drop_holes(polygonal(limit, 5_000))


def urban_limit_layer(limit: shapely.Geometry) -> gpd.GeoDataFrame:
    """The urban limit as the one-feature layer of ``prc/limite_urbano.gpkg``."""
    return gpd.GeoDataFrame({"nom": ["San Antonio"], "instrum": [PRC_INSTRUMENT]},
                            geometry=[limit], crs=UTM)


# --------------------------------------------------------------------------- sectors


def urban_groups(zones: gpd.GeoDataFrame) -> dict[str, list[str]]:
    """Group the census zones into the urban localities, by district and position."""
    z = zones.assign(d=zones.geocodigo.str[5:7], x=zones.centroid.x, y=zones.centroid.y)
    d01 = z[z.d == "01"].sort_values("y", ascending=False)
    gallardo = d01.geocodigo[:2].tolist()
    rest01 = d01.iloc[2:].sort_values("x")
    d05 = z[z.d == "05"].sort_values("x")
    llolleo = [*z.geocodigo[z.d == "04"], "05601061001", "05601061002"]
    rest06 = z[(z.d == "06") & ~z.geocodigo.isin(llolleo)].sort_values("x")
    half = len(d05) // 2
    return {
        "Lo Gallardo": gallardo,
        "Barrancas": rest01.geocodigo[:-1].tolist(),
        "Alto Mirador": rest01.geocodigo[-1:].tolist(),
        "San Antonio centro": d05.geocodigo[:half].tolist(),
        "Bellavista": d05.geocodigo[half:].tolist(),
        "Llolleo": sorted(llolleo),
        "Tejas Verdes": rest06.geocodigo[:-1].tolist(),
        "San Juan": rest06.geocodigo[-1:].tolist(),
    }


def planning_sectors(inputs: RealInputs, limit: shapely.Geometry,
                     seed: int) -> gpd.GeoDataFrame:
    """Planning sectors: urban localities (census-zone groups) partitioning the urban
    limit, and three rural localities drawn over the rest of the comuna.

    Returns
    -------
    GeoDataFrame with cod_sector, sector, tipo, zonas (EPSG:32719)
    """
    groups = urban_groups(inputs.zones)
    by_code = inputs.zones.set_index("geocodigo").geometry
    shapes = [(name, shapely.union_all(by_code[codes].values)) for name, codes in
              groups.items()]
    pieces, rest = carve(limit, shapes)
    urban = absorb_slivers([*pieces, (None, rest)], min_area=20_000, min_width=15)
    rural_area = polygonal(shapely.difference(inputs.comuna, limit))
    minx, miny, maxx, maxy = inputs.comuna.bounds
    gen = rng(seed, "sectors")
    frac = np.array(list(RURAL_SECTORS.values())) + gen.uniform(-0.02, 0.02, (3, 2))
    seeds = np.column_stack([minx + frac[:, 0] * (maxx - minx),
                             miny + frac[:, 1] * (maxy - miny)])
    cells = voronoi_split(rural_area, seeds)
    rural = absorb_slivers(list(zip(RURAL_SECTORS, cells, strict=True)), min_area=200_000,
                           min_width=40)
    rows: list[tuple[str, str, str, str | None, shapely.Geometry]] = []
    for i, (name, geom) in enumerate(urban, start=1):
        rows.append((f"U-{i:02d}", str(name), "urbana", "; ".join(groups[str(name)]), geom))
    for i, (name, geom) in enumerate(rural, start=1):
        rows.append((f"R-{i:02d}", str(name), "rural", None, geom))
    cols = ["cod_sector", "sector", "tipo", "zonas", "geometry"]
    return gpd.GeoDataFrame(rows, columns=cols, geometry="geometry", crs=UTM)

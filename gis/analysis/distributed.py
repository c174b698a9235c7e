"""The batch analyses (compliance, capacity, hazard exposure) on dask-geopandas, over a
partitioned GeoParquet export (:mod:`gis.analysis.partitioned`): the path for inputs
larger than one database serves comfortably (the 9 million parcels of the country's 345
comunas), on any Dask cluster — here a ``distributed.LocalCluster``.

Each partition of parcels is joined with the small layers (zone and hazard pieces, census
zones), broadcast to every worker; per-parcel results are concatenated, summaries reduced
on the client. The rules are those of the PostGIS analyses, taken from their modules
(:func:`gis.analysis.compliance.conformity`, the SII destino classes, the capacity
constants and columns), and the results are the same tables: same columns, dtypes, order
and rounding (PostgreSQL's ``round(numeric)``), computed over the whole export (the
export fixes the zoning and hazard versions; there is no ``area``).

- a parcel's zone is the one holding most of its area, provided that is no less than its
  part outside every zone (ties: the smallest code), as in ``analysis_common.sql``;
- polygons are cut into pieces of at most :data:`gis.analysis.common.PIECE_VERTICES`
  vertices (:func:`pieces`) before the joins, and a piece covering a parcel counts the
  parcel's whole area, as in PostGIS; areas agree to floating-point rounding.

Examples
--------
>>> from distributed import Client, LocalCluster
>>> export = export_partitioned(settings, "var/lote", partitions=8)    # doctest: +SKIP
>>> with LocalCluster(n_workers=2, threads_per_worker=1) as cluster, Client(cluster) as client:
...     tabla = compliance_distributed(export, client)                 # doctest: +SKIP
...     exposicion = exposure_distributed(export, client)              # doctest: +SKIP
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import dask
import dask.dataframe as dd
import dask_geopandas
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.analysis.capacity import COLUMNS as CAPACITY_COLUMNS
from gis.analysis.capacity import VACANT
from gis.analysis.common import PIECE_VERTICES, typed
from gis.analysis.compliance import COLUMNS as COMPLIANCE_COLUMNS
from gis.analysis.compliance import conformity
from gis.analysis.exposure import COLUMNS as EXPOSURE_COLUMNS
from gis.analysis.exposure import CRITICAL_DESTINOS
from gis.analysis.partitioned import PartitionedExport, open_export
from gis.crs import STORAGE_CRS
from layers.codes import HAZARD_LEVELS, SII_DESTINO_CLASS, SII_DESTINOS
from layers.zoning import PEOPLE_PER_DWELLING

ExportInput = str | Path | PartitionedExport
COMPLIANCE_READS = ["rol", "direccion", "destino"]
CAPACITY_READS = ["rol", "destino", "superficie_terreno", "superficie_construida"]
EXPOSURE_READS = ["destino", "superficie_construida", "avaluo_total"]
"""The cadastre columns each analysis reads from the export (besides the geometry)."""


# --- shared pieces ---------------------------------------------------------------------------

def pieces(keys: pd.DataFrame, geoms: Any, max_vertices: int = PIECE_VERTICES
           ) -> gpd.GeoDataFrame:
    """Polygons cut in halves (across their longer side) until no piece has more than
    ``max_vertices`` vertices, like PostGIS's ``ST_Subdivide``: the rows of ``keys``
    repeated for each piece of their geometry in ``geoms``; empty and non-polygonal parts
    are dropped. The pieces cover the same area without overlapping."""
    rows, out = [], []
    stack = [(i, g) for i, geom in enumerate(np.asarray(geoms, dtype=object))
             if geom is not None for g in shapely.get_parts(geom)]
    while stack:
        i, geom = stack.pop()
        if geom.is_empty or geom.geom_type != "Polygon":
            continue
        if shapely.get_num_coordinates(geom) <= max_vertices:
            rows.append(i)
            out.append(geom)
            continue
        x0, y0, x1, y1 = geom.bounds
        halves = ((x0, y0, (x0 + x1) / 2, y1), ((x0 + x1) / 2, y0, x1, y1)) if x1 - x0 >= y1 - y0 \
            else ((x0, y0, x1, (y0 + y1) / 2), (x0, (y0 + y1) / 2, x1, y1))
        for box in halves:
            cut = shapely.intersection(geom, shapely.box(*box))
            stack += [(i, g) for g in shapely.get_parts(cut)]
    frame = keys.iloc[rows].reset_index(drop=True)
    return gpd.GeoDataFrame(frame, geometry=np.asarray(out, dtype=object), crs=STORAGE_CRS)


def pg_round(values: Any, digits: int) -> np.ndarray:
    """PostgreSQL's ``round(x::numeric, digits)`` of float8 values: the value read with
    15 significant digits, halves away from zero; NaN stays NaN."""
    x = np.asarray(values, dtype="float64")
    scaled = x * 10.0**digits
    out = np.sign(scaled) * np.floor(np.abs(scaled) + 0.5) / 10.0**digits
    frac = np.abs(scaled) - np.floor(np.abs(scaled))
    near_half = np.flatnonzero(np.isfinite(x) & (np.abs(frac - 0.5) < 1e-6))
    step = Decimal(1).scaleb(-digits)
    for i in near_half:  # decide the halves as PostgreSQL does, in decimal
        out[i] = float(Decimal(f"{x[i]:.15g}").quantize(step, rounding=ROUND_HALF_UP))
    return out


def _geoms(frame: gpd.GeoDataFrame) -> np.ndarray:
    return np.asarray(frame.geometry.values, dtype=object)


def _overlap(geoms: np.ndarray, areas: np.ndarray, layer: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(row of ``geoms``, row of ``layer``, area of their intersection, whether the
    ``layer`` polygon covers the geometry) of every pair that intersects. A covering
    polygon gives the geometry's whole area (``areas``) without cutting it. As in
    PostGIS, each ``layer`` polygon (small: a piece) is prepared once and tested against
    the geometries its box meets."""
    layer = shapely.from_wkb(shapely.to_wkb(layer))  # own copies: preparing mutates them
    shapely.prepare(layer)
    li, gi = shapely.STRtree(geoms).query(layer, predicate="intersects")
    area = np.zeros(len(gi))
    covered = shapely.covers(layer[li], geoms[gi])
    area[covered] = areas[gi[covered]]
    cut = ~covered
    area[cut] = shapely.area(shapely.intersection(geoms[gi[cut]], layer[li[cut]]))
    return gi, li, area, covered


def _compute(collection: Any, client: Any) -> Any:
    """Compute on ``client`` (a ``distributed.Client``), or on dask's default scheduler
    (the active client, if any). A dask DataFrame's partitions come to the client one by
    one and are concatenated here (not first gathered on one worker)."""
    scheduler = {"scheduler": client} if client is not None else {}
    if isinstance(collection, dd.DataFrame):
        frames = dask.compute(*collection.to_delayed(), **scheduler)
        return pd.concat(frames, ignore_index=True) if frames else collection._meta
    return dask.compute(collection, **scheduler)[0]


def _parcels(export: PartitionedExport, columns: list[str]) -> dask_geopandas.GeoDataFrame:
    """The parcels' partitions, only ``columns`` (and the geometry) read."""
    return dask_geopandas.read_parquet([str(f) for f in export.parcel_files],
                                       columns=[*columns, "geometry"])


def _zone_pieces(export: PartitionedExport) -> gpd.GeoDataFrame:
    zones = export.layer("zoning")
    return pieces(zones[["codigo"]], _geoms(zones))


# --- the zone of each parcel -----------------------------------------------------------------

def parcel_zone(parcels: gpd.GeoDataFrame, zone_pieces: gpd.GeoDataFrame) -> pd.DataFrame:
    """For each parcel (in order): ``area`` (of its polygon), ``zona`` (the zone holding
    most of its area, NaN outside the PRC) and ``porcentaje_zona`` (unrounded), by the
    rule of ``zone_of_parcel`` in ``gis/sql/analysis_parcel_zones.sql``."""
    geoms = _geoms(parcels)
    area = shapely.area(geoms)
    gi, li, a, _ = _overlap(geoms, area, _geoms(zone_pieces))
    hits = pd.DataFrame({"i": gi, "zona": zone_pieces["codigo"].to_numpy()[li], "a": a})
    hits = hits.groupby(["i", "zona"], as_index=False, sort=False)["a"].sum()
    zoned = hits.groupby("i")["a"].sum()
    best = hits.sort_values(["i", "a", "zona"], ascending=[True, False, True],
                            kind="stable").drop_duplicates("i").set_index("i")
    out = pd.DataFrame({"area": area, "zona": pd.Series(np.nan, index=range(len(geoms)),
                                                        dtype=object),
                        "porcentaje_zona": np.nan})
    b_a = best["a"].to_numpy()
    ok = (b_a > 0) & (b_a >= area[best.index] - zoned.loc[best.index].to_numpy())
    idx = best.index.to_numpy()[ok]
    out.loc[idx, "zona"] = best["zona"].to_numpy()[ok]
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.minimum(100.0 * b_a[ok] / area[idx], 100.0)
    out.loc[idx, "porcentaje_zona"] = np.where(area[idx] == 0, np.nan, share)
    return out


# --- compliance ------------------------------------------------------------------------------

def _rule(zona: Any, destino: Any, zones: pd.DataFrame) -> tuple[str | None, str, str]:
    """(OGUC class, verdict, rule) of a destino in a zone, as
    ``gis/sql/analysis_compliance.sql`` words them; the verdict by
    :func:`~gis.analysis.compliance.conformity`."""
    zona = zona if isinstance(zona, str) else None
    destino = destino if isinstance(destino, str) else None
    clase = SII_DESTINO_CLASS.get(destino) if destino else None
    permitted = prohibited = None
    if zona is not None:
        permitted, prohibited = (None if not isinstance(v, list | np.ndarray) else list(v)
                                 for v in zones.loc[zona, ["usos_permitidos",
                                                           "usos_prohibidos"]])
    verdict = conformity(clase, permitted, prohibited)
    if zona is None:
        rule = "predio fuera de las zonas del Plan Regulador"
    elif destino is None:
        rule = "predio sin destino SII"
    elif clase is None:
        rule = f"destino {SII_DESTINOS.get(destino, destino)} sin uso OGUC regulado"
    elif not (permitted or prohibited):
        rule = f"zona {zona} sin uso indicado"
    elif clase in (prohibited or []):
        rule = f"uso {clase} prohibido en {zona}"
    elif clase in (permitted or []):
        rule = f"uso {clase} permitido en {zona}"
    else:
        rule = f"uso {clase} no indicado en {zona}"
    return clase, verdict, rule


def compliance_partition(parcels: gpd.GeoDataFrame, zone_pieces: gpd.GeoDataFrame,
                         zones: pd.DataFrame, geometria: bool = False) -> pd.DataFrame:
    """The compliance rows (:data:`gis.analysis.compliance.COLUMNS`) of one partition."""
    pz = parcel_zone(parcels, zone_pieces)
    keys = pd.DataFrame({"zona": pz["zona"].to_numpy(),
                         "destino": parcels["destino"].astype(object).to_numpy()})
    combos = keys.drop_duplicates()
    judged = pd.DataFrame([_rule(z, d, zones) for z, d in combos.itertuples(index=False)],
                          columns=["clase_oguc", "resultado", "regla"], index=combos.index)
    rules = keys.merge(pd.concat([combos, judged], axis=1), on=["zona", "destino"],
                       how="left", sort=False)
    destino = parcels["destino"].astype(object)
    frame = pd.DataFrame({
        "rol": parcels["rol"].to_numpy(), "direccion": parcels["direccion"].to_numpy(),
        "destino": destino.to_numpy(),
        "destino_nombre": destino.map(SII_DESTINOS).to_numpy(),
        "clase_oguc": rules["clase_oguc"].to_numpy(), "zona": pz["zona"].to_numpy(),
        "porcentaje_zona": pg_round(pz["porcentaje_zona"], 1),
        "resultado": rules["resultado"].to_numpy(), "regla": rules["regla"].to_numpy(),
        "superficie_m2": pg_round(pz["area"], 1),
    })
    return _finish(frame, COMPLIANCE_COLUMNS, parcels if geometria else None)


def compliance_distributed(folder: ExportInput, client: Any = None, *,
                           geometria: bool = False, compute: bool = True) -> Any:
    """Land-use compliance of every parcel of the export: the table of
    :func:`gis.analysis.compliance.compliance` (same columns, order by rol, rules).

    Parameters
    ----------
    folder : an export (:func:`gis.analysis.partitioned.export_partitioned`) or its folder.
    client : a ``distributed.Client``; None: dask's default scheduler.
    geometria : keep each parcel's polygon (a GeoDataFrame, EPSG:32719).
    compute : False returns the lazy dask (Geo)DataFrame, one partition per parcel
        partition and not sorted (e.g. to ``.to_parquet`` national results without
        gathering them).
    """
    export = open_export(folder)
    zones = export.layer("zoning").drop(columns="geometry").set_index("codigo")
    zp, zz = dask.delayed(_zone_pieces(export)), dask.delayed(zones)
    meta = _meta(COMPLIANCE_COLUMNS, geometria)
    lazy = _parcels(export, COMPLIANCE_READS).map_partitions(
        compliance_partition, zp, zz, geometria, meta=meta)
    if not compute:
        return lazy
    frame = _sorted(_compute(lazy, client), COMPLIANCE_COLUMNS, geometria)
    return _describe(frame, "cumplimiento", export, "zoning")


# --- capacity --------------------------------------------------------------------------------

def capacity_partition(parcels: gpd.GeoDataFrame, zone_pieces: gpd.GeoDataFrame,
                       zones: pd.DataFrame, solo_eriazos: bool = False,
                       geometria: bool = False) -> pd.DataFrame:
    """The capacity rows (:data:`gis.analysis.capacity.COLUMNS`) of one partition, by the
    rules of :mod:`gis.analysis.capacity` (``cabida_sql`` and ``analysis_capacity.sql``)."""
    pz = parcel_zone(parcels, zone_pieces)
    norms = zones.reindex(pz["zona"].to_numpy())

    def norm(name: str) -> np.ndarray:
        return norms[name].astype("float64").fillna(0).to_numpy()

    terrain = parcels["superficie_terreno"].astype("float64").to_numpy()
    lot = np.where(np.isnan(terrain), pz["area"].to_numpy(), terrain)
    buildable = lot * norm("coef_constructibilidad")
    dwellings = lot / 10000.0 * norm("densidad_maxima") / float(PEOPLE_PER_DWELLING)
    minimum = norms["superficie_predial_minima"].astype("float64").to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        lots = np.where(minimum > 0, np.maximum(np.floor(lot / minimum), 1), np.nan)
    built = parcels["superficie_construida"].astype("float64").fillna(0).to_numpy()
    destino = parcels["destino"].astype(object)
    frame = pd.DataFrame({
        "rol": parcels["rol"].to_numpy(), "destino": destino.to_numpy(),
        "zona": pz["zona"].to_numpy(), "superficie_m2": pg_round(lot, 1),
        "edificable_max_m2": pg_round(buildable, 1),
        "ocupacion_max_m2": pg_round(lot * norm("coef_ocupacion_suelo"), 1),
        "viviendas_max": pg_round(dwellings, 2),
        "lotes_max": pd.array(lots, dtype="Float64").astype("Int64"),
        "construida_m2": pg_round(built, 1),
        "edificable_residual_m2": pg_round(np.maximum(buildable - built, 0), 1),
        "eriazo": (destino == VACANT).to_numpy(),
    })
    keep = frame["eriazo"].to_numpy() if solo_eriazos else slice(None)
    return _finish(frame[keep], CAPACITY_COLUMNS,
                   parcels[keep] if geometria else None)


def capacity_distributed(folder: ExportInput, client: Any = None, *,
                         solo_eriazos: bool = False, geometria: bool = False,
                         compute: bool = True) -> Any:
    """Zoning capacity of every parcel of the export: the table of
    :func:`gis.analysis.capacity.capacity`; ``solo_eriazos`` keeps vacant parcels only.
    Other parameters as :func:`compliance_distributed`."""
    export = open_export(folder)
    zones = export.layer("zoning").drop(columns="geometry").set_index("codigo")
    zp, zz = dask.delayed(_zone_pieces(export)), dask.delayed(zones)
    meta = _meta(CAPACITY_COLUMNS, geometria)
    lazy = _parcels(export, CAPACITY_READS).map_partitions(
        capacity_partition, zp, zz, solo_eriazos, geometria, meta=meta)
    if not compute:
        return lazy
    frame = _sorted(_compute(lazy, client), CAPACITY_COLUMNS, geometria)
    return _describe(frame, "cabida", export, "zoning", solo_eriazos=solo_eriazos)


# --- exposure --------------------------------------------------------------------------------

def hazard_pieces(hazards: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Each hazard type and level dissolved (overlaps count once) and cut in pieces."""
    merged = (hazards.groupby(["tipo", "nivel"], sort=True)["geometry"]
              .agg(lambda g: shapely.union_all(np.asarray(g.values, dtype=object)))
              .reset_index())
    return pieces(merged[["tipo", "nivel"]], merged["geometry"].to_numpy())


def exposure_partition(parcels: gpd.GeoDataFrame, hazards: gpd.GeoDataFrame,
                       census: gpd.GeoDataFrame) -> dict[str, pd.DataFrame]:
    """One partition's share of the exposure: ``predios`` (per level: exposed parcels and
    their area, built area, avalúo, health and education parcels), ``pesos`` (residential
    area per census zone) and ``residencial`` (residential area per level and census
    zone). ``hazards``: :func:`hazard_pieces` with a ``nivel_id``; ``census``: pieces
    of the census zones."""
    geoms = _geoms(parcels)
    area = shapely.area(geoms)
    gi, li, a, _ = _overlap(geoms, area, _geoms(hazards))
    hits = pd.DataFrame({"nivel_id": hazards["nivel_id"].to_numpy()[li], "i": gi, "a": a})
    hits = hits.groupby(["nivel_id", "i"], as_index=False)["a"].sum()
    hits = hits[hits["a"] > 0]
    destino = parcels["destino"].astype(object).to_numpy()[hits["i"]]
    hits = hits.assign(
        construida=parcels["superficie_construida"].astype("float64").fillna(0)
        .to_numpy()[hits["i"]],
        avaluo=parcels["avaluo_total"].astype("Int64").fillna(0).to_numpy(dtype="int64")
        [hits["i"]],
        salud=destino == CRITICAL_DESTINOS["salud"],
        educacion=destino == CRITICAL_DESTINOS["educacion"])
    exposed = hits.groupby("nivel_id").agg(
        predios=("i", "size"), area=("a", "sum"), construida=("construida", "sum"),
        avaluo=("avaluo", "sum"), salud=("salud", "sum"), educacion=("educacion", "sum"))

    homes = parcels["destino"].astype(object).to_numpy() == "H"
    hg = geoms[homes]
    hi, ci, ha, covered = _overlap(hg, area[homes], _geoms(census))
    piece = hg[hi].copy()  # a parcel covered by the census zone piece: itself
    cut = np.flatnonzero(~covered)
    piece[cut] = [_polygonal(g) for g in shapely.intersection(hg[hi[cut]],
                                                              _geoms(census)[ci[cut]])]
    keep = ha > 0
    piece, piece_area = piece[keep], ha[keep]
    codes = census["geocodigo"].to_numpy()[ci[keep]]
    weights = pd.DataFrame({"geocodigo": codes, "area": piece_area}).groupby(
        "geocodigo")["area"].sum()
    ri, rl, ra, _ = _overlap(piece, piece_area, _geoms(hazards))
    residential = pd.DataFrame({"nivel_id": hazards["nivel_id"].to_numpy()[rl],
                                "geocodigo": codes[ri], "area": ra}).groupby(
        ["nivel_id", "geocodigo"])["area"].sum()
    return {"predios": exposed, "pesos": weights.to_frame(),
            "residencial": residential.to_frame()}


def _polygonal(geom: Any) -> Any:
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def exposure_distributed(folder: ExportInput, client: Any = None) -> pd.DataFrame:
    """Hazard exposure of the whole export: the table of
    :func:`gis.analysis.exposure.hazard_exposure` (one row per hazard type and level).
    The parcels' part (exposed parcels, residential weights of the census areal
    interpolation) runs per partition; projects, security equipment and census zones
    without residential parcels, small layers, on the client."""
    export = open_export(folder)
    hazards = hazard_pieces(export.layer("hazard_zones"))
    levels = hazards[["tipo", "nivel"]].drop_duplicates().reset_index(drop=True)
    hazards = hazards.merge(levels.reset_index(names="nivel_id"), on=["tipo", "nivel"])
    census = export.layer("census_zones")
    census_pieces = pieces(census[["geocodigo"]], _geoms(census))
    hz, cz = dask.delayed(hazards), dask.delayed(census_pieces)
    tasks = [dask.delayed(exposure_partition)(part, hz, cz)
             for part in _parcels(export, EXPOSURE_READS).to_delayed()]
    shares = _compute(tasks, client)

    def total(key: str, by: list[str]) -> pd.DataFrame:
        frames = [s[key] for s in shares if len(s[key])]
        return (pd.concat(frames).groupby(level=by).sum() if frames
                else pd.DataFrame(columns=list(shares[0][key].columns) if shares else []))

    exposed = total("predios", ["nivel_id"])
    weights = total("pesos", ["geocodigo"])
    residential = total("residencial", ["nivel_id", "geocodigo"])
    population = _population(census, hazards, weights, residential, len(levels))
    extra = _small_layers(export, hazards, len(levels))
    frame = levels.copy()
    exposed = exposed.reindex(range(len(levels))).fillna(0)
    frame["predios"] = exposed["predios"].astype("int64").to_numpy()
    frame["superficie_expuesta_m2"] = pg_round(exposed["area"], 1)
    frame["superficie_construida_m2"] = pg_round(exposed["construida"], 1)
    frame["avaluo_total_clp"] = exposed["avaluo"].astype("int64").to_numpy()
    frame["poblacion"] = pg_round(population, 1)
    for column in ("proyectos", "monto_proyectos_clp", "equipamiento_seguridad"):
        frame[column] = extra[column]
    frame["equipamiento_salud"] = exposed["salud"].astype("int64").to_numpy()
    frame["equipamiento_educacion"] = exposed["educacion"].astype("int64").to_numpy()
    rank = {n: i for i, n in enumerate(HAZARD_LEVELS)}
    frame["_orden"] = frame["nivel"].map(rank).fillna(len(rank))
    frame = frame.sort_values(["tipo", "_orden", "nivel"], kind="stable").reset_index(drop=True)
    frame = typed(frame[list(EXPOSURE_COLUMNS)], EXPOSURE_COLUMNS)
    return _describe(frame, "exposicion_amenazas", export, "hazard_zones")


def _population(census: gpd.GeoDataFrame, hazards: gpd.GeoDataFrame, weights: pd.DataFrame,
                residential: pd.DataFrame, levels: int) -> np.ndarray:
    """People per level: by residential area where a census zone has it, else by the
    share of the zone's whole area (``summary`` in ``analysis_exposure.sql``)."""
    people = census.set_index("geocodigo")["poblacion"].astype("float64")
    weight = weights["area"] if len(weights) else pd.Series(dtype="float64")
    out = np.zeros(levels)
    if len(residential):
        r = residential["area"].reset_index()
        w = weight.reindex(r["geocodigo"]).to_numpy()
        ok = w > 0
        value = people.reindex(r["geocodigo"]).to_numpy() * r["area"].to_numpy() / w
        sums = pd.Series(value[ok]).groupby(r["nivel_id"].to_numpy()[ok]).sum()
        out[sums.index.to_numpy(dtype=int)] += sums.to_numpy()
    plain = census[~(weight.reindex(census["geocodigo"]).fillna(0).to_numpy() > 0)]
    zg = _geoms(plain)
    zi, hi = shapely.STRtree(_geoms(hazards)).query(zg, predicate="intersects")
    if len(zi):
        clip = shapely.area(shapely.intersection(zg[zi], _geoms(hazards)[hi]))
        whole = shapely.area(zg)[zi]
        with np.errstate(divide="ignore", invalid="ignore"):
            value = plain["poblacion"].astype("float64").to_numpy()[zi] * clip / whole
        value[whole == 0] = np.nan
        sums = pd.Series(value).groupby(hazards["nivel_id"].to_numpy()[hi]).sum()
        out[sums.index.to_numpy(dtype=int)] += sums.to_numpy()
    return out


def _small_layers(export: PartitionedExport, hazards: gpd.GeoDataFrame, levels: int
                  ) -> dict[str, np.ndarray]:
    """Projects meeting each level (and their cost) and security equipment with area in
    it (``projects`` and ``security`` in ``analysis_exposure.sql``)."""
    hg, level = _geoms(hazards), hazards["nivel_id"].to_numpy()
    projects = export.layer("projects")
    pi, hi = shapely.STRtree(hg).query(_geoms(projects), predicate="intersects")
    met = pd.DataFrame({"nivel_id": level[hi], "fid": projects["fid"].to_numpy()[pi],
                        "monto": projects["monto_clp"].astype("Int64").fillna(0)
                        .to_numpy(dtype="int64")[pi]}).drop_duplicates(["nivel_id", "fid"])
    by = met.groupby("nivel_id").agg(n=("fid", "size"), monto=("monto", "sum"))
    uses = export.layer("land_use")
    ug = _geoms(uses)
    ui, uh = shapely.STRtree(hg).query(ug, predicate="intersects")
    inside = pd.DataFrame({"nivel_id": level[uh], "u": ui,
                           "a": shapely.area(shapely.intersection(ug[ui], hg[uh]))})
    inside = inside.groupby(["nivel_id", "u"])["a"].sum()
    security = (inside[inside > 0].reset_index().groupby("nivel_id").size()
                if len(inside) else pd.Series(dtype="int64"))
    full = range(levels)
    return {"proyectos": by["n"].reindex(full, fill_value=0).to_numpy(dtype="int64"),
            "monto_proyectos_clp": by["monto"].reindex(full, fill_value=0)
            .to_numpy(dtype="int64"),
            "equipamiento_seguridad": security.reindex(full, fill_value=0)
            .to_numpy(dtype="int64")}


# --- results ---------------------------------------------------------------------------------

def _meta(columns: dict[str, str], geometria: bool) -> pd.DataFrame:
    empty = typed(pd.DataFrame({n: pd.Series([], dtype=object) for n in columns}), columns)
    if not geometria:
        return empty
    return gpd.GeoDataFrame(empty, geometry=gpd.GeoSeries([], crs=STORAGE_CRS),
                            crs=STORAGE_CRS)


def _finish(frame: pd.DataFrame, columns: dict[str, str],
            parcels: gpd.GeoDataFrame | None) -> pd.DataFrame:
    frame = typed(frame.reset_index(drop=True), columns)
    if parcels is None:
        return frame
    return gpd.GeoDataFrame(frame, geometry=np.asarray(parcels.geometry.values, dtype=object),
                            crs=STORAGE_CRS)


def _sorted(frame: pd.DataFrame, columns: dict[str, str], geometria: bool) -> pd.DataFrame:
    """By rol in code-point order (PostgreSQL's ``COLLATE "C"``), re-typed after concat."""
    frame = frame.sort_values("rol", kind="stable").reset_index(drop=True)
    out = typed(pd.DataFrame(frame[list(columns)]), columns)
    if geometria:
        return gpd.GeoDataFrame(out, geometry=frame.geometry.values, crs=STORAGE_CRS)
    return out


def _describe(frame: pd.DataFrame, analisis: str, export: PartitionedExport, layer: str,
              **extra: Any) -> pd.DataFrame:
    entry = export.manifest["capas"][layer]
    frame.attrs.update({"analisis": analisis, "area": "toda la exportación",
                        "capa_versionada": layer, "version": entry["version"],
                        "vigente_desde": entry["vigente_desde"],
                        "exportacion": str(export.folder), "motor": "dask-geopandas",
                        **extra})
    return frame


__all__ = ["capacity_distributed", "capacity_partition", "compliance_distributed",
           "compliance_partition", "exposure_distributed", "exposure_partition",
           "hazard_pieces", "parcel_zone", "pg_round", "pieces"]

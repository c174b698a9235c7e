"""The peer of the analysis benchmark: land-use compliance, zoning capacity and hazard
exposure of every parcel written the straightforward way with geopandas. Every layer is
read whole with :func:`geopandas.read_postgis`; the areas come from
:func:`geopandas.overlay` (zones × parcels, dissolved hazards × parcels, census zones
× residential parcels × hazards), projects from :func:`geopandas.sjoin`. The small layer
comes first in each overlay: geopandas indexes the second operand and tests each geometry
of the first against it, so that a few large polygons are tested against the indexed
parcels rather than a million parcels against large unprepared polygons (twice as slow on
the demo).

The rules are the platform's, imported rather than rewritten (the verdict
:func:`gis.analysis.compliance.conformity`, the SII destino classes, the capacity
constants, PostgreSQL's rounding :func:`gis.analysis.distributed.pg_round`), so that the
results can be compared with the platform's row by row. The zone of a parcel is computed
once and shared by compliance and capacity, as one would in a notebook (the platform
computes it for each analysis).
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import sqlalchemy as sa
from psycopg import sql

from gis.analysis.capacity import COLUMNS as CAPACITY_COLUMNS
from gis.analysis.capacity import VACANT
from gis.analysis.common import typed
from gis.analysis.compliance import COLUMNS as COMPLIANCE_COLUMNS
from gis.analysis.compliance import conformity
from gis.analysis.distributed import pg_round
from gis.analysis.exposure import COLUMNS as EXPOSURE_COLUMNS
from gis.analysis.exposure import CRITICAL_DESTINOS, SECURITY_LAND_USE
from layers import get_layer
from layers.codes import HAZARD_LEVELS, SII_DESTINO_CLASS, SII_DESTINOS
from layers.zoning import PEOPLE_PER_DWELLING

LAYERS = ("parcels", "zoning", "hazard_zones", "census_zones", "land_use", "projects")


def load_layers(engine: sa.Engine) -> dict[str, gpd.GeoDataFrame]:
    """Every layer the analyses read, whole (table names from the layer registry)."""
    frames = {}
    for name in LAYERS:
        query = sql.SQL("SELECT * FROM {}").format(sql.Identifier("layers", get_layer(name).name))
        frames[name] = gpd.read_postgis(query.as_string(), engine, geom_col="geom")
    return frames


def parcel_zone(parcels: gpd.GeoDataFrame, zoning: gpd.GeoDataFrame) -> pd.DataFrame:
    """Per parcel (``fid`` index): ``area``, ``zona`` (most of its area, if no less than
    the part outside every zone) and ``porcentaje_zona``."""
    pieces = gpd.overlay(zoning[["codigo", "geom"]], parcels[["fid", "geom"]],
                         how="intersection", keep_geom_type=True)
    pieces["a"] = pieces.area
    hits = pieces.groupby(["fid", "codigo"], as_index=False)["a"].sum()
    zoned = hits.groupby("fid")["a"].sum().rename("zoned")
    best = hits.sort_values(["fid", "a", "codigo"], ascending=[True, False, True]
                            ).drop_duplicates("fid").set_index("fid").join(zoned)
    out = pd.DataFrame({"area": parcels.area.to_numpy()}, index=parcels["fid"].to_numpy())
    out = out.join(best)
    ok = (out["a"] > 0) & (out["a"] >= out["area"] - out["zoned"])
    out["zona"] = out["codigo"].where(ok)
    out["porcentaje_zona"] = np.minimum(100 * out["a"] / out["area"], 100).where(ok)
    return out[["area", "zona", "porcentaje_zona"]]


def compliance(parcels: gpd.GeoDataFrame, zoning: gpd.GeoDataFrame, pz: pd.DataFrame
               ) -> pd.DataFrame:
    """The table of :func:`gis.analysis.compliance.compliance` (without geometry)."""
    uses = zoning.set_index("codigo")[["usos_permitidos", "usos_prohibidos"]]
    frame = parcels[["fid", "rol", "direccion", "destino"]].join(pz, on="fid")
    frame = frame.join(uses, on="zona")
    verdicts, rules, classes = [], [], []
    for row in frame.itertuples():
        zona = row.zona if isinstance(row.zona, str) else None
        destino = row.destino if isinstance(row.destino, str) else None
        clase = SII_DESTINO_CLASS.get(destino) if destino else None
        permitted = row.usos_permitidos if isinstance(row.usos_permitidos, list) else None
        prohibited = row.usos_prohibidos if isinstance(row.usos_prohibidos, list) else None
        verdicts.append(conformity(clase, permitted, prohibited))
        classes.append(clase)
        if zona is None:
            rules.append("predio fuera de las zonas del Plan Regulador")
        elif destino is None:
            rules.append("predio sin destino SII")
        elif clase is None:
            rules.append(f"destino {SII_DESTINOS.get(destino, destino)} sin uso OGUC regulado")
        elif not (permitted or prohibited):
            rules.append(f"zona {zona} sin uso indicado")
        elif clase in (prohibited or []):
            rules.append(f"uso {clase} prohibido en {zona}")
        elif clase in (permitted or []):
            rules.append(f"uso {clase} permitido en {zona}")
        else:
            rules.append(f"uso {clase} no indicado en {zona}")
    out = pd.DataFrame({
        "rol": frame["rol"], "direccion": frame["direccion"], "destino": frame["destino"],
        "destino_nombre": frame["destino"].map(SII_DESTINOS), "clase_oguc": classes,
        "zona": frame["zona"], "porcentaje_zona": pg_round(frame["porcentaje_zona"], 1),
        "resultado": verdicts, "regla": rules, "superficie_m2": pg_round(frame["area"], 1)})
    return typed(out.sort_values("rol").reset_index(drop=True), COMPLIANCE_COLUMNS)


def capacity(parcels: gpd.GeoDataFrame, zoning: gpd.GeoDataFrame, pz: pd.DataFrame
             ) -> pd.DataFrame:
    """The table of :func:`gis.analysis.capacity.capacity` (without geometry)."""
    norms = zoning.drop(columns=["geom", "fid"]).set_index("codigo")
    f = parcels[["fid", "rol", "destino", "superficie_terreno", "superficie_construida"]]
    f = f.join(pz, on="fid").join(norms, on="zona")
    lot = f["superficie_terreno"].fillna(f["area"])
    buildable = lot * f["coef_constructibilidad"].fillna(0)
    built = f["superficie_construida"].fillna(0)
    lots = np.maximum(np.floor(lot / f["superficie_predial_minima"]), 1)
    out = pd.DataFrame({
        "rol": f["rol"], "destino": f["destino"], "zona": f["zona"],
        "superficie_m2": pg_round(lot, 1), "edificable_max_m2": pg_round(buildable, 1),
        "ocupacion_max_m2": pg_round(lot * f["coef_ocupacion_suelo"].fillna(0), 1),
        "viviendas_max": pg_round(lot / 10000.0 * f["densidad_maxima"].fillna(0)
                                  / float(PEOPLE_PER_DWELLING), 2),
        "lotes_max": lots.where(f["superficie_predial_minima"] > 0).astype("Float64"),
        "construida_m2": pg_round(built, 1),
        "edificable_residual_m2": pg_round(np.maximum(buildable - built, 0), 1),
        "eriazo": f["destino"] == VACANT})
    out["eriazo"] = out["eriazo"].fillna(False)
    return typed(out.sort_values("rol").reset_index(drop=True), CAPACITY_COLUMNS)


def exposure(frames: dict[str, gpd.GeoDataFrame]) -> pd.DataFrame:
    """The table of :func:`gis.analysis.exposure.hazard_exposure`."""
    parcels, census = frames["parcels"], frames["census_zones"]
    hazards = frames["hazard_zones"][["tipo", "nivel", "geom"]].dissolve(
        by=["tipo", "nivel"], as_index=False)
    keys = ["tipo", "nivel"]
    cut = gpd.overlay(hazards, parcels[["fid", "geom"]], how="intersection",
                      keep_geom_type=True)
    cut["a"] = cut.area
    hit = cut.groupby([*keys, "fid"], as_index=False)["a"].sum()
    hit = hit[hit["a"] > 0].merge(pd.DataFrame(parcels.drop(columns="geom")), on="fid")
    hit["salud"] = hit["destino"] == CRITICAL_DESTINOS["salud"]
    hit["educacion"] = hit["destino"] == CRITICAL_DESTINOS["educacion"]
    exposed = hit.groupby(keys).agg(
        predios=("fid", "size"), area=("a", "sum"),
        construida=("superficie_construida", lambda s: s.fillna(0).sum()),
        avaluo=("avaluo_total", lambda s: s.fillna(0).sum()),
        salud=("salud", "sum"), educacion=("educacion", "sum"))

    homes = parcels.loc[parcels["destino"] == "H", ["fid", "geom"]]
    pieces = gpd.overlay(census[["geocodigo", "geom"]], homes, how="intersection",
                         keep_geom_type=True)
    pieces = pieces[pieces.area > 0]
    weights = pieces.assign(w=pieces.area).groupby("geocodigo")["w"].sum()
    inside = gpd.overlay(hazards, pieces, how="intersection", keep_geom_type=True)
    inside = inside.assign(a=inside.area).groupby([*keys, "geocodigo"], as_index=False)["a"].sum()
    people = census.set_index("geocodigo")["poblacion"].astype("float64")
    inside = inside.join(weights, on="geocodigo").join(people, on="geocodigo")
    inside = inside[inside["w"] > 0]
    weighted = (inside["poblacion"] * inside["a"] / inside["w"]).groupby(
        [inside["tipo"], inside["nivel"]]).sum()
    plain_zones = census[~census["geocodigo"].isin(weights[weights > 0].index)]
    plain_zones = plain_zones.assign(total=plain_zones.area)
    plain = gpd.overlay(hazards, plain_zones[["geocodigo", "poblacion", "total", "geom"]],
                        how="intersection", keep_geom_type=True)
    plain = (plain["poblacion"].astype("float64") * plain.area / plain["total"]).groupby(
        [plain["tipo"], plain["nivel"]]).sum()

    projects = gpd.sjoin(frames["projects"][["fid", "monto_clp", "geom"]], hazards,
                         predicate="intersects").drop_duplicates([*keys, "fid"])
    projects = projects.groupby(keys).agg(proyectos=("fid", "size"),
                                          monto=("monto_clp", lambda s: s.fillna(0).sum()))
    uses = frames["land_use"]
    uses = uses.loc[uses["uso"] == SECURITY_LAND_USE, ["fid", "geom"]]
    security = gpd.overlay(hazards, uses, how="intersection", keep_geom_type=True)
    security = security.assign(a=security.area).groupby([*keys, "fid"])["a"].sum()
    security = security[security > 0].groupby(level=keys).size()

    out = hazards[keys].set_index(keys)
    out = out.join(exposed).join(weighted.rename("pw")).join(plain.rename("pp"))
    out = out.join(projects).join(security.rename("seguridad")).fillna(0).reset_index()
    table = pd.DataFrame({
        "tipo": out["tipo"], "nivel": out["nivel"], "predios": out["predios"],
        "superficie_expuesta_m2": pg_round(out["area"], 1),
        "superficie_construida_m2": pg_round(out["construida"], 1),
        "avaluo_total_clp": out["avaluo"], "poblacion": pg_round(out["pw"] + out["pp"], 1),
        "proyectos": out["proyectos"], "monto_proyectos_clp": out["monto"],
        "equipamiento_salud": out["salud"], "equipamiento_educacion": out["educacion"],
        "equipamiento_seguridad": out["seguridad"]})
    rank = {n: i for i, n in enumerate(HAZARD_LEVELS)}
    table = table.assign(orden=table["nivel"].map(rank).fillna(len(rank))).sort_values(
        ["tipo", "orden", "nivel"]).drop(columns="orden").reset_index(drop=True)
    return typed(table, EXPOSURE_COLUMNS)


def run_all(engine: sa.Engine) -> dict[str, Any]:
    """Read the layers and compute the three tables: ``{"cumplimiento", "cabida",
    "exposicion"}``."""
    frames = load_layers(engine)
    pz = parcel_zone(frames["parcels"], frames["zoning"])
    return {"cumplimiento": compliance(frames["parcels"], frames["zoning"], pz),
            "cabida": capacity(frames["parcels"], frames["zoning"], pz),
            "exposicion": exposure(frames)}

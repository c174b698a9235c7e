"""The peer of the portfolio benchmark: the projects' territorial profile written the
straightforward way with geopandas. Every layer is read whole with
:func:`geopandas.read_postgis`, then overlays (their intersection step: pairs from the
layer's spatial index, then shapely intersections) and spatial joins (nearest, within a
distance) compute the same sections as :mod:`gis.profile` (rasters left out on both
sides), vectorised over all the projects given.

Same definitions as the platform: shares in the project's own dimension (area, length or
number of points), a geometry covered by the other measured whole; population served by
areal interpolation weighted by residential parcels (destino H) cut by census zone, by
plain area for a zone without them; buffers with 8 segments a quarter circle, as PostGIS
(geopandas' default is 16). The one shortcut, common in geopandas code and taken by the
platform too: a residential piece covered by a buffer counts whole (a vectorised
``covered_by`` on prepared buffers), only the others are intersected; a plain overlay of
the 1 km buffers with the residential pieces cuts some 25 million pairs at 1,000,000
parcels.

:func:`summary` reduces a profile (the platform's JSON or this module's) to the figures
compared, so that the benchmark can report how far the two agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
from psycopg import sql

from gis.profile import MAX_PARCELS, NEARBY_PROJECTS_M, RADII_M, overall_use, relation
from layers import get_layer
from layers.codes import HAZARD_LEVELS, SII_DESTINOS
from layers.projects import OGUC_CLASS

LAYERS = ("projects", "zoning", "land_use", "parcels", "hazard_zones", "port_routes",
          "port_terminals", "census_zones", "planning_sectors")
SECTIONS = ("proyecto", "zonas_prc", "uso_de_suelo", "predios", "riesgos", "puerto",
            "territorio", "poblacion_servida", "proyectos_cercanos")
"""The sections compared (the platform's, without ``rasters``)."""
CHUNK = 250
"""Projects whose buffers are joined with the residential pieces at once (memory)."""


@dataclass
class Layers:
    """The layers in memory, and the residential pieces with each census zone's weight."""

    frames: dict[str, gpd.GeoDataFrame]
    pieces: gpd.GeoDataFrame
    weights: pd.Series


def load_layers(engine: sa.Engine) -> dict[str, gpd.GeoDataFrame]:
    """Every layer the profile uses, read whole (table names from the layer registry)."""
    frames = {}
    for name in LAYERS:
        query = sql.SQL("SELECT * FROM {}").format(sql.Identifier("layers", get_layer(name).name))
        frames[name] = gpd.read_postgis(query.as_string(), engine, geom_col="geom")
    return frames


def prepare(frames: dict[str, gpd.GeoDataFrame]) -> Layers:
    """Residential parcels cut by census zone (the weights of the population served)."""
    parcels = frames["parcels"]
    homes = parcels.loc[parcels["destino"] == "H", ["geom"]]
    zones = frames["census_zones"][["geocodigo", "geom"]]
    pieces = gpd.overlay(homes, zones, how="intersection", keep_geom_type=True)
    pieces["area"] = pieces.area
    pieces = pieces[pieces["area"] > 0].reset_index(drop=True)
    return Layers(frames, pieces, pieces.groupby("geocodigo")["area"].sum())


# -- measures -----------------------------------------------------------------------------

def _measure(geoms: Any, dims: np.ndarray) -> np.ndarray:
    """Area, length or number of points of each geometry, by the project's dimension."""
    geoms = np.asarray(geoms, dtype=object)
    dims = np.asarray(dims)
    return np.where(dims == 2, shapely.area(geoms),
                    np.where(dims == 1, shapely.length(geoms),
                             shapely.get_num_coordinates(geoms).astype(float)))


def _cut(projects: gpd.GeoDataFrame, layer: gpd.GeoDataFrame, columns: dict[str, str]
         ) -> pd.DataFrame:
    """The intersection step of an overlay of the projects with a layer: pairs from the
    layer's spatial index (``intersects``), then their intersections. One row per piece
    with ``codigo``, ``total``, the layer's ``columns`` (layer name: output name),
    ``fila`` (the layer's row) and ``medida``, the piece's measure in the project's
    dimension. (``geopandas.overlay`` does the same, but first copies the layer, checks
    the validity of every geometry and builds a new index: seconds per call for the
    cadastre.)"""
    parts = []
    geoms = np.asarray(layer.geometry.values)
    for dim, group in projects.groupby("dim"):
        mine = np.asarray(group.geometry.values)
        left, right = layer.sindex.query(mine, predicate="intersects")
        frame = pd.DataFrame({"codigo": group["codigo"].values[left],
                              "total": group["total"].values[left],
                              **{out: layer[name].values[right]
                                 for name, out in columns.items()},
                              "fila": right})
        frame["medida"] = _measure(shapely.intersection(mine[left], geoms[right]),
                                   np.full(len(frame), dim))
        parts.append(frame)
    if not parts:
        return pd.DataFrame(columns=["codigo", "total", *columns.values(), "fila", "medida"])
    return pd.concat(parts, ignore_index=True)


def _pct(part: float, total: float) -> float | None:
    return round(100 * part / total, 2) if total else None


def _records(frame: pd.DataFrame) -> dict[str, list[dict[str, Any]]]:
    return {str(code): group.to_dict("records") for code, group in frame.groupby("codigo")}


# -- sections -----------------------------------------------------------------------------

def _proyecto(projects: gpd.GeoDataFrame) -> dict[str, Any]:
    kinds = {2: ("polígono", "m²"), 1: ("línea", "m"), 0: ("punto", "puntos")}
    return {r.codigo: {
        "codigo": r.codigo, "nombre": r.nombre, "sector": r.sector, "etapa": r.etapa,
        "fuentes": r.fuentes, "monto_clp": r.monto_clp, "anio": r.anio,
        "clase_oguc": OGUC_CLASS.get(r.sector), "geometria": kinds[r.dim][0],
        "medida": round(r.total, 1), "unidad": kinds[r.dim][1]}
        for r in projects.itertuples()}


def _zonas(projects: gpd.GeoDataFrame, zoning: gpd.GeoDataFrame) -> dict[str, Any]:
    norms = [c for c in zoning.columns
             if c not in ("fid", zoning.geometry.name, "codigo", "nombre", "familia")]
    cut = _cut(projects, zoning, {"codigo": "zona", "nombre": "nombre", "familia": "familia",
                                  **{n: n for n in norms}})
    cut = cut[cut["medida"] > 0].sort_values(["codigo", "medida", "zona"],
                                             ascending=[True, False, True])
    clase = {r.codigo: OGUC_CLASS.get(r.sector) for r in projects.itertuples()}
    out: dict[str, list[dict[str, Any]]] = {c: [] for c in projects["codigo"]}
    for r in cut.to_dict("records"):
        k = clase[r["codigo"]]
        uso = ("no indicado" if k is None else "prohibido" if k in (r["usos_prohibidos"] or ())
               else "permitido" if k in (r["usos_permitidos"] or ()) else "no indicado")
        out[r["codigo"]].append({
            "codigo": r["zona"], "nombre": r["nombre"], "familia": r["familia"],
            "porcentaje": _pct(r["medida"], r["total"]), "medida": round(r["medida"], 1),
            "uso": uso, "normas": {n: r[n] for n in norms}})
    return {c: {"uso_permitido": overall_use(z), "zonas": z} for c, z in out.items()}


def _uso(projects: gpd.GeoDataFrame, land_use: gpd.GeoDataFrame) -> dict[str, Any]:
    cut = _cut(projects, land_use, {"uso": "uso", "manzana": "manzana"})
    cut = cut[cut["medida"] > 0]
    by = cut.groupby(["codigo", "uso"]).agg(
        total=("total", "min"), medida=("medida", "sum"),
        manzanas=("manzana", lambda s: sorted(set(s.dropna())))).reset_index()
    by["porcentaje"] = [_pct(m, t) for m, t in zip(by["medida"], by["total"], strict=True)]
    by = by.sort_values(["codigo", "medida"], ascending=[True, False])
    out = {c: {"usos": []} for c in projects["codigo"]}
    for code, rows in _records(by[["codigo", "uso", "medida", "porcentaje",
                                   "manzanas"]]).items():
        out[code]["usos"] = rows
    return out


def _predios(projects: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame) -> dict[str, Any]:
    cut = _cut(projects, parcels, {"rol": "rol", "destino": "destino",
                                   "direccion": "direccion"})
    cut["superficie_m2"] = shapely.area(np.asarray(parcels.geometry.values)[cut["fila"]])
    dims = dict(zip(projects["codigo"], projects["dim"], strict=True))
    out = {c: {"total": 0, "superficie_afectada_m2": 0.0 if dims[c] == 2 else None,
               "destinos": {}, "predios": [], "truncado": False} for c in projects["codigo"]}
    for code, group in cut.sort_values(["codigo", "rol"]).groupby("codigo"):
        first = group.head(MAX_PARCELS)
        out[code] = {
            "total": len(group),
            "superficie_afectada_m2": round(group["medida"].sum(), 1) if dims[code] == 2
            else None,
            "destinos": group["destino"].fillna("sin destino").value_counts().sort_index()
            .to_dict(),
            "predios": [{"rol": r.rol, "destino": r.destino,
                         "destino_nombre": SII_DESTINOS.get(r.destino),
                         "direccion": r.direccion, "superficie_m2": round(r.superficie_m2, 1),
                         "medida_afectada": round(r.medida, 1),
                         "porcentaje_predio": _pct(r.medida, r.superficie_m2)
                         if dims[code] == 2 else None} for r in first.itertuples()],
            "truncado": len(group) > MAX_PARCELS}
    return out


def _riesgos(projects: gpd.GeoDataFrame, hazards: gpd.GeoDataFrame) -> dict[str, Any]:
    cut = _cut(projects, hazards, {"tipo": "tipo", "nivel": "nivel",
                                   "fuente_estudio": "fuente_estudio"})
    cut = cut[cut["medida"] > 0]
    by = cut.groupby(["codigo", "tipo", "nivel"]).agg(
        total=("total", "min"), medida=("medida", "sum"),
        fuente_estudio=("fuente_estudio", "min")).reset_index()
    by["porcentaje"] = [_pct(m, t) for m, t in zip(by["medida"], by["total"], strict=True)]
    by["orden"] = by["nivel"].map({n: i for i, n in enumerate(HAZARD_LEVELS)})
    by = by.sort_values(["codigo", "tipo", "orden"])
    out = {c: {"zonas": []} for c in projects["codigo"]}
    for code, rows in _records(by[["codigo", "tipo", "nivel", "medida", "porcentaje",
                                   "fuente_estudio"]]).items():
        out[code]["zonas"] = rows
    return out


def _nearest(projects: gpd.GeoDataFrame, layer: gpd.GeoDataFrame, columns: list[str]
             ) -> dict[str, dict[str, Any]]:
    """The nearest feature of ``layer`` to each project (ties: first by name)."""
    near = gpd.sjoin_nearest(projects[["codigo", "geometry"]], layer[[*columns, "geom"]],
                             distance_col="distancia_m")
    near = near.sort_values(["codigo", "distancia_m", "nombre"]).drop_duplicates("codigo")
    return {r["codigo"]: {**{c: r[c] for c in columns},
                          "distancia_m": round(r["distancia_m"], 1)}
            for r in near.to_dict("records")}


def _puerto(projects: gpd.GeoDataFrame, routes: gpd.GeoDataFrame,
            terminals: gpd.GeoDataFrame, band: float) -> dict[str, Any]:
    route = _nearest(projects, routes, ["nombre", "categoria", "camiones_dia", "ruta_camiones"])
    terminal = _nearest(projects, terminals, ["nombre", "estado", "tipo_carga"])
    trucks = routes[routes["ruta_camiones"].fillna(False).astype(bool)]
    inside = gpd.sjoin(projects[["codigo", "geometry"]], trucks[["nombre", "geom"]],
                       predicate="dwithin", distance=band)
    names = inside.groupby("codigo")["nombre"].agg(sorted).to_dict()
    return {c: {"ruta_cercana": route.get(c),
                "banda_camiones": {"ancho_m": band, "dentro": c in names,
                                   "rutas": names.get(c, [])},
                "terminal_cercano": terminal.get(c)} for c in projects["codigo"]}


def _territorio(projects: gpd.GeoDataFrame, census: gpd.GeoDataFrame,
                sectors: gpd.GeoDataFrame) -> dict[str, Any]:
    out: dict[str, Any] = {c: {"zonas_censales": [], "sectores": []}
                           for c in projects["codigo"]}
    for key, layer, columns in (
            ("zonas_censales", census, {"geocodigo": "geocodigo", "distrito": "distrito",
                                        "poblacion": "poblacion"}),
            ("sectores", sectors, {"codigo": "sector", "nombre": "nombre"})):
        cut = _cut(projects, layer, columns)
        first = next(iter(columns.values()))
        cut = cut[cut["medida"] > 0].sort_values(["codigo", "medida", first],
                                                 ascending=[True, False, True])
        for r in cut.to_dict("records"):
            item = {name: r[out_name] for name, out_name in columns.items()}
            item["porcentaje"] = _pct(r["medida"], r["total"])
            out[r["codigo"]][key].append(item)
    return out


def _poblacion(projects: gpd.GeoDataFrame, data: Layers) -> dict[str, Any]:
    census = data.frames["census_zones"]
    pieces = data.pieces
    pop = census.set_index("geocodigo")["poblacion"].fillna(0)
    zone_area = census.set_index("geocodigo").geometry.area
    zone_geom = census.set_index("geocodigo").geometry
    out: dict[str, Any] = {c: {} for c in projects["codigo"]}
    for radius in RADII_M:
        circles = projects.geometry.buffer(radius, quad_segs=8)  # as PostGIS (geopandas: 16)
        buffers = gpd.GeoDataFrame({"codigo": projects["codigo"].values},
                                   geometry=circles.values, crs=projects.crs)
        res: dict[tuple[str, str], float] = {}
        for start in range(0, len(buffers), CHUNK):
            chunk = buffers.iloc[start:start + CHUNK]
            shapely.prepare(chunk.geometry.values)
            left, right = pieces.sindex.query(chunk.geometry.values, predicate="intersects")
            b = chunk.geometry.values[left]
            p = pieces.geometry.values[right]
            whole = shapely.covered_by(p, b)
            area = np.where(whole, pieces["area"].values[right], 0.0)
            cut = ~whole
            area[cut] = shapely.area(shapely.intersection(p[cut], b[cut]))
            sums = pd.DataFrame({"codigo": chunk["codigo"].values[left],
                                 "geocodigo": pieces["geocodigo"].values[right],
                                 "area": area}).groupby(["codigo", "geocodigo"])["area"].sum()
            res.update(sums.to_dict())
        meets = gpd.sjoin(buffers, census[["geocodigo", "geom"]], predicate="intersects")
        for code, group in meets.groupby("codigo"):
            zonas, total = [], 0.0
            buffer = buffers.geometry.values[group.index[0]]
            for z in sorted(group["geocodigo"]):
                weight = float(data.weights.get(z, 0.0))
                fraction = (res.get((code, z), 0.0) / weight if weight > 0 else
                            shapely.area(shapely.intersection(zone_geom[z], buffer))
                            / zone_area[z] if zone_area[z] else 0.0)
                people = float(pop[z]) * fraction
                total += people
                zonas.append({"geocodigo": z, "poblacion_zona": int(pop[z]),
                              "fraccion": round(fraction, 4),
                              "metodo": "predios residenciales" if weight > 0
                              else "superficie", "poblacion": round(people, 1)})
            out[code][f"radio_{radius}_m"] = {"radio_m": radius, "poblacion": round(total),
                                              "zonas": zonas}
    return {c: {f"radio_{r}_m": v.get(f"radio_{r}_m")
                or {"radio_m": r, "poblacion": 0, "zonas": []} for r in RADII_M}
            for c, v in out.items()}


def _cercanos(projects: gpd.GeoDataFrame, everyone: gpd.GeoDataFrame) -> dict[str, Any]:
    pairs = gpd.sjoin(projects[["codigo", "sector", "geometry"]],
                      everyone[["codigo", "nombre", "sector", "etapa", "geom"]],
                      predicate="dwithin", distance=NEARBY_PROJECTS_M,
                      lsuffix="p", rsuffix="o")
    pairs = pairs[pairs["codigo_p"] != pairs["codigo_o"]]
    pairs["distancia_m"] = shapely.distance(
        pairs.geometry.values, everyone.geometry.values[pairs["index_o"].values]).round(1)
    pairs = pairs.sort_values(["codigo_p", "distancia_m", "codigo_o"])
    out: dict[str, Any] = {c: {"radio_m": NEARBY_PROJECTS_M, "proyectos": []}
                           for c in projects["codigo"]}
    for r in pairs.itertuples():
        out[r.codigo_p]["proyectos"].append({
            "codigo": r.codigo_o, "nombre": r.nombre, "sector": r.sector_o, "etapa": r.etapa,
            "distancia_m": r.distancia_m, "relacion": relation(r.sector_p, r.sector_o)})
    return out


def profiles(data: Layers, codes: list[str] | None = None, *, band: float = 200.0
             ) -> dict[str, dict[str, Any]]:
    """``{codigo: {section: data}}`` of :data:`SECTIONS` for the projects ``codes`` (all
    when ``None``)."""
    f = data.frames
    everyone = f["projects"].reset_index(drop=True)
    projects = everyone if codes is None else everyone[everyone["codigo"].isin(codes)]
    projects = projects.rename_geometry("geometry").reset_index(drop=True)
    projects["dim"] = shapely.get_dimensions(projects.geometry.values)
    projects["total"] = _measure(projects.geometry.values, projects["dim"].values)
    sections = {
        "proyecto": _proyecto(projects),
        "zonas_prc": _zonas(projects, f["zoning"]),
        "uso_de_suelo": _uso(projects, f["land_use"]),
        "predios": _predios(projects, f["parcels"]),
        "riesgos": _riesgos(projects, f["hazard_zones"]),
        "puerto": _puerto(projects, f["port_routes"], f["port_terminals"], band),
        "territorio": _territorio(projects, f["census_zones"], f["planning_sectors"]),
        "poblacion_servida": _poblacion(projects, data),
        "proyectos_cercanos": _cercanos(projects, everyone),
    }
    return {c: {s: sections[s][c] for s in SECTIONS} for c in projects["codigo"]}


# -- comparing ----------------------------------------------------------------------------

def summary(profile: dict[str, Any]) -> dict[str, Any]:
    """The figures of a profile that the benchmark compares between the platform and
    this peer, by section."""
    port = profile["puerto"]
    pob = profile["poblacion_servida"]
    terr = profile["territorio"]
    pr = profile["proyecto"]
    return {
        "proyecto": (pr["nombre"], pr["sector"], pr["clase_oguc"], pr["geometria"],
                     pr["medida"]),
        "zonas_prc": {z["codigo"]: z["porcentaje"] for z in profile["zonas_prc"]["zonas"]},
        "uso_de_suelo": {u["uso"]: u["porcentaje"] for u in profile["uso_de_suelo"]["usos"]},
        "predios": (profile["predios"]["total"], profile["predios"]["superficie_afectada_m2"]),
        "riesgos": {(r["tipo"], r["nivel"]): r["porcentaje"]
                    for r in profile["riesgos"]["zonas"]},
        "puerto": ((port["ruta_cercana"] or {}).get("nombre"),
                   (port["ruta_cercana"] or {}).get("distancia_m"),
                   port["banda_camiones"]["dentro"],
                   (port["terminal_cercano"] or {}).get("nombre"),
                   (port["terminal_cercano"] or {}).get("distancia_m")),
        "territorio": ({z["geocodigo"]: z["porcentaje"] for z in terr["zonas_censales"]},
                       {s["codigo"]: s["porcentaje"] for s in terr["sectores"]}),
        "poblacion_servida": tuple(pob[f"radio_{r}_m"]["poblacion"] for r in RADII_M),
        "proyectos_cercanos": sorted(o["codigo"]
                                     for o in profile["proyectos_cercanos"]["proyectos"]),
    }


def agree(a: Any, b: Any, section: str) -> bool:
    """Whether two summaries of a section agree: the same keys and names, shares and
    distances within 0.02 (rounding), population within 0.5 % or one person."""
    if section == "poblacion_servida":
        return all(abs(x - y) <= max(1.0, 0.005 * max(x, y)) for x, y in zip(a, b, strict=True))
    return _close(a, b)


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) \
            and not isinstance(a, bool) and not isinstance(b, bool):
        return math.isclose(float(a), float(b), abs_tol=0.02 + 1e-6 * abs(float(a)))
    return bool(a == b)

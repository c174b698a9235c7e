"""Demo PRC zoning: a partition of the urban limit into ~50 zones laid out around the port,
the centre, Ruta 78, the quebradas, the coast and the Maipo estuary, with their norms."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely

from gis.demo.common import FILE_DATE, PRC_INSTRUMENT, PSAD56_UTM, UTM, polygonal, rng
from gis.demo.geography import PORT_SPAN, Geography
from gis.demo.partition import absorb_slivers, carve, voronoi_split
from gis.demo.zoning_norms import PREFIX, zone_norms
from layers.zoning import RISK_AREAS

RESIDENTIAL_ZONES = 24
"""Voronoi cells the residential remainder is split into."""
CERRO_ALEGRE = "Modificación PRC San Antonio sector Cerro Alegre (2018)"
HAZARD_TO_RISK = {"tsunami": "tsunami", "inundación": "inundación",
                  "remoción en masa": "remoción en masa",
                  "incendio forestal (interfaz)": "incendio"}
FIELDS = ["COD_ZONA", "NOM_ZONA", "TIPO_ZONA", "USOS_PERM", "USOS_PROH", "SUP_MIN",
          "DENS_MAX", "ALT_MAX_M", "PISOS_MAX", "AGRUPAM", "COEF_CONST", "COEF_OCUP",
          "ANTEJARDIN", "RIESGO", "PROTECCION", "AFECTACION", "INSTRUM"]


def _disc(center: np.ndarray, radius: float) -> shapely.Polygon:
    return shapely.Point(center).buffer(radius, quad_segs=6)


def _spread_points(region: shapely.Geometry, n: int, gen: np.random.Generator,
                   min_dist: float) -> np.ndarray:
    """Up to ``n`` random points of ``region`` at least ``min_dist`` apart."""
    minx, miny, maxx, maxy = region.bounds
    cand = np.column_stack([gen.uniform(minx, maxx, 40 * n), gen.uniform(miny, maxy, 40 * n)])
    cand = cand[shapely.contains_xy(region, cand[:, 0], cand[:, 1])]
    chosen: list[np.ndarray] = []
    for p in cand:
        if all(np.hypot(*(p - q)) >= min_dist for q in chosen):
            chosen.append(p)
        if len(chosen) == n:
            break
    return np.array(chosen).reshape(-1, 2)


def _entry_point(limit: shapely.Geometry, route: shapely.Geometry) -> np.ndarray:
    """Where a route coming from the east first meets the urban limit."""
    hits = shapely.get_coordinates(shapely.intersection(route, limit.boundary))
    return hits[np.argmax(hits[:, 0])]


def layout(limit: shapely.Geometry, geo: Geography, terminals: gpd.GeoDataFrame,
           routes: gpd.GeoDataFrame, quebradas: list[shapely.LineString],
           wetland: shapely.Geometry, seed: int) -> list[tuple[tuple[str, str], object]]:
    """Partition the urban limit into labelled zones ``((familia, role), geometry)``."""
    gen = rng(seed, "zoning")
    term = dict(zip(terminals.name, terminals.geometry, strict=True))
    shapes: list[tuple[tuple[str, str], shapely.Geometry]] = []
    for name, status in zip(terminals.name, terminals.status, strict=True):
        if status == "en operación":
            shapes.append((("portuaria", name), term[name]))
    shapes.append((("protección", "Humedal de Llolleo"), wetland))
    shapes += [(("portuaria", name), term[name]) for name, status in
               zip(terminals.name, terminals.status, strict=True) if status != "en operación"]
    shapes.append((("protección", "ribera río Maipo"), geo.maipo.buffer(180.0)))
    north = shapely.box(geo.extent[0], PORT_SPAN[1], geo.extent[2], geo.extent[3])
    south = shapely.box(geo.extent[0], geo.extent[1], geo.extent[2], PORT_SPAN[0])
    shore = geo.coast.buffer(80.0, quad_segs=4)
    shapes += [(("área verde", "borde costero norte"), shapely.intersection(shore, north)),
               (("área verde", "borde costero sur"), shapely.intersection(shore, south))]
    for i, q in enumerate(quebradas):
        shapes.append((("área verde", f"quebrada {i + 1}"), q.buffer(55.0, quad_segs=4)))
    port_mid = np.asarray(geo.port_coast.centroid.coords[0])
    centre = port_mid + np.array([650.0, -150.0])
    shapes += [(("centro", "centro fundacional"), _disc(centre, 380.0)),
               (("centro", "centro ampliado"), _disc(centre, 750.0))]
    r78 = routes.geometry[routes.category == "autopista"].iloc[0]
    entry = _entry_point(limit, r78)
    industrial = _disc(entry + np.array([-250.0, 0.0]), 700.0)
    pieces, rest = carve(limit, shapes)
    ind_cells = voronoi_split(shapely.intersection(rest, industrial),
                              entry + np.array([[-150.0, 400.0], [-150.0, -400.0]]))
    pieces += [(("industrial", f"acceso Ruta 78 {i + 1}"), c) for i, c in
               enumerate(ind_cells)]
    rest = polygonal(shapely.difference(rest, industrial))
    return _fill_remainder(pieces, rest, routes, gen)


def _fill_remainder(pieces: list, rest: shapely.Geometry, routes: gpd.GeoDataFrame,
                    gen: np.random.Generator) -> list:
    """Equipment sites, parks, mixed corridors along the truck routes, then residential
    Voronoi cells over what is left; slivers are absorbed at the end."""
    shapes = []
    for i, p in enumerate(_spread_points(rest.buffer(-200.0), 4, gen, 900.0)):
        shapes.append((("equipamiento", f"sitio {i + 1}"), _disc(p, gen.uniform(130, 200))))
    for i, p in enumerate(_spread_points(rest.buffer(-150.0), 2, gen, 1_500.0)):
        shapes.append((("área verde", f"parque {i + 1}"), _disc(p, gen.uniform(90, 140))))
    trucks = routes.geometry[routes.category == "ruta de camiones urbana"]
    corridor = shapely.union_all(trucks.buffer(90.0, cap_style="flat").values)
    more, rest = carve(rest, shapes)
    corridor = polygonal(shapely.intersection(rest, corridor))
    rest = polygonal(shapely.difference(rest, corridor))
    if not corridor.is_empty:
        seeds = _spread_points(corridor, 4, gen, 1_000.0)
        more += [(("mixta", f"corredor {i + 1}"), c) for i, c in
                 enumerate(voronoi_split(corridor, seeds))]
    seeds = _spread_points(rest, RESIDENTIAL_ZONES * 4, gen, 200.0)
    seeds = _lloyd(rest, seeds[:RESIDENTIAL_ZONES])
    more += [(("residencial", f"{i + 1}"), c) for i, c in
             enumerate(voronoi_split(rest, seeds))]
    labelled = [((fam, role, k), g) for k, ((fam, role), g) in enumerate(pieces + more)]
    return [(lab[:2], g) for lab, g in absorb_slivers(labelled, 8_000.0, 25.0)]


def _lloyd(region: shapely.Geometry, seeds: np.ndarray, rounds: int = 2) -> np.ndarray:
    """Move Voronoi seeds to their cells' centroids to even out the cell sizes."""
    for _ in range(rounds):
        moved = []
        for cell, seed in zip(voronoi_split(region, seeds), seeds, strict=True):
            if cell.is_empty:
                moved.append(seed)
                continue
            c = cell.centroid if region.contains(cell.centroid) else cell.representative_point()
            moved.append(np.asarray(c.coords[0]))
        seeds = np.array(moved)
    return seeds


def _sector_of(geoms: np.ndarray, sectors: gpd.GeoDataFrame) -> list[str]:
    """Name of the sector holding most of each geometry."""
    out = []
    for g in geoms:
        shares = shapely.area(shapely.intersection(sectors.geometry.values, g))
        out.append(sectors.sector.iloc[int(np.argmax(shares))])
    return out


def _name(family: str, role: str, sector: str, density: float,
          gen: np.random.Generator) -> str:
    if family in ("portuaria", "protección"):
        return f"{family.capitalize()} {role}"
    if family == "centro":
        return role.capitalize()
    if family == "industrial":
        return f"Industrial y logística acceso Ruta 78, {sector}"
    if family == "mixta":
        return f"Mixta corredor de transporte, {sector}"
    if family == "equipamiento":
        kind = gen.choice(["deportivo", "educacional", "de salud", "comunal"])
        return f"Equipamiento {kind}, {sector}"
    if family == "área verde":
        kind = role.split()[0]
        label = {"borde": "borde costero", "quebrada": "quebrada", "parque": "parque urbano"}
        return f"Área verde {label[kind]}, {sector}"
    level = "baja" if density < 250 else "media" if density < 450 else "alta"
    return f"Residencial densidad {level}, {sector}"


def _risks(geoms: np.ndarray, hazards: gpd.GeoDataFrame,
           quebradas: list[shapely.LineString]) -> list[str | None]:
    """Risk areas (RISK_AREAS) covering > 3 % of a zone (and > 5,000 m²)."""
    overlays = {HAZARD_TO_RISK[h]: shapely.union_all(g.values)
                for h, g in hazards.geometry.groupby(hazards.amenaza) if h in HAZARD_TO_RISK}
    overlays["quebrada"] = shapely.union_all([q.buffer(30.0) for q in quebradas])
    out = []
    for g in geoms:
        hit = [r for r in RISK_AREAS if r in overlays and
               shapely.intersection(g, overlays[r]).area > max(0.03 * g.area, 5_000.0)]
        out.append("; ".join(hit) or None)
    return out


def zoning_table(pieces: list, sectors: gpd.GeoDataFrame, hazards: gpd.GeoDataFrame | None,
                 routes: gpd.GeoDataFrame, quebradas: list[shapely.LineString],
                 seed: int) -> gpd.GeoDataFrame:
    """Zones with codes, names and norms (EPSG:32719), in the zoning shapefile's columns.

    Parameters
    ----------
    pieces : list of ((familia, role), geometry)
        Output of :func:`layout`.
    sectors : GeoDataFrame
        Planning sectors (names zones after their locality).
    hazards : GeoDataFrame or None
        Hazard zones (sets RIESGO); None leaves RIESGO empty.
    routes : GeoDataFrame
        Port routes (the truck routes set AFECTACION of the corridors).
    quebradas : list of LineString
    seed : int

    Returns
    -------
    GeoDataFrame
    """
    gen = rng(seed, "zoning-norms")
    # a 1 cm grid removes near-degenerate spikes that reprojection would fold over
    geoms = shapely.set_precision(np.array([g for _, g in pieces], dtype=object), 0.01)
    fams = [f for (f, _), _ in pieces]
    order = np.lexsort((shapely.get_coordinates(shapely.centroid(geoms))[:, 0],
                        -shapely.get_coordinates(shapely.centroid(geoms))[:, 1]))
    sectors_of = _sector_of(geoms, sectors)
    counters: dict[str, int] = {}
    rows = []
    for i in order:
        family, role = pieces[i][0]
        counters[family] = counters.get(family, 0) + 1
        norms = zone_norms(family, gen)
        rows.append({"COD_ZONA": f"{PREFIX[family]}-{counters[family]}",
                     "NOM_ZONA": _name(family, role, sectors_of[i], norms["DENS_MAX"], gen),
                     "TIPO_ZONA": family, **norms, "geometry": geoms[i], "_role": role})
    table = gpd.GeoDataFrame(rows, geometry="geometry", crs=UTM)
    table["RIESGO"] = (_risks(table.geometry.values, hazards, quebradas)
                       if hazards is not None else None)
    table["PROTECCION"] = table._role.map({
        "Humedal de Llolleo": "Humedal urbano (Ley 21.202)",
        "ribera río Maipo": "Cauce y ribera del río Maipo",
        "centro fundacional": "Inmuebles de Conservación Histórica (ICH)"})
    trucks = routes[routes.category == "ruta de camiones urbana"]
    table["AFECTACION"] = [_affectation(g, role, trucks) for g, role in
                           zip(table.geometry, table._role, strict=True)]
    table["INSTRUM"] = PRC_INSTRUMENT
    residential = np.flatnonzero(np.array(fams)[order] == "residencial")
    if len(residential):
        table.loc[int(gen.choice(residential)), "INSTRUM"] = CERRO_ALEGRE
    return table[[*FIELDS, "geometry"]]


def _affectation(geom: shapely.Geometry, role: str, trucks: gpd.GeoDataFrame) -> str | None:
    if role.startswith("parque"):
        return "Parque proyectado (art. 59 LGUC)"
    if not role.startswith("corredor"):
        return None
    names = [n for n, g in zip(trucks.name, trucks.geometry, strict=True)
             if g.intersects(geom)]
    return f"Ensanche {names[0]} a 30 m (art. 59 LGUC)" if names else None


def write_zoning_shapefile(table: gpd.GeoDataFrame, path: Path) -> Path:
    """Write the zoning as a legacy municipal shapefile: EPSG:24879 (PSAD56 / UTM 19S),
    Latin-1 DBF with a .cpg, upper-case column names."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for ext in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
        path.with_suffix(ext).unlink(missing_ok=True)
    for col in table.columns.drop("geometry"):
        values = table[col].dropna()
        if values.map(lambda v: isinstance(v, str) and len(v.encode("latin-1")) > 254).any():
            raise ValueError(f"{col}: value longer than 254 bytes for a DBF field")
    out = table.to_crs(PSAD56_UTM)
    pyogrio.write_dataframe(out, path, driver="ESRI Shapefile", encoding="LATIN1",
                            promote_to_multi=True)
    path.with_suffix(".cpg").write_text("LATIN1", encoding="ascii")
    _stamp_dbf(path.with_suffix(".dbf"), FILE_DATE)
    return path


def _stamp_dbf(dbf: Path, iso: str) -> None:
    """Set the DBF header's last-update date (bytes 1-3) to a fixed day."""
    year, month, day = (int(v) for v in iso[:10].split("-"))
    with dbf.open("r+b") as fh:
        fh.seek(1)
        fh.write(bytes([year - 1900, month, day]))

"""Hazard zones derived from the synthetic terrain and the port: tsunami, flooding,
landslides, wildfire interface, protected wetland and port pollution."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
import shapely.geometry
from rasterio import features
from scipy import ndimage

from gis.demo.common import UTM, polygonal
from gis.demo.geography import Geography
from gis.demo.terrain import Terrain

LEVELS = {1: "bajo", 2: "medio", 3: "alto"}
STUDIES = {
    "tsunami": "Carta de inundación por tsunami de diseño (simulada, demostración)",
    "inundación": "Estudio de riesgos PRC San Antonio: cauces y esteros (demostración)",
    "remoción en masa": "Estudio de riesgos PRC San Antonio: laderas (demostración)",
    "incendio forestal (interfaz)": "Análisis de interfaz urbano-forestal (demostración)",
    "humedal protegido": "Humedal urbano Ley 21.202, delimitación de demostración",
    "contaminación portuaria": "Modelo de dispersión de material particulado portuario "
                               "(demostración)",
}
SLOPE_LOW, SLOPE_MEDIUM, SLOPE_HIGH = 10.0, 15.0, 22.0
"""Slope thresholds (degrees) of the landslide levels."""
PORT_RINGS = (300.0, 800.0, 1_500.0)
"""Outer radius (m) of the alto, medio and bajo port-pollution rings."""
MIN_AREA = 10_000.0
SIMPLIFY = 25.0


def polygonize(classes: np.ndarray, terrain: Terrain, clip: shapely.Geometry,
               min_area: float = MIN_AREA) -> dict[int, shapely.Geometry]:
    """Polygons of each non-zero class of a raster, simplified as a coverage (levels keep
    common edges), clipped to ``clip``.

    Returns
    -------
    dict class -> (Multi)Polygon, EPSG:32719
    """
    classes = ndimage.median_filter(classes.astype(np.uint8), size=3)
    shapes = features.shapes(classes, mask=classes > 0, transform=terrain.transform)
    found: list[tuple[shapely.Geometry, int]] = [
        (shapely.geometry.shape(geom), int(value)) for geom, value in shapes]
    if not found:
        return {}
    geoms = [g for g, _ in found]
    values = np.array([v for _, v in found])
    merged = [shapely.union_all(np.array(geoms, dtype=object)[values == v])
              for v in sorted(set(values))]
    simple = shapely.coverage_simplify(np.array(merged, dtype=object), SIMPLIFY)
    out = {}
    for v, geom in zip(sorted(set(values)), simple, strict=True):
        geom = polygonal(shapely.intersection(shapely.make_valid(geom), clip), min_area)
        if not geom.is_empty:
            out[v] = geom
    return out


def _levels(*masks: np.ndarray) -> np.ndarray:
    """Class raster from masks of increasing level (bajo, medio, alto)."""
    out = np.zeros(masks[0].shape, np.uint8)
    for level, mask in enumerate(masks, start=1):
        out[mask] = level
    return out


def tsunami(terrain: Terrain, comuna: shapely.Geometry) -> dict[int, shapely.Geometry]:
    """Levels of the design tsunami: depth > 3 m alto, > 1 m medio, > 5 cm bajo."""
    depth = terrain.tsunami_depth()
    return polygonize(_levels(depth > 0.05, depth > 1.0, depth > 3.0), terrain, comuna)


def flooding(terrain: Terrain, comuna: shapely.Geometry) -> dict[int, shapely.Geometry]:
    """Low ground of the Maipo valley (height above the valley floor) and quebrada beds."""
    land = ~terrain.water
    above = terrain.dem - terrain.maipo_floor
    dist = np.where(land, terrain.maipo_dist, np.inf)
    rows, cols = terrain.shape
    beds = features.rasterize([q.buffer(60.0) for q in terrain.quebradas], (rows, cols),
                              transform=terrain.transform).astype(bool)
    beds &= land & (terrain.dem < 25.0)
    return polygonize(_levels((dist < 2_000.0) & (above < 6.0) | beds,
                              (dist < 1_200.0) & (above < 3.5),
                              (dist < 600.0) & (above < 1.5)), terrain, comuna)


def landslides(terrain: Terrain, comuna: shapely.Geometry) -> dict[int, shapely.Geometry]:
    """Levels of landslide susceptibility by slope (SLOPE_LOW/MEDIUM/HIGH degrees)."""
    slope = terrain.slope_deg()
    slope[terrain.water] = 0.0
    return polygonize(_levels(slope >= SLOPE_LOW, slope >= SLOPE_MEDIUM,
                              slope >= SLOPE_HIGH), terrain, comuna, min_area=20_000.0)


def wetland(terrain: Terrain, geo: Geography, comuna: shapely.Geometry) -> shapely.Geometry:
    """Humedal de Llolleo: the low flats (< 3 m) within 1.1 km of the Maipo mouth."""
    rows, cols = np.indices(terrain.shape)
    t = terrain.transform
    xs, ys = t.c + (cols + 0.5) * t.a, t.f + (rows + 0.5) * t.e
    near = np.hypot(xs - geo.mouth.x, ys - geo.mouth.y) < 1_100.0
    mask = near & ~terrain.water & (terrain.dem < 3.0)
    polys = polygonize(mask.astype(np.uint8), terrain, comuna, min_area=20_000.0)
    if not polys:
        return shapely.Polygon()
    geom = polys[1].buffer(60.0).buffer(-60.0)
    return polygonal(shapely.intersection(geom, comuna), 20_000.0)


def interface(limit: shapely.Geometry, comuna: shapely.Geometry,
              water: shapely.Geometry) -> dict[int, shapely.Geometry]:
    """Bands along the urban limit's land-facing edge (not the coast or the river)."""
    edge = shapely.difference(limit.boundary, shapely.union(comuna.boundary,
                                                            water).buffer(60.0))
    high = edge.buffer(100.0, quad_segs=4)
    medium = shapely.difference(edge.buffer(300.0, quad_segs=4), high)
    return {lvl: polygonal(shapely.intersection(g, comuna).simplify(10.0), MIN_AREA)
            for lvl, g in ((3, high), (2, medium))}


def port_pollution(terminals: gpd.GeoDataFrame,
                   comuna: shapely.Geometry) -> dict[int, shapely.Geometry]:
    """Rings around the operating terminals."""
    ops = shapely.union_all(terminals.geometry[terminals.status == "en operación"].values)
    out, inner = {}, shapely.Polygon()
    for level, radius in zip((3, 2, 1), PORT_RINGS, strict=True):
        ring = shapely.difference(ops.buffer(radius), inner)
        out[level] = polygonal(shapely.intersection(ring, comuna), MIN_AREA)
        inner = ops.buffer(radius)
    return out


def hazard_zones(terrain: Terrain, geo: Geography, comuna: shapely.Geometry,
                 limit: shapely.Geometry, terminals: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """All hazard zones of the comuna, one feature per polygon.

    Parameters
    ----------
    terrain : Terrain
    geo : Geography
    comuna, limit : Polygon
        The comuna and the urban limit (EPSG:32719).
    terminals : GeoDataFrame
        Port terminals (``status`` tells the operating ones).

    Returns
    -------
    GeoDataFrame with amenaza, nivel, estudio (EPSG:32719)
    """
    layers = {
        "tsunami": tsunami(terrain, comuna),
        "inundación": flooding(terrain, comuna),
        "remoción en masa": landslides(terrain, comuna),
        "incendio forestal (interfaz)": interface(limit, comuna, geo.water),
        "humedal protegido": {3: wetland(terrain, geo, comuna)},
        "contaminación portuaria": port_pollution(terminals, comuna),
    }
    rows = []
    for hazard, levels in layers.items():
        for level in sorted(levels, reverse=True):
            for part in shapely.get_parts(levels[level]):
                if not part.is_empty:
                    rows.append((hazard, LEVELS[level], STUDIES[hazard], part))
    cols = ["amenaza", "nivel", "estudio", "geometry"]
    return gpd.GeoDataFrame(rows, columns=cols, geometry="geometry", crs=UTM)

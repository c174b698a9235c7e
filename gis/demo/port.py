"""Puerto San Antonio: terminals along the port's coast and the access routes (Ruta 78,
Ruta 66, urban truck routes, railway)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
import shapely.ops

from gis.demo.common import UTM, polygonal, rng, smooth_line, wiggle_line
from gis.demo.geography import Geography

TERMINALS = (  # name, cargo, status, northing band (EPSG:32719), depth inland (m)
    ("Terminal STI", "contenedores", "en operación", (6279350.0, 6280000.0), 300.0),
    ("Puerto Central", "contenedores y carga general", "en operación",
     (6280000.0, 6280650.0), 320.0),
    ("Terminal Panul", "graneles sólidos", "en operación", (6280650.0, 6281250.0), 260.0),
    ("Puerto Exterior", "contenedores", "planificado", (6277950.0, 6279350.0), 420.0),
)

# Control points (EPSG:32719) of the routes, placed on the chilemapas boundaries: Ruta 78
# arrives from the east and enters the town between Bellavista and Tejas Verdes; Ruta 66
# comes up the Maipo valley from the south-east and joins it at the urban edge.
JUNCTION = (259750.0, 6278450.0)
RUTA_78 = ((286000.0, 6278600.0), (280000.0, 6278300.0), (274000.0, 6277500.0),
           (268000.0, 6278300.0), (263500.0, 6278650.0), JUNCTION, (258700.0, 6278850.0))
RUTA_66 = ((277500.0, 6256500.0), (272500.0, 6263500.0), (267200.0, 6269800.0),
           (263200.0, 6273900.0), (261100.0, 6276500.0), JUNCTION)
TRUCK_ROUTES = (  # name, control points, terminal reached
    ("Acceso Norte al Puerto", ((262300.0, 6278700.0), (260900.0, 6280100.0),
                                (259300.0, 6280900.0), (258200.0, 6281050.0)),
     "Terminal Panul"),
    ("Eje Portuario Centro", (JUNCTION, (258900.0, 6279600.0), (257900.0, 6280250.0)),
     "Puerto Central"),
    ("Acceso Sur al Puerto", (JUNCTION, (258700.0, 6278850.0), (257800.0, 6279250.0)),
     "Terminal STI"),
    ("Camino Costero Llolleo", ((261100.0, 6276500.0), (259400.0, 6277000.0),
                                (258200.0, 6277900.0)), "Puerto Exterior"),
)
RAIL_OFFSET = 350.0
"""Distance (m) of the railway from the Maipo's course, on the San Antonio bank."""


def terminals(geo: Geography, comuna: shapely.Geometry) -> gpd.GeoDataFrame:
    """Port terminals: strips of land along the coast of the port (and the planned Puerto
    Exterior to the south), one per northing band.

    Returns
    -------
    GeoDataFrame with name, cargo, status (EPSG:32719)
    """
    rows = []
    for name, cargo, status, (y0, y1), depth in TERMINALS:
        band = shapely.box(geo.extent[0], y0, geo.extent[2], y1)
        shore = shapely.intersection(geo.coast, band)
        area = shapely.intersection(shore.buffer(depth, join_style="mitre"), band)
        area = polygonal(shapely.intersection(area, comuna), 2_000.0)
        rows.append((name, cargo, status, area.simplify(5.0)))
    return gpd.GeoDataFrame(rows, columns=["name", "cargo", "status", "geometry"],
                            geometry="geometry", crs=UTM)


def _gate(terminal: shapely.Geometry, towards: tuple[float, float]) -> np.ndarray:
    """A point just inside the terminal, on the side facing ``towards``."""
    edge = shapely.ops.nearest_points(terminal, shapely.Point(towards))[0]
    inner = terminal.representative_point()
    return np.asarray(edge.coords[0]) * 0.7 + np.asarray(inner.coords[0]) * 0.3


def routes(geo: Geography, comuna: shapely.Geometry, terminals_gdf: gpd.GeoDataFrame,
           seed: int) -> gpd.GeoDataFrame:
    """Access routes of the port, clipped to the comuna.

    Parameters
    ----------
    geo : Geography
    comuna : Polygon
    terminals_gdf : GeoDataFrame
        Output of :func:`terminals`.
    seed : int

    Returns
    -------
    GeoDataFrame with name, category, trucks_day, truck_route (EPSG:32719)
    """
    gen = rng(seed, "port")
    by_name = dict(zip(terminals_gdf.name, terminals_gdf.geometry, strict=True))
    rows = []
    r78 = wiggle_line(np.array(RUTA_78[:-2]), gen, 200.0, 250.0)
    r78 = np.vstack([r78, RUTA_78[-2:], _gate(by_name["Terminal STI"], RUTA_78[-1])])
    rows.append(("Ruta 78 Autopista del Sol", "autopista", int(gen.integers(4200, 5400)),
                 True, smooth_line(r78, 2)))
    r66 = wiggle_line(np.array(RUTA_66[:-1]), gen, 200.0, 200.0)
    rows.append(("Ruta 66 Camino de la Fruta", "ruta nacional",
                 int(gen.integers(2300, 3300)), True,
                 smooth_line(np.vstack([r66, RUTA_66[-1:]]), 2)))
    for name, points, terminal in TRUCK_ROUTES:
        pts = np.vstack([points, _gate(by_name[terminal], points[-1])])
        rows.append((name, "ruta de camiones urbana", int(gen.integers(600, 2300)), True,
                     smooth_line(pts, 1)))
    rows.append(("Ferrocarril Santiago - San Antonio", "ferrocarril", 0, False,
                 _railway(geo, by_name["Terminal STI"])))
    out = []
    for name, cat, trucks, allowed, coords in rows:
        line = shapely.intersection(shapely.LineString(coords), comuna)
        line = shapely.line_merge(line) if line.geom_type == "MultiLineString" else line
        out.append((name, cat, trucks, allowed, line))
    cols = ["name", "category", "trucks_day", "truck_route", "geometry"]
    return gpd.GeoDataFrame(out, columns=cols, geometry="geometry", crs=UTM)


def _railway(geo: Geography, terminal: shapely.Geometry) -> np.ndarray:
    """Up the Maipo valley on the San Antonio bank, then north along the coastal plain."""
    river = shapely.ops.substring(geo.maipo, 1_500.0, 22_000.0)
    bank = river.offset_curve(RAIL_OFFSET, join_style="round").simplify(50.0)
    pts = np.asarray(bank.coords)
    if pts[0, 1] > pts[-1, 1]:  # from upstream (south-east) to the mouth
        pts = pts[::-1]
    mouth = np.asarray(geo.mouth.coords[0])
    approach = mouth + np.array([900.0, 700.0])
    return smooth_line(np.vstack([pts, approach, _gate(terminal, tuple(approach))]), 2)

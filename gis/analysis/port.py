"""Port influence: what lies near the truck routes and terminals of the Puerto San
Antonio, how far each parcel is from the port along the route network, and where truck
routes cross residential zones.

- Truck routes are the port access routes marked ``ruta_camiones`` (``layers.port_routes``);
  terminals are ``layers.port_terminals`` (in operation and planned).
- Distance bands are half-open ``[desde, hasta)`` in metres, given as their edges
  (:data:`DEFAULT_BANDS`: 0–100, 100–300, 300–500 and 500–1000 m). A parcel falls in the
  band of its distance (nearest part to nearest part; 0 when it touches or lies inside).
- Population: census areal interpolation weighted by residential parcels, as in the hazard
  exposure (``gis.profile.ensure_residential_weights``): each residential piece (a
  destino H parcel cut by its census zone) carries its zone's people times its share of
  the zone's residential area and falls in the band of its distance; a zone without
  residential parcels spreads its people by area over the bands' rings.
- Along-network distance (:func:`port_distances`): a graph is built with networkx from the
  truck routes' vertices (lines densified to at most ``paso_m`` metres between vertices;
  vertices closer than ``tolerancia_m`` merged into one node, so that routes drawn to meet
  are connected; routes that cross without a shared vertex are not, as at an overpass),
  edges weighted by their length. Nodes within ``alcance_terminal_m`` of a terminal are
  its access nodes; Dijkstra from them gives each node's distance to the nearest terminal
  along the network. A parcel's distance is its straight distance to the nearest node
  reached from a terminal plus that node's network distance.

Examples
--------
>>> port_influence(settings, bandas=(0, 100, 300, 500, 1000))       # doctest: +SKIP
>>> port_distances(settings, area="Barrancas").sort_values("distancia_puerto_red_m")
...                                                                  # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import networkx as nx
import pandas as pd
import psycopg
import shapely
from psycopg import sql

from gis.analysis.common import (
    PIECE_VERTICES,
    AnalysisArea,
    AnalysisInputError,
    AreaInput,
    Connectable,
    LayerChoice,
    analysis_transaction,
    area_condition,
    describe,
    fetch_frame,
    geometry_column,
    layer_version,
    load_area,
    resolve_area,
    run_script,
    session,
    sql_sections,
)
from gis.profile import ensure_residential_weights
from layers.zoning import ZONE_FAMILIES

SQL = sql_sections("analysis_port")
DEFAULT_BANDS = (0.0, 100.0, 300.0, 500.0, 1000.0)
"""Edges of the default distance bands (m)."""
REFERENCES = ("rutas de camiones", "terminales")
SENSITIVE_DESTINOS = {"educacion": "E", "salud": "S"}
"""SII destinos of sensitive uses: schools and health."""
RESIDENTIAL_DESTINO = "H"
RESIDENTIAL_FAMILIES = ("residencial",)
"""Zone families (``layers.zoning.familia``) always counted as residential zones."""
RESIDENTIAL_USE = "residencial"
"""The OGUC use whose permission makes any zone residential (mixed and centre zones)."""
SNAP_TOLERANCE_M = 1.0
DENSIFY_STEP_M = 25.0
TERMINAL_REACH_M = 100.0

INFLUENCE_COLUMNS = {
    "referencia": "str", "banda": "str", "desde_m": "float64", "hasta_m": "float64",
    "predios": "int64", "predios_residenciales": "int64", "superficie_predios_m2": "float64",
    "poblacion": "float64", "establecimientos_educacion": "int64",
    "establecimientos_salud": "int64",
}
DISTANCE_COLUMNS = {
    "rol": "str", "direccion": "str", "destino": "str",
    "distancia_ruta_camiones_m": "float64", "ruta_camiones": "str",
    "banda_ruta_camiones": "str", "distancia_terminal_m": "float64", "terminal": "str",
    "banda_terminal": "str", "distancia_acceso_red_m": "float64", "distancia_red_m": "float64",
    "distancia_puerto_red_m": "float64", "terminal_red": "str",
}
CROSSING_COLUMNS = {
    "zona": "str", "nombre": "str", "familia": "str", "superficie_zona_m2": "float64",
    "longitud_m": "float64", "rutas": "int64", "nombres_rutas": "str",
    "camiones_dia_max": "Int64", "camiones_km_dia": "float64",
}


def parse_bands(bandas: Sequence[float] | str) -> list[tuple[float, float, str]]:
    """``(desde, hasta, etiqueta)`` of each band from its edges (``(0, 100, 300)`` or
    ``"0,100,300"``): at least two edges, non-negative and increasing."""
    hint = "Indique los bordes de las bandas en metros, crecientes, p. ej. 0,100,300,500,1000."
    values = bandas.replace(";", ",").split(",") if isinstance(bandas, str) else list(bandas)
    try:
        edges = [float(v) for v in values]
    except (TypeError, ValueError):
        raise AnalysisInputError(f"Bandas de distancia no válidas: «{str(bandas)[:60]}».",
                                 hint=hint) from None
    if len(edges) < 2 or not all(math.isfinite(e) and e >= 0 for e in edges) or any(
            b <= a for a, b in zip(edges, edges[1:], strict=False)):
        raise AnalysisInputError(
            f"Bandas de distancia no válidas: «{str(bandas)[:60]}» (se necesitan al menos "
            "dos bordes, no negativos y crecientes).", hint=hint)
    return [(a, b, f"{_metres(a)}–{_metres(b)} m")
            for a, b in zip(edges, edges[1:], strict=False)]


def _metres(value: float) -> str:
    return f"{value:g}".replace(".", ",")


def _band_params(bands: list[tuple[float, float, str]]) -> dict[str, Any]:
    return {"desde": [b[0] for b in bands], "hasta": [b[1] for b in bands],
            "etiquetas": [b[2] for b in bands]}


def _companion(conn: psycopg.Connection, layer: str,
               fecha: date | datetime | str | None) -> LayerChoice:
    """A layer read with the analysed one: in force on ``fecha`` when given, else now."""
    return layer_version(conn, layer, fecha=fecha)


def _recorte(area: AnalysisArea, geometry: str) -> sql.Composable:
    """``geometry`` clipped to the area (itself for the whole comuna)."""
    if area.geometry is None:
        return sql.SQL(geometry)  # type: ignore[arg-type]
    return sql.SQL(f"ST_Intersection({geometry}, ST_GeomFromWKB(%(area)s, 32719))"
                   )  # type: ignore[arg-type]


def _prepare(conn: psycopg.Connection, area: AnalysisArea, routes: LayerChoice,
             terminals: LayerChoice) -> None:
    load_area(conn, area)
    run_script(conn, SQL["references"], {"vertices": PIECE_VERTICES}, routes=routes.table,
               terminals=terminals.table)
    run_script(conn, SQL["parcel_distances"], {},
               en_area=area_condition(area, "s.pt", box_of="p.geom"))


def port_influence(conn_or_settings: Connectable, *, area: AreaInput | None = None,
                   version: int | None = None, fecha: date | datetime | str | None = None,
                   bandas: Sequence[float] | str = DEFAULT_BANDS) -> pd.DataFrame:
    """Parcels, population and sensitive uses of ``area`` by distance band from the truck
    routes and from the terminals.

    Parameters
    ----------
    conn_or_settings : an open psycopg connection, or the settings to open one.
    area : None (whole comuna), a sector code or name, a census geocódigo, or a polygon.
    version, fecha : the port routes (``port_routes``) by version number, or in force on a
        date (then the terminals in force that date too; else the current terminals).
    bandas : the bands' edges in metres (:data:`DEFAULT_BANDS`).

    Returns
    -------
    One row per reference (truck routes, then terminals) and band, also when empty:

    - ``referencia``: «rutas de camiones» o «terminales».
    - ``banda``: la banda de distancia, p. ej. «100–300 m» (desde incluido, hasta no).
    - ``desde_m``, ``hasta_m``: sus límites (m).
    - ``predios``: predios del área cuya distancia a la referencia cae en la banda.
    - ``predios_residenciales``: de ellos, con destino habitacional (H).
    - ``superficie_predios_m2``: superficie de esos predios (m²).
    - ``poblacion``: población estimada en la banda (Censo 2017, interpolación areal
      ponderada por predios residenciales).
    - ``establecimientos_educacion``: predios de educación (destino E) en la banda.
    - ``establecimientos_salud``: predios de salud (destino S) en la banda.
    """
    bands = parse_bands(bandas)
    with session(conn_or_settings) as (conn, settings):
        chosen = resolve_area(conn, settings, area)
        routes = layer_version(conn, "port_routes", version, fecha)
        terminals = _companion(conn, "port_terminals", fecha)
        with analysis_transaction(conn):
            ensure_residential_weights(conn)
            _prepare(conn, chosen, routes, terminals)
            run_script(conn, SQL["piece_distances"], {},
                       en_area_pieza=area_condition(chosen, "r.centro", box_of="r.geom"))
            params = {**_band_params(bands), "referencias": list(REFERENCES),
                      "residencial": RESIDENTIAL_DESTINO, **SENSITIVE_DESTINOS,
                      "area": chosen.wkb}
            query = sql.SQL(SQL["influence"]).format(recorte=_recorte(chosen, "z.geom"))
            frame = fetch_frame(conn, query, params, INFLUENCE_COLUMNS, geometry=False)
    return describe(frame, "influencia_portuaria", chosen, routes,
                    terminales_version=terminals.version)


def port_distances(conn_or_settings: Connectable, *, area: AreaInput | None = None,
                   version: int | None = None, fecha: date | datetime | str | None = None,
                   bandas: Sequence[float] | str = DEFAULT_BANDS,
                   paso_m: float = DENSIFY_STEP_M, tolerancia_m: float = SNAP_TOLERANCE_M,
                   alcance_terminal_m: float = TERMINAL_REACH_M, geometria: bool = True
                   ) -> pd.DataFrame:
    """Distance of every parcel of ``area`` to the truck routes, the terminals and, along
    the route network, to the port (method in the module docstring).

    Parameters
    ----------
    conn_or_settings, area, version, fecha, bandas : as in :func:`port_influence`.
    paso_m : densify the routes to at most this many metres between vertices (0: use
        their vertices as drawn).
    tolerancia_m : vertices closer than this are one network node.
    alcance_terminal_m : nodes this close to a terminal give access to it.
    geometria : return a GeoDataFrame with each parcel's polygon (EPSG:32719).

    Returns
    -------
    One row per parcel, ordered by rol:

    - ``rol``, ``direccion``, ``destino``: el predio (rol SII, dirección, destino SII).
    - ``distancia_ruta_camiones_m``: distancia a la ruta de camiones más cercana (m).
    - ``ruta_camiones``: esa ruta.
    - ``banda_ruta_camiones``: su banda de distancia (vacía más allá de la última).
    - ``distancia_terminal_m``: distancia al terminal más cercano (m).
    - ``terminal``: ese terminal.
    - ``banda_terminal``: su banda de distancia.
    - ``distancia_acceso_red_m``: distancia en línea recta al nodo de la red más cercano
      de los conectados con un terminal (m).
    - ``distancia_red_m``: distancia por la red desde ese nodo al terminal más cercano (m).
    - ``distancia_puerto_red_m``: suma de las dos: distancia al puerto por la red (m);
      vacía si la red no llega a ningún terminal.
    - ``terminal_red``: el terminal al que lleva ese recorrido.

    ``attrs["avisos"]`` lists terminals the network does not reach.
    """
    bands = parse_bands(bandas)
    _check_network_options(paso_m, tolerancia_m, alcance_terminal_m)
    with session(conn_or_settings) as (conn, settings):
        chosen = resolve_area(conn, settings, area)
        routes = layer_version(conn, "port_routes", version, fecha)
        terminals = _companion(conn, "port_terminals", fecha)
        with analysis_transaction(conn):
            _prepare(conn, chosen, routes, terminals)
            warnings, nodes = _network(conn, routes, terminals, paso_m, tolerancia_m,
                                       alcance_terminal_m)
            query = sql.SQL(SQL["distances"]).format(
                geometry=geometry_column("p.geom", geometria))
            frame = fetch_frame(conn, query, _band_params(bands), DISTANCE_COLUMNS,
                                geometry=geometria)
    return describe(frame, "distancia_puerto", chosen, routes,
                    terminales_version=terminals.version, avisos=warnings,
                    nodos_red=nodes, metodo_red={
                        "paso_m": paso_m, "tolerancia_m": tolerancia_m,
                        "alcance_terminal_m": alcance_terminal_m})


def _check_network_options(paso_m: float, tolerancia_m: float, alcance: float) -> None:
    for name, value, low in (("paso_m", paso_m, 0.0), ("tolerancia_m", tolerancia_m, 1e-9),
                             ("alcance_terminal_m", alcance, 0.0)):
        if not isinstance(value, int | float) or not math.isfinite(value) or value < low:
            raise AnalysisInputError(
                f"«{name}» debe ser un número de metros {'positivo' if low else 'no negativo'}"
                f"; llegó «{str(value)[:30]}».",
                hint="Valores habituales: paso_m=25, tolerancia_m=1, alcance_terminal_m=100.")


def _network(conn: psycopg.Connection, routes: LayerChoice, terminals: LayerChoice,
             paso: float, tolerancia: float, alcance: float) -> tuple[list[str], int]:
    """Build the route graph, find each node's network distance to the nearest terminal
    and store the nodes reached in the temporary table ``network_nodes``. Returns the
    warnings (terminals not reached) and the number of nodes."""
    rows = conn.execute(sql.SQL(SQL["route_vertices"]).format(routes=routes.table),
                        {"paso": paso, "tolerancia": tolerancia}).fetchall()
    graph: nx.Graph = nx.Graph()
    sums: dict[int, list[float]] = {}
    previous: tuple[Any, ...] | None = None
    for fid, parte, _, nodo, x, y in rows:
        acc = sums.setdefault(nodo, [0.0, 0.0, 0.0])
        acc[0] += x
        acc[1] += y
        acc[2] += 1
        graph.add_node(nodo)
        if previous is not None and previous[:2] == (fid, parte) and previous[2] != nodo:
            length = math.hypot(x - previous[3], y - previous[4])
            old = graph.get_edge_data(previous[2], nodo)
            if old is None or old["weight"] > length:
                graph.add_edge(previous[2], nodo, weight=length)
        previous = (fid, parte, nodo, x, y)
    position = {n: (s[0] / s[2], s[1] / s[2]) for n, s in sums.items()}
    names = [r[0] for r in conn.execute(sql.SQL(SQL["terminal_names"]).format(
        terminals=terminals.table)).fetchall()]
    access = _terminal_access(conn, terminals, position, alcance)
    best: dict[int, tuple[float, str]] = {}
    for name in names:
        sources = access.get(name, set())
        if not sources:
            continue
        lengths = nx.multi_source_dijkstra_path_length(graph, sources, weight="weight")
        for node, length in lengths.items():
            if node not in best or length < best[node][0]:
                best[node] = (length, name)
    run_script(conn, SQL["network_nodes"], {})
    with conn.cursor() as cur, cur.copy(
            "COPY network_nodes (nodo, x, y, distancia, terminal) FROM STDIN") as copy:
        for node, (length, name) in best.items():
            copy.write_row((node, *position[node], length, name))
    run_script(conn, SQL["index_nodes"], {})
    missing = [n for n in names if not access.get(n)]
    warnings = [f"La red de rutas de camiones no llega al terminal «{n}»: no hay nodos a "
                f"menos de {_metres(alcance)} m." for n in missing]
    if not rows:
        warnings.append("No hay rutas de camiones (ruta_camiones) en la capa de rutas de "
                        "acceso al puerto: no se calcula la distancia por la red.")
    return warnings, len(best)


def _terminal_access(conn: psycopg.Connection, terminals: LayerChoice,
                     position: dict[int, tuple[float, float]], reach: float
                     ) -> dict[str, set[int]]:
    """Terminal name → the nodes within ``reach`` of it."""
    if not position:
        return {}
    nodes = list(position)
    points = shapely.points([position[n] for n in nodes])
    out: dict[str, set[int]] = {}
    rows = conn.execute(sql.SQL("SELECT nombre, ST_AsBinary(geom) FROM {}").format(
        terminals.table)).fetchall()
    for name, wkb in rows:
        shape = shapely.from_wkb(bytes(wkb))
        near = shapely.dwithin(points, shape, reach)
        out.setdefault(name, set()).update(n for n, hit in zip(nodes, near, strict=True)
                                           if hit)
    return out


def truck_routes_in_residential_zones(
        conn_or_settings: Connectable, *, area: AreaInput | None = None,
        version: int | None = None, fecha: date | datetime | str | None = None,
        familias: Sequence[str] | str | None = None, geometria: bool = True
        ) -> pd.DataFrame:
    """Truck routes crossing the residential zones of the PRC, per zone: by default the
    zones of the family «residencial» and every zone that permits the residential use
    (mixed and centre zones, where people live too); with ``familias``, only the zones of
    those families.

    Parameters
    ----------
    conn_or_settings, area : as in :func:`port_influence` (the routes are clipped to the
        area).
    version, fecha : the zoning version by number, or in force on a date (then the port
        routes in force that date too; else the current routes).
    familias : zone families (``layers.zoning.familia``), a list or a text separated by
        commas, e.g. ``"residencial"``.
    geometria : return a GeoDataFrame with the routes' parts inside each zone.

    Returns
    -------
    One row per residential zone crossed by a truck route, ordered by zone code:

    - ``zona``, ``nombre``, ``familia``: la zona PRC.
    - ``superficie_zona_m2``: superficie de la zona (m²).
    - ``longitud_m``: longitud de ruta de camiones dentro de la zona (m; tramos de rutas
      superpuestas se cuentan una vez).
    - ``rutas``: número de rutas de camiones que la cruzan.
    - ``nombres_rutas``: sus nombres, separados por «; ».
    - ``camiones_dia_max``: el mayor flujo de camiones por día de esas rutas.
    - ``camiones_km_dia``: camiones-kilómetro por día dentro de la zona (longitud de cada
      ruta en la zona por su flujo diario).
    """
    families = _families(familias)
    with session(conn_or_settings) as (conn, settings):
        chosen = resolve_area(conn, settings, area)
        zoning = layer_version(conn, "zoning", version, fecha)
        routes = _companion(conn, "port_routes", fecha)
        with analysis_transaction(conn):
            query = sql.SQL(SQL["residential_crossings"]).format(
                routes=routes.table, zoning=zoning.table,
                recorte=_recorte(chosen, "ST_Intersection(r.geom, z.geom)"),
                geometry=geometry_column(
                    "ST_Multi(ST_CollectionExtract(ST_Union(geom), 2))", geometria))
            params = {"familias": families or list(RESIDENTIAL_FAMILIES),
                      "por_uso": not families, "uso": RESIDENTIAL_USE, "area": chosen.wkb}
            frame = fetch_frame(conn, query, params, CROSSING_COLUMNS, geometry=geometria)
    return describe(frame, "rutas_camiones_zonas_residenciales", chosen, zoning,
                    rutas_version=routes.version, familias=families or "residenciales")


def _families(familias: Sequence[str] | str | None) -> list[str]:
    if familias is None:
        return []
    values = familias.split(",") if isinstance(familias, str) else list(familias)
    chosen = [str(v).strip() for v in values if str(v).strip()]
    unknown = [v for v in chosen if v not in ZONE_FAMILIES]
    if unknown or not chosen:
        raise AnalysisInputError(
            f"Familias de zona no válidas: «{', '.join(unknown)[:80] or familias}».",
            hint="Familias del PRC: " + ", ".join(ZONE_FAMILIES) + ".")
    return chosen


__all__ = ["DEFAULT_BANDS", "RESIDENTIAL_FAMILIES", "parse_bands", "port_distances",
           "port_influence", "truck_routes_in_residential_zones"]

"""Demo investment portfolio (cartera de proyectos): ~150 projects with BIP (check digit
modulo 11) or municipal codes, located mostly in the urban area."""

from __future__ import annotations

import csv
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
import shapely.affinity
import shapely.ops

from gis.demo.common import UTM, WGS84, largest_part, polygonal, reproject, rng
from gis.demo.names import RURAL_ROADS, STREETS
from gis.portfolio.codes import check_digit
from layers.projects import PROJECT_SECTORS, STAGES

N_PROJECTS = 150
SECTOR_SHARE = (.20, .12, .06, .08, .08, .07, .10, .10, .08, .06, .05)
"""Share of each of PROJECT_SECTORS in the portfolio."""
STAGE_SHARE = (.10, .15, .05, .05, .20, .25, .20)
YEARS = {"idea": (2025, 2027), "perfil": (2024, 2027), "prefactibilidad": (2023, 2027),
         "factibilidad": (2023, 2026), "diseño": (2022, 2026), "ejecución": (2021, 2026),
         "terminado": (2018, 2024)}
AMOUNT = {  # sector: (min, max) CLP
    "vialidad": (80e6, 12e9), "áreas verdes": (30e6, 2.5e9), "salud": (300e6, 25e9),
    "educación": (200e6, 15e9), "deporte": (30e6, 3e9), "seguridad": (20e6, 1.5e9),
    "saneamiento y aguas lluvia": (100e6, 8e9), "equipamiento comunitario": (30e6, 1.2e9),
    "vivienda": (1e9, 20e9), "borde costero": (200e6, 10e9),
    "puerto y logística": (500e6, 60e9),
}
MUNICIPAL_CAP = {"PMU": 120e6, "FRIL": 150e6, "PMB": 300e6, "municipal": 250e6}
ROMAN = {2: "II", 3: "III", 4: "IV", 5: "V", 6: "VI"}
LINES = ("vialidad", "saneamiento y aguas lluvia")
AREAS = ("áreas verdes", "vivienda", "borde costero")
VILLAS = ("Villa El Mirador", "Villa Las Gaviotas", "Villa Puertas del Mar",
          "Villa Los Navegantes", "Población Nueva Esperanza", "Villa El Sol",
          "Población Vista al Mar", "Villa Los Pescadores", "Villa Altos del Puerto")
TEMPLATES = {
    "vialidad": ("Mejoramiento {street}", "Pavimentación {street}, {loc}",
                 "Reposición de veredas {street}, {loc}", "Construcción ciclovía {street}"),
    "áreas verdes": ("Construcción plaza {villa}, {loc}", "Mejoramiento parque {loc}",
                     "Habilitación área verde quebrada {loc}"),
    "salud": ("Construcción CESFAM {loc}", "Reposición SAPU {loc}",
              "Construcción CECOSF {loc}"),
    "educación": ("Reposición Escuela Básica {loc}", "Mejoramiento Liceo {loc}",
                  "Construcción Jardín Infantil {villa}"),
    "deporte": ("Construcción multicancha {villa}", "Mejoramiento Estadio {loc}",
                "Reposición cancha sintética {loc}"),
    "seguridad": ("Instalación cámaras de televigilancia {loc}",
                  "Construcción cuartel de bomberos {loc}",
                  "Mejoramiento iluminación peatonal {street}"),
    "saneamiento y aguas lluvia": ("Construcción colector de aguas lluvia {street}",
                                   "Extensión red de alcantarillado {loc}",
                                   "Mejoramiento sistema APR {loc}"),
    "equipamiento comunitario": ("Construcción sede social {villa}, {loc}",
                                 "Reposición centro comunitario {loc}",
                                 "Construcción centro del adulto mayor {loc}"),
    "vivienda": ("Conjunto habitacional {villa}, {loc}",
                 "Construcción condominio social {loc}",
                 "Urbanización loteo {villa}, {loc}"),
    "borde costero": ("Habilitación paseo costero {loc}", "Mejoramiento borde costero {loc}",
                      "Construcción miradores borde costero {loc}"),
    "puerto y logística": ("Mejoramiento acceso al puerto {loc}",
                           "Construcción zona de apoyo logístico {loc}",
                           "Ampliación vía de camiones {street}"),
}


def _street_label(name: str) -> str:
    """``Av. X`` stays as is; other streets read ``calle X``."""
    return name if name.startswith("Av.") else f"calle {name}"


def _random_point(geom: shapely.Geometry, gen: np.random.Generator) -> shapely.Point:
    """A uniformly random point of ``geom`` (rejection sampling in its bounds)."""
    minx, miny, maxx, maxy = geom.bounds
    while True:
        p = shapely.Point(gen.uniform(minx, maxx), gen.uniform(miny, maxy))
        if geom.contains(p):
            return p


def _place(sector: str, sectors: gpd.GeoDataFrame, coast: shapely.Geometry,
           port: shapely.Geometry, gen: np.random.Generator) -> tuple[str, shapely.Point]:
    """A locality and a point for a project of ``sector``."""
    if sector == "borde costero":
        p = coast.interpolate(gen.uniform(0.05, 0.95), normalized=True)
    elif sector == "puerto y logística":
        urban = shapely.union_all(sectors.geometry[sectors.tipo == "urbana"].values)
        p = _random_point(shapely.intersection(port.buffer(900.0), urban), gen)
    else:
        urban = gen.random() < 0.8
        pool = sectors[sectors.tipo == ("urbana" if urban else "rural")]
        weights = pool.area.to_numpy() ** (0.5 if urban else 0.2)
        p = _random_point(pool.geometry.iloc[gen.choice(len(pool), p=weights / weights.sum())],
                          gen)
    holder = sectors[sectors.contains(p)]
    if holder.empty:  # on the coast: nearest sector
        holder = sectors.iloc[[int(np.argmin(sectors.distance(p)))]]
    return holder.sector.iloc[0], p


def _shape(sector: str, p: shapely.Point, coast: shapely.Geometry, comuna: shapely.Geometry,
           gen: np.random.Generator) -> shapely.Geometry:
    """Geometry of the project: a street line, an area or the point itself (always one
    LineString, Polygon or Point inside the comuna)."""
    if sector in LINES:
        for _ in range(20):
            steps = gen.uniform(120, 380, int(gen.integers(1, 4)))
            turns = gen.uniform(0, 2 * np.pi) + np.cumsum(
                gen.choice([0.0, np.pi / 2, -np.pi / 2], len(steps), p=[.6, .2, .2]))
            moves = np.column_stack([np.cos(turns), np.sin(turns)]) * steps[:, None]
            line = shapely.LineString(np.vstack([[p.x, p.y], [p.x, p.y] +
                                                 np.cumsum(moves, axis=0)]))
            if comuna.contains(line):
                return line
        return p
    if sector == "borde costero":
        d = coast.project(p)
        strip = shapely.ops.substring(coast, max(d - 300, 0), d + 300).buffer(40.0)
        area = shapely.intersection(strip, comuna)
    elif sector in AREAS:
        w, h = gen.uniform(40, 160, 2)
        rect = shapely.box(p.x - w / 2, p.y - h / 2, p.x + w / 2, p.y + h / 2)
        area = shapely.intersection(shapely.affinity.rotate(rect, gen.uniform(0, 90)), comuna)
    else:
        return p
    area = largest_part(polygonal(area)) if not polygonal(area).is_empty else p.buffer(20)
    return area.simplify(1.0)


def _code(gen: np.random.Generator, used: set[str], municipal: bool, year: int,
          seq: dict[int, int]) -> str:
    if municipal:
        seq[year] = seq.get(year, 0) + int(gen.integers(1, 6))
        return f"MUN-{year}-{seq[year]:03d}"
    while True:
        number = int(gen.choice([30, 40])) * 1_000_000 + int(gen.integers(0, 1_000_000))
        code = f"{number}-{check_digit(number)}"
        if code not in used:
            used.add(code)
            return code


def _amount(sector: str, source: str, gen: np.random.Generator) -> int:
    lo, hi = AMOUNT[sector]
    if source in MUNICIPAL_CAP:
        lo, hi = 15e6, MUNICIPAL_CAP[source]
    return int(round(np.exp(gen.uniform(np.log(lo), np.log(hi))), -3))


def _source(sector: str, municipal: bool, gen: np.random.Generator) -> str:
    if municipal:
        return str(gen.choice(["municipal", "PMU", "PMB", "FRIL"], p=[.35, .35, .15, .15]))
    if sector in ("puerto y logística",):
        return str(gen.choice(["privado/portuario", "sectorial"], p=[.6, .4]))
    return str(gen.choice(["FNDR", "sectorial", "Circular 33"], p=[.5, .38, .12]))


def portfolio(sectors: gpd.GeoDataFrame, coast: shapely.Geometry, port: shapely.Geometry,
              comuna: shapely.Geometry, seed: int, n: int = N_PROJECTS) -> list[dict]:
    """The investment portfolio as rows of ``cartera_proyectos.csv``.

    Parameters
    ----------
    sectors : GeoDataFrame
        Planning sectors (EPSG:32719); projects are placed and named after them.
    coast, port : geometry
        Coastline and port terminals (for the coastal and port projects).
    comuna : Polygon
    seed : int
    n : int
        Number of projects.

    Returns
    -------
    list of dict with cod_bip, nombre_proyecto, sector, etapa, fuente, monto, año, lon,
    lat, wkt (WGS 84, 7 decimals)
    """
    gen = rng(seed, "projects")
    used: set[str] = set()
    names: dict[str, int] = {}
    seq: dict[int, int] = {}
    rows = []
    for _ in range(n):
        sector = str(gen.choice(PROJECT_SECTORS, p=SECTOR_SHARE))
        stage = str(gen.choice(STAGES, p=STAGE_SHARE))
        year = int(gen.integers(YEARS[stage][0], YEARS[stage][1] + 1))
        municipal = sector != "puerto y logística" and gen.random() < 0.34
        loc, point = _place(sector, sectors, coast, port, gen)
        geom = _shape(sector, point, coast, comuna, gen)
        rural = sectors.tipo[sectors.sector == loc].iloc[0] == "rural"
        street = ("camino " + str(gen.choice(RURAL_ROADS)) if rural
                  else _street_label(str(gen.choice(STREETS))))
        template = str(gen.choice(TEMPLATES[sector]))
        name = template.format(street=street, loc=loc, villa=str(gen.choice(VILLAS)))
        names[name] = names.get(name, 0) + 1
        if names[name] > 1:
            name += f", etapa {ROMAN.get(names[name], names[name])}"
        source = _source(sector, municipal, gen)
        anchor = geom.interpolate(0.5, normalized=True) if geom.geom_type == "LineString" \
            else geom.representative_point()
        wgs = reproject(np.array([geom, anchor], dtype=object), UTM, WGS84)
        rows.append({
            "cod_bip": _code(gen, used, municipal, year, seq), "nombre_proyecto": name,
            "sector": sector, "etapa": stage, "fuente": source,
            "monto": _amount(sector, source, gen), "año": year,
            "lon": f"{wgs[1].x:.7f}", "lat": f"{wgs[1].y:.7f}",
            "wkt": shapely.to_wkt(wgs[0], rounding_precision=7, trim=True),
        })
    return rows


def write_portfolio(rows: list[dict], path: Path) -> Path:
    """Write the portfolio as a UTF-8, comma-separated CSV."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path

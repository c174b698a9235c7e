"""Demo investment portfolio (cartera de proyectos): ~150 projects with BIP (check digit
modulo 11) or municipal codes, located mostly in the urban area, with every registry field
and their funding by source and year, written as the SECPLAC would keep them: an Excel
workbook with title rows and one row per project, funding source and year (see
:mod:`gis.demo.portfolio_sheet`).

Most projects are located by longitude/latitude (lines and areas also by WKT); a few by UTM
19S coordinates, about ten by the SII rol and five by the street address of a parcel of
the demo cadastre, so that the importer places them on the cadastre."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
import shapely.affinity
import shapely.ops

from gis.demo.common import UTM, WGS84, largest_part, polygonal, reproject, rng
from gis.demo.names import RURAL_ROADS, STREETS
from gis.demo.portfolio_fields import attributes, financial_progress, funding
from gis.portfolio.codes import check_digit
from gis.portfolio.geocode import normalize_address
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


BY_ROL, BY_ADDRESS, BY_UTM = 10, 5, 5
"""Projects located by SII rol, by street address and by UTM coordinates."""
MULTI_FUNDING = 0.3
"""Share of projects with two or three funding rows (sources and years)."""


@dataclass
class DemoProject:
    """One project of the demo portfolio: fields, funding rows and location."""

    fields: dict[str, Any]
    funding: list[dict[str, Any]]
    geometry: shapely.Geometry
    """Where the generator placed it (EPSG:32719)."""
    location: dict[str, Any] = field(default_factory=dict)
    """Spreadsheet location cells: longitud/latitud (+ wkt), este/norte, rol or direccion."""


def portfolio_projects(sectors: gpd.GeoDataFrame, coast: shapely.Geometry,
                       port: shapely.Geometry, comuna: shapely.Geometry,
                       parcels: gpd.GeoDataFrame | None, seed: int, n: int = N_PROJECTS
                       ) -> list[DemoProject]:
    """The investment portfolio.

    Parameters
    ----------
    sectors : GeoDataFrame
        Planning sectors (EPSG:32719); projects are placed and named after them.
    coast, port : geometry
        Coastline and port terminals (for the coastal and port projects).
    comuna : Polygon
    parcels : GeoDataFrame, optional
        The demo cadastre (``rol_sii``, ``direccion``, any CRS): the projects located by
        rol or address are placed on its parcels. Without it, every project is located
        by coordinates.
    seed : int
    n : int
        Number of projects.

    Returns
    -------
    list of DemoProject
    """
    gen = rng(seed, "projects")
    used: set[str] = set()
    names: dict[str, int] = {}
    seq: dict[int, int] = {}
    projects: list[DemoProject] = []
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
        code = _code(gen, used, municipal, year, seq)
        fields = attributes(code, name, sector, stage, year, municipal, gen)
        rows = funding(sector, stage, year, source, _amount(sector, source, gen),
                       gen.random() < MULTI_FUNDING, gen)
        projects.append(DemoProject(fields, rows, geom, _lonlat_cells(geom)))
    if parcels is not None:
        _locate_on_cadastre(projects, parcels, gen)
    _overspend(projects, gen)
    for project in projects:
        project.fields["avance_financiero"] = financial_progress(project.funding)
    return projects


def portfolio(sectors: gpd.GeoDataFrame, coast: shapely.Geometry, port: shapely.Geometry,
              comuna: shapely.Geometry, seed: int, n: int = N_PROJECTS) -> list[dict[str, Any]]:
    """The portfolio located by coordinates only, as flat rows (one per project: cod_bip,
    nombre_proyecto, sector, etapa, fuente, monto, año, lon, lat, wkt in WGS 84) for the
    benchmarks that generate thousands of projects."""
    rows = []
    for p in portfolio_projects(sectors, coast, port, comuna, None, seed, n):
        wgs = reproject(np.array([p.geometry], dtype=object), UTM, WGS84)[0]
        first = p.funding[0]
        rows.append({"cod_bip": p.fields["codigo"], "nombre_proyecto": p.fields["nombre"],
                     "sector": p.fields["sector"], "etapa": p.fields["etapa"],
                     "fuente": first["fuente"], "monto": first["solicitado"],
                     "año": first["anio"], "lon": f"{p.location['longitud']:.7f}",
                     "lat": f"{p.location['latitud']:.7f}",
                     "wkt": shapely.to_wkt(wgs, rounding_precision=7, trim=True)})
    return rows


def _lonlat_cells(geom: shapely.Geometry) -> dict[str, Any]:
    """Longitude/latitude of the project's anchor (7 decimals) and, for a line or an area,
    its WKT in lon/lat."""
    anchor = geom.interpolate(0.5, normalized=True) if geom.geom_type == "LineString" \
        else geom.representative_point()
    wgs = reproject(np.array([geom, anchor], dtype=object), UTM, WGS84)
    cells: dict[str, Any] = {"longitud": round(wgs[1].x, 7), "latitud": round(wgs[1].y, 7)}
    if geom.geom_type != "Point":
        cells["wkt"] = shapely.to_wkt(wgs[0], rounding_precision=7, trim=True)
    return cells


def _locate_on_cadastre(projects: list[DemoProject], parcels: gpd.GeoDataFrame,
                        gen: np.random.Generator) -> None:
    """Locate some point projects by the rol or the address of the nearest parcel (with a
    unique address), and a few by UTM coordinates instead of lon/lat."""
    table = parcels.to_crs(UTM)
    urban = ~table.direccion.str.startswith("Parcela")
    norm = table.direccion.map(normalize_address)
    unique = urban & ~norm.duplicated(keep=False)
    points = [i for i, p in enumerate(projects) if "wkt" not in p.location]
    chosen = gen.permutation(points)[:BY_ROL + BY_ADDRESS + BY_UTM]
    anchors = reproject(np.array([shapely.Point(projects[i].location["longitud"],
                                                projects[i].location["latitud"])
                                  for i in chosen], dtype=object), WGS84, UTM)
    for k, (i, anchor) in enumerate(zip(chosen, anchors, strict=True)):
        project = projects[int(i)]
        if k >= BY_ROL + BY_ADDRESS:
            project.location = {"este": round(anchor.x, 1), "norte": round(anchor.y, 1)}
            continue
        pool = table[urban] if k < BY_ROL else table[unique]
        parcel = pool.iloc[int(np.argmin(pool.distance(anchor)))]
        if k < BY_ROL:
            project.location = {"rol": parcel.rol_sii}
        else:
            project.location = {"direccion": _as_typed(parcel.direccion, gen)}


def _as_typed(address: str, gen: np.random.Generator) -> str:
    """An address as a person types it: "Avenida", "N°", capitals, or as in the cadastre."""
    street, number = address.rsplit(" ", 1)
    style = int(gen.integers(0, 4))
    if style == 1:
        street = street.replace("Av. ", "Avenida ")
        return f"{street} N° {number}"
    if style == 2:
        return f"{street} #{number}".upper()
    if style == 3 and not street.startswith("Av."):
        return f"Calle {street} {number}"
    return address


def _overspend(projects: list[DemoProject], gen: np.random.Generator, count: int = 3) -> None:
    """A few projects in execution that spent more than was approved (the registry warns)."""
    spending = [p for p in projects if p.fields["etapa"] in ("ejecución", "terminado")
                and p.funding[0]["aprobado"] > 0]
    for project in gen.permutation(np.array(spending, dtype=object))[:count]:
        row = project.funding[0]
        row["ejecutado"] = int(round(row["aprobado"] * gen.uniform(1.03, 1.12), -3))
        row["comprometido"] = max(row["comprometido"], row["aprobado"])

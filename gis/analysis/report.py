"""The territorial report (ficha territorial) of one parcel, by its rol, or of any point of
the comuna: a sheet in Spanish in the manner of a Certificado de Informaciones Previas
(OGUC 1.4.4), as a dict (JSON), an HTML page or an A4 PDF.

It states the parcel's cadastre data (destino, superficies, avalúo), its PRC zone and
every norm of that zone (each zoning field with its title and unit, from
:mod:`layers.zoning`), the other zones it touches, the overlays (PRC risk areas,
protection areas, art. 59 afectaciones), the hazard zones (type, level, share), the
elevation, slope and tsunami depth over the parcel, the current land use, the planning
sector, census zone and urban limit, the nearest truck route and port terminal, the
investment projects within 500 m (stage, cost), and the parcel's land-use compliance
verdict and capacity (cabida), computed by :func:`gis.analysis.compliance.compliance` and
:func:`gis.analysis.capacity.capacity` restricted to the parcel (same rules, same zone).

A point inside a cadastre parcel reports that parcel; elsewhere (a street, land without
cadastre) it reports the point itself, without cadastre, compliance nor capacity.

Everything is a few indexed lookups around one geometry (``gis/sql/parcel_report.sql``):
a report takes tens of milliseconds on a 1,000,000-parcel cadastre (the map of the HTML
and PDF versions is drawn afterwards).

Examples
--------
>>> with connect(settings) as conn:                                      # doctest: +SKIP
...     ficha = parcel_report(conn, settings, rol="1999-54")
...     ficha["zona"]["codigo"], ficha["cumplimiento"]["resultado"]
('ZH-1', 'conforme')
>>> pdf = parcel_report_pdf(conn, settings, punto=(-71.61, -33.59))    # doctest: +SKIP
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import quote

import numpy as np
import pandas as pd
import psycopg
import shapely
from psycopg.rows import dict_row
from pyproj import CRS

from gis.analysis.capacity import capacity
from gis.analysis.common import AnalysisInputError, AreaOutsideError, layer_version, sql_sections
from gis.analysis.compliance import compliance
from gis.crs import area_of_interest_storage, to_storage
from gis.errors import NotFoundError
from gis.profile_rasters import raster_paths, raster_profile
from gis.raster_tiles import CoordinatesError, check_coordinates
from gis.settings import Settings
from layers.base import STORAGE_SRID
from layers.codes import HAZARD_LEVELS, SII_DESTINOS
from layers.parcels import normalize_rol
from layers.zoning import LAYER as ZONING

SQL = sql_sections("parcel_report")
NEARBY_PROJECTS_M = 500.0
"""Radius of the investment projects listed."""
MAX_NEARBY_PROJECTS = 50
"""Nearby projects listed one by one (all are counted)."""
HEADER_FIELDS = ("codigo", "nombre")
"""Zoning fields shown in the zone's heading rather than among its norms."""
DISCLAIMER = ("Documento informativo de la SECPLAC con los datos de la plataforma; no "
              "reemplaza el Certificado de Informaciones Previas que emite la Dirección de "
              "Obras Municipales (OGUC 1.4.4).")


class ReportInputError(AnalysisInputError):
    """A rol or point that cannot be read."""


class ParcelNotFoundError(NotFoundError):
    """A well-formed rol that is not in the cadastre."""


# --- the report ----------------------------------------------------------------------------

def parcel_report(conn: psycopg.Connection, settings: Settings, *, rol: str | None = None,
                  punto: tuple[float, float] | None = None) -> dict[str, Any]:
    """The territorial report of the parcel ``rol`` (SII rol, «manzana-predio», 1-5 digits
    each) or of the point ``punto`` (longitude, latitude, WGS 84).

    Raises
    ------
    ReportInputError
        Neither or both of ``rol`` and ``punto``, or a rol that is not «manzana-predio»,
        or coordinates that are not a place on Earth (400).
    ParcelNotFoundError
        A rol not in the cadastre (404; the hint points to ``/buscar``).
    AreaOutsideError
        A point outside the comuna (400).

    Returns
    -------
    A JSON-friendly dict: ``consulta``, ``sujeto`` ('predio' or 'punto'), ``ubicacion``,
    ``predio``, ``zonificacion`` (version), ``zona`` (with ``normas``: title, value,
    unit of every zoning field), ``zonas`` (every zone touched, with its share),
    ``superposiciones``, ``riesgos``, ``rasters``, ``uso_de_suelo``, ``territorio``,
    ``puerto``, ``proyectos_cercanos``, ``cumplimiento``, ``cabida`` and ``advertencias``.
    """
    return _report(conn, settings, rol, punto)[0]


def _report(conn: psycopg.Connection, settings: Settings, rol: str | None,
            punto: tuple[float, float] | None) -> tuple[dict[str, Any], shapely.Geometry]:
    """The report and its subject's geometry (EPSG:32719), for the map."""
    if (rol is None) == (punto is None):
        raise ReportInputError("Indique un rol o un punto (longitud, latitud), uno de los dos.",
                               hint="Ejemplos: rol=1999-54, o lon=-71.61 y lat=-33.59.")
    parcel: dict[str, Any] | None
    with conn.cursor(row_factory=dict_row) as cur:
        if rol is not None:
            parcel = _parcel_by_rol(cur, rol)
            query: dict[str, Any] = {"rol": rol, "punto": None}
            point = shapely.from_wkb(parcel["punto"])
        else:
            assert punto is not None
            point = _point_in_comuna(cur, settings, punto)
            query = {"rol": None, "punto": [float(punto[0]), float(punto[1])]}
            parcel = cur.execute(SQL["parcel_at_point"],
                                 {"punto": shapely.to_wkb(point)}).fetchone()
        subject = shapely.from_wkb(parcel["geom"]) if parcel else point
        sections = cur.execute(SQL["sections"], {
            "geom": shapely.to_wkb(subject), "punto": shapely.to_wkb(point),
            "levels": list(HAZARD_LEVELS), "banda": settings.truck_route_band_m,
            "radio": NEARBY_PROJECTS_M, "max_proyectos": MAX_NEARBY_PROJECTS}).fetchone()
    assert sections is not None
    warnings: list[str] = []
    zoning = _zoning_version(conn, warnings)
    verdict, cabida = (_parcel_analyses(conn, subject, parcel["rol"], warnings)
                       if parcel and zoning else (None, None))
    zones = sections["zonas"]
    main = _main_zone(zones, verdict, parcel is not None)
    lon, lat = shapely.from_wkb(sections["lonlat"]).coords[0]
    return {
        "consulta": query,
        "sujeto": "predio" if parcel else "punto",
        "ubicacion": {"lon": round(lon, 6), "lat": round(lat, 6),
                      "x": round(point.x, 1), "y": round(point.y, 1), "crs": "EPSG:32719"},
        "predio": _cadastre(parcel) if parcel else None,
        "zonificacion": zoning,
        "zona": main,
        "zonas": [{k: z[k] for k in ("codigo", "nombre", "familia", "porcentaje")}
                  for z in zones],
        "superposiciones": overlays(zones),
        "riesgos": sections["riesgos"],
        "rasters": _rasters(conn, subject, parcel is not None),
        "uso_de_suelo": sections["uso_de_suelo"],
        "territorio": sections["territorio"],
        "puerto": sections["puerto"],
        "proyectos_cercanos": {"radio_m": NEARBY_PROJECTS_M, **sections["proyectos"]},
        "cumplimiento": verdict,
        "cabida": cabida,
        "advertencias": warnings,
    }, subject


def _parcel_by_rol(cur: psycopg.Cursor[dict[str, Any]], text: str) -> dict[str, Any]:
    normalized = normalize_rol(text) if isinstance(text, str) else None
    if normalized is None:
        raise ReportInputError(
            f"«{str(text)[:40]}» no es un rol de avalúo válido.",
            hint="El rol SII se escribe manzana-predio, con 1 a 5 dígitos cada parte: "
            "p. ej. 1999-54 o 01999-00054.")
    row = cur.execute(SQL["parcel_by_rol"], {"rol": normalized}).fetchone()
    if row is None:
        raise ParcelNotFoundError(
            f"El rol {normalized} no está en el catastro de predios.",
            hint=f"Búsquelo por rol o dirección en /buscar?q={quote(text.strip()[:40])} o "
            "consulte por un punto (lon, lat).")
    return row


def _point_in_comuna(cur: psycopg.Cursor[dict[str, Any]], settings: Settings,
                     punto: tuple[float, float]) -> shapely.Point:
    try:
        lon, lat = (float(v) for v in punto)
        check_coordinates(lon, lat)
    except (TypeError, ValueError, CoordinatesError) as exc:
        hint = getattr(exc, "hint", None) or "Use longitud y latitud en grados (WGS 84)."
        raise ReportInputError(f"Punto no válido: {getattr(exc, 'message', punto)}",
                               hint=hint) from None
    point = to_storage(shapely.points([lon], [lat]), CRS.from_epsg(4326),
                       settings.area_of_interest)[0]
    row = cur.execute(SQL["comuna"], {"punto": shapely.to_wkb(point),
                                      "comuna": settings.comuna_code}).fetchone()
    if row is not None:
        name, inside = f"la comuna de {row['nombre']}", bool(row["dentro"])
    else:  # no comuna boundary loaded: the work area
        name = "el área de trabajo"
        inside = area_of_interest_storage(settings.area_of_interest).intersects(point)
    if not inside:
        swapped = -34.5 < lon < -32.5 and -72.5 < lat < -70.5
        raise AreaOutsideError(
            f"El punto lon {lon:g}, lat {lat:g} queda fuera de {name}.",
            hint="Parece tener la longitud y la latitud invertidas: va primero la longitud "
            "(p. ej. -71.61, -33.59)." if swapped else
            "Indique un punto de la comuna en longitud y latitud WGS 84 (cerca de lon "
            "-71.61, lat -33.59).")
    return point


def _zoning_version(conn: psycopg.Connection, warnings: list[str]) -> dict[str, Any] | None:
    try:
        chosen = layer_version(conn, "zoning")
    except NotFoundError:
        warnings.append("No hay zonificación del Plan Regulador cargada: la ficha no informa "
                        "zona, normas, cumplimiento ni cabida.")
        return None
    return {"capa": ZONING.title, "version": chosen.version,
            "vigente_desde": chosen.vigente_desde.isoformat()}


def _parcel_analyses(conn: psycopg.Connection, geom: shapely.Geometry, rol: str,
                     warnings: list[str]) -> tuple[dict[str, Any] | None,
                                                   dict[str, Any] | None]:
    """The parcel's rows of the compliance and capacity analyses, run on the parcel's
    polygon as their area (a parcel belongs to an area by its point on surface)."""
    rows = []
    for analysis in (compliance, capacity):
        table = analysis(conn, area=geom, geometria=False)
        mine = table[table["rol"] == rol]
        rows.append(None if mine.empty else plain(mine.iloc[0].to_dict()))
    if rows[0] is None:
        warnings.append("El cumplimiento y la cabida no se pudieron calcular para este predio "
                        "(su punto interior queda fuera de la comuna).")
    return rows[0], rows[1]


def _main_zone(zones: list[dict[str, Any]], verdict: dict[str, Any] | None,
               is_parcel: bool) -> dict[str, Any] | None:
    """The zone that rules the parcel: the one the analyses assign (most of its area, and
    not less than the part outside every zone); for a point, the zone containing it."""
    if is_parcel:
        code = verdict["zona"] if verdict else None
        chosen = next((z for z in zones if z["codigo"] == code), None)
    else:
        chosen = zones[0] if zones else None
    if chosen is None:
        return None
    return {"codigo": chosen["codigo"], "nombre": chosen["nombre"],
            "familia": chosen["familia"], "porcentaje": chosen["porcentaje"],
            "normas": zone_norms(chosen["normas"])}


def zone_norms(values: dict[str, Any]) -> list[dict[str, Any]]:
    """Every zoning field (but code and name) in its declared order: ``campo``, ``titulo``,
    ``valor`` (None when the zone does not set it) and ``unidad``."""
    return [{"campo": f.name, "titulo": f.title, "valor": values.get(f.name),
             "unidad": f.unit} for f in ZONING.fields if f.name not in HEADER_FIELDS]


def overlays(zones: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The overlays the PRC zones touched declare: risk areas (OGUC 2.1.17), protection
    areas and public-utility afectaciones (art. 59 LGUC), each with its zone."""
    out: dict[str, list[dict[str, Any]]] = {"areas_riesgo": [], "proteccion": [],
                                            "afectaciones": []}
    for z in zones:
        norms = z["normas"]
        for area in norms.get("areas_riesgo") or []:
            out["areas_riesgo"].append({"zona": z["codigo"], "area": area})
        if norms.get("area_proteccion"):
            out["proteccion"].append({"zona": z["codigo"], "area": norms["area_proteccion"]})
        if norms.get("afectacion_utilidad_publica"):
            out["afectaciones"].append({"zona": z["codigo"],
                                        "afectacion": norms["afectacion_utilidad_publica"]})
    return out


def _cadastre(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "rol": row["rol"], "direccion": row["direccion"], "destino": row["destino"],
        "destino_nombre": SII_DESTINOS.get(row["destino"] or ""), "serie": row["serie"],
        "superficie_terreno_m2": row["superficie_terreno"],
        "superficie_construida_m2": row["superficie_construida"],
        "superficie_geometrica_m2": round(float(row["superficie_geometrica"]), 1),
        "avaluo_terreno_clp": row["avaluo_terreno"],
        "avaluo_construccion_clp": row["avaluo_construccion"],
        "avaluo_total_clp": row["avaluo_total"],
    }


def _rasters(conn: psycopg.Connection, geom: shapely.Geometry, is_parcel: bool
             ) -> dict[str, Any]:
    stats = raster_profile(raster_paths(conn), {"s": (geom, False)}, 0.0)["s"]
    stats["muestra"] = ("celdas del predio" if is_parcel
                        else "celda del punto consultado")
    return stats


def plain(row: dict[str, Any]) -> dict[str, Any]:
    """A pandas row as JSON-friendly Python values (NaN / NA → None)."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
            out[key] = None
        elif isinstance(value, np.generic):
            out[key] = value.item()
        else:
            out[key] = value
    return out


# --- HTML and PDF --------------------------------------------------------------------------

def parcel_report_html(conn: psycopg.Connection, settings: Settings, *,
                       rol: str | None = None, punto: tuple[float, float] | None = None,
                       mapa: bool = True) -> str:
    """The report as a self-contained HTML page (with a map of the surroundings unless
    ``mapa`` is False); same parameters and errors as :func:`parcel_report`."""
    from gis.reports.render import png_uri, render_template

    ficha, subject = _report(conn, settings, rol, punto)
    image = png_uri(parcel_map_png(conn, ficha, subject)) if mapa else None
    return render_template("parcela.html", f=ficha, mapa=image, aviso=DISCLAIMER,
                           destinos=SII_DESTINOS, enlace_pdf=pdf_link(ficha))


def parcel_report_pdf(conn: psycopg.Connection, settings: Settings, *,
                      rol: str | None = None, punto: tuple[float, float] | None = None,
                      mapa: bool = True) -> bytes:
    """The report as an A4 PDF made on this machine (WeasyPrint)."""
    from gis.reports.render import html_to_pdf

    return html_to_pdf(parcel_report_html(conn, settings, rol=rol, punto=punto, mapa=mapa))


MAP_MARGIN_M = 150.0
"""Surroundings drawn around the parcel (or point) on the report's map."""


def parcel_map_png(conn: psycopg.Connection, ficha: dict[str, Any],
                   subject: shapely.Geometry) -> bytes:
    """PNG map of the report's parcel or point (``subject``, EPSG:32719) and
    ``MAP_MARGIN_M`` around it: PRC zones by family with their codes, hazard zones by
    level, parcels, port routes and projects (the layers and colours of the project maps
    of :mod:`gis.reports.staticmaps`)."""
    import geopandas as gpd
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from gis.reports import staticmaps as sm

    fig = Figure(figsize=(7.4, 4.6))
    ax = fig.add_axes((0.005, 0.01, 0.70, 0.98))
    window = sm._window(subject.bounds, MAP_MARGIN_M, (0.70 * 7.4) / (0.98 * 4.6))
    x0, y0, x1, y1 = window
    params = {"x0": x0, "y0": y0, "x1": x1, "y1": y1, "codigo": "",
              "levels": list(HAZARD_LEVELS), "max_parcels": sm.MAX_MAP_PARCELS}
    handles: list[Any] = []

    def layer(name: str, columns: list[str]) -> gpd.GeoDataFrame:
        frame = sm._frame(conn, name, params, columns)
        return frame[~frame.geometry.is_empty]  # clipped away at the window's edge

    zoning = layer("map_zoning", ["codigo", "familia"])
    colors, default = sm._style_colors("zoning")
    if not zoning.empty:
        zoning.plot(ax=ax, color=[colors.get(f, default) for f in zoning["familia"]],
                    alpha=0.45, edgecolor="#6d4c41", linewidth=0.7, zorder=1)
        for family in dict.fromkeys(zoning["familia"]):
            handles.append(Patch(facecolor=colors.get(family, default), alpha=0.45,
                                 edgecolor="#6d4c41",
                                 label=sm._text(f"Zona PRC: {family or 'sin familia'}")))
        sm._label_zones(ax, zoning, (x1 - x0) * (y1 - y0))
    hazards = layer("map_hazards", ["tipo", "nivel"])
    colors, default = sm._style_colors("hazard_zones")
    if not hazards.empty:
        hazards.plot(ax=ax, facecolor="none", hatch="////", linewidth=0.9, zorder=3,
                     edgecolor=[sm._edge(colors.get(n, default)) for n in hazards["nivel"]])
        for level in HAZARD_LEVELS:
            if level in set(hazards["nivel"]):
                handles.append(Patch(facecolor="none", hatch="////",
                                     edgecolor=sm._edge(colors.get(level, default)),
                                     label=f"Zona de riesgo {level}"))
    parcels = layer("map_parcels", ["rol"])
    if not parcels.empty:
        parcels.plot(ax=ax, facecolor="none", edgecolor="#8d6e63", linewidth=0.3, zorder=2)
        handles.append(Patch(facecolor="none", edgecolor="#8d6e63",
                             label="Predios (catastro SII)"))
    routes = layer("map_routes", ["nombre", "categoria"])
    colors, default = sm._style_colors("port_routes")
    if not routes.empty:
        routes.plot(ax=ax, color=[colors.get(c, default) for c in routes["categoria"]],
                    linewidth=2.2, zorder=4)
        for category in dict.fromkeys(routes["categoria"]):
            handles.append(Line2D([], [], color=colors.get(category, default), linewidth=2.2,
                                  label=sm._text(f"Ruta: {category}")))
    projects = layer("map_other_projects", ["codigo", "sector"])
    if not projects.empty:
        projects.plot(ax=ax, color="#424242", markersize=14, marker="o", zorder=5)
        handles.append(Line2D([], [], color="#424242", marker="o", linestyle="none",
                              markersize=4, label="Proyectos de inversión"))
    shape = gpd.GeoSeries([subject], crs=STORAGE_SRID)
    if ficha["predio"] is not None:
        shape.plot(ax=ax, facecolor=sm.PROJECT_COLOR, alpha=0.45, edgecolor="black",
                   linewidth=1.8, zorder=8)
        handles.insert(0, Patch(facecolor=sm.PROJECT_COLOR, alpha=0.45, edgecolor="black",
                                label=f"Predio {ficha['predio']['rol']}"))
    else:
        shape.plot(ax=ax, color=sm.PROJECT_COLOR, markersize=180, marker="*",
                   edgecolor="black", linewidth=0.8, zorder=9)
        handles.insert(0, Line2D([], [], color=sm.PROJECT_COLOR, marker="*",
                                 linestyle="none", markersize=9, label="Punto consultado"))
    sm._finish(ax, window)
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.715, 0.99),
               fontsize=6.5, frameon=False, handlelength=1.8, borderaxespad=0.2)
    return sm._png(fig)


def pdf_link(ficha: dict[str, Any]) -> str:
    """The API address of the report's PDF."""
    if ficha["consulta"]["rol"] is not None:
        return f"/analisis/informe?rol={quote(str(ficha['consulta']['rol']))}&formato=pdf"
    lon, lat = ficha["consulta"]["punto"]
    return f"/analisis/informe?lon={lon:g}&lat={lat:g}&formato=pdf"


__all__ = ["DISCLAIMER", "ParcelNotFoundError", "ReportInputError", "overlays",
           "parcel_report", "parcel_report_html", "parcel_report_pdf", "zone_norms"]

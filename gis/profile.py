"""The territorial profile of every investment project, computed in PostGIS and kept current.

A profile answers, for one project of ``layers.projects``: which PRC zones it falls in
(share of its area, length or points, the zone's norms and whether the project's use is
permitted there), the current land uses and cadastre parcels it touches, the hazard zones
it meets and the raster statistics over its footprint (elevation, slope, tsunami depth),
its relation to the port (nearest access route, truck-route influence band, nearest
terminal), its census zone and planning sector, the population served within 500 m and
1 km, and the other projects within 500 m.

Each *section* of a profile depends on a few layers (:data:`SECTION_LAYERS`). Profiles are
stored in ``profiles.project_profiles`` with the layer revisions (``catalog.layer_revisions``)
each section was computed from: :func:`current_profile` recomputes only the sections whose
layers changed since, and :func:`refresh_profiles` does it for every project in batches,
one query per section (after a new zoning version only the PRC section is recomputed).

Examples
--------
>>> with connect(settings) as conn:                              # doctest: +SKIP
...     perfil = current_profile(conn, settings, "40015248-0")
...     perfil["zonas_prc"]["uso_permitido"]
'permitido'
>>> tabla = profiles_table(conn, settings)                       # doctest: +SKIP
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from contextlib import ExitStack
from importlib.resources import files
from typing import Any

import pandas as pd
import psycopg
import shapely
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from gis.portfolio.store import ProjectNotFoundError
from gis.profile_rasters import raster_paths, raster_profile
from gis.settings import Settings
from gis.tiles import revisions
from layers.codes import HAZARD_LEVELS, SII_DESTINOS
from layers.projects import OGUC_CLASS

PROFILE_FORMAT = 1
"""Bump when a section's content changes: every stored profile is then recomputed."""
RADII_M = (500, 1000)
"""Radii of the population served."""
NEARBY_PROJECTS_M = 500.0
MAX_PARCELS = 500
"""Parcels listed one by one in a profile (all are counted)."""
BATCH = 500
"""Projects per query when refreshing many profiles."""

SECTION_LAYERS: dict[str, tuple[str, ...]] = {
    "proyecto": (),
    "zonas_prc": ("zoning",),
    "uso_de_suelo": ("land_use",),
    "predios": ("parcels",),
    "riesgos": ("hazard_zones",),
    "rasters": ("dem", "tsunami_depth"),
    "puerto": ("port_routes", "port_terminals"),
    "territorio": ("census_zones", "planning_sectors"),
    "poblacion_servida": ("census_zones", "parcels"),
    "proyectos_cercanos": ("projects",),
}
"""The layers each section of a profile is computed from, in the order shown. A project's
own changes are not among them: saving a project recomputes its whole profile
(:func:`recompute_profile`), and only the nearby-projects section of the others follows
the projects layer; a flat-file load of the layer drops every stored profile."""
DEPENDENCIES = sorted({name for layers in SECTION_LAYERS.values() for name in layers})
RESIDENTIAL_LAYERS = ("parcels", "census_zones")
"""Layers the residential weights (``profiles.residential_pieces``) are built from."""
RESIDENTIAL_LOCK = 0x5EC_0001
"""Advisory lock taken while the residential weights are rebuilt."""
RESIDENTIAL_CELL_M = 100
"""Side of the grid cells of ``profiles.residential_cells`` (metres): small enough that
few pieces lie in the cells on a radius's edge, large enough that few cells fill it (at
1,000,000 parcels, 100 m beat 25, 50, 150 and 200 m)."""

CONFLICTING_SECTORS = {
    "puerto y logística": {"vivienda", "educación", "salud", "áreas verdes", "deporte",
                           "equipamiento comunitario"},
}
"""Sector pairs whose proximity is a likely conflict (truck traffic, noise, dust)."""



def _sql_sections() -> dict[str, str]:
    text = files("gis").joinpath("sql/project_profile.sql").read_text(encoding="utf-8")
    parts = re.split(r"^-- name: (\w+)\n", text, flags=re.M)
    return {parts[i]: parts[i + 1].strip() for i in range(1, len(parts), 2)}


SQL = _sql_sections()


# --- computing -----------------------------------------------------------------------------

def project_profile(conn: psycopg.Connection, settings: Settings, codigo: str
                    ) -> dict[str, Any]:
    """The territorial profile of project ``codigo``, computed now (nothing is stored).

    Raises :class:`ProjectNotFoundError` for an unknown code. Use :func:`current_profile`
    to read the stored profile, recomputed only when a layer it depends on changed.
    """
    computed = compute_sections(conn, settings, [codigo], list(SECTION_LAYERS))
    if codigo not in computed:
        raise ProjectNotFoundError(codigo)
    return _ordered(computed[codigo])


def compute_sections(conn: psycopg.Connection, settings: Settings, codes: Sequence[str],
                     sections: Iterable[str]) -> dict[str, dict[str, Any]]:
    """``{codigo: {section: data}}`` of ``sections`` for the projects ``codes`` (unknown
    codes are left out), one query per section.

    The queries go to the server together (pipeline mode: one round trip), and the raster
    statistics are read from their files while the server runs the other sections.
    """
    wanted = [s for s in SECTION_LAYERS if s in set(sections)]
    queries = [s for s in wanted if s != "rasters"]
    params = _params(settings, codes)
    results: dict[str, dict[str, Any]] = {}
    with conn.transaction():
        conn.execute("SET LOCAL jit = off")  # compiling costs more than these plans run
        if "poblacion_servida" in wanted:
            ensure_residential_weights(conn)
        paths = raster_paths(conn) if "rasters" in wanted else {}
        with conn.pipeline(), ExitStack() as stack:
            cursors = {s: stack.enter_context(conn.cursor()) for s in wanted}
            footprints: dict[str, tuple[shapely.Geometry, bool]] = {}
            if "rasters" in wanted:
                cursors["rasters"].execute(SQL["huella_raster"], params)  # type: ignore[arg-type]
                footprints = {str(c): (shapely.from_wkb(bytes(g)), bool(b))
                              for c, g, b in cursors["rasters"].fetchall()}
            for section in queries:
                cursors[section].execute(SQL[section], params)  # type: ignore[arg-type]
            if "rasters" in wanted:
                results["rasters"] = raster_profile(paths, footprints,
                                                    settings.profile_raster_buffer_m)
            for section in queries:
                results[section] = {str(c): v for c, v in cursors[section].fetchall()}
    out: dict[str, dict[str, Any]] = {}
    for section in wanted:
        for code, value in results[section].items():
            out.setdefault(code, {})[section] = _finish(section, value)
    return out


def _params(settings: Settings, codes: Sequence[str]) -> dict[str, Any]:
    return {
        "codigos": list(codes), "classes": json.dumps(OGUC_CLASS),
        "destinos": json.dumps(SII_DESTINOS), "levels": list(HAZARD_LEVELS),
        "max_parcels": MAX_PARCELS, "raster_buffer": settings.profile_raster_buffer_m,
        "band": settings.truck_route_band_m, "radios": list(RADII_M),
        "radio_proyectos": NEARBY_PROJECTS_M,
    }


def _finish(section: str, data: Any) -> Any:
    """Conclusions drawn from a section's rows (permitted use, synergies and conflicts)."""
    if section == "zonas_prc":
        return {"uso_permitido": overall_use(data), "zonas": data}
    if section == "uso_de_suelo":
        return {"usos": data}
    if section == "riesgos":
        return {"zonas": data}
    if section == "poblacion_servida":
        return {f"radio_{r}_m": data.get(f"radio_{r}_m")
                or {"radio_m": r, "poblacion": 0, "zonas": []} for r in RADII_M}
    if section == "proyectos_cercanos":
        return {"radio_m": NEARBY_PROJECTS_M, "proyectos": data}
    return data


def overall_use(zones: list[dict[str, Any]]) -> str:
    """'prohibido' if any zone prohibits the project's use, 'permitido' if every zone it
    falls in permits it, else 'no indicado' (also outside the PRC)."""
    uses = {z["uso"] for z in zones}
    if "prohibido" in uses:
        return "prohibido"
    if uses == {"permitido"}:
        return "permitido"
    return "no indicado"


def relation(sector: str, other: str) -> str:
    """How a nearby project relates to this one: 'sinergia' (same sector), 'posible
    conflicto' (incompatible neighbours, e.g. port logistics next to housing) or
    'complementario'."""
    if sector == other:
        return "sinergia"
    if other in CONFLICTING_SECTORS.get(sector, ()) or sector in CONFLICTING_SECTORS.get(
            other, ()):
        return "posible conflicto"
    return "complementario"


def _ordered(profile: dict[str, Any]) -> dict[str, Any]:
    out = {s: profile[s] for s in SECTION_LAYERS if s in profile}
    sector = out.get("proyecto", {}).get("sector")
    for other in out.get("proyectos_cercanos", {}).get("proyectos", []):
        other["relacion"] = relation(sector, other["sector"])
    return out


# --- residential weights -------------------------------------------------------------------

def ensure_residential_weights(conn: psycopg.Connection) -> None:
    """Rebuild ``profiles.residential_pieces``, ``residential_cells`` and
    ``census_weights`` when the cadastre or the census zones (or the grid) changed since
    they were built (call inside a transaction)."""
    wanted: dict[str, int] = {**revisions(conn, RESIDENTIAL_LAYERS),
                              "celda_m": RESIDENTIAL_CELL_M}
    if _derived_state(conn) == wanted:
        return
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (RESIDENTIAL_LOCK,))
    if _derived_state(conn) == wanted:  # built meanwhile by another session
        return
    for statement in re.split(r";\s*\n", SQL["build_residential"].rstrip(";")):
        params = {"celda_m": RESIDENTIAL_CELL_M} if "%(" in statement else None
        conn.execute(statement, params)  # type: ignore[arg-type]
    conn.execute("INSERT INTO profiles.derived_state (name, revisiones) VALUES "
                 "('residential', %s) ON CONFLICT (name) DO UPDATE SET "
                 "revisiones = EXCLUDED.revisiones, calculado = now()", (Jsonb(wanted),))


def _derived_state(conn: psycopg.Connection) -> dict[str, int] | None:
    row = conn.execute("SELECT revisiones FROM profiles.derived_state "
                       "WHERE name = 'residential'").fetchone()
    return dict(row[0]) if row else None


# --- stored, always current ----------------------------------------------------------------

def section_stamps(settings: Settings, revs: dict[str, int]) -> dict[str, dict[str, Any]]:
    """What each section's stored value must have been computed from to be current: the
    revisions of its layers, the settings it uses and the profile format."""
    stamps: dict[str, dict[str, Any]] = {}
    for section, layers in SECTION_LAYERS.items():
        stamp: dict[str, Any] = {name: revs[name] for name in layers}
        stamp["formato"] = PROFILE_FORMAT
        if section == "puerto":
            stamp["banda_m"] = settings.truck_route_band_m
        if section == "rasters":
            stamp["buffer_m"] = settings.profile_raster_buffer_m
        stamps[section] = stamp
    return stamps


def stale_sections(stored: dict[str, Any] | None, stamps: dict[str, dict[str, Any]]
                   ) -> list[str]:
    """Sections whose stored stamp differs from the current one (all if none stored)."""
    stored = stored or {}
    return [s for s, stamp in stamps.items() if stored.get(s) != stamp]


def current_profile(conn: psycopg.Connection, settings: Settings, codigo: str
                    ) -> dict[str, Any]:
    """The profile of ``codigo``: the stored one when no layer it depends on changed since
    it was computed; otherwise the changed sections are recomputed, stored and returned.

    Raises :class:`ProjectNotFoundError` for an unknown code.
    """
    stamps = section_stamps(settings, revisions(conn, DEPENDENCIES))
    row = conn.execute("SELECT perfil, revisiones FROM profiles.project_profiles "
                       "WHERE codigo = %s", (codigo,)).fetchone()
    stale = stale_sections(row[1] if row else None, stamps)
    if row and not stale:
        return _ordered(dict(row[0]))
    computed = compute_sections(conn, settings, [codigo], stale)
    if codigo not in computed:
        raise ProjectNotFoundError(codigo)
    _store(conn, [(codigo, computed[codigo], stamps)])
    return _ordered({**(dict(row[0]) if row else {}), **computed[codigo]})


def recompute_profile(conn: psycopg.Connection, settings: Settings, codigo: str
                      ) -> dict[str, Any]:
    """Compute every section of ``codigo``'s profile now and store it (after the project
    itself was saved: its geometry or fields changed)."""
    stamps = section_stamps(settings, revisions(conn, DEPENDENCIES))
    computed = compute_sections(conn, settings, [codigo], list(SECTION_LAYERS))
    if codigo not in computed:
        raise ProjectNotFoundError(codigo)
    _store(conn, [(codigo, computed[codigo], stamps)])
    return _ordered(computed[codigo])


def refresh_profiles(conn: psycopg.Connection, settings: Settings, *,
                     only_stored: bool = False) -> int:
    """Recompute the stale sections of every project's stored profile (e.g. after a new
    zoning version or a cadastre load), drop the profiles of projects that no longer
    exist, and return how many profiles were (re)computed. With ``only_stored``, projects
    never profiled are left for their first read."""
    stamps = section_stamps(settings, revisions(conn, DEPENDENCIES))
    with conn.transaction():
        conn.execute("DELETE FROM profiles.project_profiles AS s WHERE NOT EXISTS "
                     "(SELECT 1 FROM layers.projects AS p WHERE p.codigo = s.codigo)")
    rows = conn.execute(
        "SELECT p.codigo, s.revisiones FROM layers.projects AS p "
        "LEFT JOIN profiles.project_profiles AS s USING (codigo) ORDER BY p.codigo"
    ).fetchall()
    groups: dict[tuple[str, ...], list[str]] = {}
    for code, stored in rows:
        stale = tuple(stale_sections(stored, stamps))
        if stale and not (only_stored and stored is None):
            groups.setdefault(stale, []).append(str(code))
    done = 0
    for stale, codes in groups.items():
        for start in range(0, len(codes), BATCH):
            batch = codes[start:start + BATCH]
            computed = compute_sections(conn, settings, batch, stale)
            _store(conn, [(c, computed[c], stamps) for c in batch if c in computed])
            done += len(batch)
    return done


def _store(conn: psycopg.Connection,
           items: list[tuple[str, dict[str, Any], dict[str, Any]]]) -> None:
    """Store the given sections of each profile over the stored ones (the others are
    kept: a refresh sends only what it recomputed), with the new stamps."""
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO profiles.project_profiles AS s (codigo, perfil, revisiones) "
            "VALUES (%s, %s, %s) ON CONFLICT (codigo) DO UPDATE SET "
            "perfil = s.perfil || EXCLUDED.perfil, revisiones = EXCLUDED.revisiones, "
            "calculado = now()",
            [(code, Jsonb(profile), Jsonb(stamps)) for code, profile, stamps in items])


# --- notebooks -----------------------------------------------------------------------------

def profiles_table(conn: psycopg.Connection, settings: Settings) -> pd.DataFrame:
    """One row per project with the profile's main figures in flat Spanish columns,
    after bringing every stored profile up to date."""
    refresh_profiles(conn, settings)
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute("SELECT perfil FROM profiles.project_profiles ORDER BY codigo")
        records = [flat_profile(_ordered(dict(r["perfil"]))) for r in cur.fetchall()]
    return pd.DataFrame.from_records(records, columns=list(FLAT_COLUMNS))


FLAT_COLUMNS = (
    "codigo", "nombre", "sector", "etapa", "geometria", "clase_oguc", "zona_prc",
    "zona_prc_porcentaje", "zonas_prc", "uso_permitido", "uso_suelo_principal",
    "predios", "superficie_afectada_m2", "riesgos", "riesgo_alto", "elevacion_media_m",
    "pendiente_media_grados", "pendiente_max_grados", "tsunami_max_m",
    "ruta_cercana", "distancia_ruta_m", "en_banda_camiones", "terminal_cercano",
    "distancia_terminal_m", "zona_censal", "sector_planificacion", "poblacion_500m",
    "poblacion_1km", "proyectos_500m", "posibles_conflictos",
)


def flat_profile(p: dict[str, Any]) -> dict[str, Any]:
    """The flat row of :func:`profiles_table` for one profile."""
    pr, zonas = p["proyecto"], p["zonas_prc"]["zonas"]
    usos, riesgos = p["uso_de_suelo"]["usos"], p["riesgos"]["zonas"]
    rast, port, terr = p["rasters"], p["puerto"], p["territorio"]
    pob, near = p["poblacion_servida"], p["proyectos_cercanos"]["proyectos"]

    def stat(layer: str, key: str) -> float | None:
        return ((rast.get(layer) or {}).get(key)) if isinstance(rast, dict) else None

    def first(items: list[dict[str, Any]], key: str) -> Any:
        return items[0][key] if items else None

    return {
        "codigo": pr["codigo"], "nombre": pr["nombre"], "sector": pr["sector"],
        "etapa": pr["etapa"], "geometria": pr["geometria"], "clase_oguc": pr["clase_oguc"],
        "zona_prc": first(zonas, "codigo"), "zona_prc_porcentaje": first(zonas, "porcentaje"),
        "zonas_prc": ", ".join(z["codigo"] for z in zonas),
        "uso_permitido": p["zonas_prc"]["uso_permitido"],
        "uso_suelo_principal": first(usos, "uso"),
        "predios": p["predios"]["total"],
        "superficie_afectada_m2": p["predios"]["superficie_afectada_m2"],
        "riesgos": ", ".join(f"{r['tipo']} ({r['nivel']})" for r in riesgos),
        "riesgo_alto": any(r["nivel"] == "alto" for r in riesgos),
        "elevacion_media_m": stat("elevacion", "media"),
        "pendiente_media_grados": stat("pendiente", "media"),
        "pendiente_max_grados": stat("pendiente", "max"),
        "tsunami_max_m": stat("profundidad_tsunami", "max"),
        "ruta_cercana": (port["ruta_cercana"] or {}).get("nombre"),
        "distancia_ruta_m": (port["ruta_cercana"] or {}).get("distancia_m"),
        "en_banda_camiones": port["banda_camiones"]["dentro"],
        "terminal_cercano": (port["terminal_cercano"] or {}).get("nombre"),
        "distancia_terminal_m": (port["terminal_cercano"] or {}).get("distancia_m"),
        "zona_censal": first(terr["zonas_censales"], "geocodigo"),
        "sector_planificacion": first(terr["sectores"], "nombre"),
        "poblacion_500m": (pob.get("radio_500_m") or {}).get("poblacion", 0),
        "poblacion_1km": (pob.get("radio_1000_m") or {}).get("poblacion", 0),
        "proyectos_500m": len(near),
        "posibles_conflictos": sum(1 for o in near if o.get("relacion") == "posible conflicto"),
    }

"""The project registry in PostGIS: create, read, update and delete projects with their
funding, stage history and attachments, with optimistic concurrency.

A project lives in three places written together in one transaction: its row of the map
layer ``layers.projects`` (descriptive fields, geometry and the funding summary), its
``cartera.registro`` row (version for ``If-Match``, who and when) and its
``cartera.financiamiento`` / ``historial`` / ``adjuntos`` rows. Every write raises the
layer's revision (tiles and profiles notice), keeps the layer's catalog entry current and
is recorded in the audit log; the territorial profile is recomputed after the save.

Examples
--------
>>> project = parse_project({...}, geometry=point)               # doctest: +SKIP
>>> saved = create_project(conn, settings, user, project)         # doctest: +SKIP
>>> saved["version"], saved["etag"]                               # doctest: +SKIP
(1, '"p1"')
"""

from __future__ import annotations

import getpass
import logging
from collections.abc import Sequence
from typing import Any

import psycopg
import shapely
from psycopg import sql
from psycopg.rows import dict_row
from shapely.geometry.base import BaseGeometry

from gis import audit
from gis.auth import User
from gis.errors import (
    ConflictError,
    NotFoundError,
    PlatformError,
    PreconditionFailedError,
    PreconditionRequiredError,
)
from gis.ingest.load import LAYER_LOCK_KEY, Provenance, record_version
from gis.portfolio.record import AMOUNTS, DERIVED_FIELDS, INPUT_FIELDS, Project, ProjectInputError
from gis.proposals.geojson import to_lonlat_geojson
from gis.settings import Settings
from gis.tiles import bump_revision
from layers.base import STORAGE_SRID
from layers.projects import FUNDING_CODES, LAYER, PROJECT_SECTORS, STAGES

COLUMNS = [f.name for f in LAYER.fields]
REGISTRY_SOURCE = "registro de proyectos (edición en línea)"

log = logging.getLogger(__name__)


class ProjectNotFoundError(NotFoundError):
    def __init__(self, codigo: str) -> None:
        super().__init__(f"El proyecto «{codigo[:80]}» no existe en la cartera de inversión.",
                         hint="Busque el código con /buscar?q=… o en la capa «projects».")


class GeometryOutsideError(ProjectInputError):
    pass


def etag(version: int) -> str:
    return f'"p{version}"'


# --- reading -------------------------------------------------------------------------------

def project_json(conn: psycopg.Connection, codigo: str) -> dict[str, Any]:
    """Everything the registry holds about ``codigo``: fields, GeoJSON geometry (lon/lat),
    funding by source and year with totals, stage history, attachments (without their
    content), version and ``ETag``."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(sql.SQL(
            "SELECT {}, ST_AsBinary(p.geom) AS wkb, r.version, r.creado, r.creado_por, "
            "r.modificado, r.modificado_por FROM layers.projects AS p "
            "JOIN cartera.registro AS r USING (codigo) WHERE p.codigo = %s").format(
            sql.SQL(", ").join(sql.Identifier("p", c) for c in COLUMNS)), (codigo,))
        row = cur.fetchone()
        if row is None:
            raise ProjectNotFoundError(codigo)
        funding = cur.execute(
            "SELECT fuente, anio, solicitado, aprobado, comprometido, ejecutado "
            "FROM cartera.financiamiento WHERE codigo = %s ORDER BY anio, fuente",
            (codigo,)).fetchall()
        history = cur.execute(
            "SELECT etapa, fecha, usuario, nota FROM cartera.historial WHERE codigo = %s "
            "ORDER BY fecha, id", (codigo,)).fetchall()
        attachments = cur.execute(
            "SELECT id, nombre, tipo, bytes, sha256, descripcion, subido, subido_por "
            "FROM cartera.adjuntos WHERE codigo = %s ORDER BY id", (codigo,)).fetchall()
    geometry = shapely.from_wkb(bytes(row.pop("wkb")))
    version = int(row["version"])
    return {
        **{c: _plain(row[c]) for c in COLUMNS},
        "financiamiento": funding,
        "totales": {a: sum(int(f[a]) for f in funding) for a in AMOUNTS},
        "advertencias": funding_warnings(funding),
        "historial": [{**h, "fecha": h["fecha"].isoformat()} for h in history],
        "adjuntos": [{**a, "subido": a["subido"].isoformat(),
                      "url": f"/proyectos/{codigo}/adjuntos/{a['id']}"} for a in attachments],
        "geometria": to_lonlat_geojson(geometry),
        "version": version, "etag": etag(version),
        "creado": row["creado"].isoformat(), "creado_por": row["creado_por"],
        "modificado": row["modificado"].isoformat(), "modificado_por": row["modificado_por"],
    }


def funding_warnings(funding: Sequence[dict[str, Any]]) -> list[str]:
    from gis.portfolio.record import money

    return [f"{f['fuente']} {f['anio']}: el monto ejecutado ({money(f['ejecutado'])}) "
            f"supera el aprobado ({money(f['aprobado'])})."
            for f in funding if f["ejecutado"] > f["aprobado"]]


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def list_projects(conn: psycopg.Connection, *, sector: str | None = None,
                  etapa: str | None = None, fuente: str | None = None,
                  text: str | None = None) -> list[dict[str, Any]]:
    """Summary rows of the portfolio (code, name, sector, stage, sources, amounts), filtered
    by sector, stage, funding source and text in the code or name."""
    from gis.features import QueryError

    for value, valid, what in ((sector, PROJECT_SECTORS, "sector"), (etapa, STAGES, "etapa"),
                               (fuente, FUNDING_CODES, "fuente")):
        if value is not None and value not in valid:
            raise QueryError(f"«{value[:60]}» no es un valor válido de {what}.",
                             hint=f"Valores: {', '.join(valid)}.")
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            "SELECT p.codigo, p.nombre, p.sector, p.etapa, p.fuentes, p.monto_clp, "
            "p.monto_ejecutado_clp, p.anio, p.avance_fisico, r.version "
            "FROM layers.projects AS p JOIN cartera.registro AS r USING (codigo) "
            "WHERE (%(sector)s::text IS NULL OR p.sector = %(sector)s) "
            "AND (%(etapa)s::text IS NULL OR p.etapa = %(etapa)s) "
            "AND (%(fuente)s::text IS NULL OR %(fuente)s = ANY(p.fuentes)) "
            "AND (%(text)s::text IS NULL OR p.codigo ILIKE %(like)s OR p.nombre ILIKE %(like)s) "
            "ORDER BY p.codigo",
            {"sector": sector, "etapa": etapa, "fuente": fuente, "text": text,
             "like": f"%{_escape_like(text)}%" if text else None})
        return [{**r, "url": f"/proyectos/{r['codigo']}"} for r in cur.fetchall()]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def project_exists(conn: psycopg.Connection, codigo: str) -> bool:
    return conn.execute("SELECT EXISTS (SELECT 1 FROM cartera.registro WHERE codigo = %s)",
                        (codigo,)).fetchone()[0]  # type: ignore[index]


# --- writing -------------------------------------------------------------------------------

def create_project(conn: psycopg.Connection, settings: Settings, user: User | str,
                   project: Project) -> dict[str, Any]:
    """Add ``project`` to the registry (409 if its code exists); the saved project."""
    actor = _actor(user)
    with conn.transaction():
        _lock_layer(conn)
        if project_exists(conn, project.codigo):
            raise ConflictError(f"Ya existe un proyecto con el código «{project.codigo}».",
                                hint=f"Edítelo en /proyectos/{project.codigo} o use otro "
                                     "código.")
        _write(conn, settings, actor, project, new=True)
        _after_write(conn, settings)
        saved = project_json(conn, project.codigo)
        audit.record(conn, actor, "proyecto.crear", f"proyecto/{project.codigo}",
                     after=_audit_state(saved))
    _refresh_profile(conn, settings, project.codigo)
    return saved


def update_project(conn: psycopg.Connection, settings: Settings, user: User | str,
                   codigo: str, project: Project, if_match: str | None) -> dict[str, Any]:
    """Replace the fields, funding and (when given) geometry of ``codigo``.

    ``if_match`` must be the ``ETag`` the editor read: without it 428, and when someone
    saved the project since, 412 (the second of two simultaneous saves never overwrites
    the first).
    """
    actor = _actor(user)
    if project.codigo != codigo:
        raise ProjectInputError([{"campo": "codigo", "mensaje": f"no se puede cambiar el "
                                  f"código de «{codigo}» a «{project.codigo}»"}])
    with conn.transaction():
        before = _lock_for_write(conn, codigo, if_match)
        _write(conn, settings, actor, project, new=False, old_stage=before["etapa"])
        _after_write(conn, settings)
        saved = project_json(conn, codigo)
        audit.record(conn, actor, "proyecto.editar", f"proyecto/{codigo}",
                     before=_audit_state(before), after=_audit_state(saved))
    _refresh_profile(conn, settings, codigo)
    return saved


def delete_project(conn: psycopg.Connection, settings: Settings, user: User | str,
                   codigo: str, if_match: str | None) -> None:
    """Remove ``codigo`` with its funding, history, attachments and profile."""
    actor = _actor(user)
    with conn.transaction():
        before = _lock_for_write(conn, codigo, if_match)
        conn.execute("DELETE FROM layers.projects WHERE codigo = %s", (codigo,))
        conn.execute("DELETE FROM cartera.registro WHERE codigo = %s", (codigo,))
        conn.execute("DELETE FROM profiles.project_profiles WHERE codigo = %s", (codigo,))
        _after_write(conn, settings)
        audit.record(conn, actor, "proyecto.eliminar", f"proyecto/{codigo}",
                     before=_audit_state(before))


def save_projects(conn: psycopg.Connection, settings: Settings, user: User | str,
                  projects: Sequence[Project], *, source: str, profiles: bool = True
                  ) -> dict[str, int]:
    """Create or replace many projects in one transaction (a portfolio import): either all
    are saved or none. Returns how many were created and updated.

    The saved projects' territorial profiles are then computed (in batches); with
    ``profiles=False`` they are left for their first read or :func:`refresh_profiles`.
    """
    actor = _actor(user)
    created = updated = 0
    with conn.transaction():
        _lock_layer(conn)
        existing = {r[0]: r[1] for r in conn.execute(
            "SELECT p.codigo, p.etapa FROM layers.projects AS p JOIN cartera.registro "
            "USING (codigo) WHERE p.codigo = ANY(%s)", ([p.codigo for p in projects],))}
        for project in projects:
            new = project.codigo not in existing
            if not new:
                conn.execute("UPDATE cartera.registro SET version = version + 1, "
                             "modificado = now(), modificado_por = %s WHERE codigo = %s",
                             (actor, project.codigo))
            _write(conn, settings, actor, project, new=new,
                   old_stage=existing.get(project.codigo), note=f"Importado de {source}")
            created += new
            updated += not new
        conn.execute("DELETE FROM profiles.project_profiles WHERE codigo = ANY(%s)",
                     ([p.codigo for p in projects],))
        _after_write(conn, settings)
        audit.record(conn, actor, "proyecto.importar", "proyectos",
                     after={"archivo": source, "creados": created, "actualizados": updated})
    if profiles:
        from gis.profile import refresh_profiles

        refresh_profiles(conn, settings)
    return {"creados": created, "actualizados": updated}


def sync_registry(conn: psycopg.Connection, version: int, actor: str) -> None:
    """After a flat file replaced the projects layer (``secplac ingest projects``): projects
    no longer in the layer leave the registry, new ones enter it with the file's summary
    (first source, total amount as approved in the first year) as their funding."""
    conn.execute("DELETE FROM cartera.registro AS r WHERE NOT EXISTS "
                 "(SELECT 1 FROM layers.projects AS p WHERE p.codigo = r.codigo)")
    conn.execute("DELETE FROM profiles.project_profiles")  # every project was replaced
    new = [r[0] for r in conn.execute(
        "INSERT INTO cartera.registro (codigo, creado_por, modificado_por) "
        "SELECT codigo, %s, %s FROM layers.projects AS p WHERE NOT EXISTS "
        "(SELECT 1 FROM cartera.registro AS r WHERE r.codigo = p.codigo) RETURNING codigo",
        (actor, actor)).fetchall()]
    conn.execute(
        "INSERT INTO cartera.financiamiento (codigo, fuente, anio, solicitado, aprobado) "
        "SELECT codigo, fuentes[1], anio, monto_clp, monto_clp FROM layers.projects "
        "WHERE codigo = ANY(%s) AND fuentes[1] IS NOT NULL AND anio IS NOT NULL "
        "AND monto_clp IS NOT NULL", (new,))
    conn.execute(
        "INSERT INTO cartera.historial (codigo, etapa, usuario, nota) SELECT codigo, etapa, "
        "%s, %s FROM layers.projects WHERE codigo = ANY(%s)",
        (actor, f"Cargado como capa (versión {version})", new))


def refused(conn: psycopg.Connection, user: User | str | None, action: str, target: str,
            exc: PlatformError) -> None:
    """Record a refused write in the audit log (outside the failed transaction)."""
    audit.record(conn, _actor(user) if user else None, action, target, outcome="rechazado",
                 detail=exc.message[:500])


def _actor(user: User | str | None) -> str:
    if isinstance(user, User):
        return user.username
    return user or getpass.getuser()


def _lock_layer(conn: psycopg.Connection) -> None:
    """Serialise registry writes with loads of the projects layer."""
    conn.execute(f"SELECT pg_advisory_xact_lock({LAYER_LOCK_KEY})", (LAYER.name,))


def _lock_for_write(conn: psycopg.Connection, codigo: str, if_match: str | None
                    ) -> dict[str, Any]:
    if if_match is None:
        raise PreconditionRequiredError(
            f"Para modificar el proyecto «{codigo}» envíe la cabecera If-Match con su ETag.",
            hint="Lea el proyecto (GET /proyectos/{codigo}), y envíe su ETag en If-Match: "
                 "así nadie sobrescribe sin saberlo los cambios de otra persona.")
    _lock_layer(conn)
    row = conn.execute("SELECT version, modificado_por, modificado FROM cartera.registro "
                       "WHERE codigo = %s FOR UPDATE", (codigo,)).fetchone()
    if row is None:
        raise ProjectNotFoundError(codigo)
    version, by, when = row
    if if_match.strip() not in (etag(version), "*"):
        raise PreconditionFailedError(
            f"Conflicto de edición: {by} guardó el proyecto «{codigo}» el "
            f"{when:%d-%m-%Y a las %H:%M} después de que usted lo abriera; su cambio no se "
            "guardó para no sobrescribir el de esa persona.",
            hint="Vuelva a cargar el proyecto, revise sus cambios y guárdelo de nuevo.")
    before = project_json(conn, codigo)
    conn.execute("UPDATE cartera.registro SET version = version + 1, modificado = now() "
                 "WHERE codigo = %s", (codigo,))
    return before


def _write(conn: psycopg.Connection, settings: Settings, actor: str, project: Project, *,
           new: bool, old_stage: str | None = None, note: str | None = None) -> None:
    geometry = project.geometry
    if new and geometry is None:
        raise ProjectInputError([{"campo": "geometria", "mensaje":
                                  "falta la ubicación del proyecto (punto, línea o polígono)"}])
    if geometry is not None:
        check_location(conn, settings, geometry, project.codigo)
    values = {**project.attributes, **project.summary()}
    names = [f.name for f in INPUT_FIELDS] + list(DERIVED_FIELDS)
    if new:
        conn.execute("INSERT INTO cartera.registro (codigo, creado_por, modificado_por) "
                     "VALUES (%s, %s, %s)", (project.codigo, actor, actor))
        conn.execute(sql.SQL("INSERT INTO layers.projects ({}, geom) VALUES ({}, "
                             "ST_SetSRID(ST_GeomFromWKB(%s), {}))").format(
            sql.SQL(", ").join(map(sql.Identifier, names)),
            sql.SQL(", ").join(sql.Placeholder() * len(names)), sql.Literal(STORAGE_SRID)),
            [*(values[n] for n in names), shapely.to_wkb(geometry)])
    else:
        geom_sql = (sql.SQL(", geom = ST_SetSRID(ST_GeomFromWKB(%s), {})").format(
            sql.Literal(STORAGE_SRID)) if geometry is not None else sql.SQL(""))
        conn.execute(sql.SQL("UPDATE layers.projects SET {}{} WHERE codigo = %s").format(
            sql.SQL(", ").join(sql.SQL("{} = %s").format(sql.Identifier(n)) for n in names),
            geom_sql),
            [*(values[n] for n in names),
             *([shapely.to_wkb(geometry)] if geometry is not None else []), project.codigo])
        conn.execute("UPDATE cartera.registro SET modificado_por = %s WHERE codigo = %s",
                     (actor, project.codigo))
        conn.execute("DELETE FROM cartera.financiamiento WHERE codigo = %s", (project.codigo,))
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO cartera.financiamiento (codigo, fuente, anio, solicitado, aprobado, "
            "comprometido, ejecutado) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [(project.codigo, f.fuente, f.anio, f.solicitado, f.aprobado, f.comprometido,
              f.ejecutado) for f in project.financiamiento])
    stage = project.attributes["etapa"]
    if new or stage != old_stage:
        conn.execute("INSERT INTO cartera.historial (codigo, etapa, usuario, nota) "
                     "VALUES (%s, %s, %s, %s)", (project.codigo, stage, actor,
                                                 project.note or note))


def check_location(conn: psycopg.Connection, settings: Settings, geometry: BaseGeometry,
                   codigo: str) -> None:
    """A project's geometry must be valid, of one dimension, and lie in the comuna (with
    ``settings.project_sea_margin_m`` of margin for works at sea)."""
    problems: list[str] = []
    if geometry.is_empty:
        problems.append("la geometría está vacía")
    elif geometry.geom_type == "GeometryCollection":
        problems.append("mezcla puntos, líneas y polígonos; un proyecto con varios "
                        "lugares debe usar un solo tipo (varios puntos, varias líneas o "
                        "varios polígonos)")
    elif not geometry.is_valid:
        from gis.proposals.operations import spanish_validity

        problems.append(f"no es válida ({spanish_validity(shapely.is_valid_reason(geometry))}"
                        "): dibújela sin cruces ni lazos")
    if problems:
        raise ProjectInputError([{"campo": "geometria", "mensaje": p} for p in problems])
    row = conn.execute(
        "SELECT ST_CoveredBy(ST_SetSRID(ST_GeomFromWKB(%s), %s), ST_Buffer(geom, %s)), "
        "nombre FROM layers.comunas WHERE codigo_comuna = %s",
        (shapely.to_wkb(geometry), STORAGE_SRID, settings.project_sea_margin_m,
         settings.comuna_code)).fetchone()
    if row is not None:
        inside, comuna = bool(row[0]), row[1]
    else:  # no comuna boundary loaded: the work area only
        from pyproj import Transformer

        to_lonlat = Transformer.from_crs(STORAGE_SRID, 4326, always_xy=True)
        west, south, east, north = settings.area_of_interest
        coords = shapely.get_coordinates(geometry)
        lon, lat = to_lonlat.transform(coords[:, 0], coords[:, 1])
        inside = bool(((lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)).all())
        comuna = "el área de trabajo"
    if not inside:
        raise GeometryOutsideError([{"campo": "geometria", "mensaje":
                                     f"la ubicación del proyecto {codigo} queda fuera de la "
                                     f"comuna ({comuna}); revise las coordenadas (¿longitud "
                                     "y latitud invertidas?) o el sistema de referencia"}])


def _after_write(conn: psycopg.Connection, settings: Settings) -> None:
    """Raise the layer's revision and keep its catalog entry (count, extent) current."""
    bump_revision(conn, LAYER.name)
    updated = conn.execute(
        "UPDATE catalog.layer_versions SET feature_count = (SELECT count(*) FROM "
        "layers.projects), extent = coalesce((SELECT ST_MakeEnvelope(ST_XMin(e), ST_YMin(e), "
        "ST_XMax(e), ST_YMax(e), 32719) FROM (SELECT ST_Extent(geom) AS e FROM "
        "layers.projects) AS s), extent) WHERE layer = %s AND valid_to IS NULL",
        (LAYER.name,))
    if updated.rowcount == 0:  # the registry's first project: the layer enters the catalog
        version = conn.execute("SELECT coalesce(max(version), 0) + 1 FROM "
                               "catalog.layer_versions WHERE layer = %s",
                               (LAYER.name,)).fetchone()[0]  # type: ignore[index]
        record_version(conn, LAYER.name, version, "vector", f"layers.{LAYER.name}",
                       Provenance(loaded_by=settings.user or getpass.getuser(),
                                  source_file=REGISTRY_SOURCE, source_sha256="",
                                  source_crs=None, fuente=REGISTRY_SOURCE,
                                  licencia="Municipalidad de San Antonio", demo=False,
                                  processed_file=None, report={}),
                       feature_count=conn.execute("SELECT count(*) FROM layers.projects"
                                                  ).fetchone()[0],  # type: ignore[index]
                       extent_from=LAYER.name)


def _refresh_profile(conn: psycopg.Connection, settings: Settings, codigo: str) -> None:
    """Compute the saved project's territorial profile now (it is read right after). The
    save is committed already: losing the database here must not report it as failed
    (the profile is computed on its next read instead)."""
    from gis.profile import recompute_profile

    try:
        recompute_profile(conn, settings, codigo)
    except psycopg.OperationalError as exc:
        log.warning("Perfil del proyecto %s no recalculado tras guardarlo: %s", codigo, exc)


def _audit_state(saved: dict[str, Any]) -> dict[str, Any]:
    """What the audit log keeps of a project: its fields and funding (not attachments)."""
    return {k: v for k, v in saved.items() if k not in ("adjuntos", "historial", "geometria")}

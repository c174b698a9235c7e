"""Proposals in the database: creation, edits with optimistic concurrency, the review
workflow, conflicts, rebase and application as a new zoning version.

Every write takes the proposal's current ETag (``If-Match``); a stale one is refused with
who changed what. Every write, and every refused write, goes to the audit log.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import geopandas as gpd
import psycopg
import shapely
from psycopg.rows import dict_row

from gis import audit
from gis.auth import PermissionDeniedError as Forbidden
from gis.auth import Role, User
from gis.errors import (
    ConflictError,
    NotFoundError,
    PlatformError,
    PreconditionFailedError,
    PreconditionRequiredError,
)
from gis.proposals.operations import Operation, OperationError, apply_operation, replay
from gis.proposals.validation import (
    ValidationResult,
    changed_zones,
    policy_warnings,
    validate_zoning,
)
from gis.settings import Settings

STATES = ("borrador", "enviada", "en_revision", "aprobada", "rechazada", "aplicada")
OPEN_STATES = ("borrador", "enviada", "en_revision", "aprobada")
STATE_TITLES = {"borrador": "borrador", "enviada": "enviada", "en_revision": "en revisión",
                "aprobada": "aprobada", "rechazada": "rechazada", "aplicada": "aplicada"}


@dataclass(frozen=True)
class Transition:
    source: tuple[str, ...]
    target: str
    roles: tuple[Role, ...]
    not_author: bool = False
    author_only: bool = False


TRANSITIONS = {
    "enviar": Transition(("borrador",), "enviada", (Role.EDITOR,), author_only=True),
    "revisar": Transition(("enviada",), "en_revision", (Role.REVISOR,), not_author=True),
    "solicitar_cambios": Transition(("enviada", "en_revision"), "borrador", (Role.REVISOR,),
                                    not_author=True),
    "aprobar": Transition(("enviada", "en_revision"), "aprobada", (Role.REVISOR,),
                          not_author=True),
    "rechazar": Transition(("enviada", "en_revision"), "rechazada", (Role.REVISOR,),
                           not_author=True),
}
"""Workflow actions (applying is :func:`apply_proposal`, for admins)."""


class ProposalError(ConflictError):
    """An action the proposal's state does not allow (or a failed re-validation)."""





@dataclass
class Proposal:
    id: int
    titulo: str
    justificacion: str
    autor: str
    estado: str
    base_version: int
    revision: int
    creada: datetime
    actualizada: datetime
    actualizada_por: str
    ultima_accion: str
    version_aplicada: int | None
    changes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def etag(self) -> str:
        return f'"propuesta-{self.id}-r{self.revision}"'

    def operations(self) -> list[Operation]:
        return [Operation.from_payload(c["operacion"], c["geom"]) for c in self.changes]

    def zones(self) -> set[str]:
        return {z for c in self.changes for z in c["zonas"]}


# -- reading ---------------------------------------------------------------------------------

def get_proposal(conn: psycopg.Connection, proposal_id: int, *, lock: bool = False,
                 ) -> Proposal:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute("SELECT * FROM proposals.proposals WHERE id = %s FOR UPDATE" if lock else
                    "SELECT * FROM proposals.proposals WHERE id = %s", (proposal_id,))
        row = cur.fetchone()
        if row is None:
            raise NotFoundError(f"La propuesta {proposal_id} no existe.",
                                hint="Vea la lista en /propuestas.")
        cur.execute("SELECT seq, operacion, zonas, ST_AsBinary(geom) AS geom, autor, creada "
                    "FROM proposals.changes WHERE proposal_id = %s ORDER BY seq",
                    (proposal_id,))
        changes = cur.fetchall()
    for c in changes:
        c["geom"] = shapely.from_wkb(bytes(c["geom"])) if c["geom"] is not None else None
    return Proposal(**row, changes=changes)


def list_proposals(conn: psycopg.Connection, estado: str | None = None) -> list[dict[str, Any]]:
    if estado is not None and estado not in STATES:
        raise PlatformError(f"Estado «{estado[:40]}» desconocido.",
                            hint="Estados: " + ", ".join(STATES))
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute("SELECT p.*, (SELECT count(*) FROM proposals.changes c "
                    "WHERE c.proposal_id = p.id) AS cambios FROM proposals.proposals p "
                    "WHERE %(e)s::text IS NULL OR estado = %(e)s ORDER BY id DESC",
                    {"e": estado})
        return cur.fetchall()


def history(conn: psycopg.Connection, proposal_id: int) -> dict[str, list[dict[str, Any]]]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute("SELECT autor, texto, tipo, creada FROM proposals.comments "
                    "WHERE proposal_id = %s ORDER BY id", (proposal_id,))
        comments = cur.fetchall()
        cur.execute("SELECT desde, hacia, por, nota, cuando FROM proposals.transitions "
                    "WHERE proposal_id = %s ORDER BY id", (proposal_id,))
        return {"comentarios": comments, "transiciones": cur.fetchall()}


def zoning_version_in_force(conn: psycopg.Connection) -> int:
    row = conn.execute("SELECT version FROM catalog.layer_versions WHERE layer = 'zoning' "
                       "AND valid_to IS NULL").fetchone()
    if row is None:
        raise ProposalError("No hay zonificación cargada sobre la cual proponer cambios.",
                            hint="Cargue la capa zoning primero.")
    return int(row[0])


_BASE_CACHE: dict[tuple[str, int, datetime], gpd.GeoDataFrame] = {}


def base_zoning(settings: Settings, version: int) -> gpd.GeoDataFrame:
    """The zones of a zoning version as a working copy (no fid). A version never changes
    once loaded, so the last few read are kept (keyed by when the version was loaded)."""
    from gis.database import connect, database_url
    from gis.reading import read_layer

    with connect(settings) as conn:
        row = conn.execute("SELECT loaded_at FROM catalog.layer_versions WHERE layer = "
                           "'zoning' AND version = %s", (version,)).fetchone()
    key = (database_url(settings), version, row[0]) if row else None
    if key is not None and key in _BASE_CACHE:
        return _BASE_CACHE[key].copy()
    zones = read_layer("zoning", version=version, settings=settings).drop(columns=["fid"])
    if key is not None:
        while len(_BASE_CACHE) >= 4:
            _BASE_CACHE.pop(next(iter(_BASE_CACHE)))
        _BASE_CACHE[key] = zones
    return zones.copy()


def working_copy(settings: Settings, proposal: Proposal,
                 version: int | None = None) -> gpd.GeoDataFrame:
    """The zoning the proposal results in (its operations replayed on its base version)."""
    return replay(base_zoning(settings, version or proposal.base_version),
                  proposal.operations())


# -- checks ----------------------------------------------------------------------------------

def _check_etag(proposal: Proposal, if_match: str | None) -> None:
    if if_match is None:
        raise PreconditionRequiredError(
            "Falta la cabecera If-Match con la versión de la propuesta que se editó.",
            hint=f"Envíe If-Match: {proposal.etag} (la ETag de la última lectura).")
    tags = [t.strip() for t in if_match.split(",")]
    if proposal.etag not in tags and "*" not in tags:
        raise PreconditionFailedError(
            f"La propuesta {proposal.id} cambió desde que la leyó: {proposal.actualizada_por} "
            f"hizo «{proposal.ultima_accion}» el {proposal.actualizada:%d-%m-%Y %H:%M}.",
            hint="Vuelva a cargar la propuesta, revise el cambio y repita su edición.")


def _check_editable(proposal: Proposal, user: User) -> None:
    if not user.can(Role.EDITOR):
        raise Forbidden("Solo los editores (DOM) pueden editar propuestas.")
    if proposal.autor != user.username and user.role is not Role.ADMIN:
        raise Forbidden(f"La propuesta {proposal.id} es de {proposal.autor}: solo su autor "
                        "puede editarla.", hint="Cree su propia propuesta o comente esta.")
    if proposal.estado != "borrador":
        raise ProposalError(f"La propuesta {proposal.id} está "
                            f"{STATE_TITLES[proposal.estado]}: solo se editan borradores.",
                            hint="Un revisor puede devolverla a borrador (solicitar cambios).")


def _touch(conn: psycopg.Connection, proposal: Proposal, user: User, action: str) -> None:
    conn.execute("UPDATE proposals.proposals SET revision = revision + 1, actualizada = now(),"
                 " actualizada_por = %s, ultima_accion = %s WHERE id = %s",
                 (user.username, action, proposal.id))


def refused(conn: psycopg.Connection, user: User | None, action: str, target: str,
            exc: PlatformError) -> None:
    """Record a refused write in the audit log (in its own transaction)."""
    with conn.transaction():
        audit.record(conn, user.username if user else None, action, target,
                     outcome="rechazado", detail=exc.message)


# -- writes ----------------------------------------------------------------------------------

def create_proposal(conn: psycopg.Connection, user: User, titulo: str,
                    justificacion: str) -> Proposal:
    if not user.can(Role.EDITOR):
        raise Forbidden("Solo los editores (DOM) pueden crear propuestas.")
    titulo = (titulo or "").strip()
    if not 1 <= len(titulo) <= 300:
        raise PlatformError("El título de la propuesta es obligatorio (hasta 300 caracteres).")
    with conn.transaction():
        base = zoning_version_in_force(conn)
        row = conn.execute(
            "INSERT INTO proposals.proposals (titulo, justificacion, autor, base_version, "
            "actualizada_por) VALUES (%s, %s, %s, %s, %s) RETURNING id",
            (titulo, justificacion or "", user.username, base, user.username)).fetchone()
        assert row is not None
        proposal = get_proposal(conn, int(row[0]))
        audit.record(conn, user.username, "propuesta.crear", f"propuesta/{proposal.id}",
                     after={"titulo": titulo, "base_version": base})
    return proposal


def add_change(conn: psycopg.Connection, settings: Settings, user: User, proposal_id: int,
               if_match: str | None, op: Operation) -> Proposal:
    """Append an operation after checking it applies to the proposal's current result."""
    with conn.transaction():
        proposal = get_proposal(conn, proposal_id, lock=True)
        _check_etag(proposal, if_match)
        _check_editable(proposal, user)
        current = working_copy(settings, proposal)
        result = apply_operation(current, op)
        _check_new_zones(result, op)
        _check_no_new_errors(settings, current, result)
        conn.execute(
            "INSERT INTO proposals.changes (proposal_id, seq, operacion, zonas, geom, autor) "
            "VALUES (%s, %s, %s, %s, ST_SetSRID(ST_GeomFromWKB(%s), 32719), %s)",
            (proposal.id, len(proposal.changes) + 1, json.dumps(op.payload()), op.zones,
             shapely.to_wkb(op.geometria) if op.geometria is not None else None,
             user.username))
        _touch(conn, proposal, user, f"cambio {op.op} en {', '.join(op.zones)}")
        audit.record(conn, user.username, "propuesta.cambio", f"propuesta/{proposal.id}",
                     after=op.payload())
        return get_proposal(conn, proposal.id)


def _check_new_zones(result: gpd.GeoDataFrame, op: Operation) -> None:
    """The zones an operation produced are valid, simple polygons."""
    for code in op.zones:
        rows = result[result["codigo"] == code]
        for g in rows.geometry:
            if not g.is_valid:
                raise OperationError(f"La zona {code} quedaría con una geometría no válida: "
                                     f"{shapely.is_valid_reason(g)}.")


def _check_no_new_errors(settings: Settings, before: gpd.GeoDataFrame,
                         after: gpd.GeoDataFrame) -> None:
    """Refuse a change that leaves the zoning with overlaps, gaps, area outside the urban
    limit or incoherent norms it did not have before (where and which zones, in Spanish)."""
    from gis.reading import read_layer

    urban = read_layer("urban_limit", settings=settings).union_all()
    tolerance = settings.zoning_gap_tolerance_m2
    known = {p.message for p in validate_zoning(before, urban, tolerance)}
    new = [p for p in validate_zoning(after, urban, tolerance) if p.message not in known]
    if new:
        error = OperationError("El cambio deja la zonificación con errores: "
                               + "; ".join(p.message for p in new[:5]),
                               hint="Ajuste el dibujo a los bordes de las zonas vecinas "
                               "(use el ajuste a bordes) o corrija las normas.")
        error.problems = [p.as_json() for p in new]  # type: ignore[attr-defined]
        raise error


def remove_last_change(conn: psycopg.Connection, user: User, proposal_id: int,
                       if_match: str | None) -> Proposal:
    with conn.transaction():
        proposal = get_proposal(conn, proposal_id, lock=True)
        _check_etag(proposal, if_match)
        _check_editable(proposal, user)
        if not proposal.changes:
            raise ProposalError("La propuesta no tiene cambios que deshacer.")
        last = proposal.changes[-1]
        conn.execute("DELETE FROM proposals.changes WHERE proposal_id = %s AND seq = %s",
                     (proposal.id, last["seq"]))
        _touch(conn, proposal, user, f"deshacer cambio {last['seq']}")
        audit.record(conn, user.username, "propuesta.deshacer", f"propuesta/{proposal.id}",
                     before=last["operacion"])
        return get_proposal(conn, proposal.id)


def validate_proposal(conn: psycopg.Connection, settings: Settings,
                      proposal: Proposal) -> ValidationResult:
    """Whole validation of the proposal's result, against the version in force."""
    from gis.proposals.validation import Problem
    from gis.reading import read_layer

    result = ValidationResult()
    current = zoning_version_in_force(conn)
    if proposal.base_version != current and proposal.estado in OPEN_STATES:
        result.problems.append(Problem(
            "error", f"La propuesta se hizo sobre la versión {proposal.base_version} de la "
            f"zonificación y la vigente es la {current}: debe actualizarse (rebase).",
            sorted(proposal.zones())))
        return result
    try:
        proposed = working_copy(settings, proposal)
    except OperationError as exc:
        result.problems.append(Problem("error", exc.message, sorted(proposal.zones())))
        return result
    urban = read_layer("urban_limit", settings=settings).union_all()
    result.problems += validate_zoning(proposed, urban, settings.zoning_gap_tolerance_m2)
    base = base_zoning(settings, proposal.base_version)
    hazards = read_layer("hazard_zones", settings=settings)
    result.problems += policy_warnings(base, proposed, hazards)
    return result


def conflicts(conn: psycopg.Connection, proposal: Proposal) -> list[dict[str, Any]]:
    """Other open proposals touching any of the same zones."""
    zones = sorted(proposal.zones())
    if not zones:
        return []
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute("SELECT DISTINCT p.id, p.titulo, p.autor, p.estado, "
                    "array(SELECT DISTINCT unnest(c2.zonas) INTERSECT "
                    "SELECT unnest(%s::text[])) AS zonas_comunes "
                    "FROM proposals.proposals p JOIN proposals.changes c2 "
                    "ON c2.proposal_id = p.id WHERE p.id <> %s AND p.estado = ANY(%s) "
                    "AND c2.zonas && %s::text[] ORDER BY p.id",
                    (zones, proposal.id, list(OPEN_STATES), zones))
        rows = cur.fetchall()
    merged: dict[int, dict[str, Any]] = {}
    for r in rows:
        entry = merged.setdefault(r["id"], {**r, "zonas_comunes": set()})
        entry["zonas_comunes"] |= set(r["zonas_comunes"])
    return [{**r, "zonas_comunes": sorted(r["zonas_comunes"])} for r in merged.values()]


def transition(conn: psycopg.Connection, settings: Settings, user: User, proposal_id: int,
               if_match: str | None, action: str, note: str | None = None) -> Proposal:
    if action not in TRANSITIONS:
        raise PlatformError(f"Acción «{action[:40]}» desconocida.",
                            hint="Acciones: " + ", ".join([*TRANSITIONS, "aplicar"]))
    rule = TRANSITIONS[action]
    with conn.transaction():
        proposal = get_proposal(conn, proposal_id, lock=True)
        _check_etag(proposal, if_match)
        if not user.can(*rule.roles):
            raise Forbidden(f"Su rol ({user.role.value}) no permite «{action}».",
                            hint="Lo pueden hacer: " + ", ".join(r.value for r in rule.roles))
        if rule.author_only and proposal.autor != user.username:
            raise Forbidden(f"Solo el autor ({proposal.autor}) puede enviar la propuesta.")
        if rule.not_author and proposal.autor == user.username:
            raise Forbidden("Nadie puede revisar, aprobar ni rechazar su propia propuesta.",
                            hint="Otro revisor debe hacerlo.")
        if proposal.estado not in rule.source:
            raise ProposalError(
                f"La propuesta está {STATE_TITLES[proposal.estado]}; «{action}» se aplica a "
                "propuestas " + " o ".join(STATE_TITLES[s] for s in rule.source) + ".")
        if action in ("enviar", "aprobar"):
            if not proposal.changes:
                raise ProposalError("La propuesta no tiene cambios.")
            check = validate_proposal(conn, settings, proposal)
            if not check.ok:
                raise ProposalError(
                    f"La propuesta tiene {len(check.errors)} error(es) de validación: "
                    + "; ".join(p.message for p in check.errors[:3]),
                    hint="Vea /propuestas/{id}/validacion y corrija antes de continuar.")
        if action == "solicitar_cambios" and not (note or "").strip():
            raise PlatformError("Indique qué cambios se solicitan (nota).")
        _set_state(conn, proposal, user, rule.target, action, note)
        if note and action == "solicitar_cambios":
            conn.execute("INSERT INTO proposals.comments (proposal_id, autor, texto, tipo) "
                         "VALUES (%s, %s, %s, 'cambios solicitados')",
                         (proposal.id, user.username, note))
        return get_proposal(conn, proposal.id)


def _set_state(conn: psycopg.Connection, proposal: Proposal, user: User, target: str,
               action: str, note: str | None) -> None:
    conn.execute("UPDATE proposals.proposals SET estado = %s WHERE id = %s",
                 (target, proposal.id))
    conn.execute("INSERT INTO proposals.transitions (proposal_id, desde, hacia, por, nota) "
                 "VALUES (%s, %s, %s, %s, %s)",
                 (proposal.id, proposal.estado, target, user.username, note))
    _touch(conn, proposal, user, action)
    audit.record(conn, user.username, f"propuesta.{action}", f"propuesta/{proposal.id}",
                 before={"estado": proposal.estado}, after={"estado": target}, detail=note)


def comment(conn: psycopg.Connection, user: User, proposal_id: int, text: str) -> None:
    if not user.can(Role.EDITOR, Role.REVISOR):
        raise Forbidden("Solo editores y revisores comentan propuestas.")
    if not (text or "").strip():
        raise PlatformError("El comentario está vacío.")
    with conn.transaction():
        get_proposal(conn, proposal_id)
        conn.execute("INSERT INTO proposals.comments (proposal_id, autor, texto) "
                     "VALUES (%s, %s, %s)", (proposal_id, user.username, text.strip()))
        audit.record(conn, user.username, "propuesta.comentar", f"propuesta/{proposal_id}",
                     after={"texto": text.strip()[:500]})


def rebase(conn: psycopg.Connection, settings: Settings, user: User, proposal_id: int,
           if_match: str | None) -> Proposal:
    """Move an open proposal onto the zoning version in force, replaying its changes."""
    with conn.transaction():
        proposal = get_proposal(conn, proposal_id, lock=True)
        _check_etag(proposal, if_match)
        _check_editable(proposal, user)
        current = zoning_version_in_force(conn)
        if proposal.base_version == current:
            raise ProposalError("La propuesta ya está sobre la versión vigente.")
        working_copy(settings, proposal, version=current)  # raises if a change no longer fits
        conn.execute("UPDATE proposals.proposals SET base_version = %s WHERE id = %s",
                     (current, proposal.id))
        _touch(conn, proposal, user, f"actualizar a la versión {current}")
        audit.record(conn, user.username, "propuesta.rebase", f"propuesta/{proposal.id}",
                     before={"base_version": proposal.base_version},
                     after={"base_version": current})
        return get_proposal(conn, proposal.id)


def apply_proposal(conn: psycopg.Connection, settings: Settings, user: User,
                   proposal_id: int, if_match: str | None) -> Proposal:
    """Load an approved proposal's zoning as a new version, in one transaction with the
    proposal's change of state. Other open proposals then need a rebase."""
    from gis.ingest import IngestOptions, ingest

    proposal = get_proposal(conn, proposal_id)
    _check_etag(proposal, if_match)
    if not user.can(Role.ADMIN):
        raise Forbidden("Solo un administrador aplica propuestas aprobadas.")
    if proposal.estado != "aprobada":
        raise ProposalError(f"La propuesta está {STATE_TITLES[proposal.estado]}: solo se "
                            "aplican propuestas aprobadas.")
    check = validate_proposal(conn, settings, proposal)
    if not check.ok:
        raise ProposalError("La propuesta ya no es válida: " +
                            "; ".join(p.message for p in check.errors[:3]))
    zones = working_copy(settings, proposal)
    path = settings.processed_dir / "propuestas" / f"propuesta_{proposal.id}.gpkg"
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_zoning_file(zones, path)

    def mark_applied(load_conn: psycopg.Connection, version: int) -> None:
        locked = get_proposal(load_conn, proposal.id, lock=True)
        _check_etag(locked, proposal.etag)
        if version != locked.base_version + 1:  # another version loaded since validation
            raise ProposalError(
                f"Mientras se aplicaba, la zonificación pasó a la versión {version - 1} "
                f"(la propuesta se hizo sobre la {locked.base_version}): no se aplicó, "
                "para no deshacer ese cambio.",
                hint="Actualice la propuesta a la versión vigente (rebase), revísela y "
                "vuelva a aplicarla.")
        load_conn.execute("UPDATE proposals.proposals SET version_aplicada = %s WHERE id = %s",
                          (version, proposal.id))
        _set_state(load_conn, locked, user, "aplicada", "aplicar",
                   f"zonificación versión {version}")

    who = settings.model_copy(update={"user": user.username})
    ingest(who, "zoning", path, IngestOptions(
        fuente=f"Propuesta {proposal.id} «{proposal.titulo}» (autor {proposal.autor}), "
        f"aplicada por {user.username}", licencia="Municipalidad de San Antonio",
        demo=False), within=mark_applied)  # the ingest refreshes the stored profiles
    return get_proposal(conn, proposal.id)


def _write_zoning_file(zones: gpd.GeoDataFrame, path: Any) -> None:
    out = zones.copy()
    for name in ("usos_permitidos", "usos_prohibidos", "sistema_agrupamiento",
                 "areas_riesgo"):
        out[name] = [("; ".join(v) if v is not None and len(v) else None) for v in out[name]]
    out = out.set_crs(32719, allow_override=True)
    for old in (path, *(path.with_name(path.name + s) for s in ("-journal", "-wal", "-shm"))):
        old.unlink(missing_ok=True)  # a killed apply's SQLite journal would be replayed
    out.to_file(path, driver="GPKG", layer="zoning")


def proposal_json(conn: psycopg.Connection, proposal: Proposal) -> dict[str, Any]:
    """A proposal for the API: fields, changes (geometry in lon/lat), conflicts, history."""
    from gis.proposals.geojson import to_lonlat_geojson

    current = zoning_version_in_force(conn)
    return {
        "id": proposal.id, "titulo": proposal.titulo, "justificacion": proposal.justificacion,
        "autor": proposal.autor, "estado": proposal.estado,
        "estado_titulo": STATE_TITLES[proposal.estado],
        "version_base": proposal.base_version, "version_vigente": current,
        "requiere_rebase": proposal.estado in OPEN_STATES and proposal.base_version != current,
        "version_aplicada": proposal.version_aplicada, "creada": proposal.creada.isoformat(),
        "actualizada": proposal.actualizada.isoformat(),
        "actualizada_por": proposal.actualizada_por, "etag": proposal.etag,
        "cambios": [{"n": c["seq"], **c["operacion"], "zonas": c["zonas"],
                     "autor": c["autor"], "creado": c["creada"].isoformat(),
                     "geometria": to_lonlat_geojson(c["geom"]) if c["geom"] is not None
                     else None} for c in proposal.changes],
        "conflictos": conflicts(conn, proposal),
        **history(conn, proposal.id),
    }


__all__ = ["Proposal", "TRANSITIONS", "add_change", "apply_proposal", "changed_zones",
           "comment", "conflicts", "create_proposal", "get_proposal", "list_proposals",
           "rebase", "remove_last_change", "transition", "validate_proposal",
           "working_copy"]

"""How the write paths of the hostile corpus are reached (request bodies into which a
case's geometry is spliced as it is), how an answer is judged against the case's
expectation (:func:`ingest_problem`, :func:`api_problem`) and what every refusal must
leave as it was (snapshots of the stored state). Shared by the tests of this package and
by ``python -m bench hostile`` (:mod:`bench.hostile`), so that both judge alike."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import psycopg

from gis.ingest import IngestError, IngestReport
from gis.settings import Settings
from tests.hostile.corpus import ORIGIN_LONLAT, Case

CODE = "MUN-2026-971"
"""The project the hostile edits and attachments are aimed at."""
NEW_CODE = "MUN-2026-972"
"""The code of the projects the hostile ``POST /proyectos`` try to create."""
REPAIRED_CODE = "MUN-2026-973"
"""The project created (and deleted) by the one geometry the API repairs."""
TITLE = "Proyecto de prueba de entradas hostiles"


def project_fields(code: str = CODE) -> dict[str, Any]:
    """A project's fields but its geometry."""
    return {"codigo": code, "nombre": TITLE, "sector": "áreas verdes", "etapa": "diseño"}


def target_project() -> dict[str, Any]:
    """The project :data:`CODE` (a point at the corpus's origin), as ``POST /proyectos``
    creates it."""
    return {**project_fields(), "geometria": {"type": "Point",
                                              "coordinates": list(ORIGIN_LONLAT)}}


def project_body(geometry: bytes, code: str = CODE) -> bytes:
    """A project's JSON body with ``geometry`` (JSON text, possibly malformed) as its
    ``geometria``."""
    fields = json.dumps(project_fields(code)).encode()
    return fields[:-1] + b', "geometria": ' + geometry + b"}"


def change_body(zone: str, geometry: bytes) -> bytes:
    """A proposal change's JSON body: zone ``zone`` takes ``geometry`` (JSON text)."""
    return (json.dumps({"op": "geometria", "codigo": zone})[:-1].encode()
            + b', "geometria": ' + geometry + b"}")


SAMPLE_FEATURES = 3
"""Features in every ingest file of the corpus (the sample zones)."""
WHICH_FEATURE = re.compile(r"entidades \(n\.º\): \d")


def ingest_problem(case: Case, outcome: IngestError | IngestReport) -> str | None:
    """What is wrong with the outcome of loading ``case`` (the error it raised, or the
    report of a dry run), or ``None`` when it is what the corpus expects: refused with a
    Spanish sentence matching ``case.message`` that names the features at fault, or
    repaired (a dry run without errors) with the repair reported."""
    if case.expect == "refused":
        if not isinstance(outcome, IngestError):
            return "se aceptó una entrada que debía rechazarse"
        lines = outcome.report.summary_lines() if outcome.report else []
        said = "\n".join([outcome.message, outcome.hint or "", *lines])
        if not outcome.message.endswith("."):  # a sentence, not a trace
            return f"el mensaje no es una oración: {outcome.message!r}"
        if not re.search(case.message, said):
            return f"mensaje distinto del esperado: {said[:500]}"
        if outcome.report is not None and outcome.report.errors \
                and not WHICH_FEATURE.search(said):
            return f"no dice qué entidades fallan: {said[:500]}"
        return None
    if isinstance(outcome, IngestError):
        return f"se rechazó una entrada reparable: {outcome.message}"
    said = "\n".join(outcome.summary_lines())
    if outcome.errors or outcome.features_read != SAMPLE_FEATURES:
        return f"la reparación dejó errores o entidades sin leer: {said[:500]}"
    if not re.search(case.message, said):
        return f"la reparación no se informa: {said[:500]}"
    return None


def api_problem(case: Case, status: int, answer: Any,
                new_refusals: Sequence[tuple[Any, ...]]) -> str | None:
    """What is wrong with the API's answer to ``case`` (its status, its JSON body and the
    refusals audited meanwhile), or ``None`` when it is what the corpus expects: the
    case's status, a message matching ``case.message`` and, for a refusal, what to do
    about it (``hint``) and its audit: one entry with the reason, recorded by the
    endpoint (422) or, for a request stopped before it (400, 413), by the audit
    middleware as ``HTTP <status>: <reason>``."""
    said = json.dumps(answer, ensure_ascii=False)
    if status != case.status:
        return f"HTTP {status} en vez de {case.status}: {said[:300]}"
    if not re.search(case.message, said):
        return f"mensaje distinto del esperado: {said[:300]}"
    if case.expect == "repaired":
        return None
    if not isinstance(answer, dict) or not answer.get("hint"):
        return f"no dice qué hacer: {said[:300]}"
    details = [detail for _, detail in new_refusals]
    reason = str(answer.get("description", ""))
    wanted = reason if status == 422 else f"HTTP {status}: {reason}"
    if details != [wanted[:500]]:
        return f"el rechazo no quedó una vez en la auditoría con su motivo: {details}"
    return None


def query(settings: Settings, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """The rows of ``sql`` (as :func:`tests.conftest.query`, which the benchmark cannot
    import: that module sets up the test session)."""
    with psycopg.connect(settings.database_url or "") as conn:
        return conn.execute(sql, params).fetchall()  # type: ignore[arg-type]


def ingest_state(settings: Settings) -> tuple[Any, ...]:
    """Everything a refused load must leave as it was: versions, revisions, the zones,
    the tables, the processed files and the audit log."""
    versions = query(settings, "SELECT layer, version, valid_to, feature_count "
                               "FROM catalog.layer_versions ORDER BY layer, version")
    revisions = query(settings, "SELECT layer, revision FROM catalog.layer_revisions "
                                "ORDER BY layer")
    zones = query(settings, "SELECT count(*), md5(string_agg(codigo || "
                            "md5(ST_AsBinary(geom)), ',' ORDER BY fid)) FROM layers.zoning")
    tables = query(settings, "SELECT schemaname, tablename FROM pg_tables WHERE schemaname "
                             "IN ('layers', 'history', 'staging') ORDER BY 1, 2")
    audit = query(settings, "SELECT count(*) FROM audit.log")
    files = sorted(str(p.relative_to(settings.processed_dir))
                   for p in settings.processed_dir.rglob("*"))
    return versions, revisions, zones, tables, audit, files


API_STATE = {
    "proyectos": "SELECT count(*), md5(string_agg(codigo || md5(ST_AsBinary(geom)) || "
                 "nombre, ',' ORDER BY codigo)) FROM layers.projects",
    "registro": "SELECT string_agg(codigo || ':' || version, ',' ORDER BY codigo) "
                "FROM cartera.registro",
    "adjuntos": "SELECT count(*), string_agg(id || nombre || sha256, ',' ORDER BY id) "
                "FROM cartera.adjuntos",
    "revisiones": "SELECT string_agg(layer || ':' || revision, ',' ORDER BY layer) "
                  "FROM catalog.layer_revisions",
    "versiones": "SELECT string_agg(layer || ':' || version || ':' || "
                 "coalesce(valid_to::text, ''), ',' ORDER BY layer, version) "
                 "FROM catalog.layer_versions",
    "propuestas": "SELECT string_agg(id || estado || revision, ',' ORDER BY id) "
                  "FROM proposals.proposals",
    "cambios": "SELECT count(*) FROM proposals.changes",
    "zonas": "SELECT count(*), md5(string_agg(md5(ST_AsBinary(geom)), ',' ORDER BY fid)) "
             "FROM layers.zoning",
    "auditoria": "SELECT count(*) FROM audit.log WHERE outcome = 'ok'",
}
"""What the API's write paths touch, one query each (``auditoria``: its accepted writes)."""


def api_state(settings: Settings) -> dict[str, Any]:
    """What a refused API write must leave as it was (the audit log: its accepted writes)."""
    return {k: query(settings, sql) for k, sql in API_STATE.items()}


def refusals(settings: Settings) -> list[tuple[Any, ...]]:
    """``(action, detail)`` of the refused writes in the audit log, oldest first."""
    return query(settings, "SELECT action, detail FROM audit.log WHERE outcome = "
                           "'rechazado' ORDER BY id")

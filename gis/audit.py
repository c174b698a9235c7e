"""The platform's append-only audit log: who did what, when, to what, before and after.

Every write in the platform, and every refused attempt, adds one row to ``audit.log``
(migration 0005). The table refuses UPDATE, DELETE and TRUNCATE with a trigger, and this
module offers no way to change a row: entries are only added and read.

The client address is taken from :data:`current_client` when the caller does not give
one; the web application sets it for each request, so engine code that records a write
does not need to know about HTTP.
"""

from __future__ import annotations

import json
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

Outcome = Literal["ok", "rechazado"]
OUTCOMES = ("ok", "rechazado")

current_client: ContextVar[str | None] = ContextVar("secplac_audit_client", default=None)
"""Address of the client whose request is being served (set by the API per request)."""

current_actions: ContextVar[list[str] | None] = ContextVar("secplac_audit_actions",
                                                           default=None)
"""The actions recorded while serving the current request (a list the API sets per
request), so that it can record a refused write that nothing else recorded."""

MAX_LIMIT = 1000


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if hasattr(value, "__geo_interface__"):
        return value.__geo_interface__
    return str(value)


def _jsonb(value: Any) -> Jsonb | None:
    if value is None:
        return None
    return Jsonb(value, dumps=lambda v: json.dumps(v, ensure_ascii=False,
                                                   default=_json_default))


def record(conn: psycopg.Connection, actor: str | None, action: str, target: str, *,
           before: Any = None, after: Any = None, outcome: str = "ok",
           detail: str | None = None, client: str | None = None) -> None:
    """Append one entry to the audit log, in the caller's transaction (if any).

    Parameters
    ----------
    conn
        An open connection; when a transaction is in progress the entry commits (or rolls
        back) with the write it describes.
    actor
        Username of whoever acted, ``None`` when unknown (an anonymous refused request).
    action
        What was done, ``objeto.verbo`` in Spanish: ``usuario.crear``, ``propuesta.aprobar``.
    target
        What it was done to: ``usuario/editor``, ``propuesta/12``, ``POST /admin/usuarios``.
    before, after
        JSON-serialisable states (dates become ISO text); never secrets or password hashes.
    outcome
        ``"ok"`` or ``"rechazado"`` (refused attempts are logged too).
    detail
        A short free text: the reason of a refusal, a note.
    client
        Client address; by default the one of the request being served, if any.

    Examples
    --------
    >>> record(conn, "editor", "propuesta.crear", "propuesta/3",
    ...        after={"titulo": "Borde costero"})  # doctest: +SKIP
    """
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {OUTCOMES}, not {outcome!r}")
    conn.execute(
        "INSERT INTO audit.log (actor, action, target, before, after, outcome, detail, client)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        (actor, action, target, _jsonb(before), _jsonb(after), outcome, detail,
         client if client is not None else current_client.get()))
    recorded = current_actions.get()
    if recorded is not None:
        recorded.append(action)


def entries(conn: psycopg.Connection, *, limit: int = 100, offset: int = 0,
            actor: str | None = None, action: str | None = None,
            outcome: str | None = None) -> list[dict[str, Any]]:
    """Audit entries, newest first, optionally filtered.

    ``action`` matches exactly or as a prefix of dotted names (``"usuario"`` matches
    ``usuario.crear`` and ``usuario.rol``). Each entry is a dict with the columns of
    ``audit.log``: id, at, actor, action, target, before, after, outcome, detail, client.
    """
    limit = max(1, min(int(limit), MAX_LIMIT))
    offset = max(0, int(offset))
    conditions: list[sql.Composable] = []
    params: list[Any] = []
    if actor is not None:
        conditions.append(sql.SQL("actor = %s"))
        params.append(actor)
    if action is not None:
        conditions.append(sql.SQL("(action = %s OR action LIKE %s)"))
        params += [action, action.replace("\\", "\\\\").replace("%", "\\%")
                   .replace("_", "\\_") + ".%"]
    if outcome is not None:
        conditions.append(sql.SQL("outcome = %s"))
        params.append(outcome)
    where = sql.SQL("WHERE ") + sql.SQL(" AND ").join(conditions) if conditions else sql.SQL("")
    query = sql.SQL(
        "SELECT id, at, actor, action, target, before, after, outcome, detail, client "
        "FROM audit.log {} ORDER BY id DESC LIMIT %s OFFSET %s").format(where)
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, (*params, limit, offset)).fetchall()

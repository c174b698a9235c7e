"""Search the layers by what planners type: a rol, an address, a project code or a name.

Every vector layer declares the text fields a planner can search by (``search``); this
module builds one query over all of them, with identifiers taken only from the layer
registry and the typed text always a bound parameter. A field matches when it contains
the text, ignoring case (as ILIKE) and Spanish accents: the text becomes a
case-insensitive regular expression (``~*``) in which every character is literal and each
vowel, «n» and «c» also stands for its accented forms, so «jardin» finds «Jardín». (The
same operator is what a pg_trgm index accelerates, should the layers get one.)

A field that declares a ``normalize`` (the SII rol) is compared with the canonical form
of the text when there is one, through its unique index: «1999-54» finds exactly the
stored «01999-00054»; text that is not a whole rol («01999-») is matched as above.

>>> from gis.database import connect                                # doctest: +SKIP
>>> with connect(settings) as conn:                                 # doctest: +SKIP
...     [h.label for h in search(conn, "1999-54")]
['01999-00054']
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from gis.errors import PlatformError
from gis.schema import LAYERS_SCHEMA
from layers import vector_layers
from layers.base import VectorLayer

MAX_QUERY_LENGTH = 100
DEFAULT_LIMIT = 10
MAX_LIMIT = 50

_ACCENTED = "áàâäãéèêëíìîïóòôöõúùûüñç"
_PLAIN = "aaaaaeeeeiiiiooooouuuunc"
_ACCENT_CLASSES = {plain: plain + "".join(a + a.upper() for a, p in zip(_ACCENTED, _PLAIN,
                                                                          strict=True)
                                          if p == plain)
                   for plain in set(_PLAIN)}
"""Each plain letter → the characters it stands for, e.g. «n» → «nñÑ»."""


class SearchError(PlatformError):
    """A search the platform cannot run: empty, too long or a bad limit."""

    http_status = 400


@dataclass(frozen=True)
class SearchHit:
    """One feature found: where it is, what it is called and what matched."""

    layer: str
    layer_title: str
    fid: int
    label: str
    field: str
    field_title: str
    matched: str
    bbox: tuple[float, float, float, float]
    """West, south, east, north in WGS 84 longitude/latitude."""
    point: tuple[float, float]
    """A point on the feature (longitude, latitude): where to open its card."""


def fold(text: str) -> str:
    """Lower case without Spanish accents: how both sides of a match are compared."""
    lowered = text.lower()
    return lowered.translate(str.maketrans(_ACCENTED, _PLAIN))


def accent_pattern(text: str) -> str:
    """A POSIX regular expression matching ``text`` literally, with any Spanish accents.

    ASCII letters and digits stand for themselves (vowels, «n» and «c» also for their
    accented forms), ASCII symbols are escaped and any other character is put in a bracket
    expression: nothing typed acts as an operator.

    >>> accent_pattern("Peña 1.2")
    'p[eéÉèÈêÊëË][nñÑ][aáÁàÀâÂäÄãÃ]\\\\ 1\\\\.2'
    """
    out = []
    for char in fold(text):
        if char in _ACCENT_CLASSES:
            out.append(f"[{_ACCENT_CLASSES[char]}]")
        elif char.isascii() and char.isalnum():
            out.append(char)
        elif char.isascii():
            out.append("\\" + char)  # an escaped ASCII symbol is always literal
        else:
            out.append(f"[{char}]")  # other letters and symbols, literal in a bracket
    return "".join(out)


def clean_query(text: str | None) -> str:
    """The typed text, trimmed and with inner runs of spaces collapsed; :class:`SearchError`
    (Spanish) when it is empty or too long."""
    cleaned = " ".join((text or "").split())
    cleaned = "".join(c for c in cleaned if unicodedata.category(c)[0] != "C")
    if not cleaned:
        raise SearchError(
            "Escriba qué buscar.",
            hint="Puede buscar por rol (p. ej. 1999-54), dirección, código de proyecto "
            "(p. ej. 40015248-0) o nombre (zona, sector, proyecto, ruta).")
    if len(cleaned) > MAX_QUERY_LENGTH:
        raise SearchError(
            f"La búsqueda es demasiado larga ({len(cleaned)} caracteres; máximo "
            f"{MAX_QUERY_LENGTH}).", hint="Escriba solo el rol, la dirección, el código o "
            "una parte del nombre.")
    return cleaned


def searchable_layers() -> list[VectorLayer]:
    """The vector layers that declare search fields, in registry order."""
    return [lyr for lyr in vector_layers() if lyr.search]


def _field_query(layer: VectorLayer, order: int, name: str, text: str, limit: int,
                 key: str) -> tuple[sql.Composable, dict[str, Any]]:
    """One ranked SELECT of the features of ``layer`` whose field ``name`` matches ``text``
    (exact matches first, then prefixes, then the rest); its parameters are named with
    ``key`` so that every sub-query binds its own."""
    column = sql.Identifier(name)
    declared = layer.field(name)
    canonical = declared.normalize(text) if declared.normalize is not None else None
    pattern = accent_pattern(text)
    params: dict[str, Any] = {f"exact_{key}": f"^{pattern}$", f"prefix_{key}": f"^{pattern}",
                              f"contains_{key}": pattern, f"canonical_{key}": canonical}
    if canonical is not None:
        matches = sql.SQL("{} = {}").format(column, sql.Placeholder(f"canonical_{key}"))
    else:
        matches = sql.SQL("{} ~* {}").format(column, sql.Placeholder(f"contains_{key}"))
    label = sql.Identifier(layer.style.label) if layer.style.label else column
    query = sql.SQL("""
        SELECT layer, layer_order, fid, label, field, matched, rank,
               ST_XMin(box) AS w, ST_YMin(box) AS s, ST_XMax(box) AS e, ST_YMax(box) AS n,
               ST_X(inside) AS x, ST_Y(inside) AS y
        FROM (
            SELECT {layer} AS layer, {order} AS layer_order, fid, {label}::text AS label,
                   {field} AS field, {column}::text AS matched, geom,
                   CASE WHEN {column} = {canonical} OR {column} ~* {exact} THEN 0
                        WHEN {column} ~* {prefix} THEN 1 ELSE 2 END AS rank
            FROM {table}
            WHERE {matches}
            ORDER BY rank, length({column}::text), {column}::text
            LIMIT {limit}
        ) AS {alias},
        LATERAL (SELECT Box2D(ST_Transform(ST_Envelope(geom), 4326)) AS box,
                        ST_Transform(ST_PointOnSurface(geom), 4326) AS inside) AS where_it_is
        """).format(
        layer=sql.Literal(layer.name), order=sql.Literal(order), label=label,
        field=sql.Literal(name), column=column, matches=matches,
        canonical=sql.Placeholder(f"canonical_{key}"), exact=sql.Placeholder(f"exact_{key}"),
        prefix=sql.Placeholder(f"prefix_{key}"),
        table=sql.Identifier(LAYERS_SCHEMA, layer.name), limit=sql.Literal(limit),
        alias=sql.Identifier(f"hits_{key}"))
    return query, params


def search(conn: psycopg.Connection, text: str | None, limit: int = DEFAULT_LIMIT,
           ) -> list[SearchHit]:
    """The features whose declared search fields match ``text``, best first.

    Exact matches (or the canonical rol) come first, then those that start with the text,
    then those that contain it; :class:`SearchError` (Spanish) for an empty or too long
    text or a limit outside 1..:data:`MAX_LIMIT`.
    """
    query_text = clean_query(text)
    if not 1 <= limit <= MAX_LIMIT:
        raise SearchError(f"El límite debe estar entre 1 y {MAX_LIMIT}.")
    parts: list[sql.Composable] = []
    params: dict[str, Any] = {}
    layers = searchable_layers()
    for order, layer in enumerate(layers):
        for name in layer.search:
            part, values = _field_query(layer, order, name, query_text, limit,
                                        key=str(len(parts)))
            parts.append(part)
            params.update(values)
    query = sql.SQL("SELECT * FROM ({}) AS hits ORDER BY rank, layer_order, "
                    "length(matched), matched LIMIT {}").format(
        sql.SQL(" UNION ALL ").join(sql.SQL("({})").format(p) for p in parts),
        sql.Literal(limit * len(parts)))
    rows = conn.execute(query, params).fetchall()
    by_name = {lyr.name: lyr for lyr in layers}
    hits: list[SearchHit] = []
    seen: set[tuple[str, int]] = set()
    for layer_name, _order, fid, label, field, matched, _rank, w, s, e, n, x, y in rows:
        if (layer_name, fid) in seen:
            continue
        seen.add((layer_name, fid))
        layer = by_name[layer_name]
        hits.append(SearchHit(
            layer=layer_name, layer_title=layer.title, fid=int(fid),
            label=label if label is not None else matched, field=field,
            field_title=layer.field(field).title, matched=matched,
            bbox=(round(w, 7), round(s, 7), round(e, 7), round(n, 7)),
            point=(round(x, 7), round(y, 7))))
        if len(hits) == limit:
            break
    return hits

"""What changed between two dates in the zoning, the cadastre and the investment portfolio.

- Each date means the end of that day (Chilean time), as ``fecha`` in every analysis: the
  changes compared are those between the state at the end of ``desde`` and the state at
  the end of ``hasta``.
- Zoning: the versions in force at each date, compared with
  :func:`gis.proposals.diff.zoning_diff` (zones created, removed, reshaped or with norms
  changed).
- Cadastre: the parcel versions in force at each date, compared by rol (added, removed,
  changed fields or geometry).
- Portfolio: the registry's audit log (``proyecto.crear``, ``proyecto.editar``,
  ``proyecto.eliminar``, ``proyecto.importar``) and stage history (``cartera.historial``)
  in ``(desde, hasta]``, and the projects layer versions loaded from files (compared by
  code when the version in force changed; the version in force now includes the
  registry's later edits).

A layer never loaded contributes nothing (the summary says so); a date before its first
version is refused, naming that version's date.

Examples
--------
>>> cambios = changes_between(settings, "2025-01-01", "2025-06-30")     # doctest: +SKIP
>>> print(cambios["resumen"].attrs["texto"])                           # doctest: +SKIP
>>> cambios["catastro"].query("cambio == 'modificado'")                # doctest: +SKIP
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import geopandas as gpd
import pandas as pd
import psycopg
import shapely
from psycopg import sql

from gis.analysis.common import (
    LOCAL_TZ,
    AnalysisArea,
    AnalysisInputError,
    AreaInput,
    Connectable,
    LayerChoice,
    _instant,
    analysis_transaction,
    area_condition,
    describe,
    fetch_frame,
    geometry_column,
    layer_version,
    load_area,
    resolve_area,
    session,
    sql_sections,
    typed,
)
from gis.catalog import layer_versions
from gis.crs import STORAGE_CRS
from gis.proposals.diff import MIN_AREA_M2, zoning_diff
from layers.base import FieldType, VectorLayer
from layers.parcels import LAYER as PARCELS
from layers.projects import LAYER as PROJECTS
from layers.zoning import LAYER as ZONING

SQL = sql_sections("analysis_changes")
ZONING_COLUMNS = {"zona": "str", "nombre": "str", "cambio": "str", "normas_cambiadas": "str",
                  "agregado_m2": "float64", "quitado_m2": "float64"}
CADASTRE_COLUMNS = {"rol": "str", "cambio": "str", "atributos_cambiados": "str",
                    "detalle": "str", "superficie_antes_m2": "float64",
                    "superficie_despues_m2": "float64"}
PORTFOLIO_COLUMNS = {"codigo": "str", "nombre": "str", "cambio": "str",
                     "campos_cambiados": "str", "etapa_desde": "str", "etapa_hasta": "str",
                     "ediciones": "int64", "origen": "str"}
STAGE_COLUMNS = {"codigo": "str", "fecha": "datetime64[ns, America/Santiago]",
                 "etapa_anterior": "str", "etapa": "str", "usuario": "str", "nota": "str"}
EVENT_COLUMNS = {"fecha": "datetime64[ns, America/Santiago]", "usuario": "str",
                 "accion": "str", "objetivo": "str", "detalle": "str"}
SUMMARY_COLUMNS = {"tema": "str", "cambio": "str", "cantidad": "int64"}
BOOKKEEPING = {"version", "etag", "creado", "creado_por", "modificado", "modificado_por",
               "advertencias", "totales", "historial", "adjuntos", "geometria"}
"""Keys of a project's audit state that are not fields of the project."""
KINDS = {"zonificacion": ("zonificación", "zonas", ("creada", "modificada", "eliminada")),
         "catastro": ("catastro", "predios", ("agregado", "modificado", "eliminado")),
         "cartera": ("cartera", "proyectos", ("creado", "modificado", "eliminado",
                                              "creado y eliminado"))}


def changes_between(conn_or_settings: Connectable, desde: date | datetime | str,
                    hasta: date | datetime | str, *, area: AreaInput | None = None
                    ) -> dict[str, pd.DataFrame]:
    """What changed between ``desde`` and ``hasta`` (see the module docstring).

    Parameters
    ----------
    conn_or_settings : an open psycopg connection, or the settings to open one.
    desde, hasta : dates (``AAAA-MM-DD``: the end of that day) or instants; ``desde``
        must come first.
    area : None (whole comuna), a sector, a census geocódigo or a polygon: zones meeting
        it, parcels whose point on surface lies in it, projects whose geometry meets it
        (projects deleted from the registry have no geometry left: listed only without an
        area).

    Returns
    -------
    A dict of tables:

    - ``resumen``: ``tema`` (zonificación, catastro, cartera), ``cambio`` (p. ej. «zonas
      modificadas») and ``cantidad``; ``attrs["texto"]`` says it in one Spanish paragraph.
    - ``zonificacion`` (GeoDataFrame): ``zona``, ``nombre``, ``cambio`` (creada,
      modificada, eliminada), ``normas_cambiadas`` («Altura máxima: 10 → 14; ...»),
      ``agregado_m2`` and ``quitado_m2`` (superficie ganada y perdida).
    - ``catastro`` (GeoDataFrame): ``rol``, ``cambio`` (agregado, modificado, eliminado),
      ``atributos_cambiados`` (campos, y «geometría»), ``detalle`` («Destino SII: H →
      C; ...»), ``superficie_antes_m2``, ``superficie_despues_m2``.
    - ``cartera``: ``codigo``, ``nombre``, ``cambio`` (creado, modificado, eliminado,
      creado y eliminado), ``campos_cambiados``, ``etapa_desde``, ``etapa_hasta``,
      ``ediciones`` (registros de auditoría del proyecto), ``origen`` («registro» o
      «capa versión N»).
    - ``etapas``: cambios de etapa: ``codigo``, ``fecha``, ``etapa_anterior``, ``etapa``,
      ``usuario``, ``nota``.
    - ``eventos``: the audit entries of the portfolio: ``fecha``, ``usuario``,
      ``accion``, ``objetivo``, ``detalle``.
    """
    start, end = _instant(desde), _instant(hasta)
    if end <= start:
        raise AnalysisInputError(
            f"La fecha «desde» ({_show(start)}) debe ser anterior a «hasta» ({_show(end)}).",
            hint="Intercambie las fechas o elija un período de al menos un día.")
    with session(conn_or_settings) as (conn, settings):
        chosen = resolve_area(conn, settings, area)
        zoning = _pair(conn, "zoning", desde, hasta)
        parcels = _pair(conn, "parcels", desde, hasta)
        with analysis_transaction(conn):
            load_area(conn, chosen)
            out = {"zonificacion": _zoning(conn, zoning, chosen),
                   "catastro": _cadastre(conn, parcels, chosen)}
            out.update(_portfolio(conn, chosen, start, end, desde, hasta))
    out = {k: describe(v, f"cambios_{k}", chosen, desde=start.isoformat(),
                       hasta=end.isoformat()) for k, v in out.items()}
    versions = {"zonificacion": zoning, "catastro": parcels}
    summary = _summary(out, versions, start, end)
    summary.attrs.update({"analisis": "cambios", "area": chosen.nombre,
                          "desde": start.isoformat(), "hasta": end.isoformat()})
    return {"resumen": summary, **out}


def changes_summary(conn_or_settings: Connectable, *, area: AreaInput | None = None,
                    version: int | None = None, fecha: date | datetime | str | None = None,
                    desde: date | datetime | str | None = None,
                    hasta: date | datetime | str | None = None) -> pd.DataFrame:
    """The ``resumen`` table of :func:`changes_between` (the form the CLI and the API
    list): ``tema``, ``cambio`` and ``cantidad``, with ``attrs["texto"]``. ``version`` and
    ``fecha`` do not apply: the period is ``desde``–``hasta``."""
    if version is not None or fecha is not None:
        raise AnalysisInputError("Los cambios no usan «version» ni «fecha».",
                                 hint="Indique el período con «desde» y «hasta».")
    if desde is None or hasta is None:
        raise AnalysisInputError("Faltan las fechas del período («desde» y «hasta»).",
                                 hint="Por ejemplo desde=2025-01-01 y hasta=2025-06-30.")
    return changes_between(conn_or_settings, desde, hasta, area=area)["resumen"]


def _show(instant: datetime) -> str:
    return f"{instant.astimezone(LOCAL_TZ):%Y-%m-%d %H:%M}"


def _pair(conn: psycopg.Connection, layer: str, desde: Any, hasta: Any
          ) -> tuple[LayerChoice, LayerChoice] | None:
    """The versions in force at each date (None when the layer was never loaded)."""
    if not layer_versions(conn, layer):
        return None
    return layer_version(conn, layer, fecha=desde), layer_version(conn, layer, fecha=hasta)


# --- zoning ---------------------------------------------------------------------------------

def _zones(conn: psycopg.Connection, table: sql.Composable) -> gpd.GeoDataFrame:
    names = [f.name for f in ZONING.fields]
    with conn.cursor() as cur:
        cur.execute(sql.SQL("SELECT {}, ST_AsBinary(geom) FROM {} ORDER BY codigo").format(
            sql.SQL(", ").join(map(sql.Identifier, names)), table))
        rows = cur.fetchall()
    frame = pd.DataFrame([r[:-1] for r in rows], columns=names)
    geoms = [shapely.from_wkb(bytes(r[-1])) for r in rows]
    return gpd.GeoDataFrame(frame, geometry=geoms, crs=STORAGE_CRS)


def _zoning(conn: psycopg.Connection, pair: tuple[LayerChoice, LayerChoice] | None,
            area: AnalysisArea) -> gpd.GeoDataFrame:
    rows: list[dict[str, Any]] = []
    geoms: list[Any] = []
    if pair is not None and pair[0].version != pair[1].version:
        before, after = _zones(conn, pair[0].table), _zones(conn, pair[1].table)
        shapes = {**dict(zip(before.codigo, zip(before.nombre, before.geometry, strict=True),
                             strict=True)),
                  **dict(zip(after.codigo, zip(after.nombre, after.geometry, strict=True),
                             strict=True))}
        for feature in zoning_diff(before, after)["features"]:
            props = feature["properties"]
            if "parte" in props:
                continue
            name, shape = shapes[props["codigo"]]
            if area.geometry is not None and not shape.intersects(area.geometry):
                continue
            norms = "; ".join(f"{n['titulo']}: {_value(n['antes'])} → {_value(n['despues'])}"
                              for n in props["normas_cambiadas"].values())
            rows.append({"zona": props["codigo"], "nombre": name, "cambio": props["cambio"],
                         "normas_cambiadas": norms or None,
                         "agregado_m2": props["agregado_m2"], "quitado_m2": props["quitado_m2"]})
            geoms.append(shape)
    frame = typed(pd.DataFrame(rows, columns=list(ZONING_COLUMNS)), ZONING_COLUMNS)
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=STORAGE_CRS,
                                                          index=frame.index), crs=STORAGE_CRS)


def _value(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "—"
    if isinstance(value, float):
        return f"{value:g}".replace(".", ",")
    return str(value)


# --- cadastre and project layer -------------------------------------------------------------

def _comparisons(layer: VectorLayer, key: str) -> dict[str, sql.Composable]:
    """The SQL comparing every field of ``layer`` (but ``key``) between ``a`` and ``b``:
    ``distintos`` (any differs), ``campos`` (names of those that differ), ``detalle``
    («Título: antes → después; ...»)."""
    fields = [f for f in layer.fields if f.name != key]
    differs = [sql.SQL("a.{0} IS DISTINCT FROM b.{0}").format(sql.Identifier(f.name))
               for f in fields]
    names = [sql.SQL("CASE WHEN {} THEN {} END").format(d, sql.Literal(f.name))
             for d, f in zip(differs, fields, strict=True)]
    details = [sql.SQL("CASE WHEN {} THEN {} || {} || ' → ' || {} END").format(
        d, sql.Literal(f"{f.title}: "), _as_text("a", f), _as_text("b", f))
        for d, f in zip(differs, fields, strict=True)]
    return {"distintos": sql.SQL("(") + sql.SQL(" OR ").join(differs) + sql.SQL(")"),
            "campos": sql.SQL("array_remove(ARRAY[{}]::text[], NULL)").format(
                sql.SQL(", ").join(names)),
            "detalle": sql.SQL("concat_ws('; ', {})").format(sql.SQL(", ").join(details))}


def _as_text(alias: str, field: Any) -> sql.Composable:
    column = sql.Identifier(alias, field.name)
    if field.type is FieldType.TEXT_LIST:
        return sql.SQL("coalesce(array_to_string({}, ', '), '—')").format(column)
    return sql.SQL("coalesce({}::text, '—')").format(column)


def _cadastre(conn: psycopg.Connection, pair: tuple[LayerChoice, LayerChoice] | None,
              area: AnalysisArea) -> gpd.GeoDataFrame:
    if pair is None or pair[0].version == pair[1].version:
        empty = typed(pd.DataFrame(columns=list(CADASTRE_COLUMNS)), CADASTRE_COLUMNS)
        return gpd.GeoDataFrame(empty, geometry=gpd.GeoSeries([], crs=STORAGE_CRS),
                                crs=STORAGE_CRS)
    query = sql.SQL(SQL["cadastre"]).format(
        antes=pair[0].table, despues=pair[1].table, **_comparisons(PARCELS, "rol"),
        en_area=area_condition(area, "s.pt"),
        geometry=geometry_column("coalesce(c.geom_b, c.geom_a)", True))
    return fetch_frame(conn, query, {"tolerancia": MIN_AREA_M2}, CADASTRE_COLUMNS,
                       geometry=True)


# --- portfolio ------------------------------------------------------------------------------

def _portfolio(conn: psycopg.Connection, area: AnalysisArea, start: datetime, end: datetime,
               desde: Any, hasta: Any) -> dict[str, pd.DataFrame]:
    period = {"desde": start, "hasta": end}
    events = conn.execute(SQL["audit_events"], period).fetchall()
    stages = [list(r) for r in conn.execute(SQL["stage_history"], period).fetchall()]
    registered = {r[0] for r in conn.execute(SQL["registered"]).fetchall()}
    per_project: dict[str, list[tuple[Any, ...]]] = {}
    log = []
    for at, actor, action, target, before, after in events:
        detail = None
        if action == "proyecto.importar" and isinstance(after, dict):
            detail = (f"{after.get('archivo')}: {after.get('creados', 0)} creados, "
                      f"{after.get('actualizados', 0)} actualizados")
        elif target.startswith("proyecto/"):
            codigo = target.split("/", 1)[1]
            per_project.setdefault(codigo, []).append((at, actor, action, before, after))
            state = after or before or {}
            detail = state.get("nombre")
        log.append([at, actor, action, target, detail])
    rows = [_audit_row(codigo, entries) for codigo, entries in per_project.items()]
    for codigo, entries in per_project.items():  # stages of projects no longer registered
        if codigo not in registered:
            stages += _audit_stages(codigo, entries)
    rows += _layer_rows(conn, desde, hasta, {r["codigo"] for r in rows})
    if area.geometry is not None:
        inside = _projects_in_area(conn, area, desde)
        rows = [r for r in rows if r["codigo"] in inside]
        stages = [s for s in stages if s[0] in inside]
        log = [e for e in log if not e[3].startswith("proyecto/")
               or e[3].split("/", 1)[1] in inside]
    cartera = typed(pd.DataFrame(sorted(rows, key=lambda r: r["codigo"]),
                                 columns=list(PORTFOLIO_COLUMNS)), PORTFOLIO_COLUMNS)
    etapas = _timed(sorted(stages, key=lambda s: (s[1], s[0])), STAGE_COLUMNS)
    eventos = _timed(log, EVENT_COLUMNS)
    return {"cartera": cartera, "etapas": etapas, "eventos": eventos}


def _timed(rows: list[list[Any]], columns: dict[str, str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(columns))
    frame["fecha"] = pd.to_datetime(frame["fecha"], utc=True).dt.tz_convert(LOCAL_TZ)
    return typed(frame, {k: v for k, v in columns.items() if k != "fecha"}).astype(
        {"fecha": columns["fecha"]})


def _audit_row(codigo: str, entries: list[tuple[Any, ...]]) -> dict[str, Any]:
    actions = [e[2] for e in entries]
    first, last = entries[0][3], entries[-1][4]  # state before the first, after the last
    created, deleted = actions[0] == "proyecto.crear", actions[-1] == "proyecto.eliminar"
    kind = ("creado y eliminado" if created and deleted else "creado" if created
            else "eliminado" if deleted else "modificado")
    changed = None
    if kind == "modificado" and first and last:
        keys = sorted((set(first) | set(last)) - BOOKKEEPING)
        changed = ", ".join(k for k in keys if _canonical(first.get(k)) != _canonical(
            last.get(k))) or None
    states = [x for e in entries for x in (e[4], e[3]) if x]
    state: dict[str, Any] = last or first or (states[0] if states else {})
    return {"codigo": codigo, "nombre": state.get("nombre"), "cambio": kind,
            "campos_cambiados": changed, "etapa_desde": (first or {}).get("etapa"),
            "etapa_hasta": (last or {}).get("etapa"), "ediciones": len(entries),
            "origen": "registro"}


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _audit_stages(codigo: str, entries: list[tuple[Any, ...]]) -> list[list[Any]]:
    out = []
    for at, actor, _, before, after in entries:
        old, new = (before or {}).get("etapa"), (after or {}).get("etapa")
        if new is not None and new != old:
            out.append([codigo, at, old, new, actor, "según el registro de auditoría"])
    return out


def _layer_rows(conn: psycopg.Connection, desde: Any, hasta: Any, known: set[str]
                ) -> list[dict[str, Any]]:
    """Projects changed between the projects layer versions in force at the two dates
    (a version loaded from a file); before the layer's first version it was empty."""
    end = _projects_at(conn, hasta)
    if end is None:
        return []
    start = _projects_at(conn, desde)
    if start is not None and start.version == end.version:
        return []
    before = start.table if start is not None else sql.SQL(
        "(SELECT * FROM {} WHERE false)").format(end.table)
    query = sql.SQL(SQL["project_layer"]).format(antes=before, despues=end.table,
                                                 **_comparisons(PROJECTS, "codigo"))
    rows = []
    for codigo, nombre, kind, changed, old, new in conn.execute(query).fetchall():
        if codigo not in known:
            rows.append({"codigo": codigo, "nombre": nombre, "cambio": kind,
                         "campos_cambiados": changed or None, "etapa_desde": old,
                         "etapa_hasta": new, "ediciones": 0,
                         "origen": f"capa versión {end.version}"})
    return rows


def _projects_at(conn: psycopg.Connection, fecha: Any) -> LayerChoice | None:
    """The projects layer version in force on ``fecha``; None before its first version
    (the portfolio was empty then) or when it was never loaded."""
    versions = layer_versions(conn, "projects")
    if not versions or _instant(fecha) < min(v.valid_from for v in versions):
        return None
    return layer_version(conn, "projects", fecha=fecha)


def _projects_in_area(conn: psycopg.Connection, area: AnalysisArea, desde: Any) -> set[str]:
    if not layer_versions(conn, "projects"):
        return set()
    now = layer_version(conn, "projects")
    then = _projects_at(conn, desde) or now
    query = sql.SQL(SQL["projects_in_area"]).format(
        antes=then.table, despues=now.table, en_area=area_condition(area, "p.geom"))
    return {r[0] for r in conn.execute(query).fetchall()}


# --- summary --------------------------------------------------------------------------------

def _summary(out: dict[str, pd.DataFrame], versions: dict[str, Any], start: datetime,
             end: datetime) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    phrases = []
    for key, (theme, things, kinds) in KINDS.items():
        counts = out[key]["cambio"].value_counts()
        parts = []
        for kind in kinds:
            label = _plural(things, kind)
            n = int(counts.get(kind, 0))
            rows.append({"tema": theme, "cambio": label, "cantidad": n})
            if n:
                parts.append(f"{n} {label if n > 1 else things[:-1] + ' ' + kind}")
        pair = versions.get(key)
        head = theme.capitalize()
        if key in versions:
            head += (" (capa sin versiones cargadas)" if pair is None else
                     f" (versión {pair[0].version} → {pair[1].version})")
        phrases.append(f"{head}: {', '.join(parts) if parts else 'sin cambios'}.")
    steps = len(out["etapas"])
    imports = int((out["eventos"]["accion"] == "proyecto.importar").sum())
    rows.append({"tema": "cartera", "cambio": "cambios de etapa", "cantidad": steps})
    rows.append({"tema": "cartera", "cambio": "importaciones de cartera", "cantidad": imports})
    phrases.append(f"Cambios de etapa: {steps}; importaciones de cartera: {imports}.")
    frame = typed(pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS)), SUMMARY_COLUMNS)
    frame.attrs["texto"] = (f"Cambios entre el {_show(start)} y el {_show(end)}. "
                            + " ".join(phrases))
    return frame


def _plural(things: str, kind: str) -> str:
    return f"{things} " + " y ".join(w + "s" for w in kind.split(" y "))


__all__ = ["changes_between", "changes_summary"]

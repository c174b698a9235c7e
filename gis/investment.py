"""Investment by territory, against need, and budget execution of the project portfolio.

The money of each project (its funding rows in ``cartera.financiamiento``) is attributed to
territorial units (planning sectors, census zones or PRC zones) in proportion to the share
of the project's geometry inside each unit: area for polygons, length for lines, number of
points for points (``profiles.measure``, computed in PostGIS). The amount of a funding row
is its approved amount, or the requested one while nothing is approved (as the project's
total cost, ``layers.projects.monto_clp``).

Units carry their population (Censo 2017, interpolated for sectors and PRC zones), their
age structure, density and high-hazard area; these make a need index that puts investment
per inhabitant in perspective (:func:`investment_by_territory`, :func:`need_ranking`).

Examples
--------
>>> with connect(settings) as conn:                                     # doctest: +SKIP
...     sectores = investment_by_territory(conn, "sector", anio=2025)
...     sectores[["nombre", "monto_por_habitante", "ranking"]]
...     ejecucion = budget_execution(conn, "fuente")
>>> investment_map(sectores).save("inversion.html")                       # doctest: +SKIP
"""

from __future__ import annotations

import html
import math
import re
from importlib.resources import files
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import shapely

from gis.errors import PlatformError
from gis.maps import BIND_POPUPS, AssetMode, MapLegend, display_value, fit_to, new_map
from gis.portfolio.record import AMOUNTS, money
from gis.profile import ensure_residential_weights
from gis.settings import Settings
from layers.projects import FUNDING_CODES, PLADECO_AXES, PROJECT_SECTORS, STAGES

UNITS = {"sector": "Sector de planificación", "zona_censal": "Zona censal",
         "zona_prc": "Zona del PRC"}
"""Kinds of territorial unit: planning sectors (``layers.planning_sectors``), census zones
(``layers.census_zones``) and PRC zones (``layers.zoning``)."""
BREAKDOWNS = {"fuente": "Fuente", "sector": "Sector", "anio": "Año", "etapa": "Etapa"}
EXECUTION_GROUPS = {"anio": "Año", "eje_pladeco": "Eje PLADECO", "sector": "Sector",
                    "fuente": "Fuente", "territorio": "Sector de planificación"}
NO_AXIS = "Sin eje PLADECO"
OUTSIDE = "Fuera de los sectores de planificación"

COLUMNS = {
    "codigo": "Código", "nombre": "Nombre", "poblacion": "Población (hab)",
    "superficie_ha": "Superficie (ha)", "n_proyectos": "Proyectos",
    "monto_clp": "Inversión (CLP)", "monto_por_habitante": "Inversión por habitante (CLP)",
    "monto_ejecutado_clp": "Monto ejecutado (CLP)", "pct_menores": "Población de 0 a 14 años (%)",
    "pct_mayores": "Población de 65 años y más (%)", "densidad_hab_ha": "Densidad (hab/ha)",
    "pct_riesgo_alto": "Superficie en riesgo alto (%)",
    "indice_necesidad": "Índice de necesidad (0 a 1)",
    "monto_por_habitante_relativo": "Inversión por habitante / media comunal",
    "ranking": "Prioridad (1 = más subinvertido según necesidad)",
}
"""Columns of :func:`investment_by_territory` (besides ``geometry``) with their Spanish
titles, for tables, legends and reports."""
MONEY_COLUMNS = ("monto_clp", "monto_por_habitante", "monto_ejecutado_clp")
MAP_COLUMNS = ("monto_por_habitante", "monto_clp", "indice_necesidad",
               "monto_por_habitante_relativo")
"""Columns a choropleth can show."""
PALETTE = ("#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494")
NO_DATA = "#d9d9d9"
UNIT_LAYERS = {"sector": "planning_sectors", "zona_censal": "census_zones",
               "zona_prc": "zoning"}
UNIT_DEPENDENCIES = ("census_zones", "parcels", "hazard_zones")
"""Layers the units' population and hazard figures come from (besides the unit layer)."""
_UNIT_CACHE: dict[tuple[Any, ...], tuple[list[Any], pd.DataFrame]] = {}
"""(database, unit) → (layer revisions it was computed from, unit table)."""

SQL_FILE = "sql/investment.sql"


class InvestmentQueryError(PlatformError):
    """A unit, grouping or filter value that does not exist."""

    http_status = 400


def _sql_sections() -> dict[str, str]:
    text = files("gis").joinpath(SQL_FILE).read_text(encoding="utf-8")
    parts = re.split(r"^-- name: (\w+)\n", text, flags=re.M)
    sections = {parts[i]: parts[i + 1].strip() for i in range(1, len(parts), 2)}
    return {name: sql.replace("{units}", sections["unit_geometries"])
            for name, sql in sections.items()}


SQL = _sql_sections()


# --- validation ------------------------------------------------------------------------

def _check(value: Any, valid: Any, what: str, param: str) -> None:
    if value is not None and value not in valid:
        raise InvestmentQueryError(
            f"«{str(value)[:60]}» no es un valor válido de {what} («{param}»).",
            hint=f"Valores válidos: {', '.join(map(str, valid))}.")


def check_filters(unit: str = "sector", *, anio: int | None = None, fuente: str | None = None,
                  sector: str | None = None, etapa: str | None = None) -> None:
    """Raise :class:`InvestmentQueryError` (Spanish, listing the valid values) for an
    unknown unit, funding source, project sector or stage."""
    _check(unit, tuple(UNITS), "unidad territorial", "unidad")
    _check(fuente, FUNDING_CODES, "fuente de financiamiento", "fuente")
    _check(sector, PROJECT_SECTORS, "sector de proyecto", "sector")
    _check(etapa, STAGES, "etapa", "etapa")
    if anio is not None and not 1990 <= anio <= 2100:
        raise InvestmentQueryError(f"El año {anio} está fuera de rango («anio»).",
                                   hint="Indique un año entre 1990 y 2100.")


# --- reading ---------------------------------------------------------------------------

def _frame(conn: psycopg.Connection, name: str, params: dict[str, Any]) -> pd.DataFrame:
    with conn.cursor() as cur:
        cur.execute(SQL[name], params)  # type: ignore[arg-type]
        columns = [d.name for d in cur.description or ()]
        return pd.DataFrame(cur.fetchall(), columns=columns)


def _units(conn: psycopg.Connection, unit: str) -> pd.DataFrame:
    """The units with area, population, ages and high-hazard area; recomputed only when
    a layer they come from changed (about a second for sectors over a 30,000-parcel
    cadastre), else taken from the process's cache."""
    layers = sorted({UNIT_LAYERS[unit], *UNIT_DEPENDENCIES})
    key = (conn.info.host, conn.info.port, conn.info.dbname, unit)
    with conn.transaction():
        stamp = conn.execute(SQL["unit_stamp"], {"layers": layers}).fetchall()  # type: ignore[arg-type]
        cached = _UNIT_CACHE.get(key)
        if cached is not None and cached[0] == stamp:
            return cached[1].copy()
        if unit != "zona_censal":
            ensure_residential_weights(conn)
        frame = _frame(conn, "units", {"unit": unit})
    for col in ("superficie_ha", "poblacion", "menores", "mayores", "con_edad",
                "riesgo_alto_ha"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
    _UNIT_CACHE[key] = (stamp, frame)
    return frame.copy()


def project_shares(conn: psycopg.Connection, unit: str = "sector") -> pd.DataFrame:
    """Each project's share of each territorial unit it touches: columns ``proyecto``,
    ``unidad`` and ``fraccion`` (of its area, length or points; summing to 1 per
    project located in the units)."""
    check_filters(unit)
    return _shares(conn, unit)


def _shares(conn: psycopg.Connection, unit: str) -> pd.DataFrame:
    frame = _frame(conn, "shares", {"unit": unit})
    frame["fraccion"] = frame["fraccion"].astype(float)
    return frame


def _funding(conn: psycopg.Connection, filters: dict[str, Any]) -> pd.DataFrame:
    params = {k: filters.get(k) for k in ("anio", "fuente", "sector", "etapa")}
    frame = _frame(conn, "funding", params)
    for col in (*AMOUNTS, "monto"):
        frame[col] = frame[col].astype("int64")
    return frame


def _selected_projects(conn: psycopg.Connection, funding: pd.DataFrame,
                       filters: dict[str, Any]) -> set[str]:
    """Projects in scope: with a funding row in the filters' year/source when these are
    given, else every project of the sector/stage filters (funded or not)."""
    if filters.get("anio") is not None or filters.get("fuente") is not None:
        return set(funding["codigo"])
    rows = _frame(conn, "projects", {"sector": filters.get("sector"),
                                     "etapa": filters.get("etapa")})
    return set(rows["codigo"])


def _attributed(conn: psycopg.Connection, unit: str, filters: dict[str, Any]
                ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(shares of the projects in scope, their funding rows)."""
    funding = _funding(conn, filters)
    shares = _shares(conn, unit)
    shares = shares[shares["proyecto"].isin(_selected_projects(conn, funding, filters))]
    return shares, funding


# --- investment by territory -----------------------------------------------------------

def investment_by_territory(conn: psycopg.Connection, unit: str = "sector", *,
                            anio: int | None = None, fuente: str | None = None,
                            sector: str | None = None, etapa: str | None = None
                            ) -> gpd.GeoDataFrame:
    """Investment attributed to each territorial unit, per inhabitant and against need.

    Parameters
    ----------
    conn : a psycopg connection.
    unit : ``"sector"`` (planning sectors), ``"zona_censal"`` (census zones) or
        ``"zona_prc"`` (PRC zones).
    anio, fuente : only the funding rows of that year / funding source.
    sector, etapa : only the projects of that sector / stage.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per unit (units without projects included, with 0), in EPSG:4326:

        - ``codigo``, ``nombre``; ``superficie_ha``.
        - ``poblacion``: Censo 2017. For sectors and PRC zones, areal interpolation from
          the census zones weighted by residential parcel area (each census zone's
          population is split in proportion to its residential parcels, cadastre
          destino H, inside the unit; by plain area for a census zone without them).
        - ``n_proyectos``: projects in scope touching the unit (with ``anio``/``fuente``,
          those with funding of that year/source).
        - ``monto_clp``, ``monto_ejecutado_clp``: each funding row's amount (approved, or
          requested when nothing is approved) and executed amount times the project's
          share in the unit (area, length or point count of its part inside).
        - ``monto_por_habitante``: ``monto_clp / poblacion`` (null without population).
        - ``pct_menores``, ``pct_mayores``: percentage (0–100) of inhabitants aged 0–14
          and 65 or more; ``densidad_hab_ha``; ``pct_riesgo_alto``: percentage of the
          unit's area in high-level hazard zones (any hazard type).
        - ``indice_necesidad`` (0–1): mean of four indicators, each min-max normalised
          over the units (0 when all equal; missing counts as 0): population, share of
          dependent ages (0–14 plus 65+), density and high-hazard area share.
        - ``monto_por_habitante_relativo``: ``monto_por_habitante`` over the mean of all
          units (their total investment over their total population).
        - ``ranking``: 1 = most under-invested relative to need. Units are ordered by
          ``monto_por_habitante / indice_necesidad`` ascending (an index of 0 counts as
          infinite: no measured need), ties by higher need, then code; units without
          population go last.
    """
    check_filters(unit, anio=anio, fuente=fuente, sector=sector, etapa=etapa)
    filters = {"anio": anio, "fuente": fuente, "sector": sector, "etapa": etapa}
    units = _units(conn, unit)
    shares, funding = _attributed(conn, unit, filters)
    per_project = funding.groupby("codigo")[["monto", "ejecutado"]].sum()
    split = shares.join(per_project, on="proyecto").fillna({"monto": 0, "ejecutado": 0})
    split["monto"] *= split["fraccion"]
    split["ejecutado"] *= split["fraccion"]
    totals = split.groupby("unidad").agg(n_proyectos=("proyecto", "nunique"),
                                         monto_clp=("monto", "sum"),
                                         monto_ejecutado_clp=("ejecutado", "sum"))
    out = units.join(totals, on="codigo")
    out[["n_proyectos", "monto_clp", "monto_ejecutado_clp"]] = out[
        ["n_proyectos", "monto_clp", "monto_ejecutado_clp"]].fillna(0)
    return _with_need(out)


def _with_need(out: pd.DataFrame) -> gpd.GeoDataFrame:
    people = out["poblacion"].where(out["poblacion"] > 0)
    out["monto_por_habitante"] = out["monto_clp"] / people
    with_ages = out["con_edad"].where(out["con_edad"] > 0)
    out["pct_menores"] = 100 * out["menores"] / with_ages
    out["pct_mayores"] = 100 * out["mayores"] / with_ages
    out["densidad_hab_ha"] = out["poblacion"] / out["superficie_ha"].where(
        out["superficie_ha"] > 0)
    out["pct_riesgo_alto"] = (100 * out["riesgo_alto_ha"] / out["superficie_ha"].where(
        out["superficie_ha"] > 0)).clip(upper=100)
    parts = [out["poblacion"], out["pct_menores"] + out["pct_mayores"],
             out["densidad_hab_ha"], out["pct_riesgo_alto"]]
    out["indice_necesidad"] = sum(_minmax(p) for p in parts) / len(parts)
    total_people = out["poblacion"].sum()
    mean = out["monto_clp"].sum() / total_people if total_people > 0 else math.nan
    out["monto_por_habitante_relativo"] = (out["monto_por_habitante"] / mean
                                           if mean > 0 else math.nan)
    ratio = out["monto_por_habitante"] / out["indice_necesidad"].where(
        out["indice_necesidad"] > 0, 0.0)
    order = out.assign(_ratio=ratio.where(people.notna()).replace(-np.inf, np.inf))
    order = order.sort_values(["_ratio", "indice_necesidad", "codigo"],
                              ascending=[True, False, True], na_position="last")
    out["ranking"] = pd.Series(range(1, len(out) + 1), index=order.index).astype("int64")
    out["n_proyectos"] = out["n_proyectos"].astype("int64")
    rounding = {"poblacion": 1, "superficie_ha": 2, "monto_clp": 0, "monto_ejecutado_clp": 0,
                "monto_por_habitante": 1, "pct_menores": 2, "pct_mayores": 2,
                "densidad_hab_ha": 2, "pct_riesgo_alto": 2, "indice_necesidad": 4,
                "monto_por_habitante_relativo": 4}
    out = out.round(rounding)
    geometry = gpd.GeoSeries(shapely.from_wkb([bytes(g) for g in out["geom"]]), crs=4326,
                             index=out.index)
    return gpd.GeoDataFrame(out[list(COLUMNS)], geometry=geometry, crs=4326)


def _minmax(values: pd.Series) -> pd.Series:
    low, high = values.min(), values.max()
    if not np.isfinite(high - low) or high == low:
        return pd.Series(0.0, index=values.index)
    return ((values - low) / (high - low)).fillna(0.0)


def need_ranking(conn: psycopg.Connection, unit: str = "sector", **filters: Any
                 ) -> pd.DataFrame:
    """The units sorted by :func:`investment_by_territory`'s ``ranking`` (1 first), without
    geometry; ``COLUMNS`` gives each column's Spanish title for a report table."""
    gdf = investment_by_territory(conn, unit, **filters)
    table = pd.DataFrame(gdf.drop(columns="geometry"))
    table = table.sort_values("ranking").reset_index(drop=True)
    return table[["ranking", *[c for c in COLUMNS if c != "ranking"]]]


def investment_breakdown(conn: psycopg.Connection, unit: str = "sector", by: str = "fuente",
                         **filters: Any) -> pd.DataFrame:
    """Investment of each unit broken down by funding source, project sector, year or stage.

    A long table: ``codigo``, ``nombre`` (of the unit), the key column named ``by``,
    ``monto_clp`` (attributed as in :func:`investment_by_territory`) and
    ``monto_por_habitante``; only combinations with investment, sorted by unit and key.
    ``filters`` are those of :func:`investment_by_territory`.
    """
    _check(by, tuple(BREAKDOWNS), "desglose", "por")
    check_filters(unit, **filters)
    units = _units(conn, unit)[["codigo", "nombre", "poblacion"]]
    shares, funding = _attributed(conn, unit, filters)
    rows = shares.merge(funding[["codigo", by, "monto"]], left_on="proyecto",
                        right_on="codigo")
    rows["monto_clp"] = rows["monto"] * rows["fraccion"]
    long = rows.groupby(["unidad", by], as_index=False)["monto_clp"].sum()
    long = long[long["monto_clp"] > 0]
    long = long.merge(units, left_on="unidad", right_on="codigo")
    people = long["poblacion"].where(long["poblacion"] > 0)
    long["monto_por_habitante"] = (long["monto_clp"] / people).round(1)
    long["monto_clp"] = long["monto_clp"].round(0)
    long = long.assign(_orden=_declared_rank(long[by], by)).sort_values(
        ["codigo", "_orden", by])
    return long[["codigo", "nombre", by, "monto_clp", "monto_por_habitante"]].reset_index(
        drop=True)


# --- budget execution ------------------------------------------------------------------

def budget_execution(conn: psycopg.Connection, by: str = "anio", *,
                     anio: int | None = None) -> pd.DataFrame:
    """Planned against executed amounts of the portfolio, grouped.

    Parameters
    ----------
    by : ``"anio"``, ``"eje_pladeco"`` (projects without axis: «Sin eje PLADECO»),
        ``"sector"`` (project sector), ``"fuente"`` or ``"territorio"`` (planning sector
        by name, amounts split by the project's share in each; what lies outside every
        sector is a row «Fuera de los sectores de planificación»).
    anio : only the funding rows of that year.

    Returns
    -------
    pandas.DataFrame
        Indexed by the group (index name ``by``), with ``solicitado``, ``aprobado``,
        ``comprometido``, ``ejecutado`` (CLP), ``pct_ejecucion`` (100 × ejecutado /
        aprobado, null when nothing is approved) and ``n_proyectos``.
    """
    _check(by, tuple(EXECUTION_GROUPS), "agrupación", "por")
    check_filters(anio=anio)
    funding = _funding(conn, {"anio": anio})
    if by == "territorio":
        rows = _by_territory(conn, funding)
    else:
        rows = funding.copy()
        if by == "eje_pladeco":
            rows[by] = rows[by].replace("", None).fillna(NO_AXIS)
        rows["_orden"] = _declared_rank(rows[by], by)
    grouped = rows.groupby(["_orden", by])
    out = grouped[list(AMOUNTS)].sum().round(0).astype("int64")
    out["pct_ejecucion"] = (100 * out["ejecutado"] / out["aprobado"].where(
        out["aprobado"] > 0)).round(1)
    out["n_proyectos"] = grouped["codigo"].nunique().astype("int64")
    out = out.reset_index(level="_orden", drop=True)
    out.index.name = by
    return out


def _by_territory(conn: psycopg.Connection, funding: pd.DataFrame) -> pd.DataFrame:
    """Funding rows split among the planning sectors (column ``territorio``, its sort
    position in ``_orden``), the part outside every sector in its own row."""
    shares = _shares(conn, "sector")
    names = _frame(conn, "unit_geometries", {"unit": "sector"})
    order = {c: i for i, c in enumerate(sorted(names["codigo"]))}
    label = dict(zip(names["codigo"], names["nombre"], strict=True))
    inside = shares.groupby("proyecto")["fraccion"].sum()
    outside = (1 - inside).where(lambda s: s > 1e-9).dropna()
    missing = sorted(set(funding["codigo"]) - set(inside.index))
    parts = pd.concat([
        pd.DataFrame({"proyecto": shares["proyecto"], "fraccion": shares["fraccion"],
                      "territorio": shares["unidad"].map(label),
                      "_orden": shares["unidad"].map(order)}),
        pd.DataFrame({"proyecto": [*outside.index, *missing],
                      "fraccion": [*outside.to_numpy(), *[1.0] * len(missing)],
                      "territorio": OUTSIDE, "_orden": len(order)}),
    ])
    rows = funding.merge(parts, left_on="codigo", right_on="proyecto")
    for col in AMOUNTS:
        rows[col] = rows[col] * rows["fraccion"]
    return rows


def _declared_rank(values: pd.Series, by: str) -> pd.Series:
    """Sort position of codes in their declared order (sources, sectors, stages, PLADECO
    axes), unknown ones after them and «Sin eje PLADECO» last; 0 for years."""
    declared: tuple[str, ...] = {"fuente": FUNDING_CODES, "sector": PROJECT_SECTORS,
                                 "etapa": STAGES, "eje_pladeco": PLADECO_AXES}.get(by, ())
    rank = {v: i for i, v in enumerate(declared)}
    return values.map(lambda v: rank.get(v, len(rank) + (v == NO_AXIS))).astype("int64")


# --- choropleth ------------------------------------------------------------------------

def format_value(column: str, value: Any) -> str:
    """A value of :data:`COLUMNS` as a planner reads it: ``$ 12.345``, ``0,42``, ``—``."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "sin dato"
    if column in MONEY_COLUMNS:
        return money(value)
    return display_value(round(float(value), 2) if isinstance(value, float) else value)


def choropleth_classes(values: Any, column: str = "monto_por_habitante", k: int = 5
                       ) -> list[dict[str, Any]]:
    """Up to ``k`` quantile classes of ``values`` (missing ones left out): each a dict
    ``desde``, ``hasta``, ``color`` and a Spanish ``etiqueta``. A value falls in the last
    class whose ``desde`` it reaches (the same rule as a MapLibre ``step`` expression)."""
    finite = np.array([float(v) for v in values if v is not None and not pd.isna(v)
                       and math.isfinite(float(v))])
    if finite.size == 0:
        return []
    edges = sorted({round(float(q), 4) for q in np.quantile(finite, np.linspace(0, 1, k + 1))})
    if len(edges) == 1:
        edges = edges * 2
    n = len(edges) - 1
    colours = [PALETTE[round(i * (len(PALETTE) - 1) / max(n - 1, 1))] for i in range(n)]
    return [{"desde": edges[i], "hasta": edges[i + 1], "color": colours[i],
             "etiqueta": f"{format_value(column, edges[i])} – "
                         f"{format_value(column, edges[i + 1])}"} for i in range(n)]


def class_colour(value: Any, classes: list[dict[str, Any]]) -> str:
    """The colour of ``value`` among ``classes`` (grey when missing)."""
    if value is None or pd.isna(value) or not classes:
        return NO_DATA
    colour = classes[0]["color"]
    for item in classes:
        if float(value) >= item["desde"]:
            colour = item["color"]
    return colour


def territory_geojson(gdf: gpd.GeoDataFrame, column: str = "monto_por_habitante"
                      ) -> dict[str, Any]:
    """:func:`investment_by_territory`'s result as a GeoJSON FeatureCollection (lon/lat,
    6 decimals, missing values as null) with a ``leyenda`` member: the column shown, its
    Spanish title, its classes (:func:`choropleth_classes`) and the no-data colour."""
    _check(column, MAP_COLUMNS, "indicador del mapa", "columna")
    frame = gdf.to_crs(4326) if gdf.crs is not None and not gdf.crs.equals(4326) else gdf
    geoms = shapely.transform(frame.geometry.to_numpy(), lambda c: np.round(c, 6))
    records = pd.DataFrame(frame.drop(columns=frame.geometry.name)).to_dict("records")
    features = [{"type": "Feature", "id": str(row["codigo"]),
                 "properties": {k: _plain(v) for k, v in row.items()},
                 "geometry": shapely.geometry.mapping(geom) if geom is not None else None}
                for row, geom in zip(records, geoms, strict=True)]
    return {"type": "FeatureCollection", "features": features,
            "leyenda": {"columna": column, "titulo": COLUMNS[column],
                        "clases": choropleth_classes(frame[column], column),
                        "sin_dato": NO_DATA}}


def _plain(value: Any) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return value.item() if isinstance(value, np.generic) else value


def investment_map(gdf: gpd.GeoDataFrame, column: str = "monto_por_habitante", *,
                   title: str | None = None, assets: AssetMode = "cdn",
                   vendor_url: str = "/vendor", settings: Settings | None = None
                   ) -> folium.Map:
    """A folium choropleth of :func:`investment_by_territory`'s ``column`` (one of
    :data:`MAP_COLUMNS`), quantile classes, a Spanish legend, a tooltip (unit and value)
    and a popup with every indicator of the unit. ``assets``, ``vendor_url`` and
    ``settings`` are as in :func:`gis.maps.new_map` (``"local"`` or ``"inline"``: nothing
    loaded from the internet).

    Examples
    --------
    >>> investment_map(sectores, assets="inline").save("inversion.html")  # doctest: +SKIP
    """
    data = territory_geojson(gdf, column)
    legend = data.pop("leyenda")
    classes = legend["clases"]
    for feature in data["features"]:
        props = feature["properties"]
        feature["properties"] = {
            "_c": class_colour(props.get(column), classes),
            "_tooltip": html.escape(f"{props.get('nombre')}: "
                                    f"{format_value(column, props.get(column))}"),
            "_popup": _popup(props)}
    m = new_map(title=title or legend["titulo"], assets=assets, vendor_url=vendor_url,
                settings=settings)
    folium.GeoJson(
        data, name=legend["titulo"],
        style_function=lambda f: {"fillColor": f["properties"]["_c"], "color": "#37474f",
                                  "weight": 1, "fillOpacity": 0.75},
        highlight_function=lambda f: {"weight": 3, "fillOpacity": 0.9},
        on_each_feature=BIND_POPUPS).add_to(m)
    rows = [(c["etiqueta"], c["color"]) for c in classes] + [("Sin población", NO_DATA)]
    m.add_child(MapLegend(f"<h4>{html.escape(legend['titulo'])}</h4><ul>" + "".join(
        f'<li><span class="secplac-swatch" style="background:{colour};border-color:#37474f">'
        f"</span><span>{html.escape(label)}</span></li>" for label, colour in rows)
        + '</ul><div class="note">Clases por cuantiles</div>'))
    west, south, east, north = (float(v) for v in gdf.to_crs(4326).total_bounds)
    if all(map(math.isfinite, (west, south, east, north))):
        fit_to(m, (west, south, east, north))
    return m


def _popup(props: dict[str, Any]) -> str:
    rows = "".join(f"<tr><th>{html.escape(title)}</th>"
                   f"<td>{html.escape(format_value(col, props.get(col)))}</td></tr>"
                   for col, title in COLUMNS.items() if col not in ("codigo", "nombre"))
    return (f'<div class="secplac-popup"><h4>{html.escape(str(props.get("nombre")))}</h4>'
            f'<p class="layer">{html.escape(str(props.get("codigo")))}</p>'
            f"<table>{rows}</table></div>")

"""Sector diagnosis, the «carta de situación comunal por sectores»: population and age
structure, density, dependency, housing, land-use mix, hazard exposure and investment of
each planning sector or census zone, a priority ranking, a comuna-wide summary and
choropleth maps (folium and matplotlib).

- Population (Censo 2017): census areal interpolation weighted by residential parcels, as
  in :mod:`gis.investment` (a census zone unit keeps its own figures).
- Land-use mix: shares of the current land uses (``layers.land_use``) in the unit's
  surveyed area and Shannon's entropy index ``−Σ p·ln p / ln k`` (``k`` = the
  :data:`~layers.land_use.LAND_USES`, so that units compare): 0 with one use, 1 with all
  uses in equal shares.
- Hazard: high-level hazard zones of any type (``hazard_zones``, the version chosen),
  dissolved; population in them by the same interpolation.
- Investment: :func:`gis.investment.investment_by_territory` (not recomputed here).

Examples
--------
>>> carta = sector_diagnosis(settings, unit="sector")                      # doctest: +SKIP
>>> comuna_summary(settings)[["poblacion", "razon_dependencia"]]          # doctest: +SKIP
>>> diagnosis_map(carta, "razon_dependencia").save("dependencia.html")    # doctest: +SKIP
>>> diagnosis_figure(carta, "densidad_hab_ha").savefig("densidad.png")    # doctest: +SKIP
"""

from __future__ import annotations

import html
import math
import unicodedata
from datetime import date, datetime
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from psycopg import sql

from gis.analysis.common import (
    PIECE_VERTICES,
    AnalysisArea,
    AnalysisInputError,
    AreaInput,
    Connectable,
    analysis_transaction,
    describe,
    fetch_frame,
    geometry_column,
    layer_version,
    resolve_area,
    run_script,
    session,
    sql_sections,
)
from gis.crs import STORAGE_CRS
from gis.investment import (
    NO_DATA,
    choropleth_classes,
    class_colour,
    investment_by_territory,
    project_shares,
)
from gis.maps import BIND_POPUPS, AssetMode, MapLegend, display_value, fit_to, new_map
from gis.profile import ensure_residential_weights
from gis.settings import Settings
from layers.land_use import LAND_USES

SQL = sql_sections("analysis_diagnosis")
UNITS = {"sector": "sector de planificación", "zona_censal": "zona censal"}


def _slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return plain.lower().replace(" ", "_")


USE_COLUMNS = {f"pct_uso_{_slug(u)}": u for u in LAND_USES}
"""Column of the share of each land use → the use."""
RAW = {"codigo": "str", "nombre": "str", "superficie_m2": "float64", "poblacion": "float64",
       "pob_0_5": "float64", "pob_6_14": "float64", "pob_15_64": "float64",
       "pob_65_mas": "float64", "poblacion_riesgo_alto": "float64",
       "superficie_riesgo_alto_m2": "float64", "predios": "int64",
       "predios_residenciales": "int64"}
TITLES = {
    "codigo": "Código", "nombre": "Nombre", "superficie_ha": "Superficie (ha)",
    "poblacion": "Población (hab)", "pob_0_5": "Población de 0 a 5 años",
    "pob_6_14": "Población de 6 a 14 años", "pob_15_64": "Población de 15 a 64 años",
    "pob_65_mas": "Población de 65 años y más", "densidad_hab_ha": "Densidad (hab/ha)",
    "razon_dependencia": "Razón de dependencia", "pct_menores_15": "Menores de 15 años (%)",
    "pct_mayores_65": "Personas de 65 años y más (%)", "predios": "Predios",
    "predios_residenciales": "Predios residenciales",
    "pct_predios_residenciales": "Predios residenciales (%)",
    **{c: f"Uso {u} (%)" for c, u in USE_COLUMNS.items()},
    "superficie_usos_ha": "Superficie con uso levantado (ha)",
    "indice_mixtura_usos": "Mixtura de usos (entropía, 0 a 1)",
    "pct_superficie_riesgo_alto": "Superficie en amenaza alta (%)",
    "poblacion_riesgo_alto": "Población en amenaza alta (hab)",
    "pct_poblacion_riesgo_alto": "Población en amenaza alta (%)",
    "proyectos": "Proyectos de inversión", "inversion_clp": "Inversión (CLP)",
    "inversion_por_habitante": "Inversión por habitante (CLP)",
    "indice_prioridad": "Índice de prioridad (0 a 1)",
    "ranking": "Prioridad (1 = mayor)",
}
"""Every column of :func:`sector_diagnosis` with its Spanish title (tables, legends)."""
SUMMARY_COLUMNS = [c for c in TITLES if c not in ("indice_prioridad", "ranking")]
ROUNDING = {"superficie_ha": 2, "poblacion": 1, "pob_0_5": 1, "pob_6_14": 1, "pob_15_64": 1,
            "pob_65_mas": 1, "densidad_hab_ha": 2, "razon_dependencia": 4,
            "pct_menores_15": 2, "pct_mayores_65": 2, "pct_predios_residenciales": 2,
            **dict.fromkeys(USE_COLUMNS, 2), "superficie_usos_ha": 2,
            "indice_mixtura_usos": 4, "pct_superficie_riesgo_alto": 2,
            "poblacion_riesgo_alto": 1, "pct_poblacion_riesgo_alto": 2, "inversion_clp": 0,
            "inversion_por_habitante": 1, "indice_prioridad": 4}


def sector_diagnosis(conn_or_settings: Connectable, *, area: AreaInput | None = None,
                     version: int | None = None, fecha: date | datetime | str | None = None,
                     unit: str = "sector", geometria: bool = True) -> pd.DataFrame:
    """The situation of each planning sector (``unit="sector"``) or census zone
    (``unit="zona_censal"``) of ``area``, ranked by priority.

    Parameters
    ----------
    conn_or_settings : an open psycopg connection, or the settings to open one.
    area : None (whole comuna), a sector code or name, a census geocódigo, or a polygon;
        the units with at least half of their surface in it, or holding its point on
        surface, are diagnosed whole.
    version, fecha : the hazard zones (``hazard_zones``) by version, or in force on a date.
    unit : ``"sector"`` or ``"zona_censal"``.
    geometria : return a GeoDataFrame with each unit's polygon (EPSG:32719).

    Returns
    -------
    One row per unit, ordered by code:

    - ``codigo``, ``nombre``: la unidad; ``superficie_ha``: su superficie (ha).
    - ``poblacion``: población Censo 2017 (interpolada para los sectores).
    - ``pob_0_5``, ``pob_6_14``, ``pob_15_64``, ``pob_65_mas``: población por edad.
    - ``densidad_hab_ha``: habitantes por hectárea.
    - ``razon_dependencia``: (0–14 + 65 y más) / (15–64).
    - ``pct_menores_15``, ``pct_mayores_65``: % de la población de 0–14 y de 65 y más.
    - ``predios``, ``predios_residenciales``: predios (y de destino habitacional H) cuyo
      punto interior cae en la unidad; ``pct_predios_residenciales``: su %.
    - ``pct_uso_<uso>``: % de la superficie con uso levantado que tiene cada uso actual
      (``pct_uso_residencial``, ``pct_uso_comercio``, ``pct_uso_mixto``,
      ``pct_uso_industria``, ``pct_uso_portuario``, ``pct_uso_bodegaje_y_logistica``,
      ``pct_uso_equipamiento_educacion``, ``pct_uso_equipamiento_salud``,
      ``pct_uso_equipamiento_seguridad``, ``pct_uso_equipamiento_deporte``,
      ``pct_uso_equipamiento_culto_y_cultura``, ``pct_uso_equipamiento_servicios``,
      ``pct_uso_area_verde``, ``pct_uso_sitio_eriazo``, ``pct_uso_infraestructura``,
      ``pct_uso_agricola``, ``pct_uso_forestal``, ``pct_uso_humedal``).
    - ``superficie_usos_ha``: superficie con uso levantado (ha).
    - ``indice_mixtura_usos``: entropía de Shannon normalizada (0 a 1) de esos usos.
    - ``pct_superficie_riesgo_alto``: % de la superficie en amenaza de nivel alto.
    - ``poblacion_riesgo_alto``, ``pct_poblacion_riesgo_alto``: población (y su %) en
      amenaza de nivel alto.
    - ``proyectos``, ``inversion_clp``, ``inversion_por_habitante``: proyectos, inversión
      atribuida y por habitante (:func:`gis.investment.investment_by_territory`).
    - ``indice_prioridad`` (0 a 1): promedio de cuatro indicadores normalizados mín–máx
      entre las unidades con población (0 si todas iguales o sin dato): razón de
      dependencia, densidad, % de población en amenaza alta e inversión por habitante
      invertida (1 = la menor); vacío en las unidades sin población.
    - ``ranking``: 1 = mayor prioridad (índice descendente, empates por código); las
      unidades sin población van al final.
    """
    raw, chosen, hazards = _raw(conn_or_settings, area, version, fecha, unit, geometria)
    frame = _indicators(raw)
    frame = _ranked(frame)
    columns = list(TITLES)
    if geometria:
        out = gpd.GeoDataFrame(frame[columns], geometry=raw.geometry, crs=STORAGE_CRS)
    else:
        out = frame[columns]
    return describe(out, f"diagnostico_{unit}", chosen, hazards, unidad=unit)


def comuna_summary(conn_or_settings: Connectable, *, area: AreaInput | None = None,
                   version: int | None = None, fecha: date | datetime | str | None = None,
                   unit: str = "sector") -> pd.DataFrame:
    """One row summing the units of :func:`sector_diagnosis` (same parameters): totals
    of the counts and the areas, and every share and ratio recomputed from those totals
    (not averaged). Columns as in :func:`sector_diagnosis`, without ``indice_prioridad``
    and ``ranking``; ``codigo`` is ``comuna`` (or ``area``) and ``nombre`` says what was
    summed."""
    raw, chosen, hazards = _raw(conn_or_settings, area, version, fecha, unit, False)
    sums = raw.drop(columns=["codigo", "nombre"]).sum()
    sums["proyectos"] = raw.attrs["proyectos_distintos"]
    for age in ("pob_0_5", "pob_6_14", "pob_15_64", "pob_65_mas"):
        if raw[age].isna().any():
            sums[age] = math.nan
    total = pd.DataFrame([{
        "codigo": "comuna" if chosen.geometry is None else "area",
        "nombre": f"{len(raw)} unidades ({UNITS[unit]}) de {chosen.nombre}",
        **sums.to_dict()}])
    frame = _indicators(total).round({k: v for k, v in ROUNDING.items()
                                      if k in SUMMARY_COLUMNS})
    return describe(frame[SUMMARY_COLUMNS].copy(), f"resumen_{unit}", chosen, hazards,
                    unidad=unit, unidades=len(raw))


def _raw(source: Connectable, area: AreaInput | None, version: int | None,
         fecha: date | datetime | str | None, unit: str, geometria: bool
         ) -> tuple[pd.DataFrame, AnalysisArea, Any]:
    if unit not in UNITS:
        raise AnalysisInputError(f"Unidad de diagnóstico desconocida: «{str(unit)[:40]}».",
                                 hint="Use unit='sector' o unit='zona_censal'.")
    with session(source) as (conn, settings):
        chosen = resolve_area(conn, settings, area)
        hazards = layer_version(conn, "hazard_zones", version, fecha)
        investment = investment_by_territory(conn, unit)
        shares = project_shares(conn, unit)
        with analysis_transaction(conn):
            ensure_residential_weights(conn)
            params = {"unit": unit, "vertices": PIECE_VERTICES, "alto": "alto",
                      "residencial": "H", "area": chosen.wkb}
            run_script(conn, SQL["units"], params, hazards=hazards.table,
                       en_area=_in_area(chosen))
            query = sql.SQL(SQL["figures"]).format(
                geometry=geometry_column("u.geom", geometria))
            raw = fetch_frame(conn, query, params, RAW, geometry=geometria)
            uses = conn.execute(SQL["land_use"]).fetchall()
    use_area = pd.DataFrame(uses, columns=["codigo", "uso", "area"])
    use_area["area"] = use_area["area"].astype(float)
    pivot = use_area.pivot_table(index="codigo", columns="uso", values="area", aggfunc="sum")
    for column, use in USE_COLUMNS.items():
        values = pivot[use] if use in pivot.columns else pd.Series(dtype=float)
        raw[f"_m2_{column}"] = raw["codigo"].map(values).fillna(0.0).astype(float)
    money = investment.set_index("codigo")
    raw["proyectos"] = raw["codigo"].map(money["n_proyectos"]).fillna(0).astype("int64")
    # a project touching several units counts once in a sum over them
    raw.attrs["proyectos_distintos"] = int(
        shares.loc[shares["unidad"].isin(raw["codigo"]), "proyecto"].nunique())
    raw["inversion_clp"] = raw["codigo"].map(money["monto_clp"]).fillna(0.0).astype(float)
    return raw, chosen, hazards


def _in_area(area: AnalysisArea) -> sql.Composable:
    if area.geometry is None:
        return sql.SQL("true")
    return sql.SQL(
        "(ST_Area(ST_Intersection(u.geom, ST_GeomFromWKB(%(area)s, 32719))) "
        ">= 0.5 * ST_Area(u.geom) OR ST_Intersects(u.geom, "
        "ST_PointOnSurface(ST_GeomFromWKB(%(area)s, 32719))))")


def _share(part: pd.Series, whole: pd.Series) -> pd.Series:
    return 100.0 * part / whole.where(whole > 0)


def _indicators(raw: pd.DataFrame) -> pd.DataFrame:
    """The diagnosis' indicators from the raw sums (units, or their total)."""
    out = pd.DataFrame({"codigo": raw["codigo"], "nombre": raw["nombre"]}, index=raw.index)
    out["superficie_ha"] = raw["superficie_m2"] / 10_000
    for col in ("poblacion", "pob_0_5", "pob_6_14", "pob_15_64", "pob_65_mas"):
        out[col] = raw[col].astype(float)
    out["densidad_hab_ha"] = out["poblacion"] / out["superficie_ha"].where(
        out["superficie_ha"] > 0)
    young = out["pob_0_5"] + out["pob_6_14"]
    with_age = young + out["pob_15_64"] + out["pob_65_mas"]
    out["razon_dependencia"] = (young + out["pob_65_mas"]) / out["pob_15_64"].where(
        out["pob_15_64"] > 0)
    out["pct_menores_15"] = _share(young, with_age)
    out["pct_mayores_65"] = _share(out["pob_65_mas"], with_age)
    out["predios"] = raw["predios"].astype("int64")
    out["predios_residenciales"] = raw["predios_residenciales"].astype("int64")
    out["pct_predios_residenciales"] = _share(out["predios_residenciales"], out["predios"])
    surveyed = sum(raw[f"_m2_{c}"] for c in USE_COLUMNS)
    entropy = pd.Series(0.0, index=raw.index)
    for column in USE_COLUMNS:
        share = raw[f"_m2_{column}"] / surveyed.where(surveyed > 0)
        out[column] = 100.0 * share
        entropy -= (share * np.log(share.where(share > 0))).fillna(0.0)
    out["superficie_usos_ha"] = surveyed / 10_000
    out["indice_mixtura_usos"] = (entropy / math.log(len(USE_COLUMNS))).where(surveyed > 0)
    out["pct_superficie_riesgo_alto"] = _share(raw["superficie_riesgo_alto_m2"],
                                               raw["superficie_m2"]).clip(upper=100)
    out["poblacion_riesgo_alto"] = raw["poblacion_riesgo_alto"].astype(float)
    out["pct_poblacion_riesgo_alto"] = _share(out["poblacion_riesgo_alto"],
                                              out["poblacion"]).clip(upper=100)
    out["proyectos"] = raw["proyectos"].astype("int64")
    out["inversion_clp"] = raw["inversion_clp"].astype(float)
    out["inversion_por_habitante"] = out["inversion_clp"] / out["poblacion"].where(
        out["poblacion"] > 0)
    return out


def _ranked(out: pd.DataFrame) -> pd.DataFrame:
    lived = out[out["poblacion"] > 0]
    parts = [_minmax(lived["razon_dependencia"]), _minmax(lived["densidad_hab_ha"]),
             _minmax(lived["pct_poblacion_riesgo_alto"])]
    invested = lived["inversion_por_habitante"]
    parts.append((1.0 - _minmax(invested)).where(invested.notna(), 0.0))
    out["indice_prioridad"] = (sum(parts) / len(parts)).reindex(out.index).astype(float)
    out = out.round({k: v for k, v in ROUNDING.items() if k in out.columns})
    order = out.assign(_sin=~(out["poblacion"] > 0)).sort_values(
        ["_sin", "indice_prioridad", "codigo"], ascending=[True, False, True])
    out["ranking"] = pd.Series(range(1, len(out) + 1), index=order.index, dtype="int64")
    return out


def _minmax(values: pd.Series) -> pd.Series:
    low, high = values.min(), values.max()
    if not np.isfinite(high - low) or high == low:
        return pd.Series(0.0, index=values.index)
    return ((values - low) / (high - low)).fillna(0.0)


# --- maps --------------------------------------------------------------------------------

def _check_column(frame: pd.DataFrame, column: str) -> str:
    numeric = [c for c in TITLES if c in frame.columns and c not in ("codigo", "nombre")]
    if column not in numeric:
        raise AnalysisInputError(
            f"«{str(column)[:40]}» no es una columna del diagnóstico que se pueda mapear.",
            hint="Columnas: " + ", ".join(numeric) + ".")
    if not isinstance(frame, gpd.GeoDataFrame):
        raise AnalysisInputError("El diagnóstico no tiene geometrías para dibujar el mapa.",
                                 hint="Calcúlelo con geometria=True.")
    return TITLES[column]


def _label(value: Any) -> str:
    if value is None or pd.isna(value):
        return "sin dato"
    return display_value(round(float(value), 2))


def diagnosis_map(frame: gpd.GeoDataFrame, column: str = "indice_prioridad", *,
                  title: str | None = None, assets: AssetMode = "cdn",
                  vendor_url: str = "/vendor", settings: Settings | None = None
                  ) -> folium.Map:
    """A folium choropleth of ``column`` of :func:`sector_diagnosis`: quantile classes, a
    Spanish legend, the unit and value as tooltip and every indicator in its popup.
    ``assets``, ``vendor_url``, ``settings``: as in :func:`gis.maps.new_map`."""
    legend_title = _check_column(frame, column)
    data = frame.to_crs(4326)
    classes = choropleth_classes(data[column], column)
    for item in classes:
        item["etiqueta"] = f"{_label(item['desde'])} – {_label(item['hasta'])}"
    features = []
    for row, geom in zip(pd.DataFrame(data.drop(columns="geometry")).to_dict("records"),
                         data.geometry, strict=True):
        features.append({"type": "Feature", "geometry": geom.__geo_interface__, "properties": {
            "_c": class_colour(row.get(column), classes),
            "_tooltip": html.escape(f"{row['nombre']}: {_label(row.get(column))}"),
            "_popup": _popup(row)}})
    m = new_map(title=title or legend_title, assets=assets, vendor_url=vendor_url,
                settings=settings)
    folium.GeoJson(
        {"type": "FeatureCollection", "features": features}, name=legend_title,
        style_function=lambda f: {"fillColor": f["properties"]["_c"], "color": "#37474f",
                                  "weight": 1, "fillOpacity": 0.75},
        highlight_function=lambda f: {"weight": 3, "fillOpacity": 0.9},
        on_each_feature=BIND_POPUPS).add_to(m)
    rows = [(c["etiqueta"], c["color"]) for c in classes] + [("Sin dato", NO_DATA)]
    m.add_child(MapLegend(f"<h4>{html.escape(legend_title)}</h4><ul>" + "".join(
        f'<li><span class="secplac-swatch" style="background:{colour};border-color:#37474f">'
        f"</span><span>{html.escape(label)}</span></li>" for label, colour in rows)
        + '</ul><div class="note">Clases por cuantiles</div>'))
    west, south, east, north = (float(v) for v in data.total_bounds)
    if all(map(math.isfinite, (west, south, east, north))):
        fit_to(m, (west, south, east, north))
    return m


def _popup(row: dict[str, Any]) -> str:
    cells = "".join(f"<tr><th>{html.escape(TITLES[c])}</th>"
                    f"<td>{html.escape(_label(row.get(c)))}</td></tr>"
                    for c in TITLES if c not in ("codigo", "nombre") and c in row
                    and not (c.startswith("pct_uso_") and not row.get(c)))
    return (f'<div class="secplac-popup"><h4>{html.escape(str(row["nombre"]))}</h4>'
            f'<p class="layer">{html.escape(str(row["codigo"]))}</p>'
            f"<table>{cells}</table></div>")


def diagnosis_figure(frame: gpd.GeoDataFrame, column: str = "indice_prioridad", *,
                     title: str | None = None) -> Figure:
    """A static matplotlib choropleth of ``column`` of :func:`sector_diagnosis` (units
    labelled by name, units without data hatched, a colour bar with the Spanish title);
    save it with ``.savefig("mapa.png")``."""
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize
    from matplotlib.patches import Patch

    from gis.reports.staticmaps import north_arrow, scale_bar

    legend_title = _check_column(frame, column)
    data = frame.to_crs(STORAGE_CRS)
    values = data[column].astype("float64")
    known = values.notna()
    low = float(values[known].min()) if known.any() else 0.0
    high = float(values[known].max()) if known.any() else 1.0
    norm = Normalize(vmin=low, vmax=high if high > low else low + 1.0)
    fig = Figure(figsize=(7.4, 6.0))
    ax = fig.add_subplot()
    if known.any():
        data[known].plot(ax=ax, column=column, cmap="YlOrRd", norm=norm,
                         edgecolor="#37474f", linewidth=0.6)
    if (~known).any():
        data[~known].plot(ax=ax, facecolor="#eeeeee", edgecolor="#37474f", hatch="///",
                          linewidth=0.6)
        ax.legend(handles=[Patch(facecolor="#eeeeee", edgecolor="#37474f", hatch="///",
                                 label="Sin dato")], loc="lower right", fontsize=7)
    for name, point in zip(data["nombre"], data.geometry.representative_point(), strict=True):
        if point is not None and not point.is_empty:
            ax.annotate(str(name).replace("$", r"\$"), (point.x, point.y), ha="center",
                        va="center", fontsize=6.5)
    ax.set_title(title or legend_title, fontsize=11)
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    scale_bar(ax, (x0, y0, x1, y1))
    north_arrow(ax)
    bar = fig.colorbar(ScalarMappable(norm=norm, cmap="YlOrRd"), ax=ax, shrink=0.7)
    bar.set_label(legend_title, fontsize=8)
    return fig


__all__ = ["TITLES", "USE_COLUMNS", "comuna_summary", "diagnosis_figure", "diagnosis_map",
           "sector_diagnosis"]

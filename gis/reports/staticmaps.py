"""Static map images for the printed reports, drawn on this machine by matplotlib (no
base map, nothing fetched): a project over the PRC zones, parcels, hazard zones and port
routes around it, and the comuna's planning sectors (investment per inhabitant, projects
by sector). Drawn in the storage CRS (UTM 19S, metres) so that the scale bar is exact;
returned as PNG bytes to embed as data URIs.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import psycopg
import shapely
from matplotlib.axes import Axes
from matplotlib.colors import Normalize, to_hex, to_rgb
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.patheffects import withStroke
from matplotlib.ticker import FuncFormatter, MaxNLocator

from gis.portfolio.store import ProjectNotFoundError
from gis.reports.render import SQL, money
from layers import get_layer
from layers.base import STORAGE_SRID, VectorLayer
from layers.codes import HAZARD_LEVELS
from layers.projects import PROJECT_SECTORS

MAP_RADIUS_M = 1000.0
"""Context drawn around a project (also the outer population-served radius)."""
MAX_MAP_PARCELS = 8000
"""Parcels drawn at most on a project map (a long road crosses many)."""
PARCELS_MAX_WINDOW_KM2 = 25.0
"""Above this window area parcels are not drawn: they would be a grey smear."""
DPI = 150
PROJECT_COLOR = "#d01c8b"
SECTOR_COLORS = dict(zip(PROJECT_SECTORS, (
    "#1f77b4", "#2ca02c", "#d62728", "#ff7f0e", "#9467bd", "#8c564b", "#17becf",
    "#e377c2", "#bcbd22", "#7f7f7f", "#393b79"), strict=True))
"""Colour of each project sector on the maps of the Concejo report."""
HALO = [withStroke(linewidth=2.5, foreground="white")]


def _style_colors(layer_name: str) -> tuple[dict[str, str], str]:
    layer = get_layer(layer_name)
    assert isinstance(layer, VectorLayer)
    return {c.value: c.color for c in layer.style.categories}, layer.style.color


def _edge(color: str) -> str:
    """A pale colour darkened enough to be seen as a line or hatch on white."""
    r, g, b = to_rgb(color)
    if 0.299 * r + 0.587 * g + 0.114 * b < 0.75:
        return color
    return to_hex((r * 0.7, g * 0.7, b * 0.45))


def _text(value: Any) -> str:
    """Database text for matplotlib: ``$`` would start mathematical notation."""
    return str(value).replace("$", r"\$")


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, facecolor="white",
                metadata={"Software": None})
    return buffer.getvalue()


def _frame(conn: psycopg.Connection, name: str, params: dict[str, Any],
           columns: Sequence[str]) -> gpd.GeoDataFrame:
    rows = conn.execute(SQL[name], params).fetchall()  # type: ignore[arg-type]
    records = [dict(zip(columns, r[:-1], strict=True)) for r in rows]
    geoms = [shapely.from_wkb(bytes(r[-1])) for r in rows]
    return gpd.GeoDataFrame(records, columns=list(columns), geometry=geoms,
                            crs=STORAGE_SRID)


def _window(bounds: tuple[float, float, float, float], margin: float, aspect: float
            ) -> tuple[float, float, float, float]:
    """``bounds`` grown by ``margin`` and widened to ``aspect`` (width / height)."""
    x0, y0, x1, y1 = bounds[0] - margin, bounds[1] - margin, bounds[2] + margin, \
        bounds[3] + margin
    width, height = x1 - x0, y1 - y0
    if width / height < aspect:
        extra = (height * aspect - width) / 2
        x0, x1 = x0 - extra, x1 + extra
    else:
        extra = (width / aspect - height) / 2
        y0, y1 = y0 - extra, y1 + extra
    return x0, y0, x1, y1


def nice_length(span: float) -> float:
    """A round scale-bar length near a quarter of ``span`` (metres)."""
    target = span / 4
    magnitude = 10 ** np.floor(np.log10(target))
    for step in (5, 2.5, 2, 1):
        if step * magnitude <= target:
            return float(step * magnitude)
    return float(magnitude)


def scale_bar(ax: Axes, window: tuple[float, float, float, float]) -> None:
    """A two-segment black and white scale bar in the lower left corner."""
    x0, y0, x1, y1 = window
    length = nice_length(x1 - x0)
    height = (y1 - y0) * 0.012
    left, bottom = x0 + (x1 - x0) * 0.04, y0 + (y1 - y0) * 0.05
    ax.add_patch(Rectangle((left - (x1 - x0) * 0.02, bottom - height * 2),
                           length + (x1 - x0) * 0.08, height * 6, facecolor="white",
                           edgecolor="none", alpha=0.85, zorder=20))
    for i in range(2):
        ax.add_patch(Rectangle((left + i * length / 2, bottom), length / 2, height,
                               facecolor="black" if i == 0 else "white", edgecolor="black",
                               linewidth=0.8, zorder=21))
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    for x, text in ((left, "0"), (left + length, label.replace(".", ","))):
        ax.text(x, bottom + height * 1.6, text, ha="center", va="bottom", fontsize=7,
                zorder=22)


def north_arrow(ax: Axes) -> None:
    """An arrow pointing up with an N (grid north of UTM 19S; off true north by well
    under a degree in the comuna)."""
    ax.annotate("N", xy=(0.95, 0.95), xytext=(0.95, 0.84), xycoords="axes fraction",
                ha="center", va="center", fontsize=11, fontweight="bold", zorder=22,
                arrowprops={"arrowstyle": "-|>", "facecolor": "black", "linewidth": 1.5},
                path_effects=HALO)


def _finish(ax: Axes, window: tuple[float, float, float, float]) -> None:
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_xlim(window[0], window[2])
    ax.set_ylim(window[1], window[3])
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_linewidth(0.6)
    scale_bar(ax, window)
    north_arrow(ax)


# --- a project and its surroundings --------------------------------------------------------

def project_map_png(conn: psycopg.Connection, codigo: str, *,
                    radius_m: float = MAP_RADIUS_M) -> bytes:
    """PNG map of project ``codigo`` within ``radius_m`` around it: PRC zones coloured by
    family and labelled, hazard zones by level, cadastre parcels, port routes, other
    projects, the 500 m and 1 km rings, a scale bar and a north arrow."""
    row = conn.execute(SQL["map_project"], {"codigo": codigo}).fetchone()
    if row is None:
        raise ProjectNotFoundError(codigo)
    project = shapely.from_wkb(bytes(row[0]))
    fig = Figure(figsize=(7.4, 5.0))
    ax = fig.add_axes((0.005, 0.01, 0.70, 0.98))
    window = _window(project.bounds, radius_m, (0.70 * 7.4) / (0.98 * 5.0))
    x0, y0, x1, y1 = window
    params = {"x0": x0, "y0": y0, "x1": x1, "y1": y1, "codigo": codigo,
              "levels": list(HAZARD_LEVELS), "max_parcels": MAX_MAP_PARCELS}
    handles: list[Any] = []

    zoning = _frame(conn, "map_zoning", params, ["codigo", "familia"])
    colors, default = _style_colors("zoning")
    if not zoning.empty:
        zoning.plot(ax=ax, color=[colors.get(f, default) for f in zoning["familia"]],
                    alpha=0.45, edgecolor="#6d4c41", linewidth=0.7, zorder=1)
        for family in dict.fromkeys(zoning["familia"]):
            handles.append(Patch(facecolor=colors.get(family, default), alpha=0.45,
                                 edgecolor="#6d4c41",
                                 label=_text(f"Zona PRC: {family or 'sin familia'}")))
        _label_zones(ax, zoning, (x1 - x0) * (y1 - y0))

    hazards = _frame(conn, "map_hazards", params, ["tipo", "nivel"])
    colors, default = _style_colors("hazard_zones")
    if not hazards.empty:
        hazards.plot(ax=ax, facecolor="none", edgecolor=[_edge(colors.get(n, default))
                                                         for n in hazards["nivel"]],
                     hatch="////", hatch_linewidth=0.6, linewidth=0.9, zorder=3)
        for level in HAZARD_LEVELS:
            if level in set(hazards["nivel"]):
                handles.append(Patch(facecolor="none",
                                     edgecolor=_edge(colors.get(level, default)),
                                     hatch="////", hatch_linewidth=0.6,
                                     label=f"Zona de riesgo {level}"))

    if (x1 - x0) * (y1 - y0) / 1e6 <= PARCELS_MAX_WINDOW_KM2:
        parcels = _frame(conn, "map_parcels", params, ["rol"])
        if not parcels.empty:
            parcels.plot(ax=ax, facecolor="none", edgecolor="#8d6e63", linewidth=0.2,
                         zorder=2)
            handles.append(Patch(facecolor="none", edgecolor="#8d6e63", linewidth=0.5,
                                 label="Predios (catastro SII)"))

    routes = _frame(conn, "map_routes", params, ["nombre", "categoria"])
    colors, default = _style_colors("port_routes")
    if not routes.empty:
        routes.plot(ax=ax, color=[colors.get(c, default) for c in routes["categoria"]],
                    linewidth=2.2, zorder=4)
        for category in dict.fromkeys(routes["categoria"]):
            handles.append(Line2D([], [], color=colors.get(category, default), linewidth=2.2,
                                  label=_text(f"Ruta: {category}")))

    others = _frame(conn, "map_other_projects", params, ["codigo", "sector"])
    if not others.empty:
        others.plot(ax=ax, color="#424242", markersize=14, marker="o", zorder=5)
        handles.append(Line2D([], [], color="#424242", marker="o", linestyle="none",
                              markersize=4, label="Otros proyectos"))

    rings: tuple[tuple[int, Literal[":", "--"]], ...] = ((500, ":"), (1000, "--"))
    for radius, style in rings:
        ring = gpd.GeoSeries([project.buffer(radius).boundary], crs=STORAGE_SRID)
        ring.plot(ax=ax, color="#37474f", linewidth=0.9, linestyle=style, zorder=6)
        handles.append(Line2D([], [], color="#37474f", linestyle=style, linewidth=0.9,
                              label=f"A {radius:,} m del proyecto".replace(",", ".")))
    _draw_project(ax, project)
    handles.insert(0, Patch(facecolor=PROJECT_COLOR, edgecolor="black", alpha=0.8,
                            label="Proyecto"))
    _finish(ax, window)
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.715, 0.99),
               fontsize=6.5, frameon=False, handlelength=1.8, borderaxespad=0.2)
    return _png(fig)


def _label_zones(ax: Axes, zoning: gpd.GeoDataFrame, window_area: float) -> None:
    pieces = zoning[~zoning.geometry.is_empty].copy()
    pieces["area"] = pieces.geometry.area
    for _, zone in pieces.sort_values("area", ascending=False).head(25).iterrows():
        if zone["area"] < window_area * 0.01:
            break
        point = zone.geometry.representative_point()
        ax.text(point.x, point.y, _text(zone["codigo"]), fontsize=7, ha="center",
                va="center", color="#3e2723", path_effects=HALO, zorder=7)


def _draw_project(ax: Axes, project: shapely.Geometry) -> None:
    shape = gpd.GeoSeries([project], crs=STORAGE_SRID)
    dimension = shapely.get_dimensions(project)
    if dimension == 2:
        shape.plot(ax=ax, facecolor=PROJECT_COLOR, alpha=0.55, edgecolor="black",
                   linewidth=1.8, zorder=8)
    elif dimension == 1:
        shape.plot(ax=ax, color="white", linewidth=6, zorder=8)
        shape.plot(ax=ax, color=PROJECT_COLOR, linewidth=3.5, zorder=9)
    else:
        shape.plot(ax=ax, color=PROJECT_COLOR, markersize=180, marker="*",
                   edgecolor="black", linewidth=0.8, zorder=9)


# --- the comuna by planning sector ---------------------------------------------------------

FOCUS_SHARE = 0.4
"""When the populated sectors cover less than this share of the comuna's extent, the map
shows them enlarged with the whole comuna in a small overview beside them."""


def _sector_panels(fig: Figure, sectors: gpd.GeoDataFrame
                   ) -> tuple[Axes, tuple[float, float, float, float], Axes | None]:
    """The main map axes and window (the populated, urban sectors when they are a small
    part of the comuna) and the overview axes of the whole comuna (or ``None``)."""
    full = tuple(sectors.total_bounds)
    populated = sectors[sectors["poblacion"].fillna(0) > 0] if "poblacion" in sectors \
        else sectors.iloc[0:0]
    focus = tuple(populated.total_bounds) if not populated.empty else full
    share = ((focus[2] - focus[0]) * (focus[3] - focus[1])) / max(
        (full[2] - full[0]) * (full[3] - full[1]), 1.0)
    if share >= FOCUS_SHARE:
        ax = fig.add_axes((0.005, 0.01, 0.66, 0.98))
        return ax, _window(full, 300.0, (0.66 * 7.4) / (0.98 * 5.8)), None
    ax = fig.add_axes((0.005, 0.01, 0.50, 0.955))
    window = _window(focus, 300.0, (0.50 * 7.4) / (0.955 * 5.8))
    overview = fig.add_axes((0.53, 0.465, 0.46, 0.50))
    whole = _window(full, 300.0, (0.46 * 7.4) / (0.50 * 5.8))
    overview.set_xlim(whole[0], whole[2])
    overview.set_ylim(whole[1], whole[3])
    overview.set_aspect("equal")
    overview.set_xticks([])
    overview.set_yticks([])
    overview.set_title("Comuna completa", fontsize=7.5, pad=2)
    overview.add_patch(Rectangle((window[0], window[1]), window[2] - window[0],
                                 window[3] - window[1], facecolor="none",
                                 edgecolor="#c62828", linewidth=1.0, zorder=10))
    ax.set_title("Área urbana", fontsize=7.5, pad=2)
    return ax, window, overview


def investment_choropleth_png(sectors: gpd.GeoDataFrame,
                              column: str = "monto_por_habitante") -> bytes:
    """PNG choropleth of ``column`` (CLP per inhabitant) by planning sector, sectors
    without population hatched, each labelled with its name; the urban sectors enlarged
    beside an overview of the comuna when they are a small part of it."""
    from matplotlib.cm import ScalarMappable

    data = sectors.to_crs(STORAGE_SRID)
    values = data[column].astype("float64")
    known = values.notna()
    top = float(values[known].max()) if known.any() else 0.0
    norm = Normalize(vmin=0, vmax=top if top > 0 else 1.0)
    cmap = "YlGn"
    fig = Figure(figsize=(7.4, 5.8))
    ax, window, overview = _sector_panels(fig, data)
    for target in (ax, overview):
        if target is None:
            continue
        if known.any():
            data[known].plot(ax=target, column=column, cmap=cmap, norm=norm,
                             edgecolor="#37474f", linewidth=0.6, zorder=1)
        if (~known).any():
            data[~known].plot(ax=target, facecolor="#eeeeee", edgecolor="#37474f",
                              hatch="///", linewidth=0.6, zorder=1)
    _label_sectors(ax, data, window)
    if overview is not None:
        overview.set(xlabel="", ylabel="")  # geopandas names the CRS axes
        _label_sectors(overview, data, overview_outside=window)
    _finish(ax, window)
    legend_box = (0.56, 0.30, 0.40, 0.03) if overview is not None else (0.72, 0.25, 0.03,
                                                                        0.6)
    cax = fig.add_axes(legend_box)
    bar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), cax=cax,
                       orientation="horizontal" if overview is not None else "vertical",
                       format=FuncFormatter(lambda v, _: money(v)))
    bar.ax.tick_params(labelsize=6.5)
    if overview is not None:
        bar.ax.xaxis.set_major_locator(MaxNLocator(4))
    bar.set_label("Inversión por habitante (CLP)", fontsize=7.5)
    if (~known).any():
        fig.legend(handles=[Patch(facecolor="#eeeeee", edgecolor="#37474f", hatch="///",
                                  label="Sin población censada")],
                   loc="upper left", bbox_to_anchor=(0.55, 0.2), fontsize=7, frameon=False)
    return _png(fig)


def projects_by_sector_png(sectors: gpd.GeoDataFrame, points: gpd.GeoDataFrame) -> bytes:
    """PNG map of the projects (``points``: column ``sector``, one point each) coloured by
    their sector, over the planning sectors' outlines (urban sectors enlarged as in
    :func:`investment_choropleth_png`)."""
    data = sectors.to_crs(STORAGE_SRID)
    fig = Figure(figsize=(7.4, 5.8))
    ax, window, overview = _sector_panels(fig, data)
    shown = points.to_crs(STORAGE_SRID)
    counts = shown["sector"].value_counts()
    order = [s for s in PROJECT_SECTORS if s in counts] + \
        [s for s in counts.index if s not in PROJECT_SECTORS]
    handles: list[Any] = []
    for target, size in ((ax, 18), (overview, 7)):
        if target is None:
            continue
        data.plot(ax=target, facecolor="#f5f5f5", edgecolor="#607d8b", linewidth=0.7,
                  zorder=1)
        for sector in order:
            shown[shown["sector"] == sector].plot(
                ax=target, color=SECTOR_COLORS.get(sector, "#000000"), markersize=size,
                edgecolor="white", linewidth=0.3, zorder=3)
    for sector in order:
        handles.append(Line2D([], [], color=SECTOR_COLORS.get(sector, "#000000"),
                              marker="o", linestyle="none", markersize=5,
                              label=_text(f"{sector} ({counts[sector]})")))
    _label_sectors(ax, data, window, color="#546e7a")
    if overview is not None:
        overview.set(xlabel="", ylabel="")  # geopandas names the CRS axes
        _label_sectors(overview, data, overview_outside=window, color="#546e7a")
    _finish(ax, window)
    anchor = (0.53, 0.45) if overview is not None else (0.68, 0.99)
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=anchor, fontsize=6.8,
               frameon=False, title="Sector del proyecto (n.º)", title_fontsize=7,
               ncols=2 if overview is not None else 1, columnspacing=0.8,
               alignment="left")
    return _png(fig)


def _label_sectors(ax: Axes, sectors: gpd.GeoDataFrame,
                   window: tuple[float, float, float, float] | None = None, *,
                   overview_outside: tuple[float, float, float, float] | None = None,
                   color: str = "#263238") -> None:
    """Sector names at a point inside each sector: those inside ``window``, or in an
    overview those outside ``overview_outside`` (the enlarged window)."""
    for _, sector in sectors.iterrows():
        if sector.geometry is None or sector.geometry.is_empty:
            continue
        point = sector.geometry.representative_point()
        if window is not None and not _inside(point, window):
            continue
        if overview_outside is not None and _inside(point, overview_outside):
            continue
        ax.text(point.x, point.y, _text(sector.get("nombre") or sector.get("codigo")),
                fontsize=6.5, ha="center", va="center", color=color, path_effects=HALO,
                zorder=6, clip_on=True)


def _inside(point: shapely.Point, window: tuple[float, float, float, float]) -> bool:
    return window[0] <= point.x <= window[2] and window[1] <= point.y <= window[3]

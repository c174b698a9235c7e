"""MapLibre styles and Spanish legends generated from the layer declarations.

One style for the whole map (every layer, drawing order by geometry, dense and thematic
layers hidden until the planner switches them on) and one per layer. Legends are part of
each style's ``metadata`` so that the web map and any other client read the same facts.
"""

from __future__ import annotations

from typing import Any

from layers import raster_layers, vector_layers
from layers.base import GeometryKind, RasterLayer, Style, Theme, VectorLayer

VISIBLE_AT_START = ("comunas", "urban_limit", "zoning", "port_routes", "port_terminals",
                    "projects")
"""Layers shown when the map opens: the offline base (comunas, urban limit) and the
layers planners look at first."""

DRAWING_ORDER = ("comunas", "census_zones", "planning_sectors", "land_use", "zoning",
                 "hazard_zones", "port_terminals", "parcels", "urban_limit", "port_routes",
                 "projects")


def color_expression(style: Style) -> Any:
    """A MapLibre expression picking each feature's colour from the declared categories."""
    if style.by is None or not style.categories:
        return style.color
    expr: list[Any] = ["match", ["to-string", ["get", style.by]]]
    for c in style.categories:
        expr += [c.value, c.color]
    expr.append(style.color)
    return expr


def legend(layer: VectorLayer | RasterLayer) -> dict[str, Any]:
    """The Spanish legend of a layer: its title and one entry per colour."""
    if isinstance(layer, RasterLayer):
        return {"titulo": f"{layer.title} ({layer.unit})", "tipo": "rampa",
                "entradas": [{"etiqueta": f"{s.value:g} {layer.unit}", "color": s.color}
                             for s in layer.ramp]}
    style = layer.style
    kind = ("punto" if layer.geometry in (GeometryKind.POINT, GeometryKind.MULTIPOINT) else
            "linea" if layer.geometry is GeometryKind.MULTILINESTRING else "area")
    entries = [{"etiqueta": c.label, "color": c.color} for c in style.categories]
    if not entries or style.by is None:
        entries = [{"etiqueta": layer.title, "color": style.outline or style.color}]
    field_title = layer.field(style.by).title if style.by else None
    return {"titulo": layer.title, "campo": field_title, "tipo": kind, "entradas": entries}


def _is(kind: str) -> list[Any]:
    """A filter for single and multi geometries of ``kind`` (MapLibre reports both)."""
    return ["in", ["geometry-type"], ["literal", [kind, f"Multi{kind}"]]]


def style_layers(layer: VectorLayer, source: str, source_layer: str,
                 visible: bool = True) -> list[dict[str, Any]]:
    """The MapLibre layers that draw ``layer`` from a vector source."""
    style = layer.style
    color = color_expression(style)
    meta = {"secplac:capa": layer.name, "secplac:tema": layer.theme.value,
            "secplac:etiqueta": style.label}
    common: dict[str, Any] = {
        "source": source, "source-layer": source_layer, "minzoom": style.min_zoom,
        "metadata": meta, "layout": {"visibility": "visible" if visible else "none"}}
    out: list[dict[str, Any]] = []
    kind = layer.geometry
    polygons = kind in (GeometryKind.MULTIPOLYGON, GeometryKind.ANY)
    lines = kind in (GeometryKind.MULTILINESTRING, GeometryKind.ANY)
    points = kind in (GeometryKind.POINT, GeometryKind.MULTIPOINT, GeometryKind.ANY)
    if polygons:
        out.append({**common, "id": f"{layer.name}-relleno", "type": "fill",
                    "filter": _is("Polygon"),
                    "paint": {"fill-color": color, "fill-opacity": style.fill_opacity}})
        out.append({**common, "id": f"{layer.name}-borde", "type": "line",
                    "filter": _is("Polygon"),
                    "paint": {"line-color": style.outline or color,
                              "line-width": style.line_width,
                              **({"line-dasharray": [3, 2]} if style.dashed else {})}})
    if lines:
        out.append({**common, "id": f"{layer.name}-linea", "type": "line",
                    "filter": _is("LineString"),
                    "layout": {**common["layout"], "line-cap": "round", "line-join": "round"},
                    "paint": {"line-color": color, "line-width": style.line_width,
                              **({"line-dasharray": [3, 2]} if style.dashed else {})}})
    if points:
        out.append({**common, "id": f"{layer.name}-punto", "type": "circle",
                    "filter": _is("Point"),
                    "paint": {"circle-color": color, "circle-radius": 6,
                              "circle-stroke-color": style.outline or "#ffffff",
                              "circle-stroke-width": 1.5}})
    return out


def _ordered_layers() -> list[VectorLayer]:
    by_name = {lyr.name: lyr for lyr in vector_layers()}
    ordered = [by_name[n] for n in DRAWING_ORDER if n in by_name]
    return ordered + [lyr for lyr in by_name.values() if lyr not in ordered]


def map_style(base: str, *, online_base_map: str | None = None) -> dict[str, Any]:
    """The MapLibre style of the whole map, reading the multi-layer tileset at ``base``."""
    sources: dict[str, Any] = {
        "secplac": {"type": "vector", "url": f"{base}/tiles/WebMercatorQuad/tilejson.json",
                    "attribution": "SECPLAC San Antonio; INE Censo 2017"}}
    layers: list[dict[str, Any]] = [{"id": "fondo", "type": "background",
                                     "paint": {"background-color": "#eef2f3"}}]
    if online_base_map:
        sources["mapa-base"] = {"type": "raster", "tiles": [online_base_map],
                                "tileSize": 256}
        layers.append({"id": "mapa-base", "type": "raster", "source": "mapa-base",
                       "metadata": {"secplac:capa": "mapa-base"}})
    for raster in raster_layers():
        sources[f"raster-{raster.name}"] = {
            "type": "raster", "tileSize": 256,
            "url": f"{base}/rasters/{raster.name}/tilejson.json"}
    for layer in _ordered_layers():
        if layer.name == "hazard_zones":
            for raster in raster_layers():
                layers.append({"id": f"raster-{raster.name}", "type": "raster",
                               "source": f"raster-{raster.name}",
                               "layout": {"visibility": "none"},
                               "paint": {"raster-opacity": 0.7},
                               "metadata": {"secplac:capa": raster.name,
                                            "secplac:tema": raster.theme.value}})
        layers += style_layers(layer, "secplac", layer.name,
                               visible=layer.name in VISIBLE_AT_START)
    return {
        "version": 8, "name": "Mapa territorial de San Antonio",
        "metadata": {"secplac:leyendas": {lyr.name: legend(lyr) for lyr in _all_layers()},
                     "secplac:temas": _themes()},
        "center": [-71.60, -33.59], "zoom": 12, "sources": sources, "layers": layers,
    }


def layer_style(layer: VectorLayer, base: str) -> dict[str, Any]:
    """The MapLibre style of one layer, reading that layer's own tileset."""
    url = f"{base}/collections/{layer.name}/tiles/WebMercatorQuad/tilejson.json"
    return {
        "version": 8, "name": layer.title,
        "metadata": {"secplac:leyendas": {layer.name: legend(layer)}},
        "center": [-71.60, -33.59], "zoom": max(12, layer.style.min_zoom),
        "sources": {layer.name: {"type": "vector", "url": url}},
        "layers": [{"id": "fondo", "type": "background",
                    "paint": {"background-color": "#eef2f3"}},
                   *style_layers(layer, layer.name, layer.name)],
    }


def _all_layers() -> list[VectorLayer | RasterLayer]:
    return [*vector_layers(), *raster_layers()]


def _themes() -> dict[str, list[str]]:
    """Theme → layer names, themes in the order of :class:`Theme` (the switcher's)."""
    themes: dict[str, list[str]] = {t.value: [] for t in Theme}
    every: list[VectorLayer | RasterLayer] = [*_ordered_layers(), *raster_layers()]
    for lyr in every:
        themes[lyr.theme.value].append(lyr.name)
    return {theme: names for theme, names in themes.items() if names}

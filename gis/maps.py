"""folium maps of the platform's layers, styled like the web map, for notebooks and reports.

Every map is drawn from the layer declarations in ``layers/``: colours by category of
``style.by``, outline, opacity and line width from the layer's :class:`~layers.base.Style`,
a Spanish legend, and popups listing the fields by their Spanish title and unit. Values are
HTML-escaped: attributes come from municipal files and may hold anything.

Maps have no online base map unless asked (``tiles=``): the comunas outline serves as base.
Where the page loads Leaflet from is chosen with ``assets``:

- ``"cdn"`` (default): folium's usual CDN links, for a notebook with internet access;
- ``"local"``: the platform's own copies under ``vendor_url`` (``/vendor/<package>/...``),
  what the API serves; the page loads nothing from the internet;
- ``"inline"``: Leaflet and jQuery embedded in the HTML, a self-contained file for reports
  and offline notebooks (Bootstrap, Font Awesome and awesome markers are left out: nothing
  drawn here uses them).

Examples
--------
>>> from gis.maps import layer_map
>>> m = layer_map("zoning", where={"familia": "residencial"})        # doctest: +SKIP
>>> m.save("zonas_residenciales.html")                              # doctest: +SKIP
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import math
import numbers
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import CssLink, Element, Figure, JavascriptLink, MacroElement
from folium.elements import JSCSSMixin
from folium.template import Template
from folium.utilities import JsCode

from gis.errors import NotFoundError, PlatformError
from gis.reading import read_layer
from gis.settings import Settings
from gis.vendor import VendorFile
from layers import get_layer
from layers.base import Field, FieldType, GeometryKind, Style, VectorLayer

AssetMode = Literal["cdn", "local", "inline"]
Bounds = tuple[float, float, float, float]

MAX_FEATURES = 3_000
"""Most features a map holds by default: about 1.5 kB of HTML each (a parcel with its popup),
so a map stays under about 5 MB."""

WGS84 = "EPSG:4326"
BASE_LAYERS: tuple[str, ...] = ("comunas",)
DEFAULT_STYLE = Style(color="#3388ff", outline="#1f4e99")
POINT_RADIUS = 6
MISSING = "—"


class ExternalAssetError(PlatformError):
    """A map element needs a file the platform does not serve (assets must stay offline)."""

    http_status = 500


class MapTooLargeError(PlatformError):
    """The map would hold too many features for one HTML page."""


class UnknownProjectError(NotFoundError):
    def __init__(self, code: str) -> None:
        super().__init__(f"El proyecto «{code}» no existe en la cartera de inversión.",
                         hint="Revise el código BIP (p. ej. 30123456-7) o municipal "
                         "(p. ej. MUN-2024-012).")
        self.code = code


# ---------------------------------------------------------------------------------------
# Assets


VENDOR_FILES: dict[str, VendorFile | None] = {
    "leaflet": VendorFile("leaflet", "leaflet.js"),
    "leaflet_css": VendorFile("leaflet", "leaflet.css"),
    "jquery": VendorFile("jquery", "jquery.min.js"),
    "bootstrap": VendorFile("bootstrap", "js/bootstrap.bundle.min.js"),
    "bootstrap_css": VendorFile("bootstrap", "css/bootstrap.min.css"),
    "awesome_markers": VendorFile("awesome-markers", "leaflet.awesome-markers.min.js"),
    "awesome_markers_css": VendorFile("awesome-markers", "leaflet.awesome-markers.css"),
    "awesome_markers_font_css": VendorFile("fontawesome", "css/all.min.css"),
    # Bootstrap 3 icon font: not an npm dependency; the markers use Font Awesome instead.
    "glyphicons_css": None,
    # folium's rule to rotate awesome-marker icons, hosted on GitHub; not used here.
    "awesome_rotate_css": None,
}
"""folium's resource names → the platform's copy; None: left out of the page."""

INLINED = ("leaflet", "jquery", "leaflet_css")
"""Resources embedded by ``assets="inline"``; the others are left out."""


class PlatformMap(folium.Map):
    """A folium map whose JS/CSS links are settled when rendered, per ``assets``.

    Links are rewritten at render time so that layers and plugins added after the map was
    built are covered too; a link the platform cannot serve raises
    :class:`ExternalAssetError` instead of silently loading from the internet.
    """

    def __init__(self, *, assets: AssetMode = "cdn", vendor_url: str = "/vendor",
                 node_modules: Path | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if assets not in ("cdn", "local", "inline"):
            raise PlatformError(f"Modo de recursos desconocido: «{assets}».",
                                hint="Use 'cdn', 'local' o 'inline'.")
        self.assets = assets
        self.vendor_url = vendor_url.rstrip("/")
        self.node_modules = node_modules

    def render(self, **kwargs: Any) -> Any:
        figure = self.get_root()
        assert isinstance(figure, Figure)
        if self.assets != "cdn":
            for element in _tree(self):
                if isinstance(element, JSCSSMixin):
                    element.default_js = self._settle(element, element.default_js)
                    element.default_css = self._settle(element, element.default_css)
            if self.assets == "inline":
                self._embed(figure)
        out = super().render(**kwargs)
        if self.assets != "cdn":
            self._check_header(figure)
        return out

    def _settle(self, element: Element, links: list[tuple[str, str]]) -> list[tuple[str, str]]:
        settled = []
        for name, url in links:
            if name in VENDOR_FILES:
                target = VENDOR_FILES[name]
                if target is not None and self.assets == "local":
                    settled.append((name, f"{self.vendor_url}/{target.package}/{target.path}"))
            elif self._is_external(url):
                raise ExternalAssetError(
                    f"El elemento {type(element).__name__} del mapa necesita «{url}», que la "
                    "plataforma no sirve localmente.",
                    hint="Quite ese elemento o use assets='cdn' (requiere internet).")
            else:
                settled.append((name, url))
        return settled

    def _is_external(self, url: str) -> bool:
        return (url.startswith(("http://", "https://", "//"))
                and not (self.assets == "local" and url.startswith(self.vendor_url + "/")))

    def _embed(self, figure: Figure) -> None:
        folder = self.node_modules or Settings().node_modules
        for name in INLINED:
            target = VENDOR_FILES[name]
            assert target is not None
            path = folder / target.npm_folder / target.path
            if not path.is_file():
                raise ExternalAssetError(f"Falta el archivo {path} para incrustar el mapa.",
                                         hint="Instale los paquetes con «make frontend».")
            text = re.sub(r"/[/*]# sourceMappingURL=\S+", "", path.read_text(encoding="utf-8"))
            if name.endswith("_css"):
                text = _inline_images(text, path.parent)
                figure.header.add_child(Element(f"<style>{text}</style>"), name=name)
            else:
                text = re.sub(r"</(script)", r"<\\/\1", text, flags=re.IGNORECASE)
                figure.header.add_child(Element(f"<script>{text}</script>"), name=name)

    def _check_header(self, figure: Figure) -> None:
        for child in figure.header._children.values():
            if isinstance(child, JavascriptLink | CssLink) and self._is_external(child.url):
                raise ExternalAssetError(
                    f"El mapa enlaza «{child.url}», fuera de la plataforma.",
                    hint="Quite el elemento que lo agrega o use assets='cdn'.")


def _tree(element: Element) -> Iterator[Element]:
    yield element
    for child in list(element._children.values()):
        yield from _tree(child)


def _inline_images(css: str, folder: Path) -> str:
    def data_uri(match: re.Match[str]) -> str:
        file = folder / match[1]
        if not file.is_file():
            return match[0]
        encoded = base64.b64encode(file.read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{encoded})"

    return re.sub(r"url\(['\"]?(images/[\w@.-]+\.png)['\"]?\)", data_uri, css)


# ---------------------------------------------------------------------------------------
# Page, title, legend


class MapPage(Figure):
    """The HTML page around a map: Spanish (Chile), escaped title (also shown over the map),
    no favicon request."""

    _template = Template("""<!DOCTYPE html>
<html lang="es-CL">
<head>
{% if this.title %}<title>{{ this.title|e }}</title>{% endif %}
<link rel="icon" href="data:,">
{{ this.header.render(**kwargs) }}
</head>
<body>
{% if this.title %}<div class="secplac-map-title">{{ this.title|e }}</div>{% endif %}
{{ this.html.render(**kwargs) }}
</body>
<script>
{{ this.script.render(**kwargs) }}
</script>
</html>
""")


MAP_CSS = """<style>
.secplac-legend, .secplac-map-title { font: 13px/1.35 system-ui, "Segoe UI", Roboto, Arial,
  sans-serif; color: #222; background: rgba(255, 255, 255, 0.92); border-radius: 4px;
  box-shadow: 0 1px 4px rgba(0, 0, 0, 0.35); }
.secplac-legend { padding: 6px 9px; max-width: 260px; }
.secplac-legend h4 { margin: 0 0 4px; font-size: 13px; font-weight: 600; }
.secplac-legend ul { list-style: none; margin: 0; padding: 0; }
.secplac-legend li { display: flex; align-items: center; gap: 6px; margin: 2px 0; }
.secplac-legend .note { margin-top: 4px; color: #555; font-size: 12px; }
.secplac-swatch { flex: none; display: inline-block; width: 16px; height: 12px;
  border: 1.5px solid; box-sizing: border-box; }
.secplac-swatch.line { height: 4px; border: none; }
.secplac-swatch.point { width: 12px; border-radius: 50%; }
.secplac-map-title { position: absolute; z-index: 1000; top: 10px; left: 50%;
  transform: translateX(-50%); padding: 5px 12px; font-size: 15px; font-weight: 600;
  max-width: 60%; text-align: center; }
.secplac-popup { font: 12px/1.35 system-ui, "Segoe UI", Roboto, Arial, sans-serif; }
.secplac-popup h4 { margin: 0 0 2px; font-size: 14px; }
.secplac-popup .layer { margin: 0 0 6px; color: #666; }
.secplac-popup table { border-collapse: collapse; }
.secplac-popup th { text-align: left; font-weight: 600; padding: 1px 8px 1px 0;
  vertical-align: top; color: #444; }
.secplac-popup td { padding: 1px 0; }
</style>"""


class _MapStyles(MacroElement):
    """The platform's legend, title and popup styles, once per page."""

    def render(self, **kwargs: Any) -> Any:
        figure = self.get_root()
        assert isinstance(figure, Figure), "render the map's page, not the element alone"
        figure.header.add_child(Element(MAP_CSS), name="secplac_map_css")
        return super().render(**kwargs)


class MapLegend(MacroElement):
    """A Leaflet control with a layer's legend, shown while the layer is on the map."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            var legend = L.control({position: "bottomright"});
            legend.onAdd = function () {
                var div = L.DomUtil.create("div", "secplac-legend");
                div.innerHTML = {{ this.html|tojson }};
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            {%- if this.layer_name %}
            var layer = {{ this.layer_name }};
            if (map.hasLayer(layer)) { legend.addTo(map); }
            map.on("overlayadd", function (e) { if (e.layer === layer) legend.addTo(map); });
            map.on("overlayremove", function (e) { if (e.layer === layer) legend.remove(); });
            {%- else %}
            legend.addTo(map);
            {%- endif %}
        })();
        {% endmacro %}
    """)

    def __init__(self, html_text: str, layer_name: str | None = None) -> None:
        super().__init__()
        self._name = "MapLegend"
        self.html = html_text
        self.layer_name = layer_name


def legend_html(title: str, style: Style, kind: GeometryKind, values: Sequence[Any],
                ) -> str:
    """The legend of one layer: its title, the categories present in ``values`` (in the
    declared order, then «Otros») and the number of features. Every text is escaped."""
    shape = _swatch_shape(kind)
    parts = [f"<h4>{html.escape(title)}</h4>"]
    if style.by and style.categories:
        present = {str(v) for v in values if not _is_missing(v)}
        rows = [(c.label, c.color) for c in style.categories if c.value in present]
        declared = {c.value for c in style.categories}
        if any(_is_missing(v) or str(v) not in declared for v in values):
            rows.append(("Otros", style.color))
    else:
        rows = [(title, style.color)] if len(values) else []
    if rows:
        parts.append("<ul>" + "".join(
            f'<li>{_swatch(color, style, shape)}<span>{html.escape(label)}</span></li>'
            for label, color in rows) + "</ul>")
    count = len(values)
    note = ("Sin entidades en el área" if count == 0
            else f"{_number(count)} entidad{'es' if count != 1 else ''}")
    parts.append(f'<div class="note">{note}</div>')
    return "".join(parts)


def _swatch_shape(kind: GeometryKind) -> str:
    if kind in (GeometryKind.POINT, GeometryKind.MULTIPOINT):
        return "point"
    if kind is GeometryKind.MULTILINESTRING:
        return "line"
    return "area"


def _swatch(color: str, style: Style, shape: str) -> str:
    color = html.escape(color)
    if shape == "line":
        return f'<span class="secplac-swatch line" style="background:{color}"></span>'
    border = html.escape(style.outline or color)
    return (f'<span class="secplac-swatch {shape}" style="background:{color};'
            f'border-color:{border}"></span>')


# ---------------------------------------------------------------------------------------
# Values and popups


def display_value(value: Any, fld: Field | None = None) -> str:
    """A value as a planner reads it (es-CL): ``1.234,5 m²``, ``Sí``, ``31-12-2024``.

    >>> display_value(1234.5, Field("s", FieldType.FLOAT, "Superficie", unit="m²"))
    '1.234,5 m²'
    >>> display_value(["residencial", "comercio"])
    'residencial, comercio'
    """
    if isinstance(value, list | tuple | np.ndarray):
        items = [display_value(v) for v in value if not _is_missing(v)]
        return ", ".join(items) if items else MISSING
    if _is_missing(value):
        return MISSING
    if isinstance(value, bool | np.bool_):
        text = "Sí" if value else "No"
    elif isinstance(value, dt.datetime):
        text = value.strftime("%d-%m-%Y %H:%M")
    elif isinstance(value, dt.date):
        text = value.strftime("%d-%m-%Y")
    elif isinstance(value, numbers.Number):
        text = _number(value)
    else:
        text = str(value)
    return f"{text} {fld.unit}" if fld is not None and fld.unit else text


def _number(value: Any) -> str:
    if isinstance(value, numbers.Integral) or float(value).is_integer():
        text = f"{int(value):,}"
    else:
        text = f"{float(value):,.2f}".rstrip("0").rstrip(".")
    return text.translate(str.maketrans(",.", ".,"))


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def popup_html(row: dict[str, Any], fields: Sequence[Field], *, layer_title: str,
               label: str | None = None) -> str:
    """The popup of one feature: its label, the layer title and one row per field.

    Every title and value is HTML-escaped.
    """
    head = ""
    if label is not None and not _is_missing(row.get(label)):
        head = f"<h4>{html.escape(display_value(row[label]))}</h4>"
    rows = "".join(
        f"<tr><th>{html.escape(f.title)}</th>"
        f"<td>{html.escape(display_value(row.get(f.name), f))}</td></tr>"
        for f in fields)
    return (f'<div class="secplac-popup">{head}<p class="layer">{html.escape(layer_title)}'
            f"</p><table>{rows}</table></div>")


BIND_POPUPS = JsCode("""
    function (feature, layer) {
        var p = feature.properties || {};
        if (p._popup) { layer.bindPopup(p._popup, {maxWidth: 360, maxHeight: 420}); }
        if (p._tooltip) { layer.bindTooltip(p._tooltip, {sticky: true}); }
    }
""")


# ---------------------------------------------------------------------------------------
# Maps


def new_map(*, title: str | None = None, tiles: str | None = None,
            assets: AssetMode = "cdn", vendor_url: str = "/vendor",
            settings: Settings | None = None) -> folium.Map:
    """An empty platform map: no online base map, Spanish page, assets per ``assets``.

    Parameters
    ----------
    title : shown at the top of the map and as the page title.
    tiles : an online base map (folium name such as ``"OpenStreetMap"`` or a tile URL);
        none by default, so that the map works offline.
    assets : ``"cdn"``, ``"local"`` (platform's ``vendor_url``) or ``"inline"``.
    vendor_url : where the platform serves its npm packages (``assets="local"``).
    settings : where ``node_modules`` is (``assets="inline"``).

    Examples
    --------
    >>> m = new_map(title="Proyectos y zonificación", assets="inline")   # doctest: +SKIP
    >>> add_layer(m, gis.read_layer("zoning"), "zoning")                 # doctest: +SKIP
    """
    node_modules = (settings or Settings()).node_modules if assets == "inline" else None
    m = PlatformMap(assets=assets, vendor_url=vendor_url, node_modules=node_modules,
                    location=None, tiles=tiles, control_scale=True, maxZoom=20)
    MapPage(title=title).add_child(m)
    m.add_child(_MapStyles(), name="secplac_map_styles")
    return m


def add_layer(m: folium.Map, data: gpd.GeoDataFrame,
              layer: VectorLayer | str | None = None, *, name: str | None = None,
              legend: bool = True, popups: bool = True, show: bool = True,
              ) -> folium.GeoJson:
    """Draw ``data`` on ``m`` styled as ``layer`` declares, with its legend and popups.

    Parameters
    ----------
    m : the map (from :func:`new_map`, :func:`layer_map` or any ``folium.Map``).
    data : features with a CRS (reprojected to EPSG:4326 here).
    layer : the layer declaration (or its name) giving style, field titles and units;
        without one, a plain style and the column names are used.
    name : the name in the layer switcher and legend; the layer title by default.
    legend : add the layer's legend.
    popups : popups listing the fields, and a tooltip with the label field; without
        them the layer does not react to the mouse (a base layer).
    show : shown when the map opens (it can be switched on in the layer switcher).

    Examples
    --------
    >>> add_layer(m, gis.read_layer("projects"), "projects")      # doctest: +SKIP
    """
    decl = get_vector_layer(layer) if isinstance(layer, str) else layer
    frame = to_wgs84(data)
    frame = frame[~(frame.geometry.isna() | frame.geometry.is_empty)]
    style = decl.style if decl else DEFAULT_STYLE
    kind = decl.geometry if decl else GeometryKind.ANY
    title = name or (decl.title if decl else "Capa")
    fields = _popup_fields(frame, decl)
    categories = {c.value: i for i, c in enumerate(style.categories)}
    by_values = (list(frame[style.by]) if style.by and style.by in frame.columns
                 else [None] * len(frame))
    geoms = shapely.transform(frame.geometry.to_numpy(), lambda c: np.round(c, 6))
    records = frame.drop(columns=frame.geometry.name).to_dict("records")
    features = []
    for i, (row, geom, value) in enumerate(zip(records, geoms, by_values, strict=True)):
        props: dict[str, Any] = {"_k": categories.get(str(value), -1)}
        if popups:
            props["_popup"] = popup_html(row, fields, layer_title=title,
                                         label=style.label)
            if style.label and not _is_missing(row.get(style.label)):
                props["_tooltip"] = html.escape(display_value(row[style.label]))
        features.append({"type": "Feature", "id": str(i), "properties": props,
                         "geometry": shapely.geometry.mapping(geom)})
    collection = {"type": "FeatureCollection", "features": features}
    styles = _feature_styles(style)
    geojson = folium.GeoJson(
        collection, name=title, show=show,
        style_function=lambda f: styles[_shape_of(f)][f["properties"]["_k"]],
        highlight_function=(lambda f: {"weight": style.line_width + 2, "fillOpacity":
                                       min(1.0, style.fill_opacity + 0.2)}) if popups else None,
        marker=folium.CircleMarker(radius=POINT_RADIUS),
        on_each_feature=BIND_POPUPS if popups else None,
        interactive=popups)
    geojson.add_to(m)
    if legend:
        m.add_child(_MapStyles(), name="secplac_map_styles")
        m.add_child(MapLegend(legend_html(title, style, kind, by_values), geojson.get_name()))
    return geojson


def layer_map(data: str | gpd.GeoDataFrame, *, layer: VectorLayer | str | None = None,
              settings: Settings | None = None, where: dict[str, Any] | None = None,
              bbox: Bounds | None = None, title: str | None = None,
              base: Sequence[str] = BASE_LAYERS, tiles: str | None = None,
              assets: AssetMode = "cdn", vendor_url: str = "/vendor",
              max_features: int | None = MAX_FEATURES) -> folium.Map:
    """A map of one layer (by name, read from PostGIS) or of any GeoDataFrame.

    Parameters
    ----------
    data : a vector layer name (``secplac layers``) or a GeoDataFrame with a CRS (a query
        result, an analysis).
    layer : for a GeoDataFrame, the layer whose style and field titles to use.
    settings : database and ``node_modules``; ``Settings()`` by default.
    where : field → value (or list of values), only with a layer name.
    bbox : (west, south, east, north) in WGS 84 degrees, only with a layer name.
        Required for dense layers (``style.min_zoom`` > 0, e.g. parcels) unless
        ``where`` narrows them or ``max_features`` is None.
    title : map and page title; the layer title by default.
    base : platform layers drawn underneath as base map (comunas by default; ``()`` for
        none, e.g. without a database).
    tiles : an online base map, only if asked (``"OpenStreetMap"``...).
    assets, vendor_url : where Leaflet is loaded from (see :func:`new_map`).
    max_features : refuse maps with more features (:class:`MapTooLargeError`); None for
        no limit.

    Returns
    -------
    folium.Map
        Fitted to the data; ``m.save("mapa.html")`` writes it, notebooks show it.

    Examples
    --------
    >>> layer_map("zoning", where={"familia": ["residencial", "mixta"]})    # doctest: +SKIP
    >>> layer_map("parcels", bbox=(-71.62, -33.60, -71.60, -33.58),
    ...           assets="inline").save("predios.html")                    # doctest: +SKIP
    >>> layer_map(analysis_result, layer="parcels", base=())                 # doctest: +SKIP
    """
    settings = settings or Settings()
    decl: VectorLayer | None
    if isinstance(data, str):
        decl = get_vector_layer(data)
        if max_features is not None:
            check_map_extent(decl, bbox, where)
        frame = read_layer(decl.name, bbox=bbox, where=where, crs=4326, settings=settings)
    else:
        if where is not None or bbox is not None:
            raise PlatformError("where y bbox solo se usan al leer una capa por su nombre.",
                                hint="Filtre el GeoDataFrame antes de dibujarlo.")
        decl = get_vector_layer(layer) if isinstance(layer, str) else layer
        frame = to_wgs84(data)
    layer_title = decl.title if decl else "Capa"
    if max_features is not None and len(frame) > max_features:
        raise MapTooLargeError(
            f"El mapa de «{layer_title}» tendría {_number(len(frame))} entidades; el máximo "
            f"es {_number(max_features)}.",
            hint="Acote el área con bbox=oeste,sur,este,norte o filtre por un campo.")
    m = new_map(title=title or layer_title, tiles=tiles, assets=assets,
                vendor_url=vendor_url, settings=settings)
    extent = _extent(frame) or settings.area_of_interest
    base_names = [b for b in base if not (decl and b == decl.name)]
    add_base_layers(m, base_names, extent, settings)
    add_layer(m, frame, decl)
    folium.LayerControl(collapsed=True).add_to(m)
    fit_to(m, extent)
    return m


def project_map(code: str, *, settings: Settings | None = None, margin: float = 400.0,
                base: Sequence[str] = BASE_LAYERS, tiles: str | None = None,
                assets: AssetMode = "cdn", vendor_url: str = "/vendor") -> folium.Map:
    """A map of one investment project with the PRC zoning around it.

    Parameters
    ----------
    code : the project's BIP or municipal code (``layers.projects``).
    margin : metres of context around the project.
    base, tiles, assets, vendor_url : as in :func:`layer_map`.

    Raises
    ------
    UnknownProjectError
        No project has that code (HTTP 404 in the API).

    Examples
    --------
    >>> project_map("30770433-1", assets="inline").save("proyecto.html")   # doctest: +SKIP
    """
    settings = settings or Settings()
    codes = list(dict.fromkeys([code, code.strip().upper()]))
    project = read_layer("projects", where={"codigo": codes}, settings=settings)
    if project.empty:
        raise UnknownProjectError(code)
    minx, miny, maxx, maxy = project.total_bounds
    area = (minx - margin, miny - margin, maxx + margin, maxy + margin)
    zoning = read_layer("zoning", bbox=area, settings=settings)
    row = project.iloc[0]
    m = new_map(title=f"{row['nombre']} ({row['codigo']})", tiles=tiles, assets=assets,
                vendor_url=vendor_url, settings=settings)
    extent = _extent(gpd.GeoDataFrame(geometry=[shapely.box(*area)], crs=project.crs))
    assert extent is not None
    add_base_layers(m, base, extent, settings)
    add_layer(m, zoning, "zoning")
    add_layer(m, project, "projects")
    folium.LayerControl(collapsed=True).add_to(m)
    fit_to(m, extent)
    return m


def add_base_layers(m: folium.Map, names: Sequence[str], extent: Bounds,
                    settings: Settings) -> None:
    """Draw platform layers as a quiet base map (no popups, no legend) within ``extent``."""
    for base_name in names:
        frame = read_layer(base_name, bbox=extent, crs=4326, settings=settings)
        add_layer(m, frame, base_name, legend=False, popups=False)


def fit_to(m: folium.Map, extent: Bounds) -> None:
    """Open the map on ``extent`` (west, south, east, north, WGS 84)."""
    west, south, east, north = extent
    m.location = [(south + north) / 2, (west + east) / 2]
    m.fit_bounds([[south, west], [north, east]], max_zoom=18)


def check_map_extent(layer: VectorLayer, bbox: Bounds | None,
                     where: dict[str, Any] | None) -> None:
    """Refuse a whole-layer map of a dense layer (``style.min_zoom`` > 0, e.g. parcels)."""
    if layer.style.min_zoom > 0 and bbox is None and not where:
        raise MapTooLargeError(
            f"La capa «{layer.title}» es demasiado densa para un mapa completo.",
            hint="Indique un área con bbox=oeste,sur,este,norte en grados WGS 84 "
            "(p. ej. bbox=-71.615,-33.595,-71.600,-33.580) o filtre por un campo.")


def get_vector_layer(name: str) -> VectorLayer:
    """The vector layer called ``name``; a Spanish 404 error for unknown or raster ones."""
    decl = get_layer(name)
    if not isinstance(decl, VectorLayer):
        raise NotFoundError(f"La capa «{name}» es raster: no tiene mapa de entidades.",
                            hint="Los mapas se hacen de capas vectoriales.")
    return decl


def to_wgs84(data: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``data`` in EPSG:4326 for Leaflet; a loud error if it has no CRS."""
    if data.crs is None:
        raise PlatformError("Los datos no declaran su sistema de coordenadas.",
                            hint="Asígnelo con gdf.set_crs(...) antes de dibujarlos "
                            "(p. ej. EPSG:32719 para UTM 19S).")
    return data if data.crs.equals(WGS84) else data.to_crs(WGS84)


def _extent(frame: gpd.GeoDataFrame) -> Bounds | None:
    geoms = frame.geometry
    geoms = geoms[~(geoms.isna() | geoms.is_empty)]
    if geoms.empty:
        return None
    west, south, east, north = (geoms.to_crs(WGS84) if geoms.crs and not geoms.crs.equals(
        WGS84) else geoms).total_bounds
    return (float(west), float(south), float(east), float(north))


def _popup_fields(frame: gpd.GeoDataFrame, decl: VectorLayer | None) -> list[Field]:
    if decl is not None:
        return [f for f in decl.fields if f.name in frame.columns]
    return [Field(str(c), FieldType.TEXT, str(c)) for c in frame.columns
            if c != frame.geometry.name]


def _shape_of(feature: dict[str, Any]) -> str:
    kind = (feature.get("geometry") or {}).get("type", "")
    if kind.endswith("Point"):
        return "point"
    return "line" if kind.endswith("LineString") else "area"


def _feature_styles(style: Style) -> dict[str, dict[int, dict[str, Any]]]:
    """Leaflet path options per shape and category index (-1: other values)."""
    colors = {i: c.color for i, c in enumerate(style.categories)} | {-1: style.color}
    dash = {"dashArray": "6 4"} if style.dashed else {}
    return {
        "area": {i: {"color": style.outline or c, "weight": style.line_width,
                     "fillColor": c, "fillOpacity": style.fill_opacity, "opacity": 1, **dash}
                 for i, c in colors.items()},
        "line": {i: {"color": c, "weight": max(style.line_width, 2), "opacity": 0.95, **dash}
                 for i, c in colors.items()},
        "point": {i: {"color": style.outline or "#333333", "weight": 1.5, "fill": True,
                      "fillColor": c,
                      "fillOpacity": max(style.fill_opacity, 0.85), "radius": POINT_RADIUS}
                  for i, c in colors.items()},
    }

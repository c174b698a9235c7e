"""gis.maps: folium maps styled from the layer declarations, escaped, offline-capable."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import folium
import folium.plugins
import geopandas as gpd
import pytest
import shapely
from jinja2.utils import htmlsafe_json_dumps

from api.routers.assets import VENDOR_PACKAGES
from gis.errors import PlatformError
from gis.ingest import ingest
from gis.maps import (
    VENDOR_FILES,
    ExternalAssetError,
    MapLegend,
    MapTooLargeError,
    UnknownProjectError,
    add_layer,
    check_map_extent,
    display_value,
    layer_map,
    new_map,
    project_map,
)
from gis.settings import Settings
from layers import get_layer
from layers.base import Field, FieldType, VectorLayer
from layers.zoning import LAYER as ZONING
from tests.samples import sample_projects, sample_zones

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def zones() -> gpd.GeoDataFrame:
    """The sample zones with the zoning layer's field names, in EPSG:32719."""
    return sample_zones().rename(columns={
        "COD_ZONA": "codigo", "NOM_ZONA": "nombre", "TIPO_ZONA": "familia",
        "ALT_MAX_M": "altura_maxima", "SUP_MIN": "superficie_predial_minima"})


def projects() -> gpd.GeoDataFrame:
    """A point, a line and a polygon project, in EPSG:4326."""
    return sample_projects().rename(columns={
        "cod_bip": "codigo", "nombre_proyecto": "nombre", "monto": "monto_clp"})


def legends(m: folium.Map) -> list[str]:
    return [e.html for e in m._children.values() if isinstance(e, MapLegend)]


def popups(geojson: folium.GeoJson) -> list[str]:
    return [f["properties"]["_popup"] for f in geojson.data["features"]]


def test_each_category_takes_its_declared_colour() -> None:
    m = new_map()
    geojson = add_layer(m, zones(), "zoning")
    colours = {c.value: c.color for c in ZONING.style.categories}
    families = zones()["familia"].tolist()
    for feature, family in zip(geojson.data["features"], families, strict=True):
        style = geojson.style_function(feature)
        assert style["fillColor"] == colours[family]
        assert style["color"] == ZONING.style.outline
        assert style["fillOpacity"] == ZONING.style.fill_opacity
    html = m.get_root().render()
    for family in families:
        assert colours[family] in html


def test_legend_lists_spanish_labels_of_present_categories() -> None:
    m = layer_map(zones(), layer="zoning", base=())
    [legend] = legends(m)
    assert "Zonificación Plan Regulador Comunal" in legend
    assert "Residencial" in legend and "Mixta" in legend and "Área verde" in legend
    assert "Industrial" not in legend and "Otros" not in legend
    assert "3 entidades" in legend
    assert htmlsafe_json_dumps(legend) in m.get_root().render()  # as the control's HTML


def test_an_empty_result_still_makes_a_map_of_the_work_area() -> None:
    m = layer_map(zones().iloc[0:0], layer="zoning", base=())
    [legend] = legends(m)
    assert "Sin entidades en el área" in legend and "<ul>" not in legend
    html = m.get_root().render()
    west, south, east, north = Settings().area_of_interest
    assert f"[[{south}, {west}], [{north}, {east}]]" in html


def test_legend_groups_undeclared_values_under_otros() -> None:
    frame = zones()
    frame.loc[0, "familia"] = "desconocida"
    [legend] = legends(layer_map(frame, layer="zoning", base=()))
    assert "Otros" in legend and "desconocida" not in legend


def test_popups_list_fields_by_spanish_title_with_units() -> None:
    geojson = add_layer(new_map(), zones(), "zoning")
    first = popups(geojson)[0]
    assert "<th>Altura máxima de edificación</th><td>10,5 m</td>" in first
    assert "<th>Superficie predial mínima</th><td>200 m²</td>" in first
    assert "<h4>ZH-1</h4>" in first  # the style's label field
    assert "codigo" not in first and "altura_maxima" not in first
    tooltips = [f["properties"]["_tooltip"] for f in geojson.data["features"]]
    assert tooltips == ["ZH-1", "ZM-2", "AV-3"]


def test_hostile_values_are_escaped_in_popups_tooltips_and_titles() -> None:
    frame = zones()
    frame.loc[0, "nombre"] = HOSTILE
    frame.loc[1, "codigo"] = HOSTILE
    m = layer_map(frame, layer="zoning", base=(), title=f"Zonas {HOSTILE}")
    [geojson] = [e for e in m._children.values() if isinstance(e, folium.GeoJson)]
    escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"
    assert escaped in popups(geojson)[0]
    assert escaped in popups(geojson)[1]
    assert geojson.data["features"][1]["properties"]["_tooltip"] == escaped
    html = m.get_root().render()
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "<title>Zonas &lt;script&gt;alert(" in html


def test_projected_data_is_drawn_in_wgs84_and_fitted() -> None:
    m = layer_map(zones(), layer="zoning", base=())
    [geojson] = [e for e in m._children.values() if isinstance(e, folium.GeoJson)]
    ring = geojson.data["features"][0]["geometry"]["coordinates"][0]
    assert all(-71.7 < lon < -71.5 and -33.7 < lat < -33.5 for lon, lat in ring)
    expected = zones().to_crs(4326).total_bounds
    html = m.get_root().render()
    fit = re.search(r"fitBounds\(\s*\[\[([-\d.]+), ([-\d.]+)\], \[([-\d.]+), ([-\d.]+)\]\]", html)
    assert fit is not None
    south, west, north, east = map(float, fit.groups())
    assert (west, south, east, north) == pytest.approx(tuple(expected), abs=1e-9)


def test_any_source_crs_lands_on_the_same_coordinates() -> None:
    from_utm = add_layer(new_map(), zones(), "zoning").data["features"][0]["geometry"]
    from_psad56 = add_layer(new_map(), zones().to_crs(24879), "zoning")
    psad = from_psad56.data["features"][0]["geometry"]
    a = shapely.geometry.shape(from_utm)
    b = shapely.geometry.shape(psad)
    assert a.hausdorff_distance(b) < 2e-6  # about 20 cm, after 6-decimal rounding


def test_data_without_crs_is_refused() -> None:
    frame = zones().set_crs(None, allow_override=True)
    with pytest.raises(PlatformError, match="no declaran su sistema de coordenadas"):
        layer_map(frame, layer="zoning", base=())


def test_points_are_circle_markers_and_lines_take_the_category_colour() -> None:
    m = new_map()
    geojson = add_layer(m, projects(), "projects")
    style = get_layer("projects").style
    assert isinstance(style, type(ZONING.style))
    colours = {c.value: c.color for c in style.categories}
    point, line, polygon = (geojson.style_function(f) for f in geojson.data["features"])
    assert point["fillColor"] == colours["ejecución"] and point["radius"] == 6
    assert point["fill"] is True  # folium's CircleMarker defaults to a hollow circle
    assert line["color"] == colours["diseño"] and line["weight"] == style.line_width
    assert polygon["fillColor"] == colours["idea"] and polygon["color"] == style.outline
    html = m.get_root().render()
    assert "new L.CircleMarker(latlng, opts)" in html
    assert "<th>Costo total</th><td>3.500.000.000 CLP</td>" in popups(geojson)[0]


def test_a_plain_geodataframe_gets_a_plain_style_and_its_column_names() -> None:
    frame = zones()[["codigo", "geometry"]]
    m = layer_map(frame, base=(), title="Resultado del análisis")
    [geojson] = [e for e in m._children.values() if isinstance(e, folium.GeoJson)]
    assert "<th>codigo</th><td>ZH-1</td>" in popups(geojson)[0]
    [legend] = legends(m)
    assert "Capa" in legend


def test_local_assets_leave_no_external_url(tmp_path: Path) -> None:
    m = layer_map(projects(), layer="projects", base=(), assets="local",
                  vendor_url="/vendor")
    folium.Marker([-33.59, -71.61], icon=folium.Icon(icon="info-sign")).add_to(m)
    html = m.get_root().render()
    assert not re.search(r"https?://|//cdn|bootstrapcdn|jsdelivr", html)
    links = re.findall(r'(?:src|href)="(/vendor/[^"]+)"', html)
    assert "/vendor/leaflet/leaflet.js" in links and "/vendor/leaflet/leaflet.css" in links
    assert m.save(tmp_path / "mapa.html") is None  # saving renders the same way
    assert "jsdelivr" not in (tmp_path / "mapa.html").read_text()


def test_every_local_asset_is_a_file_the_platform_serves() -> None:
    node_modules = Settings().node_modules
    for target in filter(None, VENDOR_FILES.values()):
        assert VENDOR_PACKAGES[target.package] == target.npm_folder
        assert (node_modules / target.npm_folder / target.path).is_file(), target


def test_an_element_needing_an_unserved_file_is_refused_in_local_mode() -> None:
    m = layer_map(zones(), layer="zoning", base=(), assets="local")
    folium.plugins.Fullscreen().add_to(m)
    with pytest.raises(ExternalAssetError, match="no sirve localmente"):
        m.get_root().render()


def test_inline_assets_make_a_self_contained_page() -> None:
    m = layer_map(zones(), layer="zoning", base=(), assets="inline")
    html = m.get_root().render()
    assert not re.search(r'<(?:script|link|img)[^>]+(?:src|href)="(?:https?:)?//', html)
    assert "<script src=" not in html and '<link rel="stylesheet"' not in html
    assert "L.map(" in html and "leaflet-container" in html  # Leaflet's code and CSS
    assert "url(data:image/png;base64," in html  # the layer switcher icon


def test_dense_layers_need_an_area_or_a_filter() -> None:
    parcels = get_layer("parcels")
    assert isinstance(parcels, VectorLayer) and parcels.style.min_zoom > 0
    with pytest.raises(MapTooLargeError, match="demasiado densa"):
        check_map_extent(parcels, None, None)
    check_map_extent(parcels, (-71.62, -33.60, -71.61, -33.59), None)
    check_map_extent(parcels, None, {"rol": "01999-00054"})
    check_map_extent(ZONING, None, None)
    with pytest.raises(MapTooLargeError, match="tendría 3 entidades"):
        layer_map(zones(), layer="zoning", base=(), max_features=2)


def test_values_are_shown_the_chilean_way() -> None:
    area = Field("s", FieldType.FLOAT, "Superficie", unit="m²")
    assert display_value(1234.5, area) == "1.234,5 m²"
    assert display_value(1200.0, area) == "1.200 m²"
    assert display_value(None, area) == "—"
    assert display_value(float("nan"), area) == "—"
    assert display_value(3_500_000) == "3.500.000"
    assert display_value(0.65) == "0,65"
    assert display_value(True) == "Sí"
    assert display_value(dt.date(2024, 3, 9)) == "09-03-2024"
    assert display_value(["residencial", "equipamiento"]) == "residencial, equipamiento"


def test_layer_map_reads_the_layer_from_postgis(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "zonas.gpkg"
    sample_zones().to_file(path)
    ingest(settings, "zoning", path)
    m = layer_map("zoning", where={"familia": "residencial"}, settings=settings)
    [geojson, *_] = [e for e in m._children.values()
                     if isinstance(e, folium.GeoJson) and e.layer_name == ZONING.title]
    assert len(geojson.data["features"]) == 1
    assert "<h4>ZH-1</h4>" in popups(geojson)[0]
    assert "residencial, equipamiento educación" in popups(geojson)[0]  # a list field
    assert "<title>Zonificación Plan Regulador Comunal</title>" in m.get_root().render()
    with pytest.raises(UnknownProjectError, match="«NO-EXISTE» no existe"):
        project_map("NO-EXISTE", settings=settings)

"""The planners' web map (/mapa) in Debian's Chromium: offline loading, drawing, layer
switcher from the style, parcel card with its zone's norms, search, shareable URL,
project filters, rasters, measurement and PNG export."""

from __future__ import annotations

import re
import warnings
from typing import Any

import httpx
import numpy as np
import pytest
from pyproj import Geod
from rasterio.errors import NotGeoreferencedWarning
from rasterio.io import MemoryFile

from api.routers.viewer import PROJECT_FILTERS
from gis.styles import map_style
from layers import get_layer, vector_layers
from layers.base import VectorLayer
from tests.conftest import query

IDLE = "() => new Promise(r => { mapa.once('idle', r); mapa.triggerRepaint(); })"
PROJECT_LAYERS = "mapa.getStyle().layers.filter(l => l.metadata?.['secplac:capa'] === " \
                 "'projects').map(l => l.id)"
RENDERED_PROJECTS = f"""() => {{
    const seen = new Map();
    for (const f of mapa.queryRenderedFeatures({{ layers: {PROJECT_LAYERS} }})) {{
        seen.set(f.id, f.properties);
    }}
    return [...seen.values()];
}}"""


LIGHT = "#mapa=12/-33.59/-71.6&capas=comunas"
"""A view with one layer, for tests of the page rather than of the drawing."""


def open_map(page: Any, server: str, hash_: str = "", *, idle: bool = True) -> None:
    """Open /mapa and wait until it is ready (and, with ``idle``, completely drawn)."""
    page.goto(f"{server}/mapa{hash_}")
    page.wait_for_function("document.body.dataset.estado === 'listo'", timeout=30_000)
    if idle:
        page.evaluate(IDLE)


def screen_position(page: Any, lon: float, lat: float) -> tuple[float, float]:
    """Where (lon, lat) is on the page: map.project plus the map container's offset."""
    x, y = page.evaluate("""([lon, lat]) => {
        const p = mapa.project([lon, lat]);
        const box = mapa.getContainer().getBoundingClientRect();
        return [p.x + box.left, p.y + box.top];
    }""", [lon, lat])
    box = page.locator("#mapa").bounding_box()
    assert box["x"] < x < box["x"] + box["width"] and box["y"] < y < box["y"] + box["height"]
    return x, y


def decode_png(body: bytes) -> np.ndarray:
    """RGBA bands (4, rows, cols) of a PNG, decoded by GDAL."""
    assert body[:8] == b"\x89PNG\r\n\x1a\n"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with MemoryFile(body) as mem, mem.open() as png:
            return png.read()


def pixels_near(rgba: np.ndarray, hex_color: str, tolerance: float = 40) -> int:
    rgb = rgba[:3].reshape(3, -1).T.astype(float)
    target = np.array([int(hex_color[i:i + 2], 16) for i in (1, 3, 5)], dtype=float)
    return int((np.linalg.norm(rgb - target, axis=1) < tolerance).sum())


def blend(color: str, alpha: float, under: str) -> str:
    """``color`` drawn with opacity ``alpha`` over ``under`` (hex colours)."""
    top, bottom = ([int(c[i:i + 2], 16) for i in (1, 3, 5)] for c in (color, under))
    mixed = [round(alpha * t + (1 - alpha) * b) for t, b in zip(top, bottom, strict=True)]
    return "#" + "".join(f"{v:02x}" for v in mixed)


def distinct_colours(rgba: np.ndarray) -> int:
    return len(np.unique(rgba[:3].reshape(3, -1).T, axis=0))


def visible_layers(page: Any) -> set[str]:
    hash_ = page.evaluate("location.hash")
    found = re.search(r"capas=([^&]*)", hash_)
    assert found, hash_
    return set(filter(None, found[1].split(",")))


def parcel_in_a_zone(settings) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """A parcel, a point inside it (lon/lat) and the zone of the PRC at that point."""
    row = query(settings, """
        SELECT p.fid, p.rol, ST_X(pt), ST_Y(pt), z.codigo, z.altura_maxima
        FROM layers.parcels AS p,
             LATERAL ST_PointOnSurface(p.geom) AS inside,
             LATERAL ST_Transform(inside, 4326) AS pt,
             layers.zoning AS z
        WHERE ST_Intersects(z.geom, inside) AND z.altura_maxima IS NOT NULL
        ORDER BY p.fid LIMIT 1""")[0]
    return dict(zip(("fid", "rol", "lon", "lat", "zone", "height"), row, strict=True))


# -- loading and drawing --------------------------------------------------------------------

def test_map_loads_offline_and_draws_the_legend_colours(page: Any, server: str,
                                                        http: httpx.Client) -> None:
    open_map(page, server)
    assert page.failed_requests == []
    assert page.title() == "Mapa territorial — SECPLAC San Antonio"
    assert page.evaluate("document.documentElement.lang") == "es-CL"
    shot = decode_png(page.locator("#mapa canvas").screenshot())
    assert shot.shape[1] > 500 and shot.shape[2] > 800
    assert distinct_colours(shot) > 50, "the map is blank"
    legends = http.get("/styles/mapa").json()["metadata"]["secplac:leyendas"]
    for layer in ("urban_limit", "port_routes"):
        found = {e["etiqueta"]: pixels_near(shot, e["color"]) for e in legends[layer]["entradas"]}
        assert max(found.values()) > 30, (layer, found)
    # Zones are drawn at half opacity over the comuna (0.35) over the background: the
    # residential colour of the legend, so blended, covers much of the town.
    style = http.get("/styles/mapa").json()
    paint = {lyr["id"]: lyr.get("paint", {}) for lyr in style["layers"]}
    residential = next(e["color"] for e in legends["zoning"]["entradas"]
                       if e["etiqueta"] == "Residencial")
    under = blend(paint["comunas-relleno"]["fill-color"],
                  paint["comunas-relleno"]["fill-opacity"],
                  paint["fondo"]["background-color"])
    seen = blend(residential, paint["zoning-relleno"]["fill-opacity"], under)
    assert pixels_near(shot, seen, tolerance=12) > 20_000


def test_landing_page_links_to_the_map(http: httpx.Client) -> None:
    page = http.get("/", headers={"Accept": "text/html"}).text
    assert 'href="/mapa"' in page


def test_switcher_and_legends_come_from_the_style(page: Any, server: str,
                                                  http: httpx.Client) -> None:
    style = http.get("/styles/mapa").json()
    themes, legends = style["metadata"]["secplac:temas"], style["metadata"]["secplac:leyendas"]
    open_map(page, server, idle=False)
    assert page.locator(".tema > legend").all_inner_texts() == list(themes)
    assert list(themes)[:3] == ["Plan Regulador", "Uso de suelo", "Catastro"]
    for theme, names in themes.items():
        group = page.locator(".tema", has=page.locator("legend", has_text=theme))
        titles = [t.strip() for t in group.locator(".capa-titulo").all_inner_texts()]
        assert titles == [legends[n]["titulo"] for n in names]
    zoning = page.locator(".capa", has=page.locator("input[data-capa=zoning]"))
    assert zoning.locator(".leyenda li").all_inner_texts() == [
        e["etiqueta"] for e in legends["zoning"]["entradas"]]


def test_optional_online_base_map_can_be_switched_off(page: Any, server: str) -> None:
    """With ``settings.online_base_map`` the style gains a raster base map; the switcher
    offers it first. (Served here by this server, as the test runs offline.)"""
    tiles = f"{server}/rasters/dem/tiles/WebMercatorQuad/{{z}}/{{x}}/{{y}}.png"
    style = map_style(server, online_base_map=tiles)
    page.route(f"{server}/styles/mapa", lambda route: route.fulfill(json=style))
    open_map(page, server, LIGHT.replace("capas=comunas", "capas=mapa-base,comunas"))
    assert page.locator(".tema > legend").first.inner_text() == "Mapa base"
    box = page.locator("input[data-capa=mapa-base]")
    assert box.is_checked()
    assert page.evaluate("mapa.getLayoutProperty('mapa-base', 'visibility')") != "none"
    box.uncheck()
    assert page.evaluate("mapa.getLayoutProperty('mapa-base', 'visibility')") == "none"
    assert "mapa-base" not in visible_layers(page)
    assert page.failed_requests == []


def test_toggling_a_layer_changes_its_visibility_and_the_url(page: Any, server: str) -> None:
    open_map(page, server, idle=False)
    visibility = "() => mapa.getLayoutProperty('zoning-relleno', 'visibility')"
    assert page.evaluate(visibility) == "visible" and "zoning" in visible_layers(page)
    page.locator("input[data-capa=zoning]").uncheck()
    assert page.evaluate(visibility) == "none"
    assert "zoning" not in visible_layers(page)
    assert page.locator(".capa", has=page.locator("input[data-capa=zoning]")
                        ).locator(".leyenda").is_hidden()
    page.locator("input[data-capa=parcels]").check()
    page.locator("input[data-capa=zoning]").check()
    assert page.evaluate(visibility) == "visible"
    assert page.evaluate("mapa.getLayoutProperty('parcels-borde', 'visibility')") == "visible"
    assert {"zoning", "parcels"} <= visible_layers(page)


# -- feature card -----------------------------------------------------------------------------

def test_clicking_a_parcel_shows_its_zone_norms(page: Any, server: str,
                                                api_settings) -> None:  # type: ignore[no-untyped-def]
    parcel = parcel_in_a_zone(api_settings)
    open_map(page, server, f"#mapa=17/{parcel['lat']}/{parcel['lon']}&capas=zoning,parcels")
    assert page.evaluate("mapa.getZoom()") == pytest.approx(17)
    page.mouse.click(*screen_position(page, parcel["lon"], parcel["lat"]))
    card = page.locator(".maplibregl-popup .ficha")
    card.locator(".zona").wait_for(timeout=10_000)
    assert card.locator("h2").first.inner_text() == f"Catastro de predios: {parcel['rol']}"
    rows = dict(zip(card.locator(".entidad > table th").all_inner_texts(),
                    card.locator(".entidad > table td").all_inner_texts(), strict=True))
    assert rows["Rol de avalúo"] == parcel["rol"]
    assert rows["Superficie de terreno"].endswith(" m²")
    assert re.fullmatch(r".+ \([A-Z]\)", rows["Destino SII"]), rows["Destino SII"]
    zone = card.locator(".zona")
    assert zone.locator("h3").inner_text() == f"Normas urbanísticas — zona {parcel['zone']}"
    norms = dict(zip(zone.locator("th").all_inner_texts(), zone.locator("td").all_inner_texts(),
                     strict=True))
    height = f"{parcel['height']:g}".replace(".", ",")
    assert norms["Altura máxima de edificación"] == f"{height} m"
    for title in ("Usos permitidos", "Usos prohibidos", "Superficie predial mínima",
                  "Densidad bruta máxima", "Coeficiente de constructibilidad",
                  "Coeficiente de ocupación de suelo", "Sistema de agrupamiento", "Antejardín"):
        assert title in norms
    page.evaluate(IDLE)
    outlined = page.evaluate("mapa.queryRenderedFeatures({layers: ['seleccion-borde']})"
                             ".map(f => f.id)")
    assert set(outlined) == {parcel["fid"]}
    assert page.failed_requests == []


def test_feature_values_are_never_parsed_as_html(page: Any, server: str) -> None:
    open_map(page, server, LIGHT, idle=False)
    page.evaluate("""async () => {
        const m = await import('/static/mapa-popup.js');
        const config = JSON.parse(document.getElementById('configuracion').textContent);
        const popup = new maplibregl.Popup();
        await m.openPopup(mapa, config, popup, mapa.getCenter(), [{
            layer: 'projects', fid: 1, geometry: null, labelField: 'nombre',
            properties: { nombre: '<img src=x onerror="window.atacado=1">',
                          codigo: '<b>negrita</b>', monto_clp: 1500000 } }], []);
    }""")
    card = page.locator(".maplibregl-popup .ficha")
    assert card.locator("img, b").count() == 0
    assert '<img src=x onerror="window.atacado=1">' in card.locator("h2").inner_text()
    assert "$ 1.500.000" in card.inner_text()
    assert page.evaluate("window.atacado") is None


# -- search -----------------------------------------------------------------------------------

def test_searching_a_rol_zooms_to_the_parcel(page: Any, server: str,
                                            api_settings) -> None:  # type: ignore[no-untyped-def]
    fid, rol, w, s, e, n = query(api_settings, """
        SELECT fid, rol, ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b)
        FROM layers.parcels, LATERAL Box2D(ST_Transform(geom, 4326)) AS b
        ORDER BY fid DESC LIMIT 1""")[0]
    open_map(page, server, LIGHT, idle=False)
    assert "parcels" not in visible_layers(page)
    block, lot = (int(p) for p in rol.split("-"))
    page.locator("#texto-busqueda").fill(f"{block}-{lot}")  # typed without leading zeros
    hit = page.locator(f"#resultados-busqueda li[data-capa=parcels][data-fid='{fid}']")
    hit.wait_for(timeout=10_000)
    assert rol in hit.inner_text() and "Catastro de predios" in hit.inner_text()
    hit.click()
    page.locator(".maplibregl-popup .entidad[data-capa=parcels]").wait_for(timeout=10_000)
    page.evaluate(IDLE)
    lon, lat = page.evaluate("[mapa.getCenter().lng, mapa.getCenter().lat]")
    assert lon == pytest.approx((w + e) / 2, abs=2e-5)
    assert lat == pytest.approx((s + n) / 2, abs=2e-5)
    assert page.evaluate("mapa.getZoom()") >= 16
    assert "parcels" in visible_layers(page)
    bounds = page.evaluate("mapa.getBounds().toArray()")
    assert bounds[0][0] < w and bounds[1][0] > e and bounds[0][1] < s and bounds[1][1] > n
    rendered = page.evaluate("mapa.queryRenderedFeatures({layers: ['parcels-relleno']})"
                             ".map(f => f.properties.rol)")
    assert rol in rendered
    assert page.locator(".maplibregl-popup h2").first.inner_text().endswith(rol)


def test_search_errors_are_shown_in_spanish(page: Any, server: str) -> None:
    open_map(page, server, LIGHT, idle=False)
    page.locator("#texto-busqueda").fill("zzzz-no-existe")
    page.locator("#resultados-busqueda li.sin-resultados").wait_for(timeout=10_000)
    assert page.locator("#resultados-busqueda").inner_text() == \
        "Sin resultados para «zzzz-no-existe»."


# -- shareable URL ------------------------------------------------------------------------------

def test_shareable_url_restores_view_layers_and_filters(page: Any, server: str,
                                                        browser) -> None:  # type: ignore[no-untyped-def]
    open_map(page, server, "#mapa=15.25/-33.60000/-71.61000&capas=comunas,parcels,dem"
                           "&etapa=dise%C3%B1o", idle=False)
    assert page.evaluate("mapa.getZoom()") == pytest.approx(15.25)
    assert page.evaluate("[mapa.getCenter().lng, mapa.getCenter().lat]") == \
        pytest.approx([-71.61, -33.60], abs=1e-6)
    assert visible_layers(page) == {"comunas", "parcels", "dem"}
    assert page.evaluate("mapa.getLayoutProperty('zoning-relleno', 'visibility')") == "none"
    assert page.locator("#filtro-etapa").input_value() == "diseño"
    assert page.locator("input[data-capa=dem]").is_checked()

    page.evaluate("mapa.jumpTo({center: [-71.6234, -33.5801], zoom: 14.5})")
    page.locator("input[data-capa=zoning]").check()
    page.locator("#filtro-fuentes").select_option("FNDR")
    shared = page.evaluate("location.href")
    assert "mapa=14.50/-33.58010/-71.62340" in shared

    other = browser.new_context(viewport={"width": 1000, "height": 700}).new_page()
    try:
        other.goto(shared)
        other.wait_for_function("document.body.dataset.estado === 'listo'", timeout=30_000)
        assert other.evaluate("mapa.getZoom()") == pytest.approx(14.5)
        assert other.evaluate("[mapa.getCenter().lng, mapa.getCenter().lat]") == \
            pytest.approx([-71.6234, -33.5801], abs=1e-5)
        assert visible_layers(other) == {"comunas", "parcels", "dem", "zoning"}
        assert other.locator("#filtro-etapa").input_value() == "diseño"
        assert other.locator("#filtro-fuentes").input_value() == "FNDR"
    finally:
        other.context.close()

    page.evaluate("location.hash = '#mapa=13/-33.59/-71.6&capas=projects'")
    page.wait_for_function("mapa.getZoom() === 13")
    assert visible_layers(page) == {"projects"}


# -- project filters --------------------------------------------------------------------------

def test_project_filters_reduce_the_rendered_projects(page: Any, server: str) -> None:
    open_map(page, server, "#mapa=12/-33.59/-71.6&capas=projects")
    layer = get_layer("projects")
    assert isinstance(layer, VectorLayer)
    for name in PROJECT_FILTERS:
        assert page.locator(f"[id^=filtro-{name}]").count() >= 1, name
    stages = page.locator("#filtro-etapa option").all_inner_texts()
    assert stages == ["Cualquiera", *layer.field("etapa").choices]  # type: ignore[misc]

    everything = page.evaluate(RENDERED_PROJECTS)
    assert len(everything) > 20
    counts: dict[str, int] = {}
    for props in everything:
        counts[props["etapa"]] = counts.get(props["etapa"], 0) + 1
    stage = min(counts, key=lambda k: counts[k])
    page.locator("#filtro-etapa").select_option(stage)
    page.evaluate(IDLE)
    filtered = page.evaluate(RENDERED_PROJECTS)
    assert 0 < len(filtered) < len(everything)
    assert {p["etapa"] for p in filtered} == {stage} and len(filtered) == counts[stage]
    assert f"etapa={stage}" in page.evaluate("decodeURIComponent(location.hash)")

    page.locator("#filtros-proyectos button[type=reset]").click()
    page.locator("#filtro-anio-desde").fill("2024")
    page.locator("#filtro-anio-desde").dispatch_event("change")
    page.evaluate(IDLE)
    recent = page.evaluate(RENDERED_PROJECTS)
    assert recent and all(p["anio"] >= 2024 for p in recent)
    assert len(recent) == sum(1 for p in everything if p["anio"] >= 2024)

    page.locator("#filtros-proyectos button[type=reset]").click()
    page.evaluate(IDLE)
    assert len(page.evaluate(RENDERED_PROJECTS)) == len(everything)


# -- rasters ------------------------------------------------------------------------------------

def test_hazard_raster_toggles_with_opacity(page: Any, server: str) -> None:
    open_map(page, server, "#mapa=12/-33.62/-71.6&capas=comunas")
    before = decode_png(page.locator("#mapa canvas").screenshot())
    page.locator("input[data-capa=tsunami_depth]").check()
    page.evaluate(IDLE)
    assert page.evaluate("mapa.getLayoutProperty('raster-tsunami_depth', 'visibility')") \
        == "visible"
    item = page.locator(".capa", has=page.locator("input[data-capa=tsunami_depth]"))
    assert item.locator(".leyenda-rampa").is_visible()
    slider = item.locator("input[type=range]")
    slider.evaluate("(s) => { s.value = 30; s.dispatchEvent(new Event('input')); }")
    assert page.evaluate("mapa.getPaintProperty('raster-tsunami_depth', 'raster-opacity')") \
        == pytest.approx(0.3)
    assert item.locator("output").inner_text() == "30 %"
    page.evaluate(IDLE)
    after = decode_png(page.locator("#mapa canvas").screenshot())
    assert (np.abs(after.astype(int) - before.astype(int)).sum(axis=0) > 30).sum() > 1000
    assert page.failed_requests == []


# -- measurement ------------------------------------------------------------------------------

GEOD = Geod(ellps="WGS84")
LINE = [(-71.6300, -33.5600), (-71.6050, -33.5720), (-71.5700, -33.6300)]
RING = [(-71.6200, -33.5800), (-71.6000, -33.5810), (-71.5950, -33.6000),
        (-71.6180, -33.6050)]


def test_measure_formulas_agree_with_geodesics(page: Any, server: str) -> None:
    open_map(page, server, LIGHT, idle=False)
    length, area = page.evaluate("""async ([line, ring]) => {
        const m = await import('/static/mapa-measure.js');
        return [m.lineLength(line), m.polygonArea(ring)];
    }""", [LINE, RING])
    lons, lats = zip(*LINE, strict=True)
    assert length == pytest.approx(GEOD.line_length(lons, lats), rel=1e-4)
    lons, lats = zip(*RING, strict=True)
    geodesic_area, _ = GEOD.polygon_area_perimeter(lons, lats)
    assert area == pytest.approx(abs(geodesic_area), rel=1e-4)


def chilean_number(text: str) -> float:
    return float(text.replace(".", "").replace(",", "."))


def test_measuring_distance_and_area_on_the_map(page: Any, server: str) -> None:
    open_map(page, server, LIGHT)
    page.locator("#medir-distancia").click()
    assert page.locator("#medir-distancia").get_attribute("aria-pressed") == "true"
    a, b = screen_position(page, *LINE[0]), screen_position(page, *LINE[1])
    page.mouse.click(*a)
    page.mouse.dblclick(*b)
    text = page.locator("#medicion .resultado").inner_text()
    found = re.fullmatch(r"Distancia: ([\d.,]+) (k?m)", text)
    assert found, text
    metres = chilean_number(found[1]) * (1000 if found[2] == "km" else 1)
    expected = GEOD.line_length([LINE[0][0], LINE[1][0]], [LINE[0][1], LINE[1][1]])
    assert metres == pytest.approx(expected, rel=0.01)  # clicks land on whole pixels
    assert page.locator(".maplibregl-popup").count() == 0

    page.locator("#medir-area").click()
    for lon, lat in RING[:-1]:
        page.mouse.click(*screen_position(page, lon, lat))
    page.mouse.dblclick(*screen_position(page, *RING[-1]))
    text = page.locator("#medicion .resultado").inner_text()
    found = re.match(r"Área: ([\d.,]+) ha", text)
    assert found, text
    geodesic_area, _ = GEOD.polygon_area_perimeter(*zip(*RING, strict=True))
    assert chilean_number(found[1]) * 10_000 == pytest.approx(abs(geodesic_area), rel=0.01)
    page.locator("#medicion button", has_text="Borrar medición").click()
    assert page.locator("#medicion").is_hidden()


# -- PNG export -----------------------------------------------------------------------------------

def test_export_png_of_the_current_view(page: Any, server: str) -> None:
    open_map(page, server)
    with page.expect_download() as download:
        page.locator("#exportar-png").click()
    assert re.fullmatch(r"mapa-san-antonio-\d{4}-\d\d-\d\d-\d\d-\d\d\.png",
                        download.value.suggested_filename)
    with open(download.value.path(), "rb") as f:
        image = decode_png(f.read())
    width, height = page.evaluate("[mapa.getCanvas().width, mapa.getCanvas().height]")
    assert image.shape[2] == width and image.shape[1] > height
    map_part = image[:, :height]
    assert distinct_colours(map_part) > 50, "the exported map is blank"
    assert page.failed_requests == []


@pytest.mark.parametrize("layer", sorted(lyr.name for lyr in vector_layers()))
def test_each_layer_renders_from_its_vector_tiles_with_its_style(page: Any, server: str,
                                                                 api_settings,  # type: ignore[no-untyped-def]
                                                                 layer: str) -> None:
    """MapLibre draws every layer from the vector tiles with the style made for it."""
    lon, lat = query(api_settings, "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Transform("  # noqa: S608
                     f"ST_PointOnSurface(geom), 4326) AS p FROM layers.{layer} "
                     "ORDER BY fid LIMIT 1) AS s")[0]
    zoom = max(15, get_layer(layer).style.min_zoom)  # type: ignore[union-attr]
    open_map(page, server, f"#mapa={zoom}/{lat:.6f}/{lon:.6f}&capas={layer}")
    drawn = page.evaluate("""(name) => {
        const ids = mapa.getStyle().layers
            .filter(l => l.metadata?.['secplac:capa'] === name).map(l => l.id);
        const feats = mapa.queryRenderedFeatures({ layers: ids });
        return { ids: ids.length, feats: feats.length,
                 sourceLayers: [...new Set(feats.map(f => f.sourceLayer))] };
    }""", layer)
    assert drawn["ids"] > 0 and drawn["feats"] > 0, drawn
    assert drawn["sourceLayers"] == [layer]
    assert page.failed_requests == []

"""Map pages (/mapas/...) over real HTTP, rendered offline in Chromium."""

from __future__ import annotations

import httpx
import pytest

from gis.maps import layer_map
from gis.settings import Settings
from tests.conftest import query
from tests.samples import sample_zones

HOSTILE = "<img src=x onerror=\"window.__pwned=1\"><script>window.__pwned=2</script>"


def open_map(page, url: str, *, features: bool = True) -> list[str]:  # type: ignore[no-untyped-def]
    """Open a map page; the script errors it raised (kept up to date by the listener)."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    page.wait_for_selector(".leaflet-container .secplac-legend")
    if features:
        page.wait_for_function(
            "document.querySelectorAll('path.leaflet-interactive').length > 0")
    page.wait_for_load_state("networkidle")
    return errors


def click_map_centre(page) -> None:  # type: ignore[no-untyped-def]
    box = page.locator(".folium-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


@pytest.fixture(scope="module")
def point_project(api_settings: Settings) -> tuple[str, str]:
    [(code, name)] = query(api_settings, "SELECT codigo, nombre FROM layers.projects "
                           "WHERE GeometryType(geom) LIKE '%%POINT' ORDER BY codigo LIMIT 1")
    return code, name


def test_zoning_map_renders_offline_with_its_legend(page, server: str) -> None:  # type: ignore[no-untyped-def]
    errors = open_map(page, f"{server}/mapas/zoning")
    assert page.title() == "Zonificación Plan Regulador Comunal"
    assert page.locator("path.leaflet-interactive").count() >= 40
    legend = page.locator(".secplac-legend")
    assert legend.is_visible()
    assert legend.get_by_text("Zonificación Plan Regulador Comunal").is_visible()
    assert legend.get_by_text("Residencial", exact=True).is_visible()
    assert page.locator(".secplac-map-title").inner_text() == "Zonificación Plan Regulador Comunal"
    assert page.failed_requests == [] and errors == []


def test_a_map_without_features_still_opens(page, server: str) -> None:  # type: ignore[no-untyped-def]
    errors = open_map(page, f"{server}/mapas/projects?codigo=NO-EXISTE", features=False)
    assert page.locator(".secplac-legend").get_by_text("Sin entidades en el área").is_visible()
    assert page.failed_requests == [] and errors == []


def test_project_map_shows_the_project_over_the_zoning(  # type: ignore[no-untyped-def]
        page, server: str, point_project: tuple[str, str]) -> None:
    code, name = point_project
    errors = open_map(page, f"{server}/mapas/proyectos/{code}")
    assert code in page.title() and name in page.title()
    titles = page.locator(".secplac-legend h4").all_inner_texts()
    # Leaflet stacks bottom controls upwards: the last layer's legend comes first.
    assert titles == ["Proyectos de inversión", "Zonificación Plan Regulador Comunal"]
    click_map_centre(page)  # the map opens centred on the project's marker
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert "Código (BIP o municipal)" in popup.inner_text()
    assert code in popup.inner_text()
    assert page.failed_requests == [] and errors == []


def test_hostile_attribute_is_shown_as_text_never_run(  # type: ignore[no-untyped-def]
        page, server: str) -> None:
    zones = sample_zones().rename(columns={"COD_ZONA": "codigo", "NOM_ZONA": "nombre",
                                           "TIPO_ZONA": "familia"}).iloc[[0]]
    zones.loc[zones.index[0], "nombre"] = HOSTILE
    m = layer_map(zones, layer="zoning", base=(), assets="local",
                  vendor_url=f"{server}/vendor")
    page.set_content(m.get_root().render())
    page.wait_for_function("document.querySelectorAll('path.leaflet-interactive').length > 0")
    click_map_centre(page)
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert HOSTILE in popup.inner_text()
    assert popup.locator("img, script").count() == 0
    assert page.evaluate("window.__pwned") is None
    assert page.failed_requests == []


def test_filter_on_a_declared_field(http: httpx.Client) -> None:
    response = http.get("/mapas/zoning", params={"familia": "residencial"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "<title>Zonificación Plan Regulador Comunal — Tipo de zona: residencial</title>" in html
    assert "#f6d55c" in html and "#e4572e" not in html  # residencial yes, centro no
    assert "https://" not in html.split("<script>", 1)[0]  # no CDN link in the head

    both = http.get("/mapas/zoning?familia=residencial&familia=centro")
    assert both.status_code == 200 and "#e4572e" in both.text

    at_risk = http.get("/mapas/zoning", params={"areas_riesgo": "tsunami"})  # a list field
    assert at_risk.status_code == 200
    assert "Áreas de riesgo (OGUC 2.1.17): tsunami" in at_risk.text


@pytest.mark.parametrize(("url", "message"), [
    ("/mapas/zoning?no_existe=1", "no tiene el campo «no_existe»"),
    ("/mapas/zoning?bbox=1,2,3", "bbox mal formado"),
    ("/mapas/zoning?bbox=-71.5,-33.6,-71.6,-33.5", "bbox fuera de rango o invertido"),
    ("/mapas/projects?monto_clp=mucho", "Valor no válido para «Costo total»"),
    ("/mapas/parcels", "demasiado densa"),
])
def test_bad_requests_are_spanish_400s(http: httpx.Client, url: str, message: str) -> None:
    response = http.get(url)
    assert response.status_code == 400
    assert message in response.json()["description"]


def test_dense_layer_needs_a_small_area(http: httpx.Client, api_settings: Settings) -> None:
    [(lon, lat)] = query(api_settings, "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Transform("
                         "ST_PointOnSurface(geom), 4326) p FROM layers.parcels "
                         "ORDER BY fid LIMIT 1) s")
    small = f"{lon - 0.002},{lat - 0.002},{lon + 0.002},{lat + 0.002}"
    response = http.get("/mapas/parcels", params={"bbox": small})
    assert response.status_code == 200
    assert "Catastro de predios" in response.text
    assert len(response.content) < 5_000_000

    whole = http.get("/mapas/parcels", params={"bbox": "-71.75,-33.75,-71.45,-33.45"})
    assert whole.status_code == 400
    assert "entidades; el máximo es 3.000" in whole.json()["description"]


@pytest.mark.parametrize(("url", "message"), [
    ("/mapas/no_existe", "La capa «no_existe» no existe."),
    ("/mapas/dem", "La capa «dem» es raster"),
    ("/mapas/proyectos/NO-EXISTE-1",
     "El proyecto «NO-EXISTE-1» no existe en la cartera de inversión."),
])
def test_unknown_maps_are_spanish_404s(http: httpx.Client, url: str, message: str) -> None:
    response = http.get(url)
    assert response.status_code == 404
    assert response.json()["description"].startswith(message)

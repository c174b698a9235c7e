"""/inversion/... over the demo data: properties that hold whatever the demo portfolio is,
and the choropleth page in Debian's Chromium."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import httpx
import pytest

from layers.planning_sectors import LOCALITIES
from tests.conftest import query

SCREENSHOT = Path(tempfile.gettempdir()) / "inversion-mapa.png"
IDLE = "() => new Promise(r => { mapa.once('idle', r); mapa.triggerRepaint(); })"
RENDERED = """() => {
    const seen = new Set();
    for (const f of mapa.queryRenderedFeatures({ layers: ['inversion-relleno'] })) {
        seen.add(f.properties.codigo);
    }
    return [...seen];
}"""


def portfolio_total(settings: Any) -> tuple[int, int]:
    """(money of every funding row: approved or else requested, approved) of the demo."""
    row = query(settings, "SELECT coalesce(sum(CASE WHEN aprobado > 0 THEN aprobado "
                "ELSE solicitado END), 0), coalesce(sum(aprobado), 0) "
                "FROM cartera.financiamiento")[0]
    return int(row[0]), int(row[1])


def test_territory_geojson_by_sector_and_census_zone(http: httpx.Client, api_settings: Any
                                                     ) -> None:
    r = http.get("/inversion/territorio", params={"unidad": "sector"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/geo+json")
    data = r.json()
    assert data["type"] == "FeatureCollection" and data["unidad"] == "sector"
    features = data["features"]
    assert {f["properties"]["nombre"] for f in features} <= set(LOCALITIES)
    assert len(features) == query(api_settings, "SELECT count(*) FROM "
                                  "layers.planning_sectors")[0][0]
    props = [f["properties"] for f in features]
    assert sorted(p["ranking"] for p in props) == list(range(1, len(props) + 1))
    assert all(p["monto_clp"] >= 0 and 0 <= p["indice_necesidad"] <= 1 for p in props)
    total, _ = portfolio_total(api_settings)
    attributed = sum(p["monto_clp"] for p in props)
    assert 0 < attributed <= total + len(props)  # rounding of each unit
    lon, lat = features[0]["geometry"]["coordinates"][0][0][0][:2]
    assert -72 < lon < -71 and -34.2 < lat < -33.3
    legend = data["leyenda"]
    assert legend["columna"] == "monto_por_habitante" and legend["clases"]
    assert all(c["desde"] <= c["hasta"] for c in legend["clases"])

    zones = http.get("/inversion/territorio", params={"unidad": "zona_censal"}).json()
    census = query(api_settings, "SELECT count(*), sum(poblacion) FROM layers.census_zones")[0]
    assert len(zones["features"]) == census[0]
    assert sum(f["properties"]["poblacion"] for f in zones["features"]) == census[1]
    # sectors share the census population out: never more than the census counted
    assert sum(p["poblacion"] for p in props) <= census[1] + 1


def test_filters_narrow_the_money(http: httpx.Client, api_settings: Any) -> None:
    year, source = query(api_settings, "SELECT anio, fuente FROM cartera.financiamiento "
                         "GROUP BY 1, 2 ORDER BY count(*) DESC, 1, 2 LIMIT 1")[0]
    every = http.get("/inversion/territorio").json()["features"]
    some = http.get("/inversion/territorio", params={"anio": year, "fuente": source}).json()
    assert some["filtros"] == {"anio": year, "fuente": source}
    by_code = {f["id"]: f["properties"]["monto_clp"] for f in every}
    for f in some["features"]:
        assert f["properties"]["monto_clp"] <= by_code[f["id"]] + 1
    assert sum(f["properties"]["monto_clp"] for f in some["features"]) < sum(by_code.values())


def test_breakdown_adds_up_to_the_territory(http: httpx.Client) -> None:
    units = {f["id"]: f["properties"]["monto_clp"]
             for f in http.get("/inversion/territorio").json()["features"]}
    r = http.get("/inversion/desglose", params={"unidad": "sector", "por": "fuente"})
    assert r.status_code == 200, r.text
    rows = r.json()["filas"]
    assert rows and set(rows[0]) == {"codigo", "nombre", "fuente", "monto_clp",
                                     "monto_por_habitante"}
    for code, money in units.items():
        parts = sum(row["monto_clp"] for row in rows if row["codigo"] == code)
        assert parts == pytest.approx(money, abs=10)


def test_ranking_is_sorted_and_execution_totals_agree(http: httpx.Client,
                                                      api_settings: Any) -> None:
    ranking = http.get("/inversion/ranking", params={"unidad": "zona_censal"}).json()
    assert [row["ranking"] for row in ranking["filas"]] == list(
        range(1, len(ranking["filas"]) + 1))
    assert ranking["columnas"]["ranking"].startswith("Prioridad")
    _, approved = portfolio_total(api_settings)
    for por in ("anio", "eje_pladeco", "sector", "fuente", "territorio"):
        r = http.get("/inversion/ejecucion", params={"por": por})
        assert r.status_code == 200, (por, r.text)
        body = r.json()
        assert body["por"] == por and body["filas"]
        assert abs(body["total"]["aprobado"] - approved) <= len(body["filas"]), por
        for row in body["filas"]:
            assert por in row and row["n_proyectos"] >= 1
            if row["aprobado"]:
                assert row["pct_ejecucion"] == round(100 * row["ejecutado"] / row["aprobado"], 1)
            else:
                assert row["pct_ejecucion"] is None
    svg = http.get("/inversion/ejecucion.svg", params={"por": "fuente"})
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert "Aprobado" in svg.text and "Ejecutado" in svg.text and "fuente" in svg.text


@pytest.mark.parametrize(("path", "params", "listed"), [
    ("/inversion/territorio", {"unidad": "comuna"}, "sector, zona_censal, zona_prc"),
    ("/inversion/territorio", {"fuente": "BID"}, "FNDR"),
    ("/inversion/ranking", {"etapa": "obra"}, "prefactibilidad"),
    ("/inversion/desglose", {"por": "mes"}, "fuente, sector, anio, etapa"),
    ("/inversion/ejecucion", {"por": "mes"}, "eje_pladeco"),
    ("/inversion/ejecucion.svg", {"por": "mes"}, "territorio"),
    ("/inversion/territorio", {"columna": "nombre"}, "monto_por_habitante"),
])
def test_unknown_values_are_400_in_spanish(http: httpx.Client, path: str,
                                           params: dict[str, str], listed: str) -> None:
    r = http.get(path, params=params)
    assert r.status_code == 400, r.text
    body = r.json()
    assert "no es un valor válido" in body["description"]
    assert listed in body["hint"]


def test_folium_map_is_served_locally(http: httpx.Client) -> None:
    r = http.get("/inversion/mapa-folium", params={"unidad": "zona_prc"})
    assert r.status_code == 200, r.text
    head = r.text.split("<body>")[0]
    assert "/vendor/leaflet/" in head and "https://" not in head
    assert "Inversión por habitante (CLP) por zona del prc" in r.text
    assert "secplac-legend" in r.text


def test_choropleth_page_draws_units_legend_and_switches_unit(page: Any, server: str,
                                                               api_settings: Any) -> None:
    page.goto(f"{server}/inversion/mapa")
    page.wait_for_function("document.body.dataset.estado === 'listo'", timeout=30_000)
    page.evaluate(IDLE)
    sectors = page.evaluate(RENDERED)
    n_sectors = query(api_settings, "SELECT count(*) FROM layers.planning_sectors")[0][0]
    assert 0 < len(sectors) <= n_sectors
    legend = page.locator("#leyenda li")
    assert legend.count() >= 2
    colours = page.evaluate("JSON.stringify(mapa.getPaintProperty('inversion-relleno', "
                            "'fill-color'))")
    assert colours.count("#") >= 3, colours  # a step expression over the legend's classes
    assert page.locator("#leyenda").inner_text().startswith("Inversión por habitante")
    assert page.locator("#ranking tbody tr").count() == n_sectors
    assert page.locator("#grafico-ejecucion").evaluate("img => img.complete && "
                                                       "img.naturalWidth > 0")

    page.select_option("#unidad", "zona_censal")
    page.wait_for_function("document.body.dataset.unidad === 'zona_censal' && "
                           "!document.body.dataset.cargando", timeout=30_000)
    page.evaluate(IDLE)
    zones = page.evaluate(RENDERED)
    assert zones and all(code.startswith("05601") for code in zones)
    assert page.locator("#ranking tbody tr").count() == query(
        api_settings, "SELECT count(*) FROM layers.census_zones")[0][0]

    lon, lat = query(api_settings, "SELECT ST_X(p), ST_Y(p) FROM layers.census_zones, "
                     "ST_Transform(ST_PointOnSurface(geom), 4326) AS p "
                     "ORDER BY ST_Area(geom) DESC LIMIT 1")[0]
    x, y = page.evaluate("""([lon, lat]) => {
        const p = mapa.project([lon, lat]);
        const box = mapa.getContainer().getBoundingClientRect();
        return [p.x + box.left, p.y + box.top];
    }""", [lon, lat])
    page.mouse.click(x, y)
    page.wait_for_selector(".ficha-inversion", timeout=10_000)
    assert "Inversión por habitante" in page.locator(".ficha-inversion").inner_text()
    page.screenshot(path=str(SCREENSHOT))
    assert page.failed_requests == []


def test_folium_page_draws_in_the_browser_offline(page: Any, server: str) -> None:
    page.goto(f"{server}/inversion/mapa-folium?unidad=sector")
    page.wait_for_selector(".secplac-legend", timeout=30_000)
    assert page.locator(".secplac-legend li").count() >= 2
    assert page.locator("path.leaflet-interactive").count() > 0
    assert page.failed_requests == []

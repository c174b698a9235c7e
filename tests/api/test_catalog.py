"""Landing page and layer catalog over real HTTP."""

from __future__ import annotations

import httpx

from layers import REGISTRY


def test_landing_page_lists_layers_in_spanish(http: httpx.Client) -> None:
    page = http.get("/", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert '<html lang="es-CL">' in html
    for layer in REGISTRY.values():
        assert layer.title in html
    assert "datos de demostración" in html
    assert "Territorio y población" in html


def test_layer_list_json(http: httpx.Client) -> None:
    layers = http.get("/capas").json()
    assert {lyr["nombre"] for lyr in layers} == set(REGISTRY)
    parcels = next(lyr for lyr in layers if lyr["nombre"] == "parcels")
    assert parcels["version_vigente"]["entidades"] >= 29_700
    assert parcels["version_vigente"]["crs"] == "EPSG:32719"
    assert parcels["version_vigente"]["datos_de_demostracion"] is True
    assert {c["nombre"] for c in parcels["campos"]} >= {"rol", "destino", "avaluo_total"}


def test_layer_history_json(http: httpx.Client) -> None:
    detail = http.get("/capas/zoning").json()
    assert detail["titulo"] == "Zonificación Plan Regulador Comunal"
    assert [v["version"] for v in detail["historial"]] == [1]
    assert detail["historial"][0]["crs_fuente"].startswith("EPSG:24879")


def test_unknown_layer_is_a_spanish_404(http: httpx.Client) -> None:
    response = http.get("/capas/no_existe")
    assert response.status_code == 404
    body = response.json()
    assert body["description"] == "La capa «no_existe» no existe."
    assert "parcels" in body["hint"]


def test_openapi_document(http: httpx.Client) -> None:
    doc = http.get("/openapi.json").json()
    assert "/capas" in doc["paths"]
    assert http.get("/docs").status_code == 200

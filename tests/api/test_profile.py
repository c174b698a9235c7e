"""GET /proyectos/{codigo}/perfil over the demo data."""

from __future__ import annotations

import httpx

SECTIONS = ["proyecto", "zonas_prc", "uso_de_suelo", "predios", "riesgos", "rasters",
            "puerto", "territorio", "poblacion_servida", "proyectos_cercanos"]


def test_profile_of_a_demo_project_has_every_section(http: httpx.Client) -> None:
    items = http.get("/collections/projects/items", params={"limit": 200}).json()
    polygon = next(f for f in items["features"] if f["geometry"]["type"].endswith("Polygon"))
    codigo = polygon["properties"]["codigo"]
    r = http.get(f"/proyectos/{codigo}/perfil")
    assert r.status_code == 200, r.text
    perfil = r.json()
    assert list(perfil) == SECTIONS
    assert perfil["proyecto"]["codigo"] == codigo
    assert perfil["zonas_prc"]["uso_permitido"] in ("permitido", "prohibido", "no indicado")
    assert sum(z["porcentaje"] for z in perfil["zonas_prc"]["zonas"]) <= 100.01
    assert perfil["rasters"]["elevacion"]["celdas"] > 0
    assert perfil["puerto"]["ruta_cercana"]["distancia_m"] >= 0
    assert perfil["poblacion_servida"]["radio_1000_m"]["poblacion"] >= \
        perfil["poblacion_servida"]["radio_500_m"]["poblacion"]
    again = http.get(f"/proyectos/{codigo}/perfil")  # stored now: same answer
    assert again.json() == perfil


def test_unknown_project_is_404_in_spanish(http: httpx.Client) -> None:
    r = http.get("/proyectos/NO-EXISTE-1/perfil")
    assert r.status_code == 404
    assert "no existe" in r.json()["description"]

"""The zoning proposals page (/propuestas/mapa) in Debian's Chromium, the whole path: an
editor logs in, creates a proposal, splits a zone by drawing on the map, changes the new
zone's height and submits it; a reviewer reads the impact and the diff, comments and
approves; an admin applies it; then the tiles and the API serve the new zoning and the
old one is still readable by date. Nothing is loaded from outside this server."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import mapbox_vector_tile
import morecantile
import pytest
import shapely

from gis.auth import create_user, get_user, issue_access_token
from gis.database import connect
from tests.conftest import query

PASSWORD = "clave-de-pagina-123"
PEOPLE = {"dom_pagina": "editor", "asesor_pagina": "revisor", "admin_pagina": "admin"}
READY = ("document.body && document.body.dataset.estado === 'listo' && "
         "document.body.dataset.ocupado === 'no'")
DONE = "document.body.dataset.ocupado === 'no'"
DRAWN = """(source) => new Promise((resolve) => {
    const check = () => {
        if (mapa.isSourceLoaded(source) && !mapa.isMoving()) {
            mapa.once('render', resolve);
            mapa.triggerRepaint();
        } else {
            setTimeout(check, 100);
        }
    };
    setTimeout(check, 100);
})"""
SNAPPING = """async (code) => {
    const { zoneSnapper } = await import('/static/propuestas-dibujo.js');
    const snap = zoneSnapper(mapa, zonasMostradas);
    const zone = zonasMostradas().features.find((f) => f.properties.codigo === code);
    const ring = zone.geometry.type === 'MultiPolygon' ? zone.geometry.coordinates[0][0]
        : zone.geometry.coordinates[0];
    const p = mapa.project(ring[0]);
    const at = { x: p.x + 6, y: p.y - 5 };
    let vertex = null, nearest = Infinity; // brute force: every vertex of every zone
    const vertices = zonasMostradas().features.flatMap((f) =>
        f.geometry.coordinates.flat(f.geometry.type === 'Polygon' ? 1 : 2));
    for (const c of vertices) {
        const d = Math.hypot(mapa.project(c).x - at.x, mapa.project(c).y - at.y);
        if (d < nearest) [vertex, nearest] = [c, d];
    }
    const onVertex = snap({ containerX: at.x, containerY: at.y });
    let a, b, longest = 0;
    for (let i = 1; i < ring.length; i++) {
        const [pa, pb] = [mapa.project(ring[i - 1]), mapa.project(ring[i])];
        const length = Math.hypot(pb.x - pa.x, pb.y - pa.y);
        if (length > longest) [a, b, longest] = [pa, pb, length];
    }
    const [nx, ny] = [-(b.y - a.y) / longest, (b.x - a.x) / longest];
    const q = mapa.project(snap({ containerX: (a.x + b.x) / 2 + 5 * nx,
                                  containerY: (a.y + b.y) / 2 + 5 * ny }));
    const fromEdgePx = Math.abs((q.x - a.x) * nx + (q.y - a.y) * ny);
    return { vertex, onVertex, fromEdgePx };
}"""
"""terra-draw's snapping function: a point 8 px from a zone vertex goes to the nearest
vertex of any zone, a point 5 px off the middle of the zone's longest edge onto the edge."""
"""Wait until one source is loaded and drawn at the current view (not every tile: the
platform's tiles at street level carry the parcels and take long in a software GPU)."""


@pytest.fixture(scope="module")
def people(api_settings) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Editor, reviewer and admin of this module, with an access token each."""
    tokens = {}
    with connect(api_settings) as conn:
        existing = {r[0] for r in conn.execute("SELECT username FROM auth.users")}
        for name, role in PEOPLE.items():
            if name not in existing:
                create_user(conn, name, name.replace("_", " ").title(), role, PASSWORD)
            conn.commit()
            tokens[name] = issue_access_token(api_settings, get_user(conn, name))
    return tokens


def largest_residential_zone(settings) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    code, wkt = query(settings, "SELECT codigo, ST_AsText(ST_Transform(geom, 4326)) "
                      "FROM layers.zoning WHERE familia = 'residencial' "
                      "ORDER BY ST_Area(geom) DESC LIMIT 1")[0]
    zone = shapely.from_wkt(wkt)
    return {"code": code, "zone": zone, "inside": zone.representative_point()}


def log_in(page: Any, server: str, who: str, after: str = "/propuestas/mapa") -> None:
    page.goto(f"{server}/ingresar?next={after.replace('#', '%23')}")
    page.fill("#usuario", who)
    page.fill("#clave", PASSWORD)
    page.click("#entrar")
    page.wait_for_url(re.compile(r".*/propuestas/mapa.*"))
    page.wait_for_function(READY, timeout=30_000)
    assert who in page.locator("#sesion").inner_text()


def log_out(page: Any) -> None:
    page.click("#salir")
    page.wait_for_function(READY, timeout=30_000)
    assert page.locator("#ingresar").is_visible()


def on_page(page: Any, lon: float, lat: float) -> tuple[float, float]:
    """Page coordinates of (lon, lat): map.project plus the map container's offset."""
    x, y = page.evaluate("""([lon, lat]) => {
        const p = mapa.project([lon, lat]);
        const box = mapa.getContainer().getBoundingClientRect();
        return [p.x + box.left, p.y + box.top];
    }""", [lon, lat])
    return x, y


def draw_line(page: Any, start: tuple[float, float], end: tuple[float, float]) -> None:
    """A two-point line with terra-draw: click, click, and click the last point again."""
    page.mouse.click(*start)
    page.mouse.move((start[0] + end[0]) / 2, (start[1] + end[1]) / 2)
    page.mouse.click(*end)
    page.mouse.click(*end)
    page.wait_for_function(DONE)


def changes(page: Any) -> str:
    return page.locator("#n-cambios").inner_text()


def test_edit_review_apply_a_split_in_the_browser(page: Any, server: str, http: httpx.Client,
                                                  people: dict[str, str], api_settings,
                                                  tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    target = largest_residential_zone(api_settings)
    code, zone, inside = target["code"], target["zone"], target["inside"]
    new_code = f"{code}-P"
    expected_errors: list[str] = []

    # -- the editor creates a proposal and selects the zone --------------------------------
    log_in(page, server, "dom_pagina")
    assert page.title() == "Propuestas de zonificación — SECPLAC San Antonio"
    assert page.evaluate("document.documentElement.lang") == "es-CL"
    page.click("#seccion-nueva summary")
    page.fill("#nueva-titulo", f"Dividir {code} y subir la altura")
    page.fill("#nueva-justificacion", "Densificación en torno al nuevo eje de transporte.")
    page.click("#form-nueva button[type=submit]")
    page.wait_for_function("document.body.dataset.estadoPropuesta === 'borrador' && " + DONE)
    proposal_id = int(re.search(r"propuesta=(\d+)", page.url)[1])  # type: ignore[index]
    assert page.locator("#herramientas").is_visible()
    w, s, e, n = zone.bounds
    page.evaluate("(b) => mapa.fitBounds(b, {padding: {top: 100, bottom: 170, left: 80, "
                  "right: 80}, duration: 0})", [[w, s], [e, n]])
    page.evaluate(DRAWN, "zonas")
    page.mouse.click(*on_page(page, inside.x, inside.y))
    page.wait_for_function(f"document.body.dataset.seleccion === '{code}'")
    assert page.locator("#zona-seleccionada h3").inner_text() == f"Zona {code}"
    snapping = page.evaluate(SNAPPING, code)
    assert snapping["onVertex"] == snapping["vertex"]
    assert snapping["fromEdgePx"] < 0.5

    # -- a cut line that misses the zone is refused, in Spanish --------------------------
    page.click("[data-herramienta=dividir]")
    page.fill("#nuevo-codigo", new_code)
    x, _ = on_page(page, inside.x, inside.y)
    _, top = on_page(page, inside.x, n)
    _, bottom = on_page(page, inside.x, s)
    draw_line(page, (x - 60, bottom + 40), (x + 60, bottom + 40))
    error = page.locator("#mensaje")
    assert error.is_visible()
    assert f"La línea de corte no atraviesa la zona «{code}»" in error.inner_text()
    assert changes(page) == "(0)"
    expected_errors.append(f"/propuestas/{proposal_id}/cambios HTTP 422")

    # -- split it with a line across, drawn with snapping on ----------------------------
    draw_line(page, (x, top - 40), (x, bottom + 40))
    page.wait_for_function(f"document.body.dataset.seleccion === '{new_code}'")
    assert changes(page) == "(1)"
    assert page.locator("#mensaje").is_hidden()
    assert "Sin errores de validación" in page.locator("#validacion").inner_text()
    shown = page.evaluate("zonasMostradas().features.map(f => f.properties.codigo)")
    assert {code, new_code} <= set(shown)

    # someone else's write meanwhile (here the same editor through the API): the page's
    # ETag is stale, the server refuses with who did what and the page reloads
    current = http.get(f"/propuestas/{proposal_id}")
    res = http.post(f"/propuestas/{proposal_id}/cambios", json={
        "op": "normas", "codigo": new_code, "normas": {"antejardin": 4.0}}, headers={
        "Authorization": f"Bearer {people['dom_pagina']}", "If-Match": current.headers["etag"]})
    assert res.status_code == 201, res.text
    page.fill("#norma-altura_maxima", "21")
    page.click("#zona-seleccionada button[type=submit]")
    page.wait_for_function(DONE)
    assert "cambió desde que la leyó: dom_pagina hizo «cambio normas" in \
        page.locator("#mensaje").inner_text()
    assert changes(page) == "(2)"
    assert page.locator("#norma-antejardin").input_value() == "4"
    expected_errors.append(f"/propuestas/{proposal_id}/cambios HTTP 412")

    # -- the new zone's height, in the norms form built from the queryables --------------
    assert page.locator("#norma-familia option").count() > 5
    uses = page.locator("#norma-usos_permitidos")
    assert uses.locator("input[type=checkbox]").count() == 19  # the OGUC use classes
    assert "equipamiento salud" in uses.inner_text()
    page.fill("#norma-altura_maxima", "21")
    page.click("#zona-seleccionada button[type=submit]")
    page.wait_for_function("document.getElementById('n-cambios').textContent === '(3)' && "
                           + DONE)
    assert page.locator("#cambios li").last.inner_text().startswith(
        f"normas: {new_code}: Altura máxima de edificación")
    page.click("[data-accion=enviar]")
    page.wait_for_function("document.body.dataset.estadoPropuesta === 'enviada' && " + DONE)
    assert page.locator("#herramientas").is_hidden()
    page.screenshot(path=tmp_path / "editor.png")  # to look at when it fails
    log_out(page)

    # -- the reviewer reads the impact and the diff, comments and approves ---------------
    log_in(page, server, "asesor_pagina")
    page.locator(f".item-propuesta[data-id='{proposal_id}'] .abrir").click()
    page.wait_for_function("document.body.dataset.estadoPropuesta === 'enviada' && " + DONE)
    assert page.locator("#herramientas").is_hidden()
    assert page.locator("[data-accion=aplicar]").is_hidden()
    assert page.locator("[data-accion=enviar]").is_hidden()
    page.click("#seccion-impacto summary")
    page.wait_for_selector("#resumen-impacto")
    page.wait_for_function(DONE)
    assert "La propuesta modifica 2 zona(s)" in page.locator("#resumen-impacto").inner_text()
    assert f"{new_code} creada" in page.locator("#resumen-diferencias").inner_text()
    page.click("#ver-diferencias")
    page.wait_for_function("Number(document.body.dataset.diferencias) >= 2 && " + DONE)
    page.evaluate(DRAWN, "diferencias")
    drawn = page.evaluate("mapa.queryRenderedFeatures({layers: ['diferencias-zonas']})"
                          ".map(f => f.properties.cambio)")
    assert {"creada", "modificada"} <= set(drawn)
    page.click("#seccion-comentarios summary")
    page.fill("#texto-comentario", "Revisado el impacto en predios: conforme.")
    page.click("#form-comentario button[type=submit]")
    page.wait_for_function(DONE)
    assert "conforme" in page.locator("#comentarios").inner_text()
    page.screenshot(path=tmp_path / "revisor.png")  # to look at when it fails
    page.fill("#nota-accion", "Aprobada por el asesor urbanista.")
    page.click("[data-accion=aprobar]")
    page.wait_for_function("document.body.dataset.estadoPropuesta === 'aprobada' && " + DONE)
    log_out(page)

    # -- the admin applies it -------------------------------------------------------------
    log_in(page, server, "admin_pagina", f"/propuestas/mapa#propuesta={proposal_id}")
    page.wait_for_function("document.body.dataset.estadoPropuesta === 'aprobada'")
    page.click("[data-accion=aplicar]")
    page.wait_for_function("document.body.dataset.estadoPropuesta === 'aplicada' && " + DONE,
                           timeout=60_000)
    applied = http.get(f"/propuestas/{proposal_id}").json()
    assert f"la versión {applied['version_aplicada']}" in page.locator("#mensaje").inner_text()

    # the map's tiles now draw the new zone
    page.click("#cerrar-propuesta")
    page.evaluate(DRAWN, "secplac")
    in_tiles = page.evaluate(f"""mapa.querySourceFeatures('secplac', {{sourceLayer: 'zoning',
        filter: ['==', ['get', 'codigo'], '{new_code}']}}).length""")
    assert in_tiles > 0

    # the time slider shows the zoning before the change
    page.click("#seccion-historia summary")
    page.evaluate("""() => { const s = document.getElementById('fecha-zonificacion');
        s.value = s.min; s.dispatchEvent(new Event('input'));
        s.dispatchEvent(new Event('change')); }""")
    page.wait_for_function("document.body.dataset.historia?.endsWith('Z') && " + DONE)
    assert "versión 1" in page.locator("#vista").inner_text()
    old_codes = page.evaluate("zonasMostradas().features.map(f => f.properties.codigo)")
    assert code in old_codes and new_code not in old_codes
    page.screenshot(path=tmp_path / "historia.png")  # to look at when it fails
    unexpected = [r for r in page.failed_requests
                  if not any(r.endswith(x) for x in expected_errors)]
    assert unexpected == []
    assert len(page.failed_requests) == len(expected_errors)

    # -- the API serves the new zoning, the tiles contain it, and the old one by date -----
    now = http.get("/collections/zoning/items", params={"filter": f"codigo = '{new_code}'"})
    assert now.json()["numberMatched"] == 1
    assert now.json()["features"][0]["properties"]["altura_maxima"] == 21.0
    assert now.json()["features"][0]["properties"]["antejardin"] == 4.0
    piece = shapely.geometry.shape(now.json()["features"][0]["geometry"]).representative_point()
    tile = morecantile.tms.get("WebMercatorQuad").tile(piece.x, piece.y, 14)
    body = http.get(f"/collections/zoning/tiles/WebMercatorQuad/{tile.z}/{tile.y}/{tile.x}")
    codes = {f["properties"]["codigo"] for f in
             mapbox_vector_tile.decode(body.content)["zoning"]["features"]}
    assert new_code in codes
    valid_from = query(api_settings, "SELECT valid_from FROM catalog.layer_versions WHERE "
                       "layer = 'zoning' AND version = %s", (applied["version_aplicada"],))[0][0]
    before = (valid_from - timedelta(milliseconds=500)).isoformat()
    old = http.get("/collections/zoning/items", params={"datetime": before, "limit": 10000})
    old_zones = {f["properties"]["codigo"]: f for f in old.json()["features"]}
    assert new_code not in old_zones
    old_area = shapely.geometry.shape(old_zones[code]["geometry"]).area
    assert old_area == pytest.approx(zone.area, rel=1e-6)


def test_landing_page_links_to_the_proposals_page(http: httpx.Client) -> None:
    page = http.get("/", headers={"Accept": "text/html"}).text
    assert 'href="/propuestas/mapa"' in page

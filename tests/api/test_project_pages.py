"""The investment projects page (/proyectos/mapa) in Debian's Chromium: the map and the
table filtered by funding source and stage give exactly what the API gives; a project's
panel shows its territorial profile as the API computes it; an editor creates a project
with the form and a polygon drawn on the map; bad input is explained next to its field and
saves nothing; a concurrent edit is refused with the conflict message; a reviewer attaches
a file and deletes a project. Nothing is loaded from outside this server.

The portfolio is read from the API (never hard-coded): the demo data may change."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import shapely

from gis.auth import create_user, get_user, issue_access_token
from gis.database import connect
from gis.portfolio.codes import check_digit
from gis.portfolio.record import INPUT_FIELDS
from tests.conftest import query

PASSWORD = "clave-de-cartera-123"
PEOPLE = {"editora_cartera": "editor", "revisor_cartera": "revisor"}
READY = ("document.body && document.body.dataset.estado === 'listo' && "
         "document.body.dataset.ocupado === 'no'")
DONE = "document.body.dataset.ocupado === 'no'"
PROJECT_LAYERS = ("mapa.getStyle().layers.filter(l => l.metadata?.['secplac:capa'] === "
                  "'projects').map(l => l.id)")
RENDERED = f"""() => [...new Set(mapa.queryRenderedFeatures({{ layers: {PROJECT_LAYERS} }})
    .map(f => f.properties.codigo))]"""
IDLE = """() => new Promise((resolve) => {
    const check = () => {
        if (mapa.isSourceLoaded('projects') && !mapa.isMoving()) {
            mapa.once('render', resolve);
            mapa.triggerRepaint();
        } else {
            setTimeout(check, 100);
        }
    };
    setTimeout(check, 100);
})"""
"""Wait until the projects' tiles are loaded and drawn at the current view."""


@pytest.fixture(scope="module")
def people(api_settings) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """An editor and a reviewer of this module, with an access token each."""
    tokens = {}
    with connect(api_settings) as conn:
        existing = {r[0] for r in conn.execute("SELECT username FROM auth.users")}
        for name, role in PEOPLE.items():
            if name not in existing:
                create_user(conn, name, name.replace("_", " ").title(), role, PASSWORD)
            conn.commit()
            tokens[name] = issue_access_token(api_settings, get_user(conn, name))
    return tokens


@pytest.fixture
def created(http: httpx.Client, people: dict[str, str]) -> Iterator[list[str]]:
    """Codes of the projects a test creates; they are deleted afterwards (the demo
    portfolio is shared with the other API tests)."""
    codes: list[str] = []
    yield codes
    for code in codes:
        http.delete(f"/proyectos/{code}", headers={
            "Authorization": f"Bearer {people['revisor_cartera']}", "If-Match": "*"})


def auth(people: dict[str, str], who: str, etag: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {people[who]}"}
    if etag:
        headers["If-Match"] = etag
    return headers


def free_code(http: httpx.Client, start: int) -> str:
    """A valid BIP code not in the portfolio."""
    for number in range(start, start + 1000):
        code = f"{number}-{check_digit(number)}"
        if http.get(f"/proyectos/{code}").status_code == 404:
            return code
    raise AssertionError("no free BIP code")


def inside_the_comuna(settings) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """A point (lon, lat) in the most populated census zone: well inside the comuna."""
    lon, lat = query(settings, "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Transform("
                     "ST_PointOnSurface(geom), 4326) AS p FROM layers.census_zones "
                     "ORDER BY poblacion DESC LIMIT 1) AS s")[0]
    return float(lon), float(lat)


def log_in(page: Any, server: str, who: str, after: str = "/proyectos/mapa") -> None:
    page.goto(f"{server}/ingresar?next={after.replace('?', '%3F').replace('=', '%3D')}")
    page.fill("#usuario", who)
    page.fill("#clave", PASSWORD)
    page.click("#entrar")
    page.wait_for_url(re.compile(r".*/proyectos/mapa.*"))
    page.wait_for_function(READY, timeout=30_000)
    assert who in page.locator("#sesion").inner_text()


def open_page(page: Any, server: str, query_string: str = "") -> None:
    page.goto(f"{server}/proyectos/mapa{query_string}")
    page.wait_for_function(READY, timeout=30_000)


def on_page(page: Any, lon: float, lat: float) -> tuple[float, float]:
    """Page coordinates of (lon, lat): map.project plus the map container's offset."""
    x, y = page.evaluate("""([lon, lat]) => {
        const p = mapa.project([lon, lat]);
        const box = mapa.getContainer().getBoundingClientRect();
        return [p.x + box.left, p.y + box.top];
    }""", [lon, lat])
    return x, y


def table_codes(page: Any) -> list[str]:
    return page.evaluate("[...document.querySelectorAll('#tabla-proyectos tbody tr')]"
                         ".map(tr => tr.dataset.codigo)")


def api_codes(http: httpx.Client, **filters: str) -> list[str]:
    rows = http.get("/proyectos", params=filters).json()["proyectos"]
    return [r["codigo"] for r in rows]


def show_whole_comuna(page: Any, settings) -> None:  # type: ignore[no-untyped-def]
    w, s, e, n = query(settings, "SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) "
                       "FROM (SELECT ST_Transform(ST_SetSRID(ST_Extent(geom)::geometry, "
                       "32719), 4326) AS b FROM layers.projects) AS s")[0]
    page.evaluate("(b) => mapa.fitBounds(b, {padding: 20, duration: 0})", [[w, s], [e, n]])
    page.evaluate(IDLE)


def fill_form(page: Any, fields: dict[str, str]) -> None:
    for name, value in fields.items():
        control = page.locator(f"#campo-{name}")
        if control.evaluate("e => e.tagName") == "SELECT":
            control.select_option(value)
        else:
            control.fill(value)


def fill_funding(page: Any, rows: list[dict[str, str]]) -> None:
    for i, row in enumerate(rows):
        if i >= page.locator("#editor-financiamiento .fila-financiamiento").count():
            page.click("#agregar-fila")
        line = page.locator("#editor-financiamiento .fila-financiamiento").nth(i)
        for column, value in row.items():
            control = line.locator(f"[data-columna={column}]")
            if column == "fuente":
                control.select_option(value)
            else:
                control.fill(value)


def draw_square(page: Any, lon: float, lat: float, half: int = 50) -> None:
    """A polygon with terra-draw: four corners around (lon, lat), then the first again."""
    page.click("[data-modo=polygon]")
    x, y = on_page(page, lon, lat)
    corners = [(x - half, y - half), (x + half, y - half), (x + half, y + half),
               (x - half, y + half)]
    for corner in corners:
        page.mouse.move(*corner)
        page.mouse.click(*corner)
    page.mouse.move(*corners[0])
    page.mouse.click(*corners[0])
    page.wait_for_function("document.body.dataset.partes === '1'")


def unexpected(page: Any, expected: list[str]) -> list[str]:
    return [r for r in page.failed_requests if not any(r.endswith(x) for x in expected)]


# -- the map, the filters and the table ---------------------------------------------------------

def test_filters_by_source_and_stage_give_what_the_api_gives(page: Any, server: str,
                                                              http: httpx.Client,
                                                              api_settings) -> None:  # type: ignore[no-untyped-def]
    open_page(page, server)
    assert page.title() == "Proyectos de inversión — SECPLAC San Antonio"
    assert page.evaluate("document.documentElement.lang") == "es-CL"
    everything = api_codes(http)
    assert len(everything) > 10
    assert table_codes(page) == everything
    show_whole_comuna(page, api_settings)
    rendered = set(page.evaluate(RENDERED))
    assert len(rendered) > 10 and rendered <= set(everything)
    legend = page.locator("#leyenda-mapa").inner_text()
    assert "Ejecución" in legend and "etapa" in legend

    rows = http.get("/proyectos").json()["proyectos"]
    amounts = page.evaluate("[...document.querySelectorAll('#tabla-proyectos tbody tr')].map("
                            "tr => [...tr.querySelectorAll('td.numero')].map(td => "
                            "td.dataset.valor === '' ? null : Number(td.dataset.valor)))")
    assert amounts == [[r["monto_clp"], r["monto_ejecutado_clp"]] for r in rows]
    source = Counter(s for r in rows for s in r["fuentes"] or ()).most_common(1)[0][0]
    page.select_option("#filtro-fuente", source)
    page.wait_for_function(DONE)
    by_source = api_codes(http, fuente=source)
    assert 0 < len(by_source) < len(everything)
    assert table_codes(page) == by_source
    page.evaluate(IDLE)
    on_map = set(page.evaluate(RENDERED))
    assert on_map and on_map <= set(by_source)

    stage = Counter(r["etapa"] for r in rows if source in (r["fuentes"] or ())).most_common(1)
    stage = stage[0][0]
    page.select_option("#filtro-etapa", stage)
    page.wait_for_function(DONE)
    both = api_codes(http, fuente=source, etapa=stage)
    assert 0 < len(both) < len(by_source)
    assert table_codes(page) == both
    page.evaluate(IDLE)
    assert set(page.evaluate(RENDERED)) <= set(both)
    assert f"{len(both)} proyecto(s)" in page.locator("#resumen-lista").inner_text()

    page.click("#filtros button[type=reset]")
    page.wait_for_function(f"document.body.dataset.proyectos === '{len(everything)}'")
    year = Counter(r["anio"] for r in rows if r["anio"]).most_common(1)[0][0]
    page.select_option("#filtro-anio", str(year))
    page.wait_for_function(DONE)
    assert table_codes(page) == [r["codigo"] for r in rows if r["anio"] == year]

    # a row of the table opens the project and zooms to it
    page.click("#filtros button[type=reset]")
    page.wait_for_function(f"document.body.dataset.proyectos === '{len(everything)}'")
    code = everything[len(everything) // 2]
    page.locator(f"#tabla-proyectos tr[data-codigo='{code}']").click()
    page.wait_for_function(f"document.body.dataset.proyecto === '{code}' && " + DONE)
    project = http.get(f"/proyectos/{code}").json()
    assert page.locator("#titulo-proyecto").inner_text() == f"{code} · {project['nombre']}"
    assert page.evaluate("mapa.getZoom()") > 13
    assert f"codigo={code}" in page.url
    assert page.locator("#nuevo-proyecto").is_hidden()  # not logged in: read only
    assert page.locator("#editar-proyecto").count() == 0
    assert page.failed_requests == []


def test_project_panel_shows_funding_and_the_api_profile(page: Any, server: str,
                                                         http: httpx.Client) -> None:
    rows = http.get("/proyectos").json()["proyectos"]
    chosen = None
    for row in rows:
        perfil = http.get(f"/proyectos/{row['codigo']}/perfil").json()
        if perfil["zonas_prc"]["zonas"] and perfil["proyectos_cercanos"]["proyectos"] and \
                perfil["territorio"]["zonas_censales"]:
            chosen = row["codigo"]
            break
    assert chosen, "no project with zones, census zones and neighbours"
    project = http.get(f"/proyectos/{chosen}").json()

    open_page(page, server, f"?codigo={chosen}")  # the deep link opens the panel
    page.wait_for_function(f"document.body.dataset.perfil === '{chosen}'")
    assert page.locator("#titulo-proyecto").inner_text() == f"{chosen} · {project['nombre']}"
    assert page.locator("#enlace-ficha").get_attribute("href").endswith(
        f"/proyectos/{chosen}/ficha")
    assert page.locator("#enlace-ficha-pdf").get_attribute("href").endswith(
        f"/proyectos/{chosen}/ficha.pdf")

    def value(key: str) -> str:
        return page.locator(f"#perfil [data-dato={key}]").get_attribute("data-valor")

    shown_zones = page.evaluate("[...document.querySelectorAll('#perfil-zonas li')].map(li =>"
                                " [li.dataset.zona, Number(li.dataset.porcentaje), "
                                "li.dataset.uso])")
    assert shown_zones == [[z["codigo"], z["porcentaje"], z["uso"]]
                           for z in perfil["zonas_prc"]["zonas"]]
    assert value("uso_permitido") == perfil["zonas_prc"]["uso_permitido"]
    served = perfil["poblacion_servida"]
    assert float(value("poblacion_500")) == served["radio_500_m"]["poblacion"]
    assert float(value("poblacion_1000")) == served["radio_1000_m"]["poblacion"]
    assert int(value("predios")) == perfil["predios"]["total"]
    assert value("banda_camiones") == str(perfil["puerto"]["banda_camiones"]["dentro"]).lower()
    if perfil["puerto"]["ruta_cercana"]:
        assert float(value("distancia_ruta_m")) == perfil["puerto"]["ruta_cercana"]["distancia_m"]
    hazards = page.evaluate("[...document.querySelectorAll('#perfil-riesgos li[data-tipo]')]"
                            ".map(li => [li.dataset.tipo, li.dataset.nivel])")
    assert hazards == [[r["tipo"], r["nivel"]] for r in perfil["riesgos"]["zonas"]]
    census = page.evaluate("[...document.querySelectorAll('#perfil-zonas-censales li')]"
                           ".map(li => li.dataset.geocodigo)")
    assert census == [z["geocodigo"] for z in perfil["territorio"]["zonas_censales"]]
    sectors = page.evaluate("[...document.querySelectorAll('#perfil-sectores li')]"
                            ".map(li => li.dataset.sector)")
    assert sectors == [s["codigo"] for s in perfil["territorio"]["sectores"]]
    nearby = page.evaluate("[...document.querySelectorAll('#perfil-cercanos li')]"
                           ".map(li => [li.dataset.codigo, li.dataset.relacion])")
    assert nearby == [[o["codigo"], o["relacion"]]
                      for o in perfil["proyectos_cercanos"]["proyectos"]]

    totals = page.evaluate("Object.fromEntries([...document.querySelectorAll("
                           "'#tabla-financiamiento tr.total td')].map(td => "
                           "[td.dataset.monto, Number(td.dataset.valor)]))")
    assert totals == project["totales"]
    assert page.locator("#tabla-financiamiento tbody tr").count() == \
        max(1, len(project["financiamiento"]))
    assert page.locator("#historial li").count() == len(project["historial"])

    # a nearby project opens from the profile
    other = perfil["proyectos_cercanos"]["proyectos"][0]["codigo"]
    page.locator(f"#perfil-cercanos li[data-codigo='{other}'] button").click()
    page.wait_for_function(f"document.body.dataset.perfil === '{other}'")
    assert page.locator("#titulo-proyecto").inner_text().startswith(other)
    assert page.failed_requests == []


# -- editing --------------------------------------------------------------------------------------

def test_editor_creates_a_project_with_the_form_and_a_drawn_polygon(
        page: Any, server: str, http: httpx.Client, people: dict[str, str], api_settings,
        created: list[str]) -> None:  # type: ignore[no-untyped-def]
    code = free_code(http, 39_900_001)
    lon, lat = inside_the_comuna(api_settings)
    log_in(page, server, "editora_cartera")
    page.click("#nuevo-proyecto")
    assert page.locator("#herramientas").is_visible()
    # the choices come from the layer declaration
    sectors = page.locator("#campo-sector option").all_inner_texts()[1:]
    declared = next(f for f in INPUT_FIELDS if f.name == "sector").choices
    assert sectors == list(declared or ())
    assert page.locator("#campo-rate option").count() == 7  # «—» and the six RATE results
    fill_form(page, {"codigo": code, "nombre": "Plaza activa de prueba", "sector": "áreas verdes",
                     "etapa": "diseño", "tipo": "proyecto", "situacion": "nueva",
                     "beneficiarios": "1.250", "avance_fisico": "12,5",
                     "fecha_inicio": "2025-03-01", "unidad_responsable": "SECPLAC"})
    fill_funding(page, [
        {"fuente": "FNDR", "anio": "2025", "solicitado": "150.000.000",
         "aprobado": "120.000.000"},
        {"fuente": "municipal", "anio": "2026", "aprobado": "30000000",
         "ejecutado": "35.000.000"},
    ])
    page.evaluate("([lon, lat]) => mapa.jumpTo({center: [lon, lat], zoom: 16})", [lon, lat])
    draw_square(page, lon, lat)
    assert "1 parte(s): polígono" in page.locator("#estado-dibujo").inner_text()
    created.append(code)
    page.click("#guardar-proyecto")
    page.wait_for_function(f"document.body.dataset.proyecto === '{code}' && "
                           "!document.body.dataset.formulario && " + DONE)
    notice = page.locator("#mensaje").inner_text()
    assert f"Proyecto {code} creado" in notice
    assert "municipal 2026: el monto ejecutado ($ 35.000.000) supera el aprobado" in notice

    saved = http.get(f"/proyectos/{code}").json()
    assert saved["nombre"] == "Plaza activa de prueba" and saved["etapa"] == "diseño"
    assert saved["beneficiarios"] == 1250 and saved["avance_fisico"] == 12.5
    assert saved["creado_por"] == "editora_cartera"
    assert [(f["fuente"], f["anio"], f["solicitado"], f["aprobado"], f["ejecutado"])
            for f in saved["financiamiento"]] == [
        ("FNDR", 2025, 150_000_000, 120_000_000, 0),
        ("municipal", 2026, 0, 30_000_000, 35_000_000)]
    polygon = shapely.geometry.shape(saved["geometria"])
    assert polygon.geom_type == "Polygon" and polygon.contains(shapely.Point(lon, lat))
    assert 1_000 < query(api_settings, "SELECT ST_Area(geom) FROM layers.projects "
                         "WHERE codigo = %s", (code,))[0][0] < 100_000
    assert query(api_settings, "SELECT ST_Within(p.geom, c.geom) FROM layers.projects AS p,"
                 " layers.comunas AS c WHERE p.codigo = %s AND c.codigo_comuna = %s",
                 (code, api_settings.comuna_code))[0][0]
    # the panel shows it with its profile and warning; the map draws it from the tiles
    page.wait_for_function(f"document.body.dataset.perfil === '{code}'")
    assert page.locator("#tabla-financiamiento tr.advertencia").count() == 1
    assert code in table_codes(page)
    page.evaluate(IDLE)
    page.wait_for_function(f"({RENDERED})().includes('{code}')")
    assert page.failed_requests == []


def test_bad_input_is_shown_next_to_its_field_and_nothing_is_saved(
        page: Any, server: str, http: httpx.Client, api_settings) -> None:  # type: ignore[no-untyped-def]
    good = free_code(http, 39_800_001)
    number, right = good.split("-")
    wrong = f"{number}-{(int(right) + 1) % 10 if right != 'K' else 0}"
    lon, lat = inside_the_comuna(api_settings)
    before = len(api_codes(http))
    log_in(page, server, "editora_cartera")
    page.click("#nuevo-proyecto")
    fill_form(page, {"codigo": wrong, "nombre": "Proyecto con errores",
                     "sector": "vialidad", "etapa": "idea", "avance_fisico": "140"})
    fill_funding(page, [{"fuente": "PMU", "anio": "2025", "aprobado": "-5"}])
    page.evaluate("([lon, lat]) => mapa.jumpTo({center: [lon, lat], zoom: 16})", [lon, lat])
    page.click("[data-modo=point]")
    page.mouse.click(*on_page(page, lon, lat))
    page.wait_for_function("document.body.dataset.partes === '1'")
    page.click("#guardar-proyecto")
    page.wait_for_selector("#problema-codigo:not([hidden])")
    page.wait_for_function(DONE)
    assert f"no es {wrong[-1]} sino {right}" in page.locator("#problema-codigo").inner_text()
    assert page.locator("#campo-codigo").get_attribute("aria-invalid") == "true"
    assert "supera el máximo 100" in page.locator("#problema-avance_fisico").inner_text()
    funding = page.locator("#editor-financiamiento .problema-fila").inner_text()
    assert "Aprobado: el monto aprobado no puede ser negativo" in funding
    assert "El proyecto no se guardó" in page.locator("#mensaje").inner_text()
    assert page.evaluate("document.body.dataset.formulario") == "nuevo"  # the form stays
    assert len(api_codes(http)) == before
    assert http.get(f"/proyectos/{good}").status_code == 404

    # a location of mixed types is refused before sending
    page.click("[data-modo=linestring]")
    x, y = on_page(page, lon, lat)
    page.mouse.click(x + 40, y)
    page.mouse.click(x + 90, y + 30)
    page.mouse.click(x + 90, y + 30)
    page.wait_for_function("document.body.dataset.partes === '2'")
    page.click("#guardar-proyecto")
    page.wait_for_selector("#problema-geometria:not([hidden])")
    assert "un solo tipo" in page.locator("#problema-geometria").inner_text()
    assert unexpected(page, ["/proyectos HTTP 422"]) == []
    assert len(page.failed_requests) == 1


def test_edit_conflict_shows_the_message_and_keeps_the_other_save(
        page: Any, server: str, http: httpx.Client, people: dict[str, str], api_settings,
        created: list[str]) -> None:  # type: ignore[no-untyped-def]
    code = free_code(http, 39_700_001)
    lon, lat = inside_the_comuna(api_settings)
    body = {"codigo": code, "nombre": "Sede vecinal de prueba", "sector": "equipamiento "
            "comunitario", "etapa": "perfil",
            "financiamiento": [{"fuente": "FRIL", "anio": 2025, "aprobado": 80_000_000}],
            "geometria": {"type": "Point", "coordinates": [lon, lat]}}
    res = http.post("/proyectos", json=body, headers=auth(people, "revisor_cartera"))
    assert res.status_code == 201, res.text
    created.append(code)

    log_in(page, server, "editora_cartera", f"/proyectos/mapa?codigo={code}")
    page.wait_for_function(f"document.body.dataset.perfil === '{code}'")
    assert page.locator("#eliminar-proyecto").count() == 0  # editors do not delete
    page.click("#editar-proyecto")
    assert page.locator("#campo-codigo").get_attribute("readonly") is not None
    assert page.evaluate("document.body.dataset.partes") == "1"  # the point, editable
    page.fill("#campo-nombre", "Sede vecinal (cambio de la editora)")

    # meanwhile the reviewer saves the project through the API
    current = http.get(f"/proyectos/{code}")
    theirs = {**body, "nombre": "Sede vecinal (cambio del revisor)", "etapa": "diseño"}
    del theirs["geometria"]
    res = http.put(f"/proyectos/{code}", json=theirs,
                   headers=auth(people, "revisor_cartera", current.headers["etag"]))
    assert res.status_code == 200, res.text

    page.click("#guardar-proyecto")
    page.wait_for_selector("#recargar-proyecto")
    page.wait_for_function(DONE)
    text = page.locator("#mensaje").inner_text()
    assert "Conflicto de edición: revisor_cartera guardó el proyecto" in text
    assert "Vuelva a cargar el proyecto" in text
    assert page.evaluate("document.body.dataset.formulario") == "editar"  # edits kept
    after = http.get(f"/proyectos/{code}").json()
    assert after["nombre"] == "Sede vecinal (cambio del revisor)"
    assert after["version"] == 2

    page.click("#recargar-proyecto")
    page.wait_for_function(f"document.body.dataset.perfil === '{code}' && "
                           "!document.body.dataset.formulario")
    assert "cambio del revisor" in page.locator("#titulo-proyecto").inner_text()
    assert page.locator("#etapa-proyecto").inner_text() == "diseño"
    # now the editor's save goes through, with the new ETag
    page.click("#editar-proyecto")
    page.fill("#campo-nombre", "Sede vecinal (cambio de la editora)")
    page.click("#guardar-proyecto")
    page.wait_for_function("!document.body.dataset.formulario && " + DONE)
    assert http.get(f"/proyectos/{code}").json()["nombre"] == \
        "Sede vecinal (cambio de la editora)"
    assert unexpected(page, [f"/proyectos/{code} HTTP 412"]) == []
    assert len(page.failed_requests) == 1


def test_reviewer_attaches_a_file_and_deletes_a_project(
        page: Any, server: str, http: httpx.Client, people: dict[str, str], api_settings,
        created: list[str], tmp_path) -> None:  # type: ignore[no-untyped-def]
    code = free_code(http, 39_600_001)
    lon, lat = inside_the_comuna(api_settings)
    res = http.post("/proyectos", headers=auth(people, "revisor_cartera"), json={
        "codigo": code, "nombre": "Proyecto a eliminar", "sector": "vialidad",
        "etapa": "idea", "geometria": {"type": "Point", "coordinates": [lon, lat]}})
    assert res.status_code == 201, res.text
    created.append(code)
    document = tmp_path / "acta.pdf"
    document.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")

    log_in(page, server, "revisor_cartera", f"/proyectos/mapa?codigo={code}")
    page.wait_for_function(f"document.body.dataset.perfil === '{code}'")
    page.click("#seccion-adjuntos summary")
    page.set_input_files("#archivo-adjunto", str(document))
    page.fill("#descripcion-adjunto", "Acta de la mesa técnica")
    page.click("#form-adjunto button[type=submit]")
    page.wait_for_selector("#adjuntos a")
    page.wait_for_function(DONE)
    attached = http.get(f"/proyectos/{code}").json()["adjuntos"]
    assert [a["nombre"] for a in attached] == ["acta.pdf"]
    assert page.locator("#adjuntos a").get_attribute("href") == attached[0]["url"]

    page.click("#eliminar-proyecto")
    assert page.locator("#confirmar-eliminacion").is_visible()
    assert http.get(f"/proyectos/{code}").status_code == 200  # not before confirming
    page.click("#confirmar-eliminar")
    page.wait_for_function("!document.body.dataset.proyecto && " + DONE)
    assert f"Proyecto {code} eliminado" in page.locator("#mensaje").inner_text()
    assert http.get(f"/proyectos/{code}").status_code == 404
    assert code not in table_codes(page)
    assert page.failed_requests == []

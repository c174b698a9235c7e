"""Logins, tokens, roles and the audit log over the real HTTP server, and the login page."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import psycopg
import pytest
import uvicorn

from api.app import create_app
from gis.auth import Role, create_user, get_user, issue_access_token
from gis.errors import NotFoundError
from gis.settings import Settings
from tests.api.conftest import free_port

CLAVE = "clave-de-prueba-9"
ACCOUNTS = {
    "prueba_admin": ("Administradora de Pruebas", Role.ADMIN),
    "prueba_revisor": ("Asesora Urbanista de Pruebas", Role.REVISOR),
    "prueba_editor": ("Colaborador DOM de Pruebas", Role.EDITOR),
    "prueba_lector": ("Planificadora de Pruebas", Role.LECTOR),
    "prueba_bloqueo": ("Cuenta que se bloquea", Role.LECTOR),
}


@pytest.fixture(scope="module")
def accounts(api_settings: Settings) -> dict[str, str]:
    """This module's users (created once; the package's database is shared)."""
    with psycopg.connect(api_settings.database_url, autocommit=True) as conn:
        for name, (full_name, role) in ACCOUNTS.items():
            try:
                get_user(conn, name)
            except NotFoundError:
                create_user(conn, name, full_name, role, CLAVE, actor="pruebas")
    return {name: CLAVE for name in ACCOUNTS}


def login(http: httpx.Client, username: str, password: str = CLAVE) -> httpx.Response:
    return http.post("/auth/token", data={"username": username, "password": password})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def token_of(http: httpx.Client, username: str) -> str:
    response = login(http, username)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def audit_rows(settings: Settings, sql_where: str, params: tuple[Any, ...]) -> list[tuple]:  # type: ignore[type-arg]
    with psycopg.connect(settings.database_url) as conn:
        return conn.execute("SELECT actor, action, target, outcome, detail, client "  # noqa: S608
                            f"FROM audit.log WHERE {sql_where} ORDER BY id", params).fetchall()


def test_login_gives_a_short_lived_bearer_token(http: httpx.Client,
                                                accounts: dict[str, str]) -> None:
    response = login(http, "prueba_editor")
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 1800
    assert body["rol"] == "editor" and body["access_token"].count(".") == 2
    assert response.headers["cache-control"] == "no-store"
    me = http.get("/auth/yo", headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json() == {"id": me.json()["id"], "usuario": "prueba_editor",
                         "nombre": "Colaborador DOM de Pruebas", "rol": "editor",
                         "rol_titulo": "editor (propuestas)"}


def test_wrong_password_and_anonymous_calls_are_refused_in_spanish(
        http: httpx.Client, accounts: dict[str, str]) -> None:
    wrong = login(http, "prueba_lector", "no-es-la-clave")
    assert wrong.status_code == 401
    assert wrong.json()["description"] == "Usuario o contraseña incorrectos."
    assert wrong.json()["hint"].startswith("Le quedan 4 intentos")
    assert login(http, "prueba_lector").status_code == 200  # and the count starts again
    missing = http.post("/auth/token", data={"username": "prueba_lector"})
    assert missing.status_code == 400 and "password" in missing.json()["description"]
    for method, path in (("GET", "/auth/yo"), ("GET", "/admin/usuarios"),
                         ("POST", "/auth/tokens"), ("GET", "/admin/auditoria")):
        response = http.request(method, path, json={"nombre": "x"})
        assert response.status_code == 401, path
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["code"] == "LoginRequiredError"
        assert response.json()["description"] == "Esta operación requiere iniciar sesión."
    bad_header = http.get("/auth/yo", headers={"Authorization": "Basic dXN1YXJpbzpjbGF2ZQ=="})
    assert bad_header.status_code == 401
    assert "Authorization no es válida" in bad_header.json()["description"]


def test_personal_api_token_works_until_revoked(http: httpx.Client,
                                                accounts: dict[str, str]) -> None:
    access = token_of(http, "prueba_revisor")
    created = http.post("/auth/tokens", json={"nombre": "QGIS oficina"}, headers=bearer(access))
    assert created.status_code == 201
    secret = created.json()["token"]
    assert secret.startswith("secplac_") and created.json()["vigente"]
    assert "no se volverá a mostrar" in created.json()["aviso"]
    me = http.get("/auth/yo", headers=bearer(secret))
    assert me.status_code == 200 and me.json()["usuario"] == "prueba_revisor"
    listed = http.get("/auth/tokens", headers=bearer(secret)).json()
    assert [t["nombre"] for t in listed] == ["QGIS oficina"]
    assert "token" not in listed[0] and listed[0]["ultimo_uso"]
    other = token_of(http, "prueba_editor")
    assert http.delete(f"/auth/tokens/{listed[0]['id']}",
                       headers=bearer(other)).status_code == 404
    revoked = http.delete(f"/auth/tokens/{listed[0]['id']}", headers=bearer(access))
    assert revoked.status_code == 200 and revoked.json()["vigente"] is False
    refused = http.get("/auth/yo", headers=bearer(secret))
    assert refused.status_code == 401
    assert refused.json()["code"] == "TokenRevokedError"
    assert refused.json()["description"].startswith("El token de API «QGIS oficina» fue "
                                                    "revocado el ")
    assert 'error="invalid_token"' in refused.headers["www-authenticate"]
    unknown = http.get("/auth/yo", headers=bearer("secplac_" + "x" * 43))
    assert unknown.status_code == 401 and "no existe" in unknown.json()["description"]


def test_expired_and_tampered_access_tokens_are_refused(
        http: httpx.Client, api_settings: Settings, accounts: dict[str, str]) -> None:
    with psycopg.connect(api_settings.database_url) as conn:
        lector, admin = get_user(conn, "prueba_lector"), get_user(conn, "prueba_admin")
    expired = issue_access_token(api_settings.model_copy(
        update={"access_token_seconds": -60}), lector)
    response = http.get("/auth/yo", headers=bearer(expired))
    assert response.status_code == 401 and response.json()["code"] == "TokenExpiredError"
    assert response.json()["description"] == ("La sesión expiró: el token de acceso ya no "
                                              "es válido.")
    assert "/ingresar" in response.json()["hint"]
    header, payload, signature = token_of(http, "prueba_lector").split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(sub="prueba_admin", uid=admin.id, rol="admin")
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    for token in (f"{header}.{forged}.{signature}", "no.es.jwt", "cualquier-cosa"):
        response = http.get("/admin/usuarios", headers=bearer(token))
        assert response.status_code == 401
        assert response.json()["code"] == "InvalidTokenError"
        assert "no es válido" in response.json()["description"]


def test_a_lector_calling_an_admin_endpoint_is_refused_and_logged(
        http: httpx.Client, api_settings: Settings, accounts: dict[str, str]) -> None:
    token = token_of(http, "prueba_lector")
    response = http.post("/admin/usuarios", headers=bearer(token),
                         json={"usuario": "intruso", "rol": "admin"})
    assert response.status_code == 403
    assert response.json()["code"] == "PermissionDeniedError"
    assert response.json()["description"] == ("Su rol «lector» no permite esta operación: "
                                              "se requiere el rol «admin».")
    assert response.json()["hint"].startswith("Si necesita hacerla, pida al administrador")
    [row] = audit_rows(api_settings, "actor = %s AND action = 'acceso.denegado'",
                       ("prueba_lector",))
    assert row == ("prueba_lector", "acceso.denegado", "POST /admin/usuarios", "rechazado",
                   response.json()["description"], "127.0.0.1")
    anonymous = http.patch("/admin/usuarios/prueba_lector", json={"rol": "admin"})
    assert anonymous.status_code == 401
    assert audit_rows(api_settings, "actor IS NULL AND target = %s",
                      ("PATCH /admin/usuarios/prueba_lector",))[0][3] == "rechazado"
    with psycopg.connect(api_settings.database_url) as conn:
        assert get_user(conn, "prueba_lector").role is Role.LECTOR


def test_repeated_wrong_passwords_are_throttled(http: httpx.Client, api_settings: Settings,
                                                accounts: dict[str, str]) -> None:
    for attempt in range(5):
        response = login(http, "prueba_bloqueo", f"equivocada-{attempt}")
        assert response.status_code == 401
    assert "bloqueado por 15 minutos" in response.json()["hint"]
    locked = login(http, "prueba_bloqueo")  # the right password, too late
    assert locked.status_code == 429
    assert locked.json()["code"] == "TooManyAttemptsError"
    assert locked.json()["description"] == ("Demasiados intentos fallidos de ingreso para "
                                            "«prueba_bloqueo». Espere 15 minutos antes de "
                                            "intentar de nuevo.")
    assert 890 <= int(locked.headers["retry-after"]) <= 900
    rows = audit_rows(api_settings, "action = 'sesion.ingresar' AND target = %s",
                      ("usuario/prueba_bloqueo",))
    assert [r[3] for r in rows] == ["rechazado"] * 6 and rows[-1][5] == "127.0.0.1"
    assert login(http, "prueba_editor").status_code == 200  # other accounts go on


def test_admin_manages_users_and_reads_the_audit_log(
        http: httpx.Client, accounts: dict[str, str]) -> None:
    admin = bearer(token_of(http, "prueba_admin"))
    created = http.post("/admin/usuarios", headers=admin,
                        json={"usuario": "prueba_nueva", "nombre": "Nueva Colaboradora",
                              "rol": "editor"})
    assert created.status_code == 201, created.text
    password = created.json()["clave_inicial"]
    assert created.json()["rol"] == "editor" and len(password) == 14
    duplicate = http.post("/admin/usuarios", headers=admin,
                          json={"usuario": "prueba_nueva", "rol": "editor", "clave": CLAVE})
    assert duplicate.status_code == 409
    assert duplicate.json()["description"] == "Ya existe el usuario «prueba_nueva»."
    bad_role = http.post("/admin/usuarios", headers=admin,
                         json={"usuario": "prueba_otra", "rol": "jefe", "clave": CLAVE})
    assert bad_role.status_code == 400 and "El rol «jefe» no existe." in bad_role.text
    assert login(http, "prueba_nueva", password).json()["rol"] == "editor"
    changed = http.patch("/admin/usuarios/prueba_nueva", headers=admin,
                         json={"rol": "revisor", "activo": False})
    assert changed.status_code == 200
    assert changed.json()["rol"] == "revisor" and changed.json()["activo"] is False
    disabled = login(http, "prueba_nueva", password)
    assert disabled.status_code == 401
    assert disabled.json()["description"] == "La cuenta «prueba_nueva» está desactivada."
    listed = {u["usuario"]: u for u in http.get("/admin/usuarios", headers=admin).json()}
    assert listed["prueba_nueva"]["activo"] is False and "clave" not in listed["prueba_nueva"]
    log = http.get("/admin/auditoria", headers=admin,
                   params={"usuario": "prueba_admin", "accion": "usuario"}).json()
    assert [e["accion"] for e in log["entradas"]] == ["usuario.desactivar", "usuario.rol",
                                                      "usuario.crear"]
    assert log["entradas"][1]["antes"] == {"rol": "editor"}
    assert log["entradas"][1]["despues"] == {"rol": "revisor"}
    assert log["entradas"][2]["objeto"] == "usuario/prueba_nueva"
    assert log["entradas"][0]["cliente"] == "127.0.0.1"
    assert password not in json.dumps(log)
    page = http.get("/admin/auditoria", headers=admin, params={"limite": 1,
                                                               "desplazamiento": 1}).json()
    assert len(page["entradas"]) == 1 and page["desplazamiento"] == 1
    refused = http.get("/admin/auditoria", headers=admin, params={"resultado": "rechazado"})
    assert all(e["resultado"] == "rechazado" for e in refused.json()["entradas"])
    assert http.get("/admin/auditoria", headers=admin,
                    params={"limite": 5000}).status_code == 400


def test_reads_are_public_by_default(http: httpx.Client) -> None:
    assert http.get("/capas").status_code == 200
    assert http.get("/collections").status_code == 200


@contextmanager
def serve(settings: Settings) -> Iterator[str]:
    """Another real server, over the same database, with other settings."""
    srv = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1",
                                        port=free_port(), log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started
    try:
        yield f"http://127.0.0.1:{srv.config.port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


def test_reads_can_require_login(api_settings: Settings, accounts: dict[str, str]) -> None:
    private = api_settings.model_copy(update={"reads_require_login": True})
    with serve(private) as url:
        _check_private_reads(url)


def _check_private_reads(url: str) -> None:
    with httpx.Client(base_url=url, timeout=30) as client:
        anonymous = client.get("/capas")
        assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"]
        assert "requiere iniciar sesión para consultar" in anonymous.json()["description"]
        page = client.get("/mapa", headers={"Accept": "text/html"})
        assert page.status_code == 303
        assert page.headers["location"] == "/ingresar?next=/mapa"
        assert client.get("/ingresar").status_code == 200  # the way in stays open
        assert client.get("/static/sesion.js").status_code == 200
        token = token_of(client, "prueba_lector")
        assert client.get("/capas", headers=bearer(token)).status_code == 200
    with httpx.Client(base_url=url, timeout=30, cookies={"secplac_token": token}) as browser:
        assert browser.get("/collections").status_code == 200
        assert browser.get("/mapa", headers={"Accept": "text/html"}).status_code == 200
        # The cookie never counts for writes: they need the Authorization header.
        assert browser.post("/auth/tokens", json={"nombre": "x"}).status_code == 401
    with httpx.Client(base_url=url, timeout=30,
                      cookies={"secplac_token": "vencido.o.falso"}) as stale:
        assert stale.get("/mapa", headers={"Accept": "text/html"}).status_code == 303
        assert stale.get("/capas").status_code == 401


def test_login_page_shows_who_logged_in(page, server: str,  # type: ignore[no-untyped-def]
                                        accounts: dict[str, str]) -> None:
    page.goto(f"{server}/ingresar")
    assert page.title() == "Ingresar — SECPLAC San Antonio"
    page.fill("#usuario", "prueba_revisor")
    page.fill("#clave", CLAVE)
    page.click("#entrar")
    page.wait_for_selector("#dentro:not([hidden])")
    assert page.inner_text("#nombre") == "Asesora Urbanista de Pruebas"
    assert "revisor" in page.inner_text("#dentro")
    assert page.evaluate("sesion.usuario().usuario") == "prueba_revisor"
    me = page.evaluate("sesion.fetch('/auth/yo').then(r => r.json())")
    assert me["nombre"] == "Asesora Urbanista de Pruebas"
    page.reload()  # the session stays in this tab
    page.wait_for_selector("#dentro:not([hidden])")
    page.click("#salir")
    page.wait_for_selector("#ingreso:not([hidden])")
    assert page.evaluate("sesion.token()") is None
    assert page.failed_requests == []


def test_login_page_explains_a_wrong_password_and_returns_to_next(  # type: ignore[no-untyped-def]
        page, server: str, accounts: dict[str, str]) -> None:
    page.goto(f"{server}/ingresar?next=/collections%3Ff%3Dhtml")
    page.fill("#usuario", "prueba_editor")
    page.fill("#clave", "no-es-la-clave")
    page.click("#entrar")
    page.wait_for_selector("#error:not([hidden])")
    assert page.inner_text("#error").startswith("Usuario o contraseña incorrectos.")
    assert [r.split(" ")[0] for r in page.failed_requests] == [f"{server}/auth/token"]
    page.failed_requests.clear()
    page.fill("#clave", CLAVE)
    with page.expect_navigation():
        page.click("#entrar")
    assert page.url == f"{server}/collections?f=html"
    stored = page.evaluate("JSON.parse(sessionStorage.getItem('secplac.sesion'))")
    assert stored["usuario"]["rol"] == "editor" and stored["token"].count(".") == 2
    assert page.failed_requests == []
    page.goto(f"{server}/ingresar?next=https://example.org/")  # never leaves the site
    page.wait_for_selector("#dentro:not([hidden])")
    assert page.get_attribute("#continuar", "href") == "/"


def test_the_map_works_after_logging_in_when_reads_require_login(  # type: ignore[no-untyped-def]
        browser, api_settings: Settings, accounts: dict[str, str]) -> None:
    private = api_settings.model_copy(update={"reads_require_login": True})
    with serve(private) as url:
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        failed: list[str] = []
        page.on("response", lambda r: failed.append(f"{r.url} {r.status}")
                if r.status >= 400 else None)
        try:
            page.goto(f"{url}/mapa")
            assert page.url == f"{url}/ingresar?next=/mapa"
            page.fill("#usuario", "prueba_lector")
            page.fill("#clave", CLAVE)
            with page.expect_navigation():
                page.click("#entrar")
            assert page.url == f"{url}/mapa"
            page.wait_for_function("document.body.dataset.estado === 'listo'",
                                   timeout=30_000)
            page.evaluate("() => new Promise(r => { mapa.once('idle', r); "
                          "mapa.triggerRepaint(); })")
            assert failed == []
        finally:
            context.close()

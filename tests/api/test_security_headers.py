"""Security headers, the Content-Security-Policy in a real browser, CORS limited to the
configured origins, and no secret in the repository.

The pages are opened in Chromium with the policy in force: every page must work without a
single CSP violation (MapLibre's blob: workers, the login page's inline script allowed by
its hash, folium and Swagger UI's inline scripts on their own pages), and a script
injected into a page must not run.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.headers import INLINE_SCRIPT_PAGES, content_security_policy, template_script_hashes
from gis.auth import signing_key
from gis.settings import PROJECT_ROOT, Settings
from tests.api.conftest import serve

ALLOWED_ORIGIN = "https://visor.municipalidad.example"
FOREIGN_ORIGIN = "https://otro-sitio.example"


# --- headers on every response -------------------------------------------------------------

SAMPLES = ["/", "/mapa", "/collections", "/collections/zoning/items?limit=1",
           "/collections/zoning/tiles/WebMercatorQuad/10/613/308", "/static/mapa.js",
           "/vendor/maplibre-gl/maplibre-gl.js", "/no-existe", "/ingresar", "/docs",
           "/mapas/zoning", "/openapi.json", "/auth/yo", "/admin/usuarios"]


def test_every_response_carries_the_security_headers(http: httpx.Client) -> None:
    for path in SAMPLES:
        response = http.get(path)
        h = response.headers
        assert h["x-content-type-options"] == "nosniff", path
        assert h["x-frame-options"] == "DENY", path
        assert h["referrer-policy"] == "same-origin", path
        assert h["cross-origin-opener-policy"] == "same-origin", path
        csp = dict(d.strip().split(" ", 1) for d in h["content-security-policy"].split(";"))
        assert csp["frame-ancestors"] == "'none'" and csp["object-src"] == "'none'", path
        assert csp["default-src"] == "'self'" and csp["base-uri"] == "'self'", path
        assert csp["worker-src"] == "'self' blob:", path  # MapLibre's workers
        inline = path.startswith(INLINE_SCRIPT_PAGES)
        assert ("'unsafe-inline'" in csp["script-src"]) is inline, path
        assert "'unsafe-eval'" not in csp["script-src"], path
    tile = http.get("/collections/zoning/tiles/WebMercatorQuad/10/613/308")
    assert tile.status_code == 200 and "no-store" not in tile.headers.get("cache-control", "")


def test_https_answers_ask_browsers_to_keep_to_https(http: httpx.Client) -> None:
    """Behind a TLS proxy on this host (uvicorn trusts its X-Forwarded-Proto) responses
    carry HSTS; over plain HTTP, where browsers would ignore it, they do not."""
    for path in ("/mapa", "/collections", "/no-existe"):
        secure = http.get(path, headers={"X-Forwarded-Proto": "https"})
        assert secure.headers["strict-transport-security"] == "max-age=31536000", path
        assert "strict-transport-security" not in http.get(path).headers, path


def test_authentication_answers_are_never_cached(http: httpx.Client) -> None:
    login = http.post("/auth/token", data={"username": "nadie-aqui", "password": "x" * 12})
    assert login.status_code == 401 and login.headers["cache-control"] == "no-store"
    for path in ("/ingresar", "/auth/yo", "/admin/usuarios", "/admin/auditoria"):
        assert http.get(path).headers["cache-control"] == "no-store", path
    assert "no-store" not in http.get("/collections").headers.get("cache-control", "")


def test_the_policy_allows_the_login_page_script_by_its_hash() -> None:
    hashes = template_script_hashes()
    assert len(hashes) == 1 and hashes[0].startswith("'sha256-")  # ingresar.html
    base = Settings(online_base_map="https://{s}.tile.example.org/{z}/{x}/{y}.png")
    csp = content_security_policy(base)
    assert hashes[0] in csp and "'unsafe-inline'" not in csp.split("style-src")[0]
    assert "img-src 'self' data: blob: https://*.tile.example.org" in csp
    assert "connect-src 'self' https://*.tile.example.org" in csp
    assert "tile.example.org" not in content_security_policy(Settings())


PAGES = [("/mapa", "body[data-estado=listo]"), ("/propuestas/mapa", "body[data-estado=listo]"),
         ("/proyectos/mapa", "body[data-estado=listo]"),
         ("/inversion/mapa", "body[data-estado=listo]"), ("/ingresar", "#usuario:focus"),
         ("/inversion/mapa-folium?unidad=sector", ".secplac-legend"),
         ("/mapas/zoning", ".secplac-legend"), ("/docs", ".swagger-ui .info .title")]
"""The pages that draw in the browser, with the selector that shows they are done (the
reports' HTML has no script: see the test of the templates)."""


def test_templates_have_no_inline_code_the_policy_would_block() -> None:
    templates = sorted((PROJECT_ROOT / "api" / "templates").glob("*.html")) + sorted(
        (PROJECT_ROOT / "gis" / "reports" / "templates").glob("**/*.html"))
    assert len(templates) >= 8
    for template in templates:
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"<[a-z][^>]*\son[a-z]+\s*=", text, re.I), template.name
        assert "javascript:" not in text.lower(), template.name
        for attrs, body in re.findall(r"<script([^>]*)>(.*?)</script>", text, re.S | re.I):
            if "src=" in attrs or "application/json" in attrs:
                continue
            assert "{{" not in body and "{%" not in body, template.name  # not hashable
            assert template.parent.name == "templates" and template.parent.parent.name \
                == "api", template.name  # reports have no script at all
    assert len(template_script_hashes()) == 1  # ingresar.html's


def test_every_page_works_under_the_policy(browser: Any, server: str) -> None:
    # A context of its own with the policy in force (the package's page fixture bypasses
    # it: Playwright's wait_for_function runs eval(), which the policy forbids). Waits
    # here use selectors, which Playwright evaluates outside the page's policy.
    context = browser.new_context(viewport={"width": 1100, "height": 700}, bypass_csp=False)
    page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda m: violations.append(f"{page.url}: {m.text}")
            if "Content Security Policy" in m.text else None)
    try:
        for path, ready in PAGES:
            response = page.goto(f"{server}{path}")
            assert response is not None and response.status == 200, path
            assert response.headers["content-security-policy"], path
            # (the login page's inline script, allowed by its hash, focuses #usuario)
            page.wait_for_selector(ready, timeout=30_000)
            page.wait_for_load_state("networkidle")
        assert violations == []
        page.goto(f"{server}/mapa")
        page.wait_for_selector("body[data-estado=listo]", timeout=30_000)
        page.wait_for_load_state("networkidle")  # tiles decoded by MapLibre's blob: workers
        assert page.evaluate("() => mapa.queryRenderedFeatures().length") > 0
        page.evaluate("""() => { const s = document.createElement('script');
            s.textContent = 'window.__inyectado = 1'; document.body.appendChild(s); }""")
        assert page.evaluate("() => window.__inyectado") is None  # an injected script
        assert any("inline script" in v for v in violations)  # is blocked, and reported
    finally:
        context.close()


# --- CORS ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cors_server(api_settings: Settings) -> Iterator[str]:
    """A server that lets one other origin call it (reads only are made here)."""
    yield from serve(create_app(api_settings.model_copy(
        update={"cors_origins": [ALLOWED_ORIGIN]})))


def _preflight(client: httpx.Client, origin: str, method: str = "PUT") -> httpx.Response:
    return client.options("/proyectos/MUN-2099-999", headers={
        "Origin": origin, "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization, content-type, if-match"})


def test_cors_answers_only_the_configured_origin(cors_server: str) -> None:
    with httpx.Client(base_url=cors_server, timeout=30) as c:
        allowed = c.get("/collections", headers={"Origin": ALLOWED_ORIGIN})
        assert allowed.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
        assert "origin" in allowed.headers["vary"].lower()
        assert "access-control-allow-credentials" not in allowed.headers  # no cookies
        assert "etag" in allowed.headers["access-control-expose-headers"].lower()
        foreign = c.get("/collections", headers={"Origin": FOREIGN_ORIGIN})
        assert foreign.status_code == 200  # served, but the browser may not read it
        assert "access-control-allow-origin" not in foreign.headers
        refused = c.post("/proyectos", json={}, headers={"Origin": ALLOWED_ORIGIN})
        assert refused.status_code == 401  # CORS never replaces the login
        assert refused.headers["access-control-allow-origin"] == ALLOWED_ORIGIN

        preflight = _preflight(c, ALLOWED_ORIGIN)
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
        assert "PUT" in preflight.headers["access-control-allow-methods"]
        assert {"authorization", "content-type", "if-match"} <= {
            h.strip().lower() for h in preflight.headers["access-control-allow-headers"]
            .split(",")}
        assert preflight.headers["x-content-type-options"] == "nosniff"
        other = _preflight(c, FOREIGN_ORIGIN)
        assert other.status_code == 400 and "access-control-allow-origin" not in other.headers
        sneaky = c.options("/proyectos", headers={
            "Origin": ALLOWED_ORIGIN, "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "x-secplac-otra"})
        assert sneaky.status_code == 400  # a header outside the list


def test_without_configured_origins_no_cross_origin_access(http: httpx.Client) -> None:
    for origin in (ALLOWED_ORIGIN, FOREIGN_ORIGIN):
        response = http.get("/collections", headers={"Origin": origin})
        assert "access-control-allow-origin" not in response.headers
        preflight = _preflight(http, origin)
        assert preflight.status_code >= 400
        assert "access-control-allow-origin" not in preflight.headers


def test_cors_origins_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECPLAC_CORS_ORIGINS", f"{ALLOWED_ORIGIN}/, http://localhost:3000")
    assert Settings().cors_origins == [ALLOWED_ORIGIN, "http://localhost:3000"]
    monkeypatch.setenv("SECPLAC_CORS_ORIGINS", "")
    assert Settings().cors_origins == []
    for bad in ("*", "visor.example", "https://visor.example/mapa"):
        monkeypatch.setenv("SECPLAC_CORS_ORIGINS", bad)
        with pytest.raises(ValueError, match="no es un origen web"):
            Settings()


# --- secrets -------------------------------------------------------------------------------

SECRET_PATTERNS = {
    "clave privada": re.compile(r"-{5}BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-{5}"),
    "SECPLAC_SECRET_KEY con valor": re.compile(
        r"SECPLAC_SECRET_KEY\s*[=:]\s*['\"]?(?![$<{'\"\s])[^\s'\"]{8,}"),
    "contraseña en una URL": re.compile(
        r"\b[a-z][a-z0-9+.-]*://[^/\s:@'\"{}]+:(?![{$<*])[^/\s@'\"{}]{6,}@"),
    "token de API": re.compile(r"\bsecplac_[A-Za-z0-9_-]{40,}"),
    "JWT": re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{20,}"),
    "clave de AWS": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "token de GitHub": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
}
SECRET_FILE_NAMES = re.compile(r"(^|/)(secret_key|\.env(\..*)?|id_(rsa|ed25519|ecdsa)|"
                               r"\.pgpass|.*\.(pem|key|p12|pfx))$")


def find_secrets(text: str) -> list[str]:
    """The kinds of secret that ``text`` seems to hold."""
    return [kind for kind, pattern in SECRET_PATTERNS.items() if pattern.search(text)]


def test_the_secret_scanner_finds_what_it_looks_for() -> None:
    dash = "-" * 5
    planted = {
        "clave privada": f"{dash}BEGIN RSA PRIVATE KEY{dash}\nMIIEow",
        "SECPLAC_SECRET_KEY con valor": "SECPLAC_SECRET_KEY=" + "3f9a" * 16,
        "contraseña en una URL": "postgresql://secplac:" + "Tq8xZ2" * 3 + "@db/secplac",
        "token de API": "secplac_" + "aB3" * 15,
        "JWT": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9." + "x" * 43,
        "clave de AWS": "AKIA" + "ABCDEFGHIJKLMNOP",
        "token de GitHub": "ghp_" + "a1" * 18,
    }
    for kind, text in planted.items():
        assert find_secrets(text) == [kind], kind
    for harmless in ("export SECPLAC_SECRET_KEY=$(openssl rand -hex 32)",
                     "SECPLAC_SECRET_KEY=<clave>", "`SECPLAC_SECRET_KEY` o un archivo",
                     'f"postgresql://{user}:{password}@{host}/secplac"',
                     "postgresql://nadie:x@/secplac", "https://example.org/a:b@c"):
        assert find_secrets(harmless) == [], harmless


def _tracked_files() -> list[str]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=PROJECT_ROOT, check=True,
                         capture_output=True).stdout.decode()
    return [name for name in out.split("\0") if name]


def test_no_secret_is_tracked_by_git() -> None:
    files = _tracked_files()
    assert len(files) > 100 and "api/app.py" in files
    found = []
    for name in files:
        if SECRET_FILE_NAMES.search(name):
            found.append(f"{name}: archivo de secretos")
        path = PROJECT_ROOT / name
        if not path.is_file() or path.stat().st_size > 2_000_000:
            continue
        data = path.read_bytes()
        if b"\0" in data[:8192]:
            continue  # binary (GeoPackage, GeoTIFF, images)
        found += [f"{name}: {kind}" for kind in find_secrets(data.decode("utf-8", "replace"))]
    assert found == []


def test_the_signing_key_lives_in_the_state_folder_outside_git(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    default = Settings()
    assert default.state_dir == PROJECT_ROOT / "var" and default.secret_key is None
    ignored = subprocess.run(["git", "check-ignore", "-q", "var/secret_key"],
                             cwd=PROJECT_ROOT, check=False)
    assert ignored.returncode == 0, "var/ must be in .gitignore"
    assert not [f for f in _tracked_files() if f.startswith("var/")]
    own = Settings(state_dir=tmp_path / "estado")
    key = signing_key(own)
    assert (tmp_path / "estado" / "secret_key").read_bytes().strip() == key
    monkeypatch.setenv("SECPLAC_SECRET_KEY", "e" * 48)  # or from the environment
    assert signing_key(Settings(state_dir=tmp_path / "otro")) == b"e" * 48
    assert not (tmp_path / "otro").exists()

"""Access control over real HTTP: every route of the application × every kind of caller.

:data:`INTENT` is the one table of who may call what. The routes come from the
application itself (``app.routes``, cross-checked with its OpenAPI document), so a new
endpoint without a line in the table fails :func:`test_every_route_has_a_declared_intent`;
:func:`test_declared_dependencies_match_the_intent` checks that each route's security
dependency (``reader``, ``require(...)``) is the one the table says; the matrix tests then
call every route as every caller (anonymous, one user per role, a revoked API token, an
expired access token, a token signed with another key) with reads public and with reads
requiring login, and check the real status: 401 without a valid login where one is
needed, 403 for a role that is not enough, neither for those allowed (an allowed write
may still be refused for its empty body or a missing record: auth let it through).

Everything runs on a database of its own (``secplac_acceso``, the demo loaded), so the
writes here never touch the package's shared demo database. Also here: the audit log gets
an entry for every write and refused write, and cannot be changed through the API; login
throttling by client address over HTTP.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from pydantic import SecretStr
from starlette.routing import Mount

from api.app import create_app
from gis.auth import (
    create_api_token,
    create_user,
    get_user,
    issue_access_token,
    revoke_api_token,
)
from gis.database import connect
from gis.settings import Settings
from tests.api.conftest import demo_database, serve
from tests.conftest import query

ACCESS_DB = "secplac_acceso"
PASSWORD = "clave-de-prueba-77"


class Need(Enum):
    """What a route asks of its caller."""

    OPEN = "abierta"        # never a login: the way in, the API docs, static files
    READ = "lectura"        # open; a login when settings.reads_require_login
    LOGIN = "sesion"        # any logged-in user
    EDITOR = "editor"       # editor, revisor or admin
    REVISOR = "revisor"     # revisor or admin
    ADMIN = "admin"


ALLOWED: dict[Need, set[str]] = {
    Need.LOGIN: {"lector", "editor", "revisor", "admin"},
    Need.EDITOR: {"editor", "revisor", "admin"},
    Need.REVISOR: {"revisor", "admin"},
    Need.ADMIN: {"admin"},
}

R, O = Need.READ, Need.OPEN
INTENT: dict[str, Need] = {
    # OGC API Features, Tiles, Styles; rasters; maps; catalog; search; pages
    "GET /": R, "GET /conformance": R, "GET /collections": R,
    "GET /collections/{collectionId}": R, "GET /collections/{collectionId}/queryables": R,
    "GET /collections/{collectionId}/items": R,
    "GET /collections/{collectionId}/items/{featureId}": R,
    "GET /tileMatrixSets": R, "GET /tileMatrixSets/{tileMatrixSetId}": R, "GET /tiles": R,
    "GET /tiles/{tileMatrixSetId}": R, "GET /tiles/{tileMatrixSetId}/tilejson.json": R,
    "GET /tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}": R,
    "GET /collections/{collectionId}/tiles": R,
    "GET /collections/{collectionId}/tiles/{tileMatrixSetId}": R,
    "GET /collections/{collectionId}/tiles/{tileMatrixSetId}/tilejson.json": R,
    "GET /collections/{collectionId}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}":
        R,
    "GET /styles": R, "GET /styles/{styleId}": R,
    "GET /collections/{collectionId}/styles/default": R,
    "GET /rasters": R, "GET /rasters/{nombre}": R, "GET /rasters/{nombre}/tilejson.json": R,
    "GET /rasters/{nombre}/tiles/{tms}/{z}/{x}/{y}.png": R, "GET /rasters/{nombre}/valor": R,
    "GET /mapas/proyectos/{codigo}": R, "GET /mapas/{coleccion}": R,
    "GET /capas": R, "GET /capas/{nombre}": R, "GET /buscar": R,
    "GET /mapa": R, "GET /propuestas/mapa": R, "GET /proyectos/mapa": R,
    # zoning proposals: editors write, revisors approve (checked by the workflow itself)
    "GET /propuestas": R, "POST /propuestas": Need.EDITOR,
    "GET /propuestas/{proposal_id}": R,
    "POST /propuestas/{proposal_id}/cambios": Need.EDITOR,
    "DELETE /propuestas/{proposal_id}/cambios/ultimo": Need.EDITOR,
    "GET /propuestas/{proposal_id}/validacion": R,
    "GET /propuestas/{proposal_id}/zonificacion": R,
    "GET /propuestas/{proposal_id}/diferencias": R,
    "GET /propuestas/{proposal_id}/impacto": R,
    "POST /propuestas/{proposal_id}/acciones/{action}": Need.EDITOR,
    "POST /propuestas/{proposal_id}/comentarios": Need.EDITOR,
    "POST /propuestas/{proposal_id}/rebase": Need.EDITOR,
    "POST /propuestas/{proposal_id}/aplicar": Need.EDITOR,
    "GET /zonificacion/diferencias": R,
    # investment projects: editors write, only revisors delete
    "GET /proyectos/{codigo}/perfil": R, "GET /proyectos/{codigo}/ficha": R,
    "GET /proyectos/{codigo}/ficha.pdf": R, "GET /informes/concejo": R,
    "GET /informes/concejo.pdf": R,
    "POST /proyectos/importar": Need.EDITOR, "GET /proyectos/exportar": R,
    "GET /proyectos": R, "POST /proyectos": Need.EDITOR, "GET /proyectos/{codigo}": R,
    "PUT /proyectos/{codigo}": Need.EDITOR, "DELETE /proyectos/{codigo}": Need.REVISOR,
    "POST /proyectos/{codigo}/adjuntos": Need.EDITOR,
    "GET /proyectos/{codigo}/adjuntos/{adjunto}": R,
    "DELETE /proyectos/{codigo}/adjuntos/{adjunto}": Need.EDITOR,
    # investment and analyses (POST /analisis/{nombre} only reads: a polygon in the body)
    "GET /inversion/territorio": R, "GET /inversion/desglose": R, "GET /inversion/ranking": R,
    "GET /inversion/ejecucion": R, "GET /inversion/ejecucion.svg": R,
    "GET /inversion/mapa": R, "GET /inversion/mapa-folium": R,
    "GET /analisis": R, "GET /analisis/informe": R, "GET /analisis/{nombre}": R,
    "POST /analisis/{nombre}": R,
    # sessions, personal tokens, administration
    "POST /auth/token": O, "GET /ingresar": O,
    "GET /auth/yo": Need.LOGIN, "POST /auth/tokens": Need.LOGIN,
    "GET /auth/tokens": Need.LOGIN, "DELETE /auth/tokens/{token_id}": Need.LOGIN,
    "GET /admin/usuarios": Need.ADMIN, "POST /admin/usuarios": Need.ADMIN,
    "PATCH /admin/usuarios/{username}": Need.ADMIN, "GET /admin/tokens": Need.ADMIN,
    "GET /admin/auditoria": Need.ADMIN,
    # the API's own description and the front-end files
    "GET /openapi.json": O, "GET /docs": O, "GET /static/*": O,
    "GET /vendor/maplibre-gl/*": O, "GET /vendor/leaflet/*": O, "GET /vendor/jquery/*": O,
    "GET /vendor/bootstrap/*": O, "GET /vendor/fontawesome/*": O,
    "GET /vendor/awesome-markers/*": O, "GET /vendor/swagger-ui/*": O,
    "GET /vendor/terra-draw/*": O, "GET /vendor/terra-draw-maplibre-gl-adapter/*": O,
}
"""Who may call each route: ``"METHOD path"`` (mounted folders as ``path/*``) → need."""

PATH_VALUES: dict[str, str] = {
    "collectionId": "no_existe", "featureId": "1", "tileMatrixSetId": "WebMercatorQuad",
    "tileMatrix": "0", "tileRow": "0", "tileCol": "0", "styleId": "no_existe",
    "nombre": "no_existe", "tms": "WebMercatorQuad", "z": "0", "x": "0", "y": "0",
    "codigo": "MUN-2099-999", "coleccion": "no_existe", "proposal_id": "999999",
    "action": "enviar", "adjunto": "999999", "token_id": "999999", "username": "no-existe",
}
"""Path parameters of the matrix's calls: records that do not exist, so that an allowed
call gets as far as a 404 (or a 400 for its empty body) and changes nothing."""

SLOW_READS: dict[str, str] = {
    "GET /informes/concejo": "anio=1800", "GET /informes/concejo.pdf": "anio=1800",
    "GET /inversion/ejecucion.svg": "anio=1800", "GET /inversion/mapa-folium": "anio=1800",
    "GET /inversion/territorio": "anio=1800", "GET /inversion/desglose": "anio=1800",
    "GET /inversion/ranking": "anio=1800", "GET /proyectos/exportar": "formato=nada",
}
"""Query strings for reads that take a second or more: a bad parameter, refused (400)
only after the access check, keeps the matrix short."""

CALLERS = ("anonimo", "lector", "editor", "revisor", "admin", "revocado", "vencido",
           "firma_ajena")
BAD_TOKENS = {"anonimo", "revocado", "vencido", "firma_ajena"}
WRITES = {"POST", "PUT", "PATCH", "DELETE"}


# --- fixtures ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def access_settings(base_settings: Settings, demo_raw, tmp_path_factory) -> Settings:  # type: ignore[no-untyped-def]
    """A database of its own with the demo loaded: the writes here touch nothing shared."""
    return demo_database(base_settings, ACCESS_DB, tmp_path_factory.mktemp("acceso-processed"))


@pytest.fixture(scope="module")
def tokens(access_settings: Settings) -> dict[str, str | None]:
    """A bearer token for each caller of :data:`CALLERS` (``None`` for the anonymous)."""
    out: dict[str, str | None] = {"anonimo": None}
    with connect(access_settings) as conn:
        for role in ("lector", "editor", "revisor", "admin"):
            create_user(conn, f"matriz_{role}", f"Matriz {role}", role, PASSWORD)
            out[role] = issue_access_token(access_settings, get_user(conn, f"matriz_{role}"))
        admin = get_user(conn, "matriz_admin")
        revoked = create_api_token(conn, admin, "Token revocado de la matriz")
        [token_id] = [r[0] for r in conn.execute(
            "SELECT id FROM auth.api_tokens WHERE name = 'Token revocado de la matriz'")]
        revoke_api_token(conn, token_id, by=admin)
        conn.commit()
    out["revocado"] = revoked
    out["vencido"] = issue_access_token(
        access_settings.model_copy(update={"access_token_seconds": -60}), admin)
    out["firma_ajena"] = issue_access_token(
        access_settings.model_copy(update={"secret_key": SecretStr("k" * 64)}), admin)
    return out


@pytest.fixture(scope="module")
def access_app(access_settings: Settings) -> FastAPI:
    return create_app(access_settings)


@pytest.fixture(scope="module")
def public_server(access_app: FastAPI) -> Iterator[str]:
    yield from serve(access_app)


@pytest.fixture(scope="module")
def private_server(access_settings: Settings) -> Iterator[str]:
    yield from serve(create_app(access_settings.model_copy(
        update={"reads_require_login": True})))


# --- the routes ----------------------------------------------------------------------------

def app_routes(app: FastAPI) -> dict[str, Any]:
    """Every route of ``app`` as ``"METHOD path"`` (mounted folders: ``"GET path/*"``)."""
    routes: dict[str, Any] = {}
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, Mount):
            routes[f"GET {route.path}/*"] = route
            continue
        for method in sorted((route.methods or set()) - {"HEAD"}):
            routes[f"{method} {route.path}"] = route
    return routes


def declared_need(route: Any) -> Need:
    """The need a route declares through its dependencies (``reader``, ``require(...)``)."""
    names: set[str] = set()
    pending = [route.dependant] if getattr(route, "dependant", None) else []
    while pending:
        for sub in pending.pop().dependencies:
            names.add(getattr(sub.call, "__name__", ""))
            pending.append(sub)
    [*requires] = sorted(n for n in names if n.startswith("require_"))
    assert len(requires) <= 1, requires
    if requires:
        roles = set(requires[0].removeprefix("require_").split("_")) | {"admin"}
        if roles == {"login", "admin"}:
            return Need.LOGIN
        return next(n for n, allowed in ALLOWED.items()
                    if allowed == roles and n is not Need.LOGIN)
    return Need.READ if names & {"reader", "post_reader"} else Need.OPEN


def sample_url(key: str, route: Any) -> str:
    """A URL that reaches ``route``: path parameters from :data:`PATH_VALUES`, a real file
    of a mounted folder."""
    path = key.split(" ", 1)[1]
    if path.endswith("/*"):
        folder = Path(route.original_route.app.directory)
        first = min(p for p in folder.rglob("*") if p.is_file())
        return path[:-1] + first.relative_to(folder).as_posix()
    missing = set(re.findall(r"{(\w+)}", path)) - PATH_VALUES.keys()
    assert not missing, f"{key}: add a value for {missing} to PATH_VALUES"
    url = re.sub(r"{(\w+)}", lambda m: PATH_VALUES[m[1]], path)
    return f"{url}?{SLOW_READS[key]}" if key in SLOW_READS else url


def expected(need: Need, caller: str, private_reads: bool) -> set[str]:
    """What may answer ``caller`` on a route that needs ``need``: «401», «403», «pasa»."""
    if need is Need.OPEN:
        return {"pasa"}
    if need is Need.READ:
        if not private_reads:  # public: a bad token may be ignored or refused
            return {"pasa", "401"} if caller in BAD_TOKENS - {"anonimo"} else {"pasa"}
        return {"401"} if caller in BAD_TOKENS else {"pasa"}
    if caller in BAD_TOKENS:
        return {"401"}
    return {"pasa"} if caller in ALLOWED[need] else {"403"}


def outcome(response: httpx.Response) -> str:
    if response.status_code in (401, 403):
        return str(response.status_code)
    return "pasa" if response.status_code < 500 else f"error {response.status_code}"


def call(client: httpx.Client, method: str, url: str, token: str | None) -> httpx.Response:
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    body = {} if method in WRITES and method != "DELETE" else None
    return client.request(method, url, headers=headers, json=body)


def run_matrix(url: str, app: FastAPI, tokens: dict[str, str | None], private_reads: bool,
               settings: Settings) -> list[str]:
    """Call every route as every caller; the problems found (empty when all is right).

    Every call to a write (allowed, refused, or failed for its empty body or a missing
    record) must add an entry to the audit log.
    """
    problems = []
    with httpx.Client(base_url=url, timeout=60) as client:
        for key, route in sorted(app_routes(app).items()):
            need, method = INTENT[key], key.split(" ", 1)[0]
            target = sample_url(key, route)
            write = method in WRITES and need not in (Need.OPEN, Need.READ)
            for caller in CALLERS:
                before = last_audit_id(settings) if write else 0
                response = call(client, method, target, tokens[caller])
                got, allowed = outcome(response), expected(need, caller, private_reads)
                if got not in allowed:
                    problems.append(f"{key} como {caller}: {response.status_code} "
                                    f"(se esperaba {' o '.join(sorted(allowed))}) "
                                    f"{response.text[:120]}")
                if write and last_audit_id(settings) == before:
                    problems.append(f"{key} como {caller}: {response.status_code} sin "
                                    "entrada en el registro de auditoría")
                problems += header_problems(key, caller, response)
    return problems


def header_problems(key: str, caller: str, response: httpx.Response) -> list[str]:
    """What is wrong with the security headers of one answer of the matrix."""
    h, status, where = response.headers, response.status_code, f"{key} como {caller}"
    problems = []
    if h.get("x-content-type-options") != "nosniff" or "content-security-policy" not in h:
        problems.append(f"{where}: faltan cabeceras de seguridad")
    if status == 401 and not h.get("www-authenticate", "").startswith("Bearer"):
        problems.append(f"{where}: 401 sin WWW-Authenticate: Bearer")
    if status == 403 and response.json().get("code") != "PermissionDeniedError":
        problems.append(f"{where}: 403 que no es PermissionDeniedError")
    if status in (401, 403) and h.get("cache-control") != "no-store":
        problems.append(f"{where}: {status} sin Cache-Control: no-store")
    return problems


# --- the tests -----------------------------------------------------------------------------

def test_every_route_has_a_declared_intent(access_app: FastAPI) -> None:
    routes = app_routes(access_app)
    assert sorted(routes.keys() - INTENT.keys()) == [], "routes without an INTENT line"
    assert sorted(INTENT.keys() - routes.keys()) == [], "INTENT lines without a route"
    documented = {f"{method.upper()} {path}"
                  for path, item in access_app.openapi()["paths"].items() for method in item}
    assert documented <= routes.keys()
    assert len(documented) >= 80  # the enumeration sees the included routers


def test_declared_dependencies_match_the_intent(access_app: FastAPI) -> None:
    wrong = {key: (declared_need(route).value, INTENT[key].value)
             for key, route in app_routes(access_app).items()
             if declared_need(route) is not INTENT[key]}
    assert wrong == {}, "(declared, intended)"
    writes = [k for k in INTENT if k.split(" ")[0] in WRITES]
    assert all(INTENT[k] not in (Need.OPEN, Need.READ) for k in writes
               if k not in ("POST /auth/token", "POST /analisis/{nombre}"))


def test_matrix_with_public_reads(public_server: str, access_app: FastAPI,
                                  tokens: dict[str, str | None],
                                  access_settings: Settings) -> None:
    before = _fingerprint(access_settings)
    problems = run_matrix(public_server, access_app, tokens, False, access_settings)
    assert problems == [], "\n".join(problems[:40])
    assert _fingerprint(access_settings) == before  # the matrix changed no data


def test_matrix_with_reads_requiring_login(private_server: str, access_app: FastAPI,
                                           tokens: dict[str, str | None],
                                           access_settings: Settings) -> None:
    problems = run_matrix(private_server, access_app, tokens, True, access_settings)
    assert problems == [], "\n".join(problems[:40])


def _fingerprint(settings: Settings) -> list[tuple]:  # type: ignore[type-arg]
    return query(settings, "SELECT (SELECT count(*) FROM layers.projects), "
                 "(SELECT count(*) FROM proposals.proposals), "
                 "(SELECT count(*) FROM auth.users WHERE active), "
                 "(SELECT count(*) FROM layers.zoning), "
                 "(SELECT max(version) FROM catalog.layer_versions)")


# --- the audit log -------------------------------------------------------------------------

def as_(tokens: dict[str, str | None], caller: str, etag: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {tokens[caller]}"} if tokens[caller] else {}
    return headers | ({"If-Match": etag} if etag else {})


def audit_since(settings: Settings, first: int) -> set[tuple[Any, ...]]:
    return set(query(settings, "SELECT actor, action, target, outcome FROM audit.log "
                     "WHERE id > %s", (first,)))


def last_audit_id(settings: Settings) -> int:
    return int(query(settings, "SELECT coalesce(max(id), 0) FROM audit.log")[0][0])


def test_every_write_and_refused_write_is_audited(public_server: str, access_settings: Settings,
                                                  tokens: dict[str, str | None]) -> None:
    [(zone, lon, lat)] = query(access_settings, "SELECT codigo, ST_X(p), ST_Y(p) FROM ("
                               "SELECT codigo, ST_Transform(ST_PointOnSurface(geom), 4326) AS p "
                               "FROM layers.zoning ORDER BY ST_Area(geom) DESC LIMIT 1) AS s")
    code, first = "MUN-2026-871", last_audit_id(access_settings)
    body = {"codigo": code, "nombre": "Plaza de la matriz de acceso", "sector": "áreas verdes",
            "etapa": "diseño", "geometria": {"type": "Point", "coordinates": [lon, lat]}}
    with httpx.Client(base_url=public_server, timeout=60) as c:
        # projects: refused (anonymous, lector, stale If-Match, an editor deleting), then done
        assert c.post("/proyectos", json=body).status_code == 401
        assert c.post("/proyectos", json=body, headers=as_(tokens, "lector")).status_code == 403
        assert c.post("/proyectos", json=body,
                      headers=as_(tokens, "revocado")).status_code == 401
        created = c.post("/proyectos", json=body, headers=as_(tokens, "editor"))
        assert created.status_code == 201, created.text
        stale = created.headers["ETag"]
        updated = c.put(f"/proyectos/{code}", json=body | {"nombre": "Plaza renovada"},
                        headers=as_(tokens, "editor", stale))
        assert updated.status_code == 200, updated.text
        assert c.put(f"/proyectos/{code}", json=body,
                     headers=as_(tokens, "editor", stale)).status_code == 412
        etag = updated.headers["ETag"]
        assert c.delete(f"/proyectos/{code}",
                        headers=as_(tokens, "editor", etag)).status_code == 403
        assert c.delete(f"/proyectos/{code}",
                        headers=as_(tokens, "revisor", etag)).status_code == 204
        # proposals: create, change, comment, submit; the author may not approve
        made = c.post("/propuestas", json={"titulo": "Propuesta de la matriz"},
                      headers=as_(tokens, "editor"))
        assert made.status_code == 201, made.text
        pid = made.json()["id"]
        changed = c.post(f"/propuestas/{pid}/cambios", json={
            "op": "normas", "codigo": zone, "normas": {"altura_maxima": 21.0}},
            headers=as_(tokens, "editor", made.json()["etag"]))
        assert changed.status_code == 201, changed.text
        assert c.post(f"/propuestas/{pid}/comentarios", json={"nota": "Revisar altura."},
                      headers=as_(tokens, "editor")).status_code == 201
        sent = c.post(f"/propuestas/{pid}/acciones/enviar",
                      headers=as_(tokens, "editor", changed.headers["ETag"]))
        assert sent.status_code == 200, sent.text
        assert c.post(f"/propuestas/{pid}/acciones/aprobar",
                      headers=as_(tokens, "editor", sent.headers["ETag"])).status_code == 403
        # users and personal tokens
        assert c.post("/admin/usuarios", json={"usuario": "matriz_nueva", "rol": "lector"},
                      headers=as_(tokens, "admin")).status_code == 201
        assert c.patch("/admin/usuarios/matriz_nueva", json={"rol": "editor"},
                       headers=as_(tokens, "admin")).status_code == 200
        assert c.patch("/admin/usuarios/matriz_nueva", json={"rol": "admin"},
                       headers=as_(tokens, "revisor")).status_code == 403
        token = c.post("/auth/tokens", json={"nombre": "Cuaderno de la matriz"},
                       headers=as_(tokens, "lector"))
        assert token.status_code == 201
        assert c.delete(f"/auth/tokens/{token.json()['id']}",
                        headers=as_(tokens, "lector")).status_code == 200
        assert c.post("/auth/tokens", json={"nombre": "x"},
                      headers=as_(tokens, "vencido")).status_code == 401
        # refused for what they carry, not for who sends them
        assert c.post("/proyectos", json={"nombre": "Sin código"},
                      headers=as_(tokens, "editor")).status_code == 400
        assert c.patch("/admin/usuarios/no-existe", json={"rol": "editor"},
                       headers=as_(tokens, "admin")).status_code == 404
        # refused before any endpoint sees them: a NUL character, an oversized body
        json_type = {"content-type": "application/json"}
        assert c.patch("/admin/usuarios/matriz_nueva", content=b'{"rol": "lector\\u0000"}',
                       headers={**as_(tokens, "admin"), **json_type}).status_code == 400
        too_large = b" " * (access_settings.max_json_mib * 2**20 + 1)
        assert c.post("/proyectos", content=too_large,
                      headers={**as_(tokens, "lector"), **json_type}).status_code == 413
        assert c.put("/proyectos/x%00y", json={},  # a NUL in the path: audited, escaped
                     headers=as_(tokens, "editor")).status_code == 400
        assert c.request("DELETE", "/proyectos/sin-firma", headers={  # forged: no actor
            "Authorization": "Bearer abc.def.ghi", **json_type}, content=too_large
        ).status_code == 413
        # not writes: refused before routing, and not taken for refused writes
        assert c.post("/auth/token", content=too_large, headers={
            "content-type": "application/x-www-form-urlencoded"}).status_code == 413
    rows = audit_since(access_settings, first)
    project, proposal = f"proyecto/{code}", f"propuesta/{pid}"
    wanted = {
        (None, "acceso.denegado", "POST /proyectos", "rechazado"),
        ("matriz_lector", "acceso.denegado", "POST /proyectos", "rechazado"),
        ("matriz_editor", "proyecto.crear", project, "ok"),
        ("matriz_editor", "proyecto.editar", project, "ok"),
        ("matriz_editor", "proyecto.editar", project, "rechazado"),  # stale If-Match
        ("matriz_editor", "acceso.denegado", f"DELETE /proyectos/{code}", "rechazado"),
        ("matriz_revisor", "proyecto.eliminar", project, "ok"),
        ("matriz_editor", "propuesta.crear", proposal, "ok"),
        ("matriz_editor", "propuesta.cambio", proposal, "ok"),
        ("matriz_editor", "propuesta.comentar", proposal, "ok"),
        ("matriz_editor", "propuesta.enviar", proposal, "ok"),
        ("matriz_editor", "propuesta.aprobar", proposal, "rechazado"),
        ("matriz_admin", "usuario.crear", "usuario/matriz_nueva", "ok"),
        ("matriz_admin", "usuario.rol", "usuario/matriz_nueva", "ok"),
        ("matriz_revisor", "acceso.denegado", "PATCH /admin/usuarios/matriz_nueva",
         "rechazado"),
        ("matriz_lector", "token.crear", f"token/{token.json()['id']}", "ok"),
        ("matriz_lector", "token.revocar", f"token/{token.json()['id']}", "ok"),
        (None, "acceso.denegado", "POST /auth/tokens", "rechazado"),
        ("matriz_editor", "escritura.rechazada", "POST /proyectos", "rechazado"),
        ("matriz_admin", "escritura.rechazada", "PATCH /admin/usuarios/no-existe",
         "rechazado"),
        ("matriz_admin", "escritura.rechazada", "PATCH /admin/usuarios/matriz_nueva",
         "rechazado"),
        ("matriz_lector", "escritura.rechazada", "POST /proyectos", "rechazado"),
        ("matriz_editor", "escritura.rechazada", "PUT /proyectos/x\\0y", "rechazado"),
        (None, "escritura.rechazada", "DELETE /proyectos/sin-firma", "rechazado"),
    }
    assert sorted(wanted - rows, key=str) == []
    # a refusal already recorded by the guard or the write itself is not recorded twice
    assert not {r for r in rows if r[1] == "escritura.rechazada"
                and r[2] in (f"PUT /proyectos/{code}", f"DELETE /proyectos/{code}")}
    [detail] = query(access_settings, "SELECT detail FROM audit.log WHERE id > %s AND "
                     "action = 'escritura.rechazada' AND target = 'POST /proyectos' "
                     "AND actor = 'matriz_editor'", (first,))
    assert detail[0].startswith("HTTP 400: Parámetros no válidos: «body.codigo»")
    [nul, too_large] = query(access_settings, "SELECT detail FROM audit.log WHERE id > %s "
                             "AND action = 'escritura.rechazada' AND actor <> 'matriz_editor' "
                             "AND target IN ('PATCH /admin/usuarios/matriz_nueva', "
                             "'POST /proyectos') ORDER BY id", (first,))
    assert "U+0000" in nul[0] and too_large[0].startswith("HTTP 413: El cuerpo JSON")
    assert not {r for r in rows if r[2] == "POST /auth/token"}
    refusals = query(access_settings, "SELECT count(*) FROM audit.log WHERE id > %s AND "
                     "outcome = 'rechazado' AND action = 'acceso.denegado' AND actor IS NULL "
                     "AND target = 'POST /proyectos'", (first,))[0][0]
    assert refusals == 2  # the anonymous call and the revoked token


def test_the_audit_log_cannot_be_changed_through_the_api(
        public_server: str, access_app: FastAPI, access_settings: Settings,
        tokens: dict[str, str | None]) -> None:
    audit_routes = {k for k in app_routes(access_app) if "audit" in k}
    assert audit_routes == {"GET /admin/auditoria"}  # reading only, and only for admins
    count = query(access_settings, "SELECT count(*) FROM audit.log")[0][0]
    with httpx.Client(base_url=public_server, timeout=30) as c:
        for method in ("PUT", "PATCH", "DELETE", "POST"):
            for path in ("/admin/auditoria", "/admin/auditoria/1"):
                answer = c.request(method, path, headers=as_(tokens, "admin"), json={})
                assert answer.status_code in (404, 405), (method, path)
    # the connections the API uses (its pool) cannot change or delete entries either
    with access_app.state.pool.connection() as conn:
        conn.autocommit = True
        for sql in ("UPDATE audit.log SET actor = 'otro'", "DELETE FROM audit.log",
                    "TRUNCATE audit.log"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege,
                               match="no se puede modificar ni borrar"):
                conn.execute(sql)
    assert query(access_settings, "SELECT count(*) FROM audit.log")[0][0] >= count


# --- login throttling ----------------------------------------------------------------------

def test_many_failed_logins_from_one_address_lock_that_address(
        access_settings: Settings, tokens: dict[str, str | None]) -> None:
    strict = access_settings.model_copy(update={"login_max_failures_per_client": 3,
                                                "login_cooldown_seconds": 600})
    with contextmanager(serve)(create_app(strict)) as url:
        with httpx.Client(base_url=url, timeout=30) as c:
            for name in ("nadie1", "nadie2", "nadie3"):  # three usernames, one address
                wrong = c.post("/auth/token", data={"username": name, "password": "x" * 12})
                assert wrong.status_code == 401
            locked = c.post("/auth/token", data={"username": "matriz_lector",
                                                 "password": PASSWORD})
    assert locked.status_code == 429
    assert locked.json()["code"] == "TooManyAttemptsError"
    assert locked.json()["description"].startswith("Demasiados intentos fallidos de ingreso")
    assert 590 <= int(locked.headers["retry-after"]) <= 600
    assert locked.headers["cache-control"] == "no-store"

"""Sessions, personal API tokens, user administration, the audit log and the login page.

- ``POST /auth/token``: OAuth2 password flow (form ``username``, ``password``) → a
  short-lived access token.
- ``GET /auth/yo``: who am I. ``POST|GET /auth/tokens``, ``DELETE /auth/tokens/{id}``:
  one's personal API tokens (the secret is shown once).
- ``/admin/usuarios`` and ``/admin/auditoria``: for administrators only.
- ``GET /ingresar``: the login page (stores the token in the browser's sessionStorage
  through ``/static/sesion.js``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field

from api.dependencies import get_connection, get_settings
from api.ogc import templates
from api.security import client_address, require
from gis import audit
from gis.auth import (
    ROLE_TITLES,
    Account,
    ApiToken,
    Role,
    User,
    authenticate,
    create_api_token,
    create_user,
    find_api_token,
    get_user,
    issue_access_token,
    list_api_tokens,
    list_users,
    new_password,
    parse_role,
    revoke_api_token,
    set_active,
    set_password,
    set_role,
)
from gis.settings import Settings

Conn = Annotated[psycopg.Connection, Depends(get_connection)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
AnyUser = Annotated[User, Depends(require())]
Admin = Annotated[User, Depends(require(Role.ADMIN))]
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
MAX_OFFSET = 1_000_000_000
"""Largest audit-log offset (beyond PostgreSQL's bigint the query would fail)."""

session = APIRouter(prefix="/auth", tags=["Sesión y tokens"])
admin = APIRouter(prefix="/admin", tags=["Administración"])
pages = APIRouter(tags=["Sesión y tokens"])


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def me_json(user: User) -> dict[str, Any]:
    return {"id": user.id, "usuario": user.username, "nombre": user.full_name,
            "rol": user.role.value, "rol_titulo": ROLE_TITLES[user.role]}


def account_json(account: Account) -> dict[str, Any]:
    user = account.user
    return {"usuario": user.username, "nombre": user.full_name, "rol": user.role.value,
            "activo": account.active, "creado": iso(account.created_at),
            "ultimo_ingreso": iso(account.last_login_at)}


def token_json(token: ApiToken) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {"id": token.id, "nombre": token.name, "usuario": token.username,
            "creado": iso(token.created_at), "ultimo_uso": iso(token.last_used_at),
            "revocado": iso(token.revoked_at), "vence": iso(token.expires_at),
            "vigente": token.revoked_at is None and (token.expires_at is None
                                                    or token.expires_at > now)}


def entry_json(entry: dict[str, Any]) -> dict[str, Any]:
    return {"id": entry["id"], "fecha": iso(entry["at"]), "usuario": entry["actor"],
            "accion": entry["action"], "objeto": entry["target"], "antes": entry["before"],
            "despues": entry["after"], "resultado": entry["outcome"],
            "detalle": entry["detail"], "cliente": entry["client"]}


# -- session and personal tokens ------------------------------------------------------------

@session.post("/token", summary="Ingresar: token de acceso (OAuth2, flujo de contraseña)")
def login(request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()],
          conn: Conn, settings: SettingsDep) -> JSONResponse:
    """Recibe ``username`` y ``password`` (formulario) y entrega un token de acceso de
    corta duración, para enviar como ``Authorization: Bearer <token>``."""
    user = authenticate(conn, form.username, form.password, client=client_address(request),
                        settings=settings)
    body = {"access_token": issue_access_token(settings, user), "token_type": "bearer",
            "expires_in": settings.access_token_seconds, "rol": user.role.value,
            "usuario": user.username, "nombre": user.full_name}
    return JSONResponse(body, headers=NO_STORE)


@session.get("/yo", summary="Quién soy: el usuario del token enviado")
def who_am_i(user: AnyUser) -> dict[str, Any]:
    return me_json(user)


class NewToken(BaseModel):
    nombre: str = Field(min_length=1, max_length=100,
                        description="Dónde se usará, p. ej. «QGIS oficina».")
    vigencia_dias: int | None = Field(default=None, ge=1, le=3650,
                                      description="Días de vigencia (sin límite si se omite).")


@session.post("/tokens", status_code=201, summary="Crear un token personal de API")
def create_token(body: NewToken, user: AnyUser, conn: Conn) -> JSONResponse:
    """Crea un token de larga duración para cuadernos y clientes SIG. El token se
    muestra solo esta vez: guárdelo en un lugar seguro. Se puede revocar."""
    secret = create_api_token(conn, user, body.nombre, expires_days=body.vigencia_dias)
    content = {**token_json(find_api_token(conn, secret)), "token": secret,
               "aviso": "Copie este token ahora: no se volverá a mostrar."}
    return JSONResponse(content, status_code=201, headers=NO_STORE)


@session.get("/tokens", summary="Mis tokens personales de API")
def my_tokens(user: AnyUser, conn: Conn) -> list[dict[str, Any]]:
    return [token_json(t) for t in list_api_tokens(conn, user)]


@session.delete("/tokens/{token_id}", summary="Revocar un token personal de API")
def revoke_token(token_id: int, user: AnyUser, conn: Conn) -> dict[str, Any]:
    """Revoca el token al instante y para siempre (un administrador puede revocar
    cualquiera)."""
    return token_json(revoke_api_token(conn, token_id, by=user))


# -- administration -------------------------------------------------------------------------

class NewUser(BaseModel):
    usuario: str = Field(min_length=2, max_length=40)
    nombre: str = Field(default="", max_length=200)
    rol: str
    clave: str | None = Field(default=None, description="Si se omite, se genera una.")


class UserChange(BaseModel):
    rol: str | None = None
    activo: bool | None = None
    clave: str | None = None


@admin.get("/usuarios", summary="Usuarios de la plataforma")
def users(_: Admin, conn: Conn) -> list[dict[str, Any]]:
    return [account_json(a) for a in list_users(conn)]


@admin.post("/usuarios", status_code=201, summary="Crear un usuario")
def add_user(body: NewUser, who: Admin, conn: Conn) -> JSONResponse:
    """Crea un usuario activo. Si no se da una clave se genera una, que se muestra solo en
    esta respuesta."""
    password = body.clave or new_password()
    user = create_user(conn, body.usuario, body.nombre, parse_role(body.rol), password,
                       actor=who.username)
    content = me_json(user) | ({} if body.clave else {"clave_inicial": password})
    return JSONResponse(content, status_code=201, headers=NO_STORE)


@admin.patch("/usuarios/{username}", summary="Cambiar rol, estado o clave de un usuario")
def change_user(username: str, body: UserChange, who: Admin, conn: Conn) -> dict[str, Any]:
    with conn.transaction():  # all the changes, or none
        user = get_user(conn, username)
        if body.rol is not None:
            set_role(conn, user.username, body.rol, actor=who.username)
        if body.activo is not None:
            set_active(conn, user.username, body.activo, actor=who.username)
        if body.clave is not None:
            set_password(conn, user.username, body.clave, actor=who.username)
    return next(account_json(a) for a in list_users(conn) if a.user.id == user.id)


@admin.get("/tokens", summary="Todos los tokens personales de API")
def all_tokens(_: Admin, conn: Conn) -> list[dict[str, Any]]:
    return [token_json(t) for t in list_api_tokens(conn)]


@admin.get("/auditoria", summary="Registro de auditoría (más reciente primero)")
def audit_log(
    _: Admin, conn: Conn,
    usuario: Annotated[str | None, Query(max_length=100)] = None,
    accion: Annotated[str | None, Query(max_length=100,
                                        description="Exacta o prefijo: «usuario»")] = None,
    resultado: Annotated[str | None, Query(pattern="^(ok|rechazado)$")] = None,
    limite: Annotated[int, Query(ge=1, le=audit.MAX_LIMIT)] = 100,
    desplazamiento: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> dict[str, Any]:
    rows = audit.entries(conn, limit=limite, offset=desplazamiento, actor=usuario,
                         action=accion, outcome=resultado)
    return {"entradas": [entry_json(r) for r in rows], "limite": limite,
            "desplazamiento": desplazamiento}


# -- login page -----------------------------------------------------------------------------

def safe_next(target: str | None) -> str:
    """Only a path of this site (never another host) to go back to after logging in."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return ""
    return target[:2000]


@pages.get("/ingresar", response_class=HTMLResponse, summary="Página de ingreso")
def login_page(request: Request,
               siguiente: Annotated[str | None, Query(alias="next", max_length=2000)] = None,
               ) -> HTMLResponse:
    return templates.TemplateResponse(request, "ingresar.html",
                                      {"next": safe_next(siguiente)})


router = APIRouter()
for _part in (session, admin, pages):
    router.include_router(_part)

"""Who is calling, and may they: FastAPI dependencies over :mod:`gis.auth`.

- :func:`current_user`: the user of the request's ``Authorization: Bearer`` token (an
  access token from ``POST /auth/token`` or a personal API token), or ``None``.
- :func:`require`: a dependency factory for protected endpoints (every write):
  ``user: Annotated[User, Depends(require(Role.EDITOR))]``. Missing or invalid token:
  401 with ``WWW-Authenticate: Bearer``; a role that is not enough: 403. Every refusal is
  recorded in the audit log with outcome ``rechazado``.
- :func:`reader`: for reads; when ``settings.reads_require_login`` is set, any logged-in
  user (browsers may also send the session cookie set by the login page, for reads only).
- :func:`acting_user_name`: the username to record in the audit log for this request.
- :class:`AuditClientMiddleware`: makes every audit entry of a request carry its client
  address, and records a refused write that nothing else recorded.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from functools import cache
from typing import Annotated, Any
from urllib.parse import quote

import psycopg
from fastapi import Depends, Request
from fastapi.routing import iter_route_contexts
from fastapi.security import OAuth2PasswordBearer
from psycopg_pool import ConnectionPool
from starlette.concurrency import run_in_threadpool

from api.dependencies import get_connection
from gis import audit
from gis.auth import (
    AuthenticationError,
    InvalidTokenError,
    LoginRequiredError,
    PermissionDeniedError,
    Role,
    User,
    user_from_token,
)
from gis.errors import PlatformError
from gis.settings import Settings

log = logging.getLogger(__name__)

bearer_scheme = OAuth2PasswordBearer(
    tokenUrl="/auth/token", auto_error=False, scheme_name="Token",
    description="Token de acceso (POST /auth/token) o token personal de API (secplac_…).")
"""Declares the bearer scheme in the OpenAPI document (the «Authorize» button of /docs)."""

SESSION_COOKIE = "secplac_token"
"""Cookie set by the login page so that browsers can read when login is required.
Accepted for safe methods only: writes need the Authorization header (no CSRF)."""

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LOGIN_PAGE = "/ingresar"
LOGIN_HINT = ("Ingrese en /ingresar, o envíe «Authorization: Bearer <token>» con un token de "
              "POST /auth/token o un token personal de API.")
_UNSET = object()


class LoginRedirect(LoginRequiredError):
    """A browser asking for a page without a session: sent to the login page."""

    http_status = 303

    def __init__(self, request: Request) -> None:
        super().__init__("Debe iniciar sesión para ver esta página.", hint=LOGIN_HINT)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        self.headers = {"Location": f"{LOGIN_PAGE}?next={quote(target, safe='/')}"}


def client_address(request: Request) -> str:
    return request.client.host if request.client else ""


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidTokenError("La cabecera Authorization no es válida.",
                                hint="Use «Authorization: Bearer <token>».")
    return token.strip()


def _user_of(request: Request, conn: psycopg.Connection | None, token: str) -> User:
    if conn is not None:
        return user_from_token(conn, _settings(request), token)
    pool: ConnectionPool = request.app.state.pool
    with pool.connection() as own:
        return user_from_token(own, _settings(request), token)


def _current_user(request: Request, conn: psycopg.Connection | None) -> User | None:
    cached = getattr(request.state, "user", _UNSET)
    if cached is not _UNSET:
        return cached  # type: ignore[return-value]
    token = _bearer_token(request)
    user = _user_of(request, conn, token) if token else None
    request.state.user = user
    return user


def current_user(request: Request) -> User | None:
    """The user of the request's bearer token, ``None`` without one.

    An invalid, expired or revoked token, or a deactivated user, raises the matching
    401 error of :mod:`gis.auth` (a wrong token is never taken as anonymous).
    """
    return _current_user(request, None)


def acting_user_name(request: Request) -> str | None:
    """Username of the user acting in this request (for the audit log), if known."""
    user = getattr(request.state, "user", None)
    return user.username if isinstance(user, User) else None


def record_refusal(request: Request, conn: psycopg.Connection | None,
                   exc: PlatformError) -> None:
    """Record a refused request in the audit log (who if known, method and path, why)."""
    try:
        if conn is None:
            pool: ConnectionPool = request.app.state.pool
            with pool.connection() as own:
                _record_refusal(own, request, exc)
        else:
            _record_refusal(conn, request, exc)
    except psycopg.Error as error:  # the refusal stands even if it cannot be logged
        log.warning("could not record a refused request in the audit log: %s", error)


def _record_refusal(conn: psycopg.Connection, request: Request, exc: PlatformError) -> None:
    audit.record(conn, acting_user_name(request), "acceso.denegado",
                 f"{request.method} {request.url.path}"[:500], outcome="rechazado",
                 detail=exc.message, client=client_address(request) or None)


def _role_names(roles: tuple[Role, ...]) -> str:
    names = [f"«{r.value}»" for r in roles] or ["de un usuario registrado"]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " o " + names[-1]


@cache
def require(*roles: Role) -> Callable[..., User]:
    """A dependency that returns the calling :class:`User` if they hold one of ``roles``
    (admins always do; no roles: any logged-in user), and refuses otherwise.

    Examples
    --------
    >>> @router.post("/propuestas")  # doctest: +SKIP
    ... def create(user: Annotated[User, Depends(require(Role.EDITOR))]): ...
    """
    needed = _role_names(roles)

    def dependency(request: Request,
                   conn: Annotated[psycopg.Connection, Depends(get_connection)],
                   _token: Annotated[str | None, Depends(bearer_scheme)]) -> User:
        try:
            user = _current_user(request, conn)
            if user is None:
                raise LoginRequiredError("Esta operación requiere iniciar sesión.",
                                         hint=LOGIN_HINT)
            if not user.can(*roles):
                raise PermissionDeniedError(
                    f"Su rol «{user.role.value}» no permite esta operación: se requiere el "
                    f"rol {needed}.",
                    hint="Si necesita hacerla, pida al administrador de la plataforma el "
                    "rol correspondiente.")
        except (AuthenticationError, PermissionDeniedError) as exc:
            record_refusal(request, conn, exc)
            raise
        return user

    dependency.__name__ = f"require_{'_'.join(r.value for r in roles) or 'login'}"
    return dependency


async def reader(request: Request,
                 _token: Annotated[str | None, Depends(bearer_scheme)]) -> User | None:
    """Dependency for reads (use it as ``Depends(reader)``).

    When ``settings.reads_require_login`` is false it lets everyone through and returns
    ``None`` (use :func:`current_user` to know who is calling). When true, a read needs a
    logged-in user (bearer token, or the login page's cookie): browsers asking for a page
    are sent to the login page, other clients get 401. Writes are left to :func:`require`.
    """
    if not _settings(request).reads_require_login or request.method not in SAFE_METHODS:
        return None  # async and answered here: open reads cost no thread hop
    return await run_in_threadpool(_logged_in_reader, request)


def _logged_in_reader(request: Request) -> User:
    token = _bearer_token(request)
    from_cookie = token is None
    token = token or request.cookies.get(SESSION_COOKIE)
    try:
        user = _current_user_from(request, token)
    except AuthenticationError:
        if from_cookie and _is_page_request(request):
            raise LoginRedirect(request) from None
        raise
    if user is None:
        if _is_page_request(request):
            raise LoginRedirect(request)
        raise LoginRequiredError("Esta plataforma requiere iniciar sesión para consultar "
                                 "sus datos.", hint=LOGIN_HINT)
    return user


def _current_user_from(request: Request, token: str | None) -> User | None:
    user = _user_of(request, None, token) if token else None
    request.state.user = user
    return user


def _is_page_request(request: Request) -> bool:
    return request.method == "GET" and "text/html" in request.headers.get("accept", "")


WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def is_guarded_write(route: Any, method: str) -> bool:
    """Whether ``method`` on ``route`` is a write: one of its dependencies is a
    :func:`require` guard (logging in and the analyses' POST are not writes)."""
    if method not in WRITE_METHODS or method not in (getattr(route, "methods", None) or ()):
        return False
    pending = [route.dependant] if getattr(route, "dependant", None) else []
    while pending:
        for sub in pending.pop().dependencies:
            if getattr(sub.call, "__name__", "").startswith("require_"):
                return True
            pending.append(sub)
    return False


def _guarded_writes(app: Any) -> list[tuple[frozenset[str], Any]]:
    """The methods and path pattern of every guarded write of ``app``, listed once."""
    listed = getattr(app.state, "guarded_writes", None)
    if listed is None:
        listed = []
        for route in iter_route_contexts(app.routes):
            methods = frozenset(m for m in route.methods or () if is_guarded_write(route, m))
            if methods:
                listed.append((methods, route.path_regex))
        app.state.guarded_writes = listed
    return listed


def _is_guarded_write(scope: Any) -> bool:
    """Whether the request is a guarded write; one refused before routing (an oversized
    or hostile body, see :mod:`api.input_guard`) is matched against their paths."""
    route = scope.get("route")
    if route is not None:
        return is_guarded_write(route, scope["method"])
    path, root = scope["path"], scope.get("root_path", "")
    if root and path.startswith(root):  # behind a proxy's sub-path, as Starlette routes
        path = path[len(root):] or "/"
    return any(scope["method"] in methods and pattern.match(path)
               for methods, pattern in _guarded_writes(scope["app"]))


def _caller(request: Request, conn: psycopg.Connection) -> str | None:
    """The username the request acted as: known once a guard ran; for a request refused
    before any guard, read from its bearer token when that token is valid."""
    try:
        user = _current_user(request, conn)
    except AuthenticationError:
        return None
    return user.username if user is not None else None


def _printable(text: str) -> str:
    """``text`` as PostgreSQL can store it: a NUL (refused in a path) written as ``\\0``."""
    return text.replace("\x00", "\\0")


def _record_unaudited_refusal(scope: Any, status: int, body: bytes) -> None:
    """Record a refused write that nothing recorded (e.g. a body that fails validation,
    or one too large to be read)."""
    try:
        description = str(json.loads(body).get("description", ""))
    except (ValueError, AttributeError):
        description = ""
    request = Request(scope)
    try:
        with request.app.state.pool.connection() as conn:
            audit.record(conn, _caller(request, conn), "escritura.rechazada",
                         _printable(f"{scope['method']} {scope['path']}")[:500],
                         outcome="rechazado",
                         detail=_printable(f"HTTP {status}: {description}")[:500],
                         client=client_address(request) or None)
    except psycopg.Error as error:  # the refusal stands even if it cannot be logged
        log.warning("could not record a refused write in the audit log: %s", error)


class AuditClientMiddleware:
    """Pure ASGI middleware: sets :data:`gis.audit.current_client` for each request, so
    that the audit entries written while serving it carry the client's address, and makes
    sure every refused write leaves an entry: a write answered with an error that nothing
    recorded (a body refused by validation or by :mod:`api.input_guard`, a missing
    record…) is recorded here as
    ``escritura.rechazada``, before the answer leaves. Server errors (5xx: the database
    down) are not refusals and are not held up."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        reset = audit.current_client.set(str(client[0])) if client else None
        actions: list[str] = []
        reset_actions = audit.current_actions.set(actions)
        held: list[Any] = []

        async def send_checked(message: Any) -> None:
            if message["type"] == "http.response.start" and 400 <= message["status"] < 500 \
                    and not actions and _is_guarded_write(scope):
                held.append(message)
                return
            if not held:
                await send(message)
                return
            held.append(message)
            if not message.get("more_body", False):
                body = b"".join(m.get("body", b"") for m in held[1:])
                await run_in_threadpool(_record_unaudited_refusal, scope, held[0]["status"],
                                        body)
                for m in held:
                    await send(m)
                held.clear()

        try:
            await self.app(scope, receive, send_checked)
        finally:
            audit.current_actions.reset(reset_actions)
            if reset is not None:
                audit.current_client.reset(reset)

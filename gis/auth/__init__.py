"""Users, roles and logins for the whole platform (the engine: no web framework here).

Roles (one per user):

- ``lector``: planners and other staff; view.
- ``editor``: DOM collaborators; create and edit their proposals.
- ``revisor``: SECPLAC's urban adviser; comment, approve, reject.
- ``admin``: users, applying approved proposals, layer loads; can do everything.

Passwords are argon2id hashes (:mod:`gis.auth.users`); logins are throttled in the
database (:mod:`gis.auth.login`); two kinds of bearer token, short-lived access tokens
(JWT) and revocable personal API tokens (:mod:`gis.auth.tokens`). Every change is
recorded in the audit log (:mod:`gis.audit`). The web layer is ``api/security.py``.

Examples
--------
>>> from gis.auth import Role, authenticate, issue_access_token
>>> user = authenticate(conn, "editor", clave, client="127.0.0.1")  # doctest: +SKIP
>>> user.can(Role.EDITOR)  # doctest: +SKIP
True
"""

from gis.auth.errors import (
    AccountDisabledError,
    AuthenticationError,
    InvalidCredentialsError,
    InvalidTokenError,
    LastAdminError,
    LoginRequiredError,
    PermissionDeniedError,
    TokenExpiredError,
    TokenRevokedError,
    TooManyAttemptsError,
    UserExistsError,
)
from gis.auth.login import authenticate
from gis.auth.roles import ROLE_TITLES, Account, ApiToken, Role, User
from gis.auth.tokens import (
    create_api_token,
    find_api_token,
    issue_access_token,
    list_api_tokens,
    revoke_api_token,
    signing_key,
    user_from_token,
)
from gis.auth.users import (
    DEMO_USERS,
    create_user,
    deactivate_user,
    ensure_demo_users,
    get_user,
    list_users,
    new_password,
    parse_role,
    set_active,
    set_password,
    set_role,
)

__all__ = [
    "DEMO_USERS", "ROLE_TITLES", "AccountDisabledError", "Account", "ApiToken",
    "AuthenticationError", "InvalidCredentialsError", "InvalidTokenError", "LastAdminError",
    "LoginRequiredError", "PermissionDeniedError", "Role", "TokenExpiredError",
    "TokenRevokedError", "TooManyAttemptsError", "User", "UserExistsError", "authenticate",
    "create_api_token", "create_user", "deactivate_user", "ensure_demo_users",
    "find_api_token", "get_user", "issue_access_token", "list_api_tokens", "list_users",
    "new_password", "parse_role", "revoke_api_token", "set_active", "set_password",
    "set_role", "signing_key", "user_from_token",
]

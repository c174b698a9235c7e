"""Roles and the users who hold them (plain values, no database)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Role(StrEnum):
    LECTOR = "lector"
    EDITOR = "editor"
    REVISOR = "revisor"
    ADMIN = "admin"


ROLE_TITLES = {
    Role.LECTOR: "lector (consulta)",
    Role.EDITOR: "editor (propuestas)",
    Role.REVISOR: "revisor (revisión y aprobación)",
    Role.ADMIN: "administrador",
}


@dataclass(frozen=True)
class User:
    """A platform user, as seen by the code that checks what they may do."""

    id: int
    username: str
    full_name: str
    role: Role

    def can(self, *roles: Role) -> bool:
        """Whether this user acts with one of ``roles``.

        Admins can do everything, and every user can do what a ``lector`` does (view);
        with no roles given, any user can.

        Examples
        --------
        >>> User(1, "dom", "DOM", Role.EDITOR).can(Role.EDITOR, Role.REVISOR)
        True
        >>> User(2, "ana", "Ana", Role.LECTOR).can(Role.REVISOR)
        False
        """
        return (self.role is Role.ADMIN or not roles or Role.LECTOR in roles
                or self.role in roles)


@dataclass(frozen=True)
class Account:
    """A user as an administrator sees it."""

    user: User
    active: bool
    created_at: datetime
    last_login_at: datetime | None


@dataclass(frozen=True)
class ApiToken:
    """A personal API token (never its secret, which is shown once at creation)."""

    id: int
    username: str
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    expires_at: datetime | None

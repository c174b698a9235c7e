"""The Spanish refusals of authentication and authorisation, with their HTTP status."""

from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

from gis.errors import ConflictError, ForbiddenError, PlatformError

TIME_ZONE = ZoneInfo("America/Santiago")


class AuthenticationError(PlatformError):
    """Who is calling could not be established: HTTP 401 with ``WWW-Authenticate``."""

    http_status = 401
    headers: dict[str, str] = {"WWW-Authenticate": "Bearer"}


class LoginRequiredError(AuthenticationError):
    pass


class InvalidCredentialsError(AuthenticationError):
    pass


class AccountDisabledError(AuthenticationError):
    pass


class InvalidTokenError(AuthenticationError):
    headers: dict[str, str] = {"WWW-Authenticate": 'Bearer error="invalid_token"'}


class TokenExpiredError(InvalidTokenError):
    pass


class TokenRevokedError(InvalidTokenError):
    pass


class TooManyAttemptsError(PlatformError):
    http_status = 429

    def __init__(self, message: str, *, retry_after: int, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.retry_after = retry_after
        self.headers = {"Retry-After": str(retry_after)}


class PermissionDeniedError(ForbiddenError):
    """The user is known but their role does not allow the operation."""


class UserExistsError(ConflictError):
    pass


class LastAdminError(ConflictError):
    pass


def local_time(value: datetime) -> str:
    """``value`` as Chilean local time, e.g. ``25-11-2026 14:05``."""
    return value.astimezone(TIME_ZONE).strftime("%d-%m-%Y %H:%M")


def spanish_duration(seconds: float) -> str:
    """``seconds`` rounded up to a Spanish phrase: «45 segundos», «15 minutos»."""
    seconds = max(1, math.ceil(seconds))
    if seconds < 60:
        return f"{seconds} segundo{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minuto{'s' if minutes != 1 else ''}"

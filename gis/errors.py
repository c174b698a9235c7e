"""Domain exceptions. Their message is for a planner, in Spanish; the API maps them once."""

from __future__ import annotations


class PlatformError(Exception):
    """Base of every error the platform reports to its users."""

    http_status = 400

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}" if self.hint else self.message


class DatabaseUnavailableError(PlatformError):
    http_status = 503


class SetupError(PlatformError):
    """The machine lacks something the platform needs (PostgreSQL, PostGIS...)."""

    http_status = 500


class NotFoundError(PlatformError):
    http_status = 404

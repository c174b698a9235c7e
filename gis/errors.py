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


class ForbiddenError(PlatformError):
    """Known user, but not allowed to do this."""

    http_status = 403


class ConflictError(PlatformError):
    """The request clashes with the state of what it changes."""

    http_status = 409


class PreconditionFailedError(PlatformError):
    """A stale ``If-Match``: someone else changed the thing since it was read."""

    http_status = 412


class PreconditionRequiredError(PlatformError):
    """A write without ``If-Match`` where optimistic concurrency requires one."""

    http_status = 428

"""Domain errors raised by services of every app; the API layer maps each to an HTTP status."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    INVALID = "invalid"
    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"
    CONFLICT = "conflict"
    GONE = "gone"


class KefuError(Exception):
    code: ErrorCode = ErrorCode.INVALID

    def __init__(self, message: str, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class InvalidInput(KefuError):
    code = ErrorCode.INVALID


class NotFound(KefuError):
    code = ErrorCode.NOT_FOUND


class Forbidden(KefuError):
    code = ErrorCode.FORBIDDEN


class Conflict(KefuError):
    """The state of what is changed does not allow the action (or another request holds it)."""

    code = ErrorCode.CONFLICT


class Gone(KefuError):
    """What was offered is over (a customer's time to respond has passed)."""

    code = ErrorCode.GONE

"""The errors of the API contract. Services raise them; handlers turn them into responses."""

from __future__ import annotations

from typing import Any


def error_body(code: str, message: str, **details: Any) -> dict[str, Any]:
    """The contract's error shape, for the Lambda handlers and the local runtime alike:
    `{"error": {"code": ..., "message": ..., <details>}}`."""
    return {"error": {"code": code, "message": message, **details}}


class DomainError(Exception):
    code = "invalid_request"
    status = 400

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidRequest(DomainError):
    code, status = "invalid_request", 400


class NotFound(DomainError):
    code, status = "not_found", 404

    def __init__(self, what: str = "resource") -> None:
        # The same words for "missing" and "not yours": nothing may tell them apart.
        super().__init__(f"{what} not found")


class Conflict(DomainError):
    code, status = "conflict", 409


class QuotaExceeded(DomainError):
    code, status = "quota_exceeded", 413


class FileTooLarge(DomainError):
    code, status = "file_too_large", 413


class UnsupportedMediaType(DomainError):
    code, status = "unsupported_media_type", 415


class Unauthorized(DomainError):
    code, status = "unauthorized", 401


class Forbidden(DomainError):
    """The caller may see the resource (an album shared with them) but not make this change."""

    code, status = "forbidden", 403


class PasswordRequired(DomainError):
    code, status = "password_required", 401


class TooManyRequests(DomainError):
    code, status = "too_many_requests", 429

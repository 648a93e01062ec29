"""One exception per error code of the HTTP API, plus the failures that happen before a server answers.

Every exception carries a message meant for a person: the CLI prints `str(error)` as is.
"""

from __future__ import annotations


class PhotoSyncError(Exception):
    """Base class of everything the SDK raises on purpose."""


class ServerUnreachable(PhotoSyncError):
    """No answer from the server (connection refused, timeout, DNS), even after retries."""

    def __init__(self, base_url: str, detail: str = "") -> None:
        self.base_url = base_url
        self.detail = detail
        super().__init__(f"Cannot reach {base_url}: is `photosync serve` running?" + (f" ({detail})" if detail else ""))


class ApiError(PhotoSyncError):
    """The server answered with an error body `{"error": {"code", "message"}}`."""

    code = "error"

    def __init__(self, message: str, *, status: int, code: str | None = None) -> None:
        self.status = status
        self.message = message
        if code is not None:
            self.code = code
        super().__init__(message)


class Unauthorized(ApiError):
    code = "unauthorized"


class Forbidden(ApiError):
    code = "forbidden"


class PasswordRequired(ApiError):
    """A public link with a password, asked without it or with a wrong one."""

    code = "password_required"


class NotFound(ApiError):
    code = "not_found"


class InvalidRequest(ApiError):
    code = "invalid_request"


class QuotaExceeded(ApiError):
    """The upload would go over the account's quota; the numbers come from `GET /me` when known."""

    code = "quota_exceeded"

    def __init__(
        self,
        message: str,
        *,
        status: int = 413,
        code: str | None = None,
        storage_quota: int | None = None,
        storage_used: int | None = None,
        storage_pending: int | None = None,
        requested: int | None = None,
    ) -> None:
        if storage_quota is not None and storage_used is not None:
            from photosync.client.units import human_size

            message = (
                f"Storage quota exceeded: {human_size(storage_used)} used"
                + (f" and {human_size(storage_pending)} being uploaded" if storage_pending else "")
                + f" of {human_size(storage_quota)}"
                + (f"; this file needs {human_size(requested)}" if requested is not None else "")
            )
        super().__init__(message, status=status, code=code)
        self.storage_quota = storage_quota
        self.storage_used = storage_used
        self.storage_pending = storage_pending
        self.requested = requested


class FileTooLarge(ApiError):
    code = "file_too_large"


class UnsupportedMediaType(ApiError):
    code = "unsupported_media_type"


class Conflict(ApiError):
    code = "conflict"


class TooManyRequests(ApiError):
    """The server (or API Gateway's throttling) kept refusing for now, through the retries."""

    code = "too_many_requests"


class ServerError(ApiError):
    """A 5xx that persisted through the retries, or an answer that does not follow the contract."""

    code = "server_error"


class UploadFailed(PhotoSyncError):
    """The server rejected an uploaded file when finalizing it, or did not finish it in time."""

    def __init__(self, message: str, *, upload_id: str | None = None, reason: str | None = None) -> None:
        self.upload_id = upload_id
        self.reason = reason
        super().__init__(message)


class IntegrityError(PhotoSyncError):
    """Downloaded bytes do not have the SHA-256 the server announced."""


ERRORS_BY_CODE: dict[str, type[ApiError]] = {
    cls.code: cls
    for cls in (
        Unauthorized, Forbidden, PasswordRequired, NotFound, InvalidRequest, QuotaExceeded, FileTooLarge,
        UnsupportedMediaType, Conflict, TooManyRequests,
    )
}
# For answers without the contract's error body: API Gateway's own 401, 403, 404 and 429 are
# `{"message": "..."}`, and only the status says what happened.
ERRORS_BY_STATUS: dict[int, type[ApiError]] = {
    401: Unauthorized, 403: Forbidden, 404: NotFound, 429: TooManyRequests,
}

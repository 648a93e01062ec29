"""Answers the local runtime gives itself (gateway, object store, sign-in), in the contract's shape."""

from __future__ import annotations

from starlette.responses import JSONResponse

from photosync.domain.errors import error_body


def error_response(status: int, code: str, message: str, *, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(code, message), status_code=status, headers=headers)

"""The local API Gateway: routes each request to its function, checks the bearer token the way the
HTTP API's JWT authorizer does, builds the v2.0 payload and turns the function's answer into HTTP."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import Response

from photosync.local.authorizer import JwtAuthorizer, Unauthorized
from photosync.local.events import http_api_event
from photosync.local.lambda_runtime import LocalFunction, LocalLambdaRuntime
from photosync.local.responses import error_response

# API Gateway's own limit for an HTTP API payload is 10 MB; this API only takes small JSON bodies.
MAX_BODY_BYTES = 1024 * 1024

# The HTTP API's routes and the function behind each, as `infra/template.yaml` declares them.
ROUTES: dict[str, tuple[str, ...]] = {
    "photosync.handlers.http.uploads.handler": (
        "POST /uploads", "POST /uploads/batch", "GET /uploads/{upload_id}", "DELETE /uploads/{upload_id}",
        "POST /uploads/{upload_id}/parts", "GET /uploads/{upload_id}/parts", "POST /uploads/{upload_id}/complete",
    ),
    "photosync.handlers.http.gallery.handler": ("GET /photos", "GET /photos/{photo_id}"),
    "photosync.handlers.http.download.handler": ("GET /photos/{photo_id}/download",),
    "photosync.handlers.http.delete.handler": ("DELETE /photos/{photo_id}",),
    "photosync.handlers.http.albums.handler": (
        "POST /albums", "GET /albums", "GET /albums/{album_id}", "PATCH /albums/{album_id}",
        "DELETE /albums/{album_id}", "POST /albums/{album_id}/photos",
        "DELETE /albums/{album_id}/photos/{photo_id}",
        "POST /albums/{album_id}/members", "GET /albums/{album_id}/members",
        "PATCH /albums/{album_id}/members/{member_id}", "DELETE /albums/{album_id}/members/{member_id}",
        "POST /albums/{album_id}/links", "GET /albums/{album_id}/links",
        "DELETE /albums/{album_id}/links/{link_id}",
    ),
    "photosync.handlers.http.account.handler": (
        "GET /me", "POST /photos/lookup", "GET /healthz", "GET /openapi.json",
    ),
    "photosync.handlers.http.trash.handler": (
        "GET /trash", "POST /trash/restore", "DELETE /trash/{photo_id}", "POST /trash/empty",
    ),
    "photosync.handlers.http.sync.handler": ("GET /sync",),
    "photosync.handlers.http.public.handler": ("GET /public/{token}", "GET /public/{token}/photos/{photo_id}/download"),
}
# Routes without the JWT authorizer, as in the template: no token is checked (nor passed on).
PUBLIC_ROUTES = frozenset({
    "GET /healthz", "GET /openapi.json", "GET /public/{token}", "GET /public/{token}/photos/{photo_id}/download",
})


@dataclass(frozen=True)
class _Route:
    key: str
    method: str
    pattern: re.Pattern[str]
    function: LocalFunction


def _compile(path_template: str) -> re.Pattern[str]:
    # A path parameter matches one non-empty segment, as in API Gateway.
    regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(path_template))
    return re.compile(f"^{regex}$")


class LocalGateway:
    def __init__(self, authorizer: JwtAuthorizer, runtime: LocalLambdaRuntime, *, concurrency: int) -> None:
        self._authorizer = authorizer
        self._routes: list[_Route] = []
        for handler, route_keys in ROUTES.items():
            function = runtime.function(handler.split(".")[-2], handler)
            for key in route_keys:
                method, path = key.split(" ", 1)
                self._routes.append(_Route(key, method, _compile(path), function))
        # Threads that wait for an environment; more would only queue inside the runtime.
        self._limiter = anyio.CapacityLimiter(concurrency)

    async def handle(self, request: Request) -> Response:
        path = request.url.path
        matches = [(r, m) for r in self._routes if (m := r.pattern.match(path))]
        route_match = next(((r, m) for r, m in matches if r.method == request.method), None)
        if route_match is None:
            return error_response(404, "not_found", "no such route")
        route, match = route_match

        claims = None
        if route.key not in PUBLIC_ROUTES:
            try:
                claims = self._authorizer.verify(request.headers.get("authorization"))
            except Unauthorized as refusal:
                return error_response(401, "unauthorized", f"{refusal}: sign in again")

        body_bytes = await _read_limited(request)
        if body_bytes is None:
            return error_response(400, "invalid_request", f"request body is larger than {MAX_BODY_BYTES} bytes")
        body, is_base64 = _event_body(body_bytes)
        query: dict[str, list[str]] = {}
        for name, value in request.query_params.multi_items():
            query.setdefault(name, []).append(value)
        headers: dict[str, list[str]] = {}
        for name, value in request.headers.items():
            headers.setdefault(name.lower(), []).append(value)
        event = http_api_event(
            method=request.method, route_key=route.key, path=path,
            raw_query=request.url.query, query=query, headers=headers,
            path_parameters=match.groupdict(), body=body, is_base64=is_base64,
            source_ip=request.client.host if request.client else "127.0.0.1",
            claims=claims, host=request.url.netloc,
        )
        result = await anyio.to_thread.run_sync(route.function.invoke, event, limiter=self._limiter)
        return _http_response(result)


async def _read_limited(request: Request) -> bytes | None:
    chunks, total = [], 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _event_body(raw: bytes) -> tuple[str | None, bool]:
    if not raw:
        return None, False
    try:
        return raw.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(raw).decode("ascii"), True


def _http_response(result: Any) -> Response:
    """A function's answer, read as API Gateway reads a v2.0 response."""
    if not isinstance(result, dict) or "statusCode" not in result:
        return error_response(500, "internal_error", "the function returned an invalid response")
    body = result.get("body") or ""
    status = int(result["statusCode"])
    content = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode("utf-8")
    if status in (204, 304):
        content = b""  # HTTP forbids a body here; API Gateway drops it too
    response = Response(content=content, status_code=status)
    for name, value in (result.get("headers") or {}).items():
        response.headers[name] = str(value)
    for name, values in (result.get("multiValueHeaders") or {}).items():
        for value in values:
            response.headers.append(name, str(value))
    for cookie in result.get("cookies") or []:
        response.headers.append("set-cookie", cookie)
    return response

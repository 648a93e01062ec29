"""A signed-in user calling the HTTP functions in process, with the v2.0 events API Gateway sends
them after its JWT authorizer: the handlers' whole path (routing, parsing, services, JSON shapes)
without a server, for tests that make thousands of calls."""

from __future__ import annotations

import importlib
import json
import re
import uuid
from typing import Any
from urllib.parse import urlencode

from photosync.local.events import http_api_event
from photosync.local.gateway import ROUTES
from photosync.local.lambda_runtime import LocalLambdaContext


def _pattern(path_template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(path_template)) + "$")


_ROUTE_TABLE = [
    (key.split(" ", 1)[0], _pattern(key.split(" ", 1)[1]), key, handler)
    for handler, keys in ROUTES.items()
    for key in keys
]


class LambdaApi:
    def __init__(self, user_id: uuid.UUID | None = None, email: str | None = None) -> None:
        self.user_id = user_id or uuid.uuid4()
        self.email = email or f"{self.user_id}@example.com"

    def call(self, method: str, path: str, *, json_body: Any = None, query: dict[str, str] | None = None) -> tuple[int, Any]:
        for route_method, pattern, key, handler in _ROUTE_TABLE:
            match = pattern.match(path)
            if match and route_method == method:
                break
        else:
            raise AssertionError(f"no route for {method} {path}")
        query = {k: v for k, v in (query or {}).items() if v is not None}
        event = http_api_event(
            method=method, route_key=key, path=path, raw_query=urlencode(query),
            query={k: [v] for k, v in query.items()}, headers={"content-type": ["application/json"]},
            path_parameters=match.groupdict(), body=None if json_body is None else json.dumps(json_body),
            is_base64=False, source_ip="127.0.0.1", host="localhost",
            claims={"sub": str(self.user_id), "username": self.email, "token_use": "access", "scope": "openid"},
        )
        module, attribute = handler.rsplit(".", 1)
        result = getattr(importlib.import_module(module), attribute)(event, LocalLambdaContext(module))
        body = result.get("body") or ""
        return result["statusCode"], json.loads(body) if body else None

    def ok(self, method: str, path: str, *, json_body: Any = None, query: dict[str, str] | None = None, status: int = 200) -> Any:
        got, body = self.call(method, path, json_body=json_body, query=query)
        assert got == status, (method, path, got, body)
        return body

    def all_pages(self, path: str, **query: str) -> list[dict]:
        items, cursor = [], None
        while True:
            page = self.ok("GET", path, query={**query, "cursor": cursor})
            items += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                return items

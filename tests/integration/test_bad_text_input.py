"""Text no database can hold, sent to the Lambda handlers as API Gateway delivers it: bytes that are
not UTF-8 (a base64 body, as API Gateway passes a body it cannot read as text) and strings that JSON
can spell but PostgreSQL cannot store (a lone surrogate, NUL). Every JSON route answers
`400 invalid_request` in the contract's error shape; none answers 5xx and nothing is stored."""

from __future__ import annotations

import base64
import importlib
import json
import uuid

import pytest

from photosync.local.events import http_api_event
from photosync.local.lambda_runtime import LocalLambdaContext

ALBUM = str(uuid.UUID(int=1))
SHA = "a" * 64

# Every route that reads a JSON body: (handler module, route key, path parameters, a body with a
# string field a client controls).
JSON_ROUTES = [
    ("uploads", "POST /uploads", {}, {"filename": "IMG.jpg", "content_type": "image/jpeg", "size": 10, "sha256": SHA}),
    ("albums", "POST /albums", {}, {"name": "Holidays"}),
    ("albums", "PATCH /albums/{album_id}", {"album_id": ALBUM}, {"name": "Holidays"}),
    ("albums", "POST /albums/{album_id}/photos", {"album_id": ALBUM}, {"photo_ids": [ALBUM]}),
    ("account", "POST /photos/lookup", {}, {"sha256": [SHA]}),
]
ROUTE_IDS = [route[1] for route in JSON_ROUTES]
NOT_UTF8 = [b"\xff\xfe\xfa", b'{"name": "\xed\xa0\x80"}', b'{"filename": "\xc3(.jpg"}', bytes(range(256))]
# Each replaces every string of the body, and a key is added, so that each route's text is hit.
UNSTORABLE = {"lone surrogate": "\ud800", "surrogate in a word": "Holi\udfffdays", "NUL": "Holi\x00days"}


def invoke(module: str, route_key: str, path_parameters: dict, *, body: str | None, is_base64: bool, query=None):
    method, path = route_key.split(" ", 1)
    for name, value in path_parameters.items():
        path = path.replace("{" + name + "}", value)
    event = http_api_event(
        method=method, route_key=route_key, path=path, raw_query="", query=query or {},
        headers={"content-type": ["application/json"]}, path_parameters=path_parameters,
        body=body, is_base64=is_base64, source_ip="127.0.0.1", host="127.0.0.1",
        claims={"sub": str(uuid.uuid4()), "email": "bad-input@example.com", "scope": "openid"},
    )
    handler = importlib.import_module(f"photosync.handlers.http.{module}").handler
    return handler(event, LocalLambdaContext(module))


def assert_invalid_request(response: dict) -> None:
    assert response["statusCode"] == 400, response
    body = json.loads(response["body"])
    assert set(body) == {"error"} and body["error"]["code"] == "invalid_request", body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]


def with_every_string(value, text: str):
    if isinstance(value, dict):
        return {k: with_every_string(v, text) for k, v in value.items()}
    if isinstance(value, list):
        return [with_every_string(v, text) for v in value]
    return text if isinstance(value, str) else value


@pytest.mark.parametrize(("module", "route_key", "params", "good_body"), JSON_ROUTES, ids=ROUTE_IDS)
@pytest.mark.parametrize("raw", NOT_UTF8, ids=["random", "encoded surrogate", "truncated sequence", "all bytes"])
def test_a_body_that_is_not_utf8_is_invalid_request(lambda_env, db, module, route_key, params, good_body, raw):
    response = invoke(module, route_key, params, body=base64.b64encode(raw).decode(), is_base64=True)
    assert_invalid_request(response)
    assert db.execute("SELECT count(*) AS n FROM albums").fetchone()["n"] == 0


@pytest.mark.parametrize(("module", "route_key", "params", "good_body"), JSON_ROUTES, ids=ROUTE_IDS)
@pytest.mark.parametrize("text", UNSTORABLE.values(), ids=UNSTORABLE.keys())
def test_strings_postgresql_cannot_store_are_invalid_request(lambda_env, db, module, route_key, params, good_body, text):
    for body in (with_every_string(good_body, text), {**good_body, "note": text}, {**good_body, text: 1}):
        # json.dumps escapes them as JSON allows ("\ud800", "\u0000"), which is what a client sends.
        response = invoke(module, route_key, params, body=json.dumps(body), is_base64=False)
        assert_invalid_request(response)
    assert db.execute("SELECT count(*) AS n FROM albums").fetchone()["n"] == 0
    assert db.execute("SELECT count(*) AS n FROM pending_uploads").fetchone()["n"] == 0


def test_a_base64_body_that_is_utf8_json_is_read(lambda_env, db):
    """The control case: a base64 body is decoded, not refused for being base64."""
    body = base64.b64encode(json.dumps({"name": "Été"}).encode()).decode()
    response = invoke("albums", "POST /albums", {}, body=body, is_base64=True)
    assert response["statusCode"] == 201, response
    assert json.loads(response["body"])["name"] == "Été"


@pytest.mark.parametrize(
    "query",
    [{"cursor": ["\ud800"]}, {"cursor": ["\x00"]}, {"album_id": ["\x00"]}, {"album_id": ["\ud800"]}, {"limit": ["\ud800"]}],
)
def test_unstorable_query_values_are_invalid_request(lambda_env, query):
    assert_invalid_request(invoke("gallery", "GET /photos", {}, body=None, is_base64=False, query=query))


@pytest.mark.parametrize(
    ("module", "route_key", "params"),
    [
        ("gallery", "GET /photos/{photo_id}", {"photo_id": "\ud800"}),
        ("download", "GET /photos/{photo_id}/download", {"photo_id": "\x00"}),
        ("delete", "DELETE /photos/{photo_id}", {"photo_id": "\ud800"}),
        ("uploads", "GET /uploads/{upload_id}", {"upload_id": "\x00"}),
        ("albums", "GET /albums/{album_id}", {"album_id": "a\x00b"}),
        ("albums", "DELETE /albums/{album_id}", {"album_id": "\ud800"}),
        ("albums", "DELETE /albums/{album_id}/photos/{photo_id}", {"album_id": ALBUM, "photo_id": "\x00"}),
    ],
)
def test_a_path_no_route_can_match_is_not_found(lambda_env, module, route_key, params):
    """Powertools (like API Gateway) routes only URI characters, so such a path is no route: a 404 in
    the contract's shape, never an id that reaches the database."""
    response = invoke(module, route_key, params, body=None, is_base64=False)
    assert response["statusCode"] == 404, response
    assert json.loads(response["body"]) == {"error": {"code": "not_found", "message": "no such route"}}

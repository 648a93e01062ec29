"""Bad input gets the right 4xx in the contract's error shape, never a 5xx, and changes nothing."""

from __future__ import annotations

import hashlib
import json

import pytest

from tests.e2e.api import ApiUser, assert_error

GOOD_SHA = hashlib.sha256(b"x").hexdigest()
UPLOAD = {"filename": "a.jpg", "content_type": "image/jpeg", "size": 100, "sha256": GOOD_SHA}


@pytest.fixture(scope="module")
def user(server) -> ApiUser:
    return ApiUser(server.base_url)


@pytest.fixture(scope="module")
def album_id(user) -> str:
    return user.request("POST", "/albums", json={"name": "fixture"}).json()["id"]


UPLOAD_CASES = [
    ("malformed json", b"{not json", 400, "invalid_request"),
    ("json array", json.dumps([UPLOAD]).encode(), 400, "invalid_request"),
    ("empty body", b"", 400, "invalid_request"),
    ("nested deeper than a parser recurses", b"[" * 200_000, 400, "invalid_request"),
    *[(f"missing {field}", json.dumps({k: v for k, v in UPLOAD.items() if k != field}).encode(), 400, "invalid_request") for field in UPLOAD],
    ("size as string", json.dumps({**UPLOAD, "size": "100"}).encode(), 400, "invalid_request"),
    ("size as float", json.dumps({**UPLOAD, "size": 100.5}).encode(), 400, "invalid_request"),
    ("size as bool", json.dumps({**UPLOAD, "size": True}).encode(), 400, "invalid_request"),
    ("size zero", json.dumps({**UPLOAD, "size": 0}).encode(), 400, "invalid_request"),
    ("size negative", json.dumps({**UPLOAD, "size": -5}).encode(), 400, "invalid_request"),
    ("filename as number", json.dumps({**UPLOAD, "filename": 7}).encode(), 400, "invalid_request"),
    ("empty filename", json.dumps({**UPLOAD, "filename": ""}).encode(), 400, "invalid_request"),
    ("blank filename", json.dumps({**UPLOAD, "filename": "   "}).encode(), 400, "invalid_request"),
    ("filename of 256", json.dumps({**UPLOAD, "filename": "a" * 252 + ".jpg"}).encode(), 400, "invalid_request"),
    ("filename with NUL", json.dumps({**UPLOAD, "filename": "a\u0000.jpg"}).encode(), 400, "invalid_request"),
    ("short hash", json.dumps({**UPLOAD, "sha256": "abc"}).encode(), 400, "invalid_request"),
    ("uppercase hash", json.dumps({**UPLOAD, "sha256": GOOD_SHA.upper()}).encode(), 400, "invalid_request"),
    ("non-hex hash", json.dumps({**UPLOAD, "sha256": "g" * 64}).encode(), 400, "invalid_request"),
    ("unsupported type", json.dumps({**UPLOAD, "content_type": "text/html"}).encode(), 415, "unsupported_media_type"),
    ("svg", json.dumps({**UPLOAD, "content_type": "image/svg+xml"}).encode(), 415, "unsupported_media_type"),
    ("too large", json.dumps({**UPLOAD, "size": 6 * 1024**3}).encode(), 413, "file_too_large"),
    ("huge integer", json.dumps({**UPLOAD, "size": 10**40}).encode(), 413, "file_too_large"),
]


@pytest.mark.parametrize(("name", "body", "status", "code"), UPLOAD_CASES, ids=[c[0] for c in UPLOAD_CASES])
def test_bad_upload_requests_are_refused_and_reserve_nothing(user, name, body, status, code):
    before = user.me()
    response = user.request("POST", "/uploads", content=body, headers={"Content-Type": "application/json"})
    assert_error(response, status, code)
    assert user.me()["storage_pending"] == before["storage_pending"]


def test_the_limits_themselves_are_accepted(user):
    """The control case: the matrix above can tell a good request from a bad one."""
    response = user.request("POST", "/uploads", json={**UPLOAD, "filename": "é" * 251 + ".jpg", "sha256": "1" * 64})
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "/photos?limit=0", None, 400),
        ("GET", "/photos?limit=501", None, 400),
        ("GET", "/photos?limit=-1", None, 400),
        ("GET", "/photos?limit=ten", None, 400),
        ("GET", "/photos?limit=", None, 400),
        ("GET", "/photos?cursor=%%%", None, 400),
        ("GET", "/photos?cursor=eyJhIjoxfQ", None, 400),
        ("GET", "/photos?cursor=WyJub3QgYSB0aW1lIiwieCJd", None, 400),
        ("GET", "/photos?album_id=42", None, 400),
        ("GET", "/photos/42", None, 400),
        ("GET", "/photos/not-a-uuid/download", None, 400),
        ("DELETE", "/photos/%7B00000000-0000-0000-0000-000000000000%7D", None, 400),
        ("GET", "/uploads/xyz", None, 400),
        ("GET", "/albums/xyz", None, 400),
        ("POST", "/albums", {"name": ""}, 400),
        ("POST", "/albums", {"name": "   "}, 400),
        ("POST", "/albums", {"name": "x" * 201}, 400),
        ("POST", "/albums", {"name": 5}, 400),
        ("POST", "/albums", {}, 400),
        ("POST", "/albums", [], 400),
        ("POST", "/photos/lookup", {"sha256": []}, 400),
        ("POST", "/photos/lookup", {"sha256": ["nope"]}, 400),
        ("POST", "/photos/lookup", {"sha256": GOOD_SHA}, 400),
        ("POST", "/photos/lookup", {"sha256": [GOOD_SHA] * 1001}, 400),
        ("POST", "/photos/lookup", {}, 400),
    ],
)
def test_bad_parameters_and_bodies_get_400(user, method, path, body, status):
    response = user.request(method, path, json=body) if body is not None else user.request(method, path)
    assert_error(response, status, "invalid_request")


def test_bad_album_edits_change_nothing(user, album_id):
    for body in ({"name": ""}, {"name": "x" * 201}, {"nom": "x"}, {"name": None}):
        assert_error(user.request("PATCH", f"/albums/{album_id}", json=body), 400, "invalid_request")
    for body in ({"photo_ids": []}, {"photo_ids": ["nope"]}, {"photo_ids": "x"}, {"photo_ids": [1]}):
        assert_error(user.request("POST", f"/albums/{album_id}/photos", json=body), 400, "invalid_request")
    assert_error(user.request("DELETE", f"/albums/{album_id}/photos/nope"), 400, "invalid_request")
    album = user.request("GET", f"/albums/{album_id}").json()
    assert (album["name"], album["photo_count"]) == ("fixture", 0)


def test_an_oversized_body_and_unknown_routes_are_4xx(user):
    assert_error(user.request("POST", "/albums", content=b"x" * (1024 * 1024 + 1)), 400, "invalid_request")
    assert_error(user.request("PUT", "/photos"), 404, "not_found")
    assert_error(user.request("POST", "/photos/" + "0" * 8 + "-0000-0000-0000-" + "0" * 12), 404, "not_found")


# Every route that reads a JSON body, with a body whose strings a client controls.
JSON_ROUTES = [
    ("POST", "/uploads", UPLOAD),
    ("POST", "/albums", {"name": "Holidays"}),
    ("PATCH", "/albums/{album}", {"name": "Holidays"}),
    ("POST", "/albums/{album}/photos", {"photo_ids": ["00000000-0000-0000-0000-000000000001"]}),
    ("POST", "/photos/lookup", {"sha256": [GOOD_SHA]}),
    ("POST", "/auth/dev/login", {"email": "someone@example.com"}),
]
UNREADABLE = {
    "random bytes": bytes(range(128, 256)),
    "encoded surrogate": b'{"name": "\xed\xa0\x80"}',
    "nested deeper than a parser recurses": b"[" * 200_000,
}
UNSTORABLE = {"lone surrogate": "\ud800", "NUL": "a\x00b"}


def _unstorable_body(good: dict, text: str) -> bytes:
    strings = {k: (text if isinstance(v, str) else [text] if isinstance(v, list) else v) for k, v in good.items()}
    return json.dumps(strings).encode()  # escaped as JSON allows: "\ud800", "\u0000"


@pytest.mark.parametrize(("method", "path", "good"), JSON_ROUTES, ids=[f"{m} {p}" for m, p, _ in JSON_ROUTES])
@pytest.mark.parametrize("kind", [*UNREADABLE, *UNSTORABLE])
def test_text_no_database_can_hold_is_invalid_request_on_every_json_route(user, album_id, method, path, good, kind):
    body = UNREADABLE[kind] if kind in UNREADABLE else _unstorable_body(good, UNSTORABLE[kind])
    before = user.me()
    response = user.request(method, path.format(album=album_id), content=body, headers={"Content-Type": "application/json"})
    assert_error(response, 400, "invalid_request")
    after = user.me()
    assert (after["storage_pending"], after["storage_used"]) == (before["storage_pending"], before["storage_used"])
    album = user.request("GET", f"/albums/{album_id}").json()
    assert (album["name"], album["photo_count"]) == ("fixture", 0)


@pytest.mark.parametrize(
    "query", ["cursor=%ED%A0%80", "cursor=%00", "album_id=%00", "album_id=%ED%A0%80", "limit=%00", "limit=%FF"]
)
def test_unstorable_query_values_are_invalid_request(user, query):
    assert_error(user.request("GET", f"/photos?{query}"), 400, "invalid_request")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/photos/%ED%A0%80"),
        ("GET", "/photos/%00/download"),
        ("DELETE", "/photos/%00"),
        ("GET", "/uploads/%ED%A0%80"),
        ("GET", "/albums/a%00b"),
        ("PATCH", "/albums/%00"),
        ("DELETE", "/albums/%ED%A0%80"),
        ("DELETE", "/albums/%00/photos/%00"),
    ],
)
def test_a_path_no_route_can_match_is_not_found(user, method, path):
    """Only URI characters make a route's path parameter (as in API Gateway): such a path is no route."""
    response = user.request(method, path, json={"name": "x"}) if method == "PATCH" else user.request(method, path)
    assert_error(response, 404, "not_found")

"""Integrity of the upload step over HTTP: the body, URL and expiry a grant binds are enforced by the
store, and a refused upload stores and charges nothing."""

from __future__ import annotations

import time
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import pytest

from tests.e2e.api import ApiUser, assert_error
from tests.support.images import make_jpeg
from tests.support.server import start_server


def stored_originals(server) -> list:
    root = server.data_dir / "objects" / "originals"
    return [p for p in root.rglob("*") if p.is_file() and not p.name.endswith(".meta.json")] if root.exists() else []


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


def grant_for(user: ApiUser, data: bytes) -> dict:
    response = user.grant(data)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda g, data: (g["url"], g["headers"], data + b"!"), id="longer-body"),
        pytest.param(lambda g, data: (g["url"], g["headers"], data[:-1]), id="shorter-body"),
        pytest.param(lambda g, data: (g["url"], g["headers"], data[:-1] + bytes([data[-1] ^ 0xFF])), id="same-length-other-hash"),
        pytest.param(lambda g, data: (with_query(g["url"], size=str(len(data) + 1)), g["headers"], data + b"!"), id="changed-size-in-url"),
        pytest.param(lambda g, data: (with_query(g["url"], expires=str(int(time.time()) + 86400)), g["headers"], data), id="changed-expiry-in-url"),
        pytest.param(lambda g, data: (g["url"].replace("/originals/", "/thumbnails/"), g["headers"], data), id="changed-key"),
        pytest.param(lambda g, data: (with_query(g["url"], signature="0" * 64), g["headers"], data), id="forged-signature"),
        pytest.param(lambda g, data: (g["url"], {"Content-Type": "text/html"}, data), id="other-content-type"),
    ],
)
def test_a_tampered_upload_is_refused_and_nothing_is_stored_or_charged(server, tamper):
    user = ApiUser(server.base_url)
    data = make_jpeg(model="integrity")
    granted = grant_for(user, data)
    before = stored_originals(server)

    url, headers, body = tamper(granted, data)
    response = httpx.put(url, headers=headers, content=body)

    assert 400 <= response.status_code < 500, response.text
    assert stored_originals(server) == before
    time.sleep(0.3)  # no finalize may have run either
    assert user.wait_for(granted["upload_id"], timeout=0)["status"] == "pending"
    assert user.me()["storage_used"] == 0
    # The genuine request still works afterwards: the refusals above were about the tampering.
    assert httpx.put(granted["url"], headers=granted["headers"], content=data).status_code == 200
    assert user.wait_for(granted["upload_id"])["status"] == "complete"


@pytest.fixture(scope="module")
def short_lived_server(tmp_path_factory):
    """A server whose upload links last 2 s and whose reservations are swept after 4 s, every second."""
    process = start_server(
        tmp_path_factory.mktemp("short-lived") / "data",
        env={
            "PHOTOSYNC_UPLOAD_URL_TTL_SECONDS": "2",
            "PHOTOSYNC_PENDING_TTL_SECONDS": "4",
            "PHOTOSYNC_CLEANUP_INTERVAL_SECONDS": "1",
        },
    )
    yield process
    process.stop()


def test_an_expired_upload_link_is_refused_and_the_sweep_returns_the_reservation(short_lived_server):
    user = ApiUser(short_lived_server.base_url)
    data = make_jpeg(model="too late")
    granted = grant_for(user, data)
    assert user.me()["storage_pending"] == len(data)
    time.sleep(3)

    refused = httpx.put(granted["url"], headers=granted["headers"], content=data)

    assert_error(refused, 403, "forbidden")
    assert stored_originals(short_lived_server) == []
    deadline = time.monotonic() + 30
    while user.me()["storage_pending"] and time.monotonic() < deadline:
        time.sleep(0.5)
    me = user.me()
    assert (me["storage_pending"], me["storage_used"]) == (0, 0)
    status = user.wait_for(granted["upload_id"], timeout=0)
    assert status["status"] == "failed" and "expired" in status["reason"]

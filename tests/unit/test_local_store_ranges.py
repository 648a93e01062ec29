"""The local store answers HTTP range requests on downloads exactly as a video player needs them."""

from __future__ import annotations

import os

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from photosync.adapters.objectstore.local_disk import LocalDiskStore
from photosync.local.store_endpoints import StoreEndpoints

SIZE = 1000
KEY = "originals/owner/clip"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    store = LocalDiskStore(tmp_path_factory.mktemp("store"), public_url="http://testserver")
    content = os.urandom(SIZE)
    store.put(KEY, content, content_type="video/mp4")
    # Downloads never deliver events: no finalize function is needed.
    app = Starlette(routes=StoreEndpoints(store, finalize=None).routes())  # type: ignore[arg-type]
    with TestClient(app) as client:
        yield client, store.presign_download(KEY, expires_in=300, filename="clip.mp4", content_type="video/mp4").url, content


def test_without_a_range_the_whole_file_comes_and_ranges_are_announced(served):
    client, url, content = served
    response = client.get(url)
    assert response.status_code == 200
    assert response.content == content
    assert response.headers["accept-ranges"] == "bytes"


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [
        ("bytes=0-0", 0, 0),
        ("bytes=0-99", 0, 99),
        ("bytes=500-", 500, SIZE - 1),
        ("bytes=990-5000", 990, SIZE - 1),  # past the end: clipped to it
        ("bytes=-10", SIZE - 10, SIZE - 1),  # suffix: the last ten bytes
        ("bytes=-5000", 0, SIZE - 1),  # a suffix longer than the file is the whole file
        ("bytes=999-999", SIZE - 1, SIZE - 1),
        ("Bytes=10-19", 10, 19),  # the unit is case-insensitive
    ],
    ids=["first-byte", "head", "open-ended", "clipped", "suffix", "long-suffix", "last-byte", "unit-case"],
)
def test_a_single_range_is_206_with_exactly_those_bytes(served, header, first, last):
    client, url, content = served
    response = client.get(url, headers={"Range": header})
    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes {first}-{last}/{SIZE}"
    assert response.headers["content-length"] == str(last - first + 1)
    assert response.content == content[first : last + 1]
    assert response.headers["content-type"] == "video/mp4"


def test_head_with_a_range_describes_it_without_a_body(served):
    client, url, _ = served
    response = client.head(url, headers={"Range": "bytes=100-199"})
    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes 100-199/{SIZE}"
    assert response.content == b""


@pytest.mark.parametrize(
    "header",
    [
        "bytes=1000-",  # starts at the end
        "bytes=5000-6000",
        "bytes=-0",  # an empty suffix
        "bytes=20-10",  # last before first
        "bytes=0-1,5-6",  # several ranges
        "bytes=-",
        "bytes=a-b",
        "items=0-10",
        "bytes 0-10",
        "",
    ],
    ids=["at-end", "past-end", "empty-suffix", "reversed", "several", "no-bounds", "not-numbers", "other-unit", "no-equals", "empty"],
)
def test_a_range_that_cannot_be_served_is_416_in_the_error_shape(served, header):
    client, url, _ = served
    response = client.get(url, headers={"Range": header})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{SIZE}"
    assert response.json()["error"]["code"] == "range_not_satisfiable"


def test_if_range_that_no_longer_matches_sends_the_whole_file(served):
    client, url, content = served
    response = client.get(url, headers={"Range": "bytes=0-9", "If-Range": '"an-older-version"'})
    assert response.status_code == 200
    assert response.content == content
    etag = response.headers["etag"]
    assert client.get(url, headers={"Range": "bytes=0-9", "If-Range": etag}).status_code == 206


def test_a_range_needs_a_valid_link(served):
    client, url, _ = served
    response = client.get(url.replace("signature=", "signature=0"), headers={"Range": "bytes=0-9"})
    assert response.status_code == 403

"""The local store's signed links: what they bind, how long they live, and that they can be cached."""

from __future__ import annotations

import time
from urllib.parse import parse_qsl, urlsplit

import pytest

from photosync.adapters.objectstore.local_disk import DOWNLOAD_EXPIRY_WINDOW, LocalDiskStore, SignatureError


@pytest.fixture
def store(tmp_path) -> LocalDiskStore:
    return LocalDiskStore(tmp_path, public_url="http://127.0.0.1:8000")


def query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


def test_download_links_are_stable_within_a_window_and_live_at_least_their_ttl(store):
    first = store.presign_download("thumbnails/u/p.webp", expires_in=900)
    second = store.presign_download("thumbnails/u/p.webp", expires_in=900)
    remaining = first.expires_at.timestamp() - time.time()
    assert first.url == second.url or int(query(second.url)["expires"]) - int(query(first.url)["expires"]) == DOWNLOAD_EXPIRY_WINDOW
    assert 900 - 2 <= remaining <= 900 + DOWNLOAD_EXPIRY_WINDOW
    assert int(query(first.url)["expires"]) % DOWNLOAD_EXPIRY_WINDOW == 0


def test_a_download_link_verifies_only_as_issued(store):
    link = store.presign_download("originals/u/p", expires_in=60, filename="a.jpg", content_type="image/jpeg")
    key = "originals/u/p"
    ticket = store.verify_download(key, query(link.url))
    assert (ticket.filename, ticket.content_type) == ("a.jpg", "image/jpeg")
    for changed in ({"filename": "b.html"}, {"type": "text/html"}, {"expires": str(int(time.time()) + 10**6)}):
        with pytest.raises(SignatureError):
            store.verify_download(key, {**query(link.url), **changed})
    with pytest.raises(SignatureError):
        store.verify_download("originals/u/other", query(link.url))


def test_keys_cannot_escape_the_store(store):
    for key in ("../secrets/store-signing.key", "/etc/passwd", "originals//x", "originals/./x"):
        with pytest.raises(SignatureError):
            store.head(key)

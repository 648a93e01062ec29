"""A pre-signed upload URL creates its object and nothing else: `If-None-Match: *` is signed into
it, so a URL used again before it expires cannot replace a finalized original (S3 answers 412)."""

from __future__ import annotations

import hashlib

import httpx
import pytest

from photosync.adapters.objectstore.s3 import S3ObjectStore, signed_headers
from tests.support.moto_server import MotoS3

BODY = b"\xff\xd8\xff\xe0" + b"original" * 100 + b"\xff\xd9"


@pytest.fixture
def store(s3_bucket: str, moto_s3_server: MotoS3) -> S3ObjectStore:
    return S3ObjectStore(s3_bucket, region=moto_s3_server.region, endpoint_url=moto_s3_server.endpoint_url)


def test_the_upload_url_signs_create_only_and_a_second_use_is_refused(store):
    grant = store.presign_upload(
        "originals/u/x", size=len(BODY), sha256=hashlib.sha256(BODY).hexdigest(), content_type="image/jpeg",
        expires_in=300,
    )

    assert grant.headers["If-None-Match"] == "*"
    assert "if-none-match" in signed_headers(grant.url)
    assert httpx.put(grant.url, headers=grant.headers, content=BODY).status_code == 200
    again = httpx.put(grant.url, headers=grant.headers, content=BODY)
    assert again.status_code == 412, again.text
    assert store.read("originals/u/x") == BODY

"""Multipart uploads on S3 itself: LocalStack's S3 with signature validation on
(tests/support/localstack_server.py), which checks the signed part URLs and each part's SHA-256 as
AWS does. The parts are sent over HTTP to the URLs the service signs; S3 refuses a part with other
bytes than its signed checksum, of another length, or through an expired URL. The assembled object
has only a composite checksum, so finalize hashes it whole (streaming) before it charges anything.
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid

import httpx
import pytest

from photosync.adapters.objectstore import NoSuchMultipartUpload, PartsRefused
from photosync.adapters.objectstore.s3 import S3ObjectStore
from photosync.domain.validation import CompletedPart, PartRequest, UploadRequest
from photosync.services import finalize, uploads
from tests.conftest import assert_money_invariants, new_user
from tests.support.localstack_server import LocalStackS3

MIB = 1024 * 1024
FTYP = (24).to_bytes(4, "big") + b"ftypisom" + (0x200).to_bytes(4, "big") + b"isommp41"


def video(size: int) -> bytes:
    return FTYP + os.urandom(size - len(FTYP))


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def store(localstack_s3: LocalStackS3, localstack_credentials: None) -> S3ObjectStore:
    return S3ObjectStore(localstack_s3.create_bucket(), region=localstack_s3.region, endpoint_url=localstack_s3.endpoint_url)


def put(url, body: bytes) -> httpx.Response:
    # httpx sets Content-Length from the body: a body of another length goes as it is.
    headers = {name: value for name, value in url.headers.items() if name.lower() != "content-length"}
    return httpx.request(url.method, url.url, headers=headers, content=body, timeout=60)


def assert_refused(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, (response.status_code, response.text)
    assert f"<Code>{code}</Code>" in response.text, response.text


def test_s3_refuses_a_part_that_is_not_the_signed_one_and_keeps_the_good_parts(store: S3ObjectStore) -> None:
    key = f"originals/{uuid.uuid4()}/{uuid.uuid4()}"
    upload = store.create_multipart(key, content_type="video/mp4")
    first, last = video(5 * MIB), os.urandom(MIB)

    def url(number: int, body: bytes, expires_in: int = 300):
        return store.presign_part(key, upload, number=number, size=len(body), sha256=sha256_hex(body), expires_in=expires_in)

    expiring = url(1, first, expires_in=1)
    assert_refused(put(url(1, first), first[:-1] + b"x"), 400, "BadDigest")  # other bytes, same length
    assert_refused(put(url(1, first), first[:-1]), 403, "SignatureDoesNotMatch")  # shorter than signed
    time.sleep(2.5)
    assert_refused(put(expiring, first), 403, "AccessDenied")
    assert store.list_parts(key, upload) == []

    assert put(url(1, first), first).status_code == 200
    assert put(url(2, last), last).status_code == 200
    held = store.list_parts(key, upload)
    assert [(p.number, p.size) for p in held] == [(1, len(first)), (2, len(last))]
    assert all(p.checksum_sha256 for p in held)

    with pytest.raises(PartsRefused):
        store.complete_multipart(key, upload, list(reversed(held)))
    store.complete_multipart(key, upload, held)

    info = store.head(key)
    assert (info.size, info.sha256, info.content_type) == (len(first) + len(last), None, "video/mp4")  # composite only
    assert store.read(key) == first + last
    with pytest.raises(NoSuchMultipartUpload):
        store.list_parts(key, upload)


def test_abort_drops_the_parts_and_a_second_abort_is_fine(store: S3ObjectStore) -> None:
    key = f"originals/{uuid.uuid4()}/{uuid.uuid4()}"
    upload = store.create_multipart(key, content_type="video/mp4")
    body = video(5 * MIB)
    part = store.presign_part(key, upload, number=1, size=len(body), sha256=sha256_hex(body), expires_in=300)
    assert put(part, body).status_code == 200

    store.abort_multipart(key, upload)
    store.abort_multipart(key, upload)

    with pytest.raises(NoSuchMultipartUpload):
        store.list_parts(key, upload)
    assert put(part, body).status_code == 404  # the URL leads nowhere now
    assert store.head(key) is None


@pytest.mark.parametrize("declared_right", [True, False], ids=["declared-hash", "another-hash"])
def test_a_multipart_upload_is_finalized_by_hashing_the_assembled_object(store, uow, declared_right) -> None:
    owner = new_user(uow)
    data = video(10 * MIB)
    declared = sha256_hex(data) if declared_right else sha256_hex(data + b"!")
    granted = uploads.request_upload(
        uow, store, owner_id=owner, url_ttl_seconds=300,
        request=UploadRequest("clip.mp4", "video/mp4", len(data), declared, multipart=True),
    )
    assert isinstance(granted, uploads.MultipartGranted) and granted.part_count == 2
    chunks = [data[: granted.part_size], data[granted.part_size :]]
    urls = uploads.request_part_urls(
        uow, store, owner_id=owner, upload_id=granted.upload_id, url_ttl_seconds=300, multipart_ttl_seconds=3600,
        parts=[PartRequest(n, sha256_hex(chunk)) for n, chunk in enumerate(chunks, 1)],
    )
    etags = [put(url.request, chunk).headers["ETag"] for url, chunk in zip(urls, chunks)]
    uploads.complete_multipart(
        uow, store, owner_id=owner, upload_id=granted.upload_id, multipart_ttl_seconds=3600,
        parts=[CompletedPart(n, etag) for n, etag in enumerate(etags, 1)],
    )

    result = finalize.finalize_object(uow, store, f"originals/{owner}/{granted.upload_id}")

    account = uow.users.get(owner)
    if declared_right:
        assert result.outcome == "finalized"
        assert (account.storage_used, account.storage_pending) == (len(data), 0)
    else:
        assert result.outcome == "rejected" and "SHA-256" in result.detail
        assert (account.storage_used, account.storage_pending) == (0, 0)
        assert store.head(f"originals/{owner}/{granted.upload_id}") is None
    assert_money_invariants(uow.conn)

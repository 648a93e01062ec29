"""What S3 itself refuses of an upload grant, against LocalStack's S3 with signature validation on
(tests/support/localstack_server.py). moto accepts all of these (tests/integration/test_s3_store.py
covers the store's API calls there); this S3 checks the signature, the signed headers and the
checksum, as AWS does.

First a request that must fail proves the server checks at all; then each way a client could try to
store something other than what it declared: other bytes, another length, a changed header, an
expired URL, and the same URL used again once the original is stored. Each is refused by S3 and
leaves the stored object as it was (or absent).
"""

from __future__ import annotations

import hashlib
import time
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import pytest

from photosync.adapters.objectstore.base import ObjectInfo, PresignedUpload
from photosync.adapters.objectstore.s3 import S3ObjectStore, hex_to_base64
from tests.support.localstack_server import LocalStackS3

JPEG_LIKE = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40 + b"\xff\xd9"
KEY = "originals/u1/up1"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def store(localstack_s3: LocalStackS3, localstack_credentials: None) -> S3ObjectStore:
    return S3ObjectStore(localstack_s3.create_bucket(), region=localstack_s3.region, endpoint_url=localstack_s3.endpoint_url)


def grant_for(store: S3ObjectStore, body: bytes, *, expires_in: int = 300) -> PresignedUpload:
    return store.presign_upload(KEY, size=len(body), sha256=sha256_hex(body), content_type="image/jpeg", expires_in=expires_in)


def send(grant: PresignedUpload, body: bytes, *, url: str | None = None, **header_changes: str) -> httpx.Response:
    # httpx sets Content-Length from the body itself: a body of another length is sent as it is.
    headers = {name: value for name, value in grant.headers.items() if name.lower() != "content-length"}
    headers.update(header_changes)
    return httpx.request(grant.method, url or grant.url, headers=headers, content=body, timeout=30)


def assert_refused(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, (response.status_code, response.text)
    assert f"<Code>{code}</Code>" in response.text, response.text


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True)) | changes
    return urlunsplit(parts._replace(query=urlencode(query)))


def test_this_s3_checks_signatures_a_tampered_one_is_refused(store: S3ObjectStore) -> None:
    grant = grant_for(store, JPEG_LIKE)
    signature = dict(parse_qsl(urlsplit(grant.url).query))["X-Amz-Signature"]
    tampered = with_query(grant.url, **{"X-Amz-Signature": ("0" if signature[0] != "0" else "1") + signature[1:]})

    assert_refused(send(grant, JPEG_LIKE, url=tampered), 403, "SignatureDoesNotMatch")
    assert store.head(KEY) is None
    # The untampered grant works, so the refusal is the signature's alone.
    assert send(grant, JPEG_LIKE).status_code == 200
    assert store.head(KEY) == ObjectInfo(size=len(JPEG_LIKE), sha256=sha256_hex(JPEG_LIKE), content_type="image/jpeg")


def test_other_bytes_of_the_same_length_are_refused(store: S3ObjectStore) -> None:
    grant = grant_for(store, JPEG_LIKE)
    other = JPEG_LIKE[:-3] + b"tam"

    assert_refused(send(grant, other), 400, "BadDigest")
    assert store.head(KEY) is None


def test_other_bytes_with_their_own_checksum_are_refused(store: S3ObjectStore) -> None:
    grant = grant_for(store, JPEG_LIKE)
    other = JPEG_LIKE[:-3] + b"tam"

    response = send(grant, other, **{"x-amz-checksum-sha256": hex_to_base64(sha256_hex(other))})

    assert_refused(response, 403, "SignatureDoesNotMatch")
    assert store.head(KEY) is None


@pytest.mark.parametrize("body", [JPEG_LIKE[:-1], JPEG_LIKE + b"\x00"], ids=["shorter", "longer"])
def test_a_body_of_another_length_is_refused(store: S3ObjectStore, body: bytes) -> None:
    grant = grant_for(store, JPEG_LIKE)

    assert_refused(send(grant, body), 403, "SignatureDoesNotMatch")
    assert store.head(KEY) is None


def test_a_changed_content_type_is_refused(store: S3ObjectStore) -> None:
    grant = grant_for(store, JPEG_LIKE)

    assert_refused(send(grant, JPEG_LIKE, **{"Content-Type": "text/html"}), 403, "SignatureDoesNotMatch")
    assert store.head(KEY) is None


def test_an_expired_url_is_refused(store: S3ObjectStore) -> None:
    grant = grant_for(store, JPEG_LIKE, expires_in=1)
    time.sleep(2.5)  # past X-Amz-Date + X-Amz-Expires, which has a one-second resolution

    assert_refused(send(grant, JPEG_LIKE), 403, "AccessDenied")
    assert store.head(KEY) is None


def test_a_url_used_again_cannot_overwrite_the_stored_original(store: S3ObjectStore) -> None:
    grant = grant_for(store, JPEG_LIKE)
    assert send(grant, JPEG_LIKE).status_code == 200
    stored = store.head(KEY)

    # The same grant again, byte for byte (a replayed or leaked URL within its lifetime): S3 must not
    # replace the original that finalize has checked and charged for, nor announce it again.
    again = send(grant, JPEG_LIKE)

    assert again.status_code == 412, (again.status_code, again.text)
    assert store.head(KEY) == stored


def test_download_urls_the_store_signs_itself_are_accepted_and_cannot_be_altered(store: S3ObjectStore) -> None:
    """Download URLs are signed without the client's request pipeline (adapters/objectstore/sigv4.py):
    S3 must accept them as they are, with their response overrides, and refuse any change."""
    assert send(grant_for(store, JPEG_LIKE), JPEG_LIKE).status_code == 200
    download = store.presign_download(KEY, expires_in=300, filename="caf\u00e9 1.jpg", content_type="image/jpeg")
    fetched = httpx.get(download.url, timeout=30)
    assert fetched.status_code == 200 and fetched.content == JPEG_LIKE
    assert fetched.headers["content-type"] == "image/jpeg"
    assert "filename*=UTF-8''caf%C3%A9%201.jpg" in fetched.headers["content-disposition"]
    for altered in (
        with_query(download.url, **{"response-content-type": "text/html"}),
        with_query(download.url, **{"X-Amz-Expires": "3000"}),
        download.url.replace(KEY, "originals/u1/other"),
    ):
        assert_refused(httpx.get(altered, timeout=30), 403, "SignatureDoesNotMatch")

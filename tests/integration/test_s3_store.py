"""The S3 object store against moto's S3 server over real HTTP.

moto checks no signature, expiry or checksum, so nothing here claims that S3 refuses a bad upload:
tests/integration/test_s3_integrity.py proves that against LocalStack's S3, which checks them.
What is proven: the pre-signed PUT binds size, type and checksum in its signature (read from the URL
itself), the returned headers are exactly what makes the upload work, and `head()` reports the
stored object's real size and SHA-256, which is what finalize compares with the grant.
"""

from __future__ import annotations

import base64
import email.message
import hashlib
import re
from datetime import datetime, timedelta, timezone
from urllib.parse import unquote, urlsplit

import boto3
import httpx
import pytest
from botocore.config import Config

from photosync.adapters.objectstore.base import ObjectInfo, ObjectStoreError
from photosync.adapters.objectstore.s3 import (
    S3ObjectStore,
    content_disposition_attachment,
    full_object_sha256_hex,
    hex_to_base64,
    signed_headers,
)
from tests.support.moto_server import MotoS3

JPEG_LIKE = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40 + b"\xff\xd9"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def extended_filename(disposition: str) -> str:
    """The RFC 5987 `filename*` value, decoded (the stdlib parsers prefer the ASCII fallback)."""
    match = re.fullmatch(
        r"attachment; filename=\"[^\"]*\"; filename\*=UTF-8''([^;\s\"]+)", disposition
    )
    assert match, disposition
    return unquote(match.group(1), encoding="utf-8", errors="strict")


@pytest.fixture
def store(s3_bucket: str, moto_s3_server: MotoS3) -> S3ObjectStore:
    return S3ObjectStore(
        s3_bucket, region=moto_s3_server.region, endpoint_url=moto_s3_server.endpoint_url
    )


def upload_through_presigned_put(store: S3ObjectStore, key: str, body: bytes) -> None:
    grant = store.presign_upload(
        key, size=len(body), sha256=sha256_hex(body), content_type="image/jpeg", expires_in=300
    )
    response = httpx.request(grant.method, grant.url, headers=grant.headers, content=body)
    assert response.status_code == 200, response.text


def test_presigned_put_signs_length_type_and_checksum(store: S3ObjectStore) -> None:
    body = JPEG_LIKE
    grant = store.presign_upload(
        "originals/u1/up1",
        size=len(body),
        sha256=sha256_hex(body),
        content_type="image/jpeg",
        expires_in=900,
    )

    assert grant.method == "PUT"
    assert signed_headers(grant.url) == {
        "content-length",
        "content-type",
        "host",
        "if-none-match",
        "x-amz-checksum-sha256",
        "x-amz-sdk-checksum-algorithm",
    }
    assert grant.headers == {
        "Content-Length": str(len(body)),
        "Content-Type": "image/jpeg",
        "x-amz-checksum-sha256": base64.b64encode(hashlib.sha256(body).digest()).decode(),
        "x-amz-sdk-checksum-algorithm": "SHA256",
        "If-None-Match": "*",
    }
    assert "X-Amz-Expires=900" in grant.url
    now = datetime.now(timezone.utc)
    assert now + timedelta(seconds=890) < grant.expires_at <= now + timedelta(seconds=900)


def test_an_upload_url_that_would_not_bind_the_headers_is_never_handed_out(
    aws_test_credentials: None,
) -> None:
    # Legacy SigV2 query signing signs no headers: such a URL would accept any body.
    sigv2_client = boto3.client("s3", region_name="us-east-1", config=Config(signature_version="s3"))
    store = S3ObjectStore("photosync-photos", region="us-east-1", client=sigv2_client)

    with pytest.raises(ObjectStoreError, match="does not sign"):
        store.presign_upload(
            "originals/u1/up1", size=10, sha256="ab" * 32, content_type="image/jpeg", expires_in=60
        )


def test_presigned_put_stores_the_bytes_and_head_reports_size_type_and_sha256(
    store: S3ObjectStore,
) -> None:
    upload_through_presigned_put(store, "originals/u1/up1", JPEG_LIKE)

    assert store.head("originals/u1/up1") == ObjectInfo(
        size=len(JPEG_LIKE), sha256=sha256_hex(JPEG_LIKE), content_type="image/jpeg"
    )
    assert store.read("originals/u1/up1") == JPEG_LIKE


def test_head_reports_the_stored_bytes_when_the_body_differs_from_the_grant(
    store: S3ObjectStore,
) -> None:
    granted = JPEG_LIKE
    other = JPEG_LIKE[:-3] + b"tam"  # same length, other bytes
    grant = store.presign_upload(
        "originals/u1/up2",
        size=len(granted),
        sha256=sha256_hex(granted),
        content_type="image/jpeg",
        expires_in=300,
    )
    # Real S3 refuses this (the checksum header is signed); moto accepts it, which makes it the
    # case finalize must still catch through head().
    forged_headers = {**grant.headers, "x-amz-checksum-sha256": hex_to_base64(sha256_hex(other))}
    response = httpx.put(grant.url, headers=forged_headers, content=other)
    assert response.status_code == 200

    info = store.head("originals/u1/up2")
    assert info is not None
    assert info.size == len(granted)
    assert info.sha256 == sha256_hex(other)
    assert info.sha256 != sha256_hex(granted)


def test_presigned_get_returns_identical_bytes_as_an_attachment(store: S3ObjectStore) -> None:
    upload_through_presigned_put(store, "originals/u1/up3", JPEG_LIKE)
    hostile = 'Été "2024"\r\nX-Injected: yes; filename=evil.exe\\..%20.jpg'

    download = store.presign_download(
        "originals/u1/up3", expires_in=120, filename=hostile, content_type="image/jpeg"
    )
    response = httpx.get(download.url)

    assert response.status_code == 200
    assert response.content == JPEG_LIKE
    assert response.headers["content-type"] == "image/jpeg"
    assert "x-injected" not in response.headers
    disposition = response.headers["content-disposition"]
    assert disposition == content_disposition_attachment(hostile)
    parsed = email.message.Message()
    parsed["Content-Disposition"] = disposition
    assert parsed.get_content_disposition() == "attachment"
    assert parsed.get_filename() == "Ete _2024___X-Injected: yes_ filename=evil.exe_.._20.jpg"
    assert extended_filename(disposition) == (
        'Été "2024"__X-Injected: yes; filename=evil.exe_..%20.jpg'
    )
    assert download.expires_at > datetime.now(timezone.utc)


def test_presigned_get_without_filename_has_no_disposition_override(store: S3ObjectStore) -> None:
    upload_through_presigned_put(store, "originals/u1/up4", JPEG_LIKE)

    download = store.presign_download("originals/u1/up4", expires_in=60)

    assert "response-content-disposition" not in download.url
    assert httpx.get(download.url).content == JPEG_LIKE


def test_read_range_returns_the_requested_slice_and_fewer_bytes_at_the_end(
    store: S3ObjectStore,
) -> None:
    upload_through_presigned_put(store, "originals/u1/up5", JPEG_LIKE)
    size = len(JPEG_LIKE)

    assert store.read_range("originals/u1/up5", 0, 12) == JPEG_LIKE[:12]
    assert store.read_range("originals/u1/up5", 100, 50) == JPEG_LIKE[100:150]
    assert store.read_range("originals/u1/up5", size - 4, 100) == JPEG_LIKE[-4:]
    assert store.read_range("originals/u1/up5", size, 10) == b""
    assert store.read_range("originals/u1/up5", 3, 0) == b""


def test_put_stores_a_rendition_with_its_sha256(store: S3ObjectStore) -> None:
    rendition = b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x01" * 500

    store.put("thumbnails/u1/p1.webp", rendition, content_type="image/webp")

    assert store.head("thumbnails/u1/p1.webp") == ObjectInfo(
        size=len(rendition), sha256=sha256_hex(rendition), content_type="image/webp"
    )
    assert store.read("thumbnails/u1/p1.webp") == rendition


@pytest.mark.parametrize("size", [1000, 9 * 1024 * 1024], ids=["one-part", "multipart"])
def test_put_file_stores_a_playback_copy_from_disk(store: S3ObjectStore, tmp_path, size: int) -> None:
    # Above boto3's 8 MiB threshold the transfer manager sends parts, read from the file as it goes.
    copy = tmp_path / "playback.mp4"
    copy.write_bytes(bytes(range(256)) * (size // 256))

    store.put_file("playback/u1/p1.mp4", copy, content_type="video/mp4")

    info = store.head("playback/u1/p1.mp4")
    assert (info.size, info.content_type) == (copy.stat().st_size, "video/mp4")
    assert store.read("playback/u1/p1.mp4") == copy.read_bytes()


def test_delete_removes_the_object_and_is_idempotent(store: S3ObjectStore) -> None:
    upload_through_presigned_put(store, "originals/u1/up6", JPEG_LIKE)

    store.delete("originals/u1/up6")
    assert store.head("originals/u1/up6") is None
    store.delete("originals/u1/up6")
    store.delete("originals/u1/never-existed")


def test_head_of_a_missing_object_is_none(store: S3ObjectStore) -> None:
    assert store.head("originals/u1/missing") is None


def test_reading_a_missing_object_is_a_store_error(store: S3ObjectStore) -> None:
    with pytest.raises(ObjectStoreError, match="NoSuchKey"):
        store.read("originals/u1/missing")


def test_an_unreachable_endpoint_is_a_store_error(aws_test_credentials: None) -> None:
    # Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    unreachable = S3ObjectStore("bucket", region="us-east-1", endpoint_url="http://127.0.0.1:9")

    with pytest.raises(ObjectStoreError):
        unreachable.head("originals/u1/x")
    with pytest.raises(ObjectStoreError):
        unreachable.put("thumbnails/u1/x", b"x", content_type="image/webp")
    with pytest.raises(ObjectStoreError):
        unreachable.delete("originals/u1/x")


def test_aws_urls_are_virtual_hosted_on_the_regional_endpoint(aws_test_credentials: None) -> None:
    for region in ("eu-west-1", "us-east-1"):
        store = S3ObjectStore("photosync-photos-123", region=region)
        url = store.presign_download("originals/u/x", expires_in=60)
        assert urlsplit(url.url).netloc == f"photosync-photos-123.s3.{region}.amazonaws.com"
        assert urlsplit(url.url).path == "/originals/u/x"


def test_a_custom_endpoint_uses_path_style_urls(
    store: S3ObjectStore, s3_bucket: str, moto_s3_server: MotoS3
) -> None:
    url = store.presign_download("originals/u/x", expires_in=60).url
    assert url.startswith(f"{moto_s3_server.endpoint_url}/{s3_bucket}/originals/u/x?")


def test_checksum_conversions() -> None:
    digest = hashlib.sha256(b"abc").digest()
    assert hex_to_base64(digest.hex()) == base64.b64encode(digest).decode()
    assert full_object_sha256_hex(base64.b64encode(digest).decode()) == digest.hex()
    assert full_object_sha256_hex(base64.b64encode(digest).decode(), "FULL_OBJECT") == digest.hex()
    # A multipart upload's composite checksum is a hash of part hashes, not of the object.
    assert full_object_sha256_hex(base64.b64encode(digest).decode() + "-3") is None
    assert full_object_sha256_hex(base64.b64encode(digest).decode(), "COMPOSITE") is None
    assert full_object_sha256_hex(None) is None
    for bad in ("abc", "zz" * 32, digest.hex()[:-2]):
        with pytest.raises(ValueError):
            hex_to_base64(bad)


def test_content_disposition_keeps_names_exact_and_the_fallback_plain_ascii() -> None:
    plain = content_disposition_attachment("IMG_0001.JPG")
    assert plain == "attachment; filename=\"IMG_0001.JPG\"; filename*=UTF-8''IMG_0001.JPG"

    unicode_name = content_disposition_attachment("日本 photo ü.heic")
    assert unicode_name.isascii()
    assert 'filename="photo u.heic"' in unicode_name
    assert extended_filename(unicode_name) == "日本 photo ü.heic"

    assert content_disposition_attachment("   ").startswith('attachment; filename="download";')
    only_kanji = content_disposition_attachment("日本.jpg")
    assert only_kanji.startswith('attachment; filename=".jpg";')
    assert extended_filename(only_kanji) == "日本.jpg"
    assert extended_filename(content_disposition_attachment("a\r\nb\x00c/d\\e")) == "a__b_c_d_e"

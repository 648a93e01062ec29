"""The pure rules: validation, object keys, cursors, sizes, and the configuration's refusals."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest

from photosync.config import ConfigError, load_settings
from photosync.domain import keys
from photosync.domain.cursor import TimelinePosition, decode_cursor, encode_cursor
from photosync.domain.errors import FileTooLarge, InvalidRequest, UnsupportedMediaType
from photosync.domain.units import human_bytes
from photosync.domain.validation import (
    parse_album_name,
    parse_limit,
    parse_sha256_list,
    parse_upload_request,
    parse_uuid,
)
from photosync.local.sign_in import is_loopback

SHA = "ab" * 32


def upload(**changes):
    return parse_upload_request(
        {"filename": "IMG_1.JPG", "content_type": "image/jpeg", "size": 10, "sha256": SHA, **changes},
        max_upload_bytes=100,
    )


def test_an_upload_request_is_normalised():
    assert upload(content_type="Image/JPG; charset=binary").content_type == "image/jpeg"
    assert upload(size=100).size == 100


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"size": 101}, FileTooLarge),
        ({"size": 0}, InvalidRequest),
        ({"size": True}, InvalidRequest),
        ({"content_type": "application/pdf"}, UnsupportedMediaType),
        ({"sha256": SHA.upper()}, InvalidRequest),
        ({"filename": "a\nb.jpg"}, InvalidRequest),
        ({"filename": "x" * 256}, InvalidRequest),
    ],
)
def test_bad_upload_requests_name_what_is_wrong(changes, error):
    with pytest.raises(error):
        upload(**changes)


def test_album_names_are_trimmed_and_bounded():
    assert parse_album_name({"name": "  Trip  "}) == "Trip"
    for bad in ("", "   ", "x" * 201, "tab\there"):
        with pytest.raises(InvalidRequest):
            parse_album_name({"name": bad})


def test_ids_have_one_spelling():
    value = uuid.uuid4()
    assert parse_uuid(str(value), "id") == value
    assert parse_uuid(str(value).upper(), "id") == value  # RFC 4122: hex digits in either case
    for other in (value.hex, f"{{{value}}}", f"urn:uuid:{value}", ""):
        with pytest.raises(InvalidRequest):
            parse_uuid(other, "id")


def test_limits_and_hash_lists():
    assert parse_limit(None) == 100 and parse_limit("500") == 500
    for bad in ("0", "501", "-1", "1e2", "٣", " 5"):
        with pytest.raises(InvalidRequest):
            parse_limit(bad)
    assert parse_sha256_list({"sha256": [SHA, SHA]}) == [SHA]
    with pytest.raises(InvalidRequest):
        parse_sha256_list({"sha256": [SHA] * 1001})


def test_cursors_round_trip_and_refuse_anything_else():
    position = TimelinePosition(datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=timezone.utc), uuid.uuid4())
    assert decode_cursor(encode_cursor(position)) == position
    for bad in ("", "%%%", "bm9wZQ", encode_cursor(position)[:-3], "WyIyMDI0LTAxLTAyVDAzOjA0OjA1IiwieCJd"):
        with pytest.raises(InvalidRequest):
            decode_cursor(bad)


def test_original_keys_are_only_recognised_in_canonical_form():
    owner, upload_id = uuid.uuid4(), uuid.uuid4()
    key = keys.original_key(owner, upload_id)
    assert keys.parse_original_key(key) == (owner, upload_id)
    for bad in (key.upper(), key + "/x", "thumbnails/" + key, f"originals/{owner}/../{upload_id}", "originals/"):
        assert keys.parse_original_key(bad) is None


def test_sizes_read_as_people_read_them():
    assert [human_bytes(n) for n in (17, 512_000, 2_100_000_000, 15 * 1024**3)] == ["17 B", "512.0 kB", "2.1 GB", "16.1 GB"]


def test_the_dev_sign_in_is_for_loopback_addresses_only():
    assert all(is_loopback(host) for host in ("127.0.0.1", "127.1.2.3", "::1", "localhost"))
    assert not any(is_loopback(host) for host in ("0.0.0.0", "192.168.1.10", "::", "photos.example.com"))


LOCAL = {"PHOTOSYNC_MODE": "local", "DATABASE_URL": "postgresql:///x", "PHOTOSYNC_DATA_DIR": "/tmp/d",
         "PHOTOSYNC_PUBLIC_URL": "http://127.0.0.1:8000"}
AWS = {"PHOTOSYNC_MODE": "aws", "PHOTOSYNC_S3_BUCKET": "b", "PHOTOSYNC_DB_SECRET_ARN": "arn:x", "PHOTOSYNC_DB_HOST": "proxy"}


def test_defaults_are_those_of_the_contract():
    settings = load_settings(LOCAL)
    assert (settings.default_quota_bytes, settings.max_upload_bytes) == (15 * 1024**3, 20 * 1024**3)
    assert (settings.upload_url_ttl_seconds, settings.pending_ttl_seconds, settings.cleanup_interval_seconds) == (900, 3600, 300)
    assert settings.multipart_ttl_seconds == 86400
    assert load_settings(AWS).store == "s3"


@pytest.mark.parametrize(
    "env",
    [
        {**AWS, "PHOTOSYNC_STORE": "local", "PHOTOSYNC_DATA_DIR": "/tmp/d", "PHOTOSYNC_PUBLIC_URL": "http://x"},
        {**LOCAL, "PHOTOSYNC_UPLOAD_URL_TTL_SECONDS": "3600"},
        {**LOCAL, "PHOTOSYNC_MAX_UPLOAD_BYTES": "lots"},
        {**LOCAL, "PHOTOSYNC_MAX_UPLOAD_BYTES": "0"},
        {**LOCAL, "PHOTOSYNC_MODE": "production"},
        {k: v for k, v in AWS.items() if k != "PHOTOSYNC_S3_BUCKET"},
        {k: v for k, v in AWS.items() if k != "PHOTOSYNC_DB_HOST"},
        {k: v for k, v in LOCAL.items() if k != "DATABASE_URL"},
    ],
    ids=["local-store-in-aws", "url-outlives-reservation", "not-a-number", "zero", "unknown-mode",
         "s3-without-bucket", "secret-without-host", "no-database"],
)
def test_unsafe_or_broken_settings_refuse_to_start(env):
    with pytest.raises(ConfigError):
        load_settings(env)

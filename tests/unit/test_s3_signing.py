"""The S3 store signs download URLs with botocore's SigV4 query signer (adapters/objectstore/sigv4.py),
without the client's per-request pipeline. At the same moment and with the same credentials, every URL must be the one
botocore would sign: same origin, path and query, signature included. (That S3 accepts such URLs
and refuses altered ones is tests/integration/test_s3_integrity.py, against LocalStack.)"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import boto3
import botocore.auth
import pytest

from photosync.adapters.objectstore import s3
from photosync.adapters.objectstore.s3 import S3ObjectStore, content_disposition_attachment

MOMENT = datetime(2026, 12, 1, 23, 59, 58, tzinfo=timezone.utc)


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """Both signers read this clock; the test moves it."""
    clock = [MOMENT]
    monkeypatch.setattr(s3, "_now", lambda: clock[0])
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: clock[0].replace(tzinfo=None))
    return clock


def credentials(monkeypatch: pytest.MonkeyPatch, tmp_path, *, token: str | None) -> None:
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    if token is None:
        monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    else:
        monkeypatch.setenv("AWS_SESSION_TOKEN", token)


def as_botocore_signs(store: S3ObjectStore, key: str, *, expires_in: int, **params: str) -> str:
    return store._client.generate_presigned_url(
        "get_object", Params={"Bucket": store._bucket, "Key": key, **params}, ExpiresIn=expires_in
    )


def same_url(ours: str, theirs: str) -> None:
    a, b = urlsplit(ours), urlsplit(theirs)
    assert (a.scheme, a.netloc, a.path) == (b.scheme, b.netloc, b.path)
    assert parse_qs(a.query, keep_blank_values=True) == parse_qs(b.query, keep_blank_values=True)


KEYS = ["thumbnails/3f1c/9a2b.webp", "originals/u/x y+z~(1)!*'", "originals/u/caf\u00e9 \u65e5\u672c.heic"]


@pytest.mark.parametrize("token", [None, "FQoGZXIvYXdzE//session+token="], ids=["static", "session-token"])
@pytest.mark.parametrize(
    ("region", "endpoint"),
    [("eu-west-1", None), ("us-east-1", None), ("us-east-1", "http://127.0.0.1:4566"), ("eu-west-1", "https://minio.example:443")],
    ids=["aws-eu", "aws-us-east-1", "custom-endpoint", "custom-default-port"],
)
def test_download_urls_are_the_ones_botocore_signs(monkeypatch, tmp_path, frozen_clock, region, endpoint, token):
    credentials(monkeypatch, tmp_path, token=token)
    store = S3ObjectStore("photosync-photos-123", region=region, endpoint_url=endpoint)
    for key in KEYS:
        plain = store.presign_download(key, expires_in=900, content_type="image/webp")
        same_url(plain.url, as_botocore_signs(store, key, expires_in=900, ResponseContentType="image/webp"))
        assert plain.expires_at == MOMENT + timedelta(seconds=900)
        named = store.presign_download(key, expires_in=60, filename="Caf\u00e9 \"2024\"; x.jpg", content_type="image/jpeg")
        same_url(named.url, as_botocore_signs(
            store, key, expires_in=60, ResponseContentType="image/jpeg",
            ResponseContentDisposition=content_disposition_attachment("Caf\u00e9 \"2024\"; x.jpg"),
        ))


def test_the_signing_key_follows_the_day_and_refreshed_credentials(monkeypatch, tmp_path, frozen_clock):
    credentials(monkeypatch, tmp_path, token=None)
    store = S3ObjectStore("photosync-photos-123", region="eu-west-1")
    key = KEYS[0]
    same_url(store.presign_download(key, expires_in=900).url, as_botocore_signs(store, key, expires_in=900))
    frozen_clock[0] = MOMENT + timedelta(seconds=5)  # past midnight: a new day's key
    url = store.presign_download(key, expires_in=900).url
    assert "X-Amz-Date=20261202T000003Z" in url
    same_url(url, as_botocore_signs(store, key, expires_in=900))

    # Credentials that rotate (as a Lambda's role session does) are read for each URL.
    rotating = store._credentials
    rotating.secret_key = "rotated-secret"
    rotating.access_key = "AKIDROTATED"
    rotated = store.presign_download(key, expires_in=900).url
    assert "AKIDROTATED" in rotated
    same_url(rotated, as_botocore_signs(store, key, expires_in=900))


def test_a_client_made_elsewhere_signs_its_own_urls(monkeypatch, tmp_path):
    credentials(monkeypatch, tmp_path, token=None)
    client = boto3.client("s3", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s")
    url = S3ObjectStore("b", region="us-east-1", client=client).presign_download("originals/u/x", expires_in=60).url
    assert "AWSAccessKeyId=k&" in url  # that client signs as it was configured to

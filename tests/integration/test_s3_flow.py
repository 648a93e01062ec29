"""The whole photo life cycle on the S3 store, against moto's S3 server over real HTTP.

The handlers run exactly as in AWS: configured by environment variables only, driven by API Gateway
HTTP API v2.0 events carrying the JWT authorizer's claims and by S3 `ObjectCreated` records built
from what the bucket really holds. The bytes travel over HTTP to and from pre-signed URLs.

moto checks no signature or checksum, so the mismatch tests store the wrong bytes directly, as a
store that checks less than S3 would let them in: finalize's own re-check is what must refuse them.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from types import ModuleType
from typing import Any

import boto3
import httpx
import psycopg
import pytest
from PIL import Image

from photosync.config import settings
from photosync.handlers import environment
from photosync.handlers import finalize as finalize_handler
from photosync.handlers import renditions as renditions_handler
from photosync.handlers.http import account, delete, download, gallery, trash, uploads
from photosync.local.events import http_api_event, s3_object_created_event, sqs_event
from photosync.local.lambda_runtime import LocalLambdaContext
from tests.support.images import make_jpeg
from tests.support.moto_server import MotoS3

USER_POOL_ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_PhotoSyncT"
APP_CLIENT_ID = "3n4b5urk1ft4fl3mg5e62d9ado"
API_HOST = "abc123defg.execute-api.us-east-1.amazonaws.com"


def camera_jpeg(n: int, **kwargs: Any) -> bytes:
    """A camera-like JPEG whose bytes differ from every other `n`."""
    return make_jpeg(model=f"PhotoSync S3 flow {n}", make="PhotoSync", **kwargs)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class ApiAnswer:
    status: int
    body: Any


@dataclass(frozen=True)
class SignedInUser:
    """A Google-federated Cognito user, as the JWT authorizer hands their access token's claims on."""

    sub: uuid.UUID

    @property
    def claims(self) -> dict[str, Any]:
        now = int(time.time())
        return {
            "sub": str(self.sub),
            "iss": USER_POOL_ISSUER,
            "client_id": APP_CLIENT_ID,
            "origin_jti": str(uuid.uuid4()),
            "event_id": str(uuid.uuid4()),
            "token_use": "access",
            "scope": "openid email profile",
            "auth_time": now,
            "iat": now,
            "exp": now + 3600,
            "jti": str(uuid.uuid4()),
            "username": f"google_{self.sub.int % 10**21}",
        }

    def call(
        self,
        function: ModuleType,
        route_key: str,
        *,
        path_parameters: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
    ) -> ApiAnswer:
        method, template = route_key.split(" ", 1)
        path = template.format(**(path_parameters or {}))
        headers = {"host": [API_HOST], "user-agent": ["photosync-tests"], "accept": ["application/json"]}
        if body is not None:
            headers["content-type"] = ["application/json"]
        event = http_api_event(
            method=method, route_key=route_key, path=path, raw_query="", query={}, headers=headers,
            path_parameters=path_parameters or {}, body=json.dumps(body) if body is not None else None,
            is_base64=False, source_ip="198.51.100.7", claims=self.claims, host=API_HOST,
        )
        result = function.handler(event, LocalLambdaContext(function.__name__.rsplit(".", 1)[-1]))
        assert result.get("isBase64Encoded") is False
        text = result.get("body") or ""
        return ApiAnswer(result["statusCode"], json.loads(text) if text else None)

    def me(self) -> dict[str, Any]:
        answer = self.call(account, "GET /me")
        assert answer.status == 200, answer.body
        return answer.body

    def request_upload(self, data: bytes, filename: str = "IMG_0001.JPG") -> dict[str, Any]:
        answer = self.call(uploads, "POST /uploads", body={
            "filename": filename, "content_type": "image/jpeg", "size": len(data), "sha256": sha256_hex(data),
        })
        assert answer.status == 201, answer.body
        assert answer.body["status"] == "pending" and answer.body["method"] == "PUT"
        return answer.body

    def upload_status(self, upload_id: str) -> dict[str, Any]:
        answer = self.call(uploads, "GET /uploads/{upload_id}", path_parameters={"upload_id": upload_id})
        assert answer.status == 200, answer.body
        return answer.body


@pytest.fixture
def aws_handlers(
    monkeypatch: pytest.MonkeyPatch, s3_bucket: str, moto_s3_server: MotoS3, database_url: str,
    db: psycopg.Connection,
) -> Iterator[str]:
    """The handlers configured as the SAM template configures them in AWS, on the test bucket."""
    monkeypatch.setenv("PHOTOSYNC_MODE", "aws")
    monkeypatch.setenv("PHOTOSYNC_STORE", "s3")
    monkeypatch.setenv("PHOTOSYNC_S3_BUCKET", s3_bucket)
    monkeypatch.setenv("PHOTOSYNC_S3_ENDPOINT_URL", moto_s3_server.endpoint_url)
    monkeypatch.setenv("AWS_REGION", moto_s3_server.region)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "WARNING")
    for name in ("PHOTOSYNC_DATA_DIR", "PHOTOSYNC_PUBLIC_URL", "PHOTOSYNC_DB_SECRET_ARN", "PHOTOSYNC_DB_HOST"):
        monkeypatch.delenv(name, raising=False)
    # The renditions queue is an SQS queue on the same moto server, as the template wires it.
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", moto_s3_server.endpoint_url)
    monkeypatch.setenv("PHOTOSYNC_RENDITIONS_QUEUE_URL", rendition_queue_client(moto_s3_server).create_queue(
        QueueName=f"renditions-{s3_bucket}"
    )["QueueUrl"])
    settings.cache_clear()
    environment.object_store.cache_clear()
    environment.renditions_queue.cache_clear()
    yield s3_bucket
    settings.cache_clear()
    environment.object_store.cache_clear()
    environment.renditions_queue.cache_clear()


def rendition_queue_client(moto: MotoS3) -> Any:
    return boto3.client(
        "sqs", region_name=moto.region, endpoint_url=moto.endpoint_url,
        aws_access_key_id=moto.access_key_id, aws_secret_access_key=moto.secret_access_key,
    )


def deliver_queued_renditions(moto: MotoS3) -> dict[str, Any]:
    """What Lambda's SQS poller does: receive what finalize sent, invoke the renditions function
    with those messages, delete the ones it did not report as failed."""
    sqs, url = rendition_queue_client(moto), settings().renditions_queue_url
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"]).get("Messages", [])
    event = sqs_event(queue_name="renditions", messages=[
        (m["MessageId"], m["Body"], int(m["Attributes"]["SentTimestamp"]), int(m["Attributes"]["ApproximateReceiveCount"]))
        for m in messages
    ])
    response = renditions_handler.handler(event, LocalLambdaContext("renditions"))
    failed = {item["itemIdentifier"] for item in response["batchItemFailures"]}
    for message in messages:
        if message["MessageId"] not in failed:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return {"delivered": len(messages), **response}


@pytest.fixture
def bucket(aws_handlers: str, moto_s3_server: MotoS3) -> BucketView:
    """The test's own view of the bucket (boto3 straight to moto, not the code under test)."""
    return BucketView(aws_handlers, moto_s3_server.client())


@dataclass(frozen=True)
class BucketView:
    name: str
    client: Any

    def keys(self) -> set[str]:
        listing = self.client.list_objects_v2(Bucket=self.name)
        return {item["Key"] for item in listing.get("Contents", [])}

    def object_created_event(self, key: str) -> dict[str, Any]:
        """The notification S3 sends for `key`, from what the bucket really holds."""
        head = self.client.head_object(Bucket=self.name, Key=key)
        event = s3_object_created_event(bucket=self.name, key=key, size=head["ContentLength"], etag=head["ETag"].strip('"'))
        event["Records"][0]["awsRegion"] = self.client.meta.region_name
        return event

    def stored_sha256(self, key: str) -> str:
        head = self.client.head_object(Bucket=self.name, Key=key, ChecksumMode="ENABLED")
        return base64.b64decode(head["ChecksumSHA256"]).hex()

    def store_directly(self, key: str, data: bytes) -> None:
        """Put bytes at `key` with their own checksum, as a store that ignores the grant would."""
        self.client.put_object(
            Bucket=self.name, Key=key, Body=data, ContentType="image/jpeg",
            ChecksumSHA256=base64.b64encode(hashlib.sha256(data).digest()).decode("ascii"),
            # moto records the checksum only when the algorithm is named, as the SDKs do.
            ChecksumAlgorithm="SHA256",
        )
        assert self.stored_sha256(key) == sha256_hex(data)


def finalize(bucket: BucketView, key: str) -> list[str]:
    result = finalize_handler.handler(bucket.object_created_event(key), LocalLambdaContext("finalize"))
    return result["outcomes"]


def original_key(user: SignedInUser, upload_id: str) -> str:
    return f"originals/{user.sub}/{upload_id}"


def decoded_size(data: bytes, *, format: str) -> tuple[int, int]:
    with Image.open(io.BytesIO(data), formats=[format]) as image:
        image.load()
        return image.size


@pytest.fixture
def user() -> SignedInUser:
    return SignedInUser(uuid.uuid4())


def test_upload_finalize_gallery_download_and_delete_through_s3(
    user: SignedInUser, bucket: BucketView, moto_s3_server: MotoS3
) -> None:
    # Portrait as a phone stores it: landscape pixels turned by EXIF orientation 6.
    original = camera_jpeg(1, width=1200, height=1600, orientation=6, taken_at=datetime(2023, 7, 14, 18, 30, 5))
    assert user.me()["storage_used"] == 0

    granted = user.request_upload(original, filename="IMG_2041.JPG")
    assert user.me()["storage_pending"] == len(original)
    put = httpx.request(granted["method"], granted["url"], headers=granted["headers"], content=original)
    assert put.status_code == 200, put.text
    key = original_key(user, granted["upload_id"])
    assert bucket.keys() == {key}
    # The granted headers make the store keep the declared checksum, which finalize compares.
    assert bucket.stored_sha256(key) == sha256_hex(original)
    assert user.upload_status(granted["upload_id"])["status"] == "pending"

    assert finalize(bucket, key) == ["finalized"]

    status = user.upload_status(granted["upload_id"])
    assert status == {"upload_id": granted["upload_id"], "status": "complete", "photo_id": granted["upload_id"]}
    assert user.me()["storage_used"] == len(original) and user.me()["storage_pending"] == 0

    # Complete and listed before its renditions exist; they come from the queue.
    [photo] = user.call(gallery, "GET /photos").body["items"]
    assert (photo["id"], photo["thumbnail_url"], photo["preview_url"]) == (granted["upload_id"], None, None)
    assert deliver_queued_renditions(moto_s3_server) == {"delivered": 1, "batchItemFailures": []}

    listing = user.call(gallery, "GET /photos")
    assert listing.status == 200, listing.body
    assert listing.body["next_cursor"] is None
    [photo] = listing.body["items"]
    assert photo["id"] == granted["upload_id"]
    assert (photo["filename"], photo["content_type"], photo["size"], photo["sha256"]) == (
        "IMG_2041.JPG", "image/jpeg", len(original), sha256_hex(original),
    )
    assert (photo["width"], photo["height"]) == (1200, 1600)
    assert photo["taken_at"] == "2023-07-14T18:30:05Z"
    thumbnail = httpx.get(photo["thumbnail_url"])
    assert thumbnail.status_code == 200 and thumbnail.headers["content-type"] == "image/webp"
    assert decoded_size(thumbnail.content, format="WEBP") == (240, 320)
    preview = httpx.get(photo["preview_url"])
    assert preview.status_code == 200 and preview.headers["content-type"] == "image/jpeg"
    assert decoded_size(preview.content, format="JPEG") == (1200, 1600)

    link = user.call(download, "GET /photos/{photo_id}/download", path_parameters={"photo_id": photo["id"]})
    assert link.status == 200, link.body
    assert datetime.fromisoformat(link.body["expires_at"]) > datetime.now(timezone.utc)
    fetched = httpx.get(link.body["url"])
    assert fetched.status_code == 200
    assert fetched.content == original
    assert fetched.headers["content-type"] == "image/jpeg"
    assert fetched.headers["content-disposition"] == (
        "attachment; filename=\"IMG_2041.JPG\"; filename*=UTF-8''IMG_2041.JPG"
    )

    thumbnail_key, preview_key = f"thumbnails/{user.sub}/{photo['id']}.webp", f"previews/{user.sub}/{photo['id']}.jpg"
    assert bucket.keys() == {key, thumbnail_key, preview_key}

    deleted = user.call(delete, "DELETE /photos/{photo_id}", path_parameters={"photo_id": photo["id"]})
    assert (deleted.status, deleted.body) == (204, None)
    # In the trash: out of the timeline, still stored and counted.
    assert user.call(gallery, "GET /photos").body["items"] == []
    assert bucket.keys() == {key, thumbnail_key, preview_key}
    assert user.me()["storage_trash"] == user.me()["storage_used"] == len(original)

    purged = user.call(trash, "DELETE /trash/{photo_id}", path_parameters={"photo_id": photo["id"]})
    assert (purged.status, purged.body) == (204, None)

    assert bucket.keys() == set()
    assert user.me()["storage_used"] == 0
    assert user.call(gallery, "GET /photos").body["items"] == []
    gone = user.call(download, "GET /photos/{photo_id}/download", path_parameters={"photo_id": photo["id"]})
    assert gone.status == 404 and gone.body["error"]["code"] == "not_found"


def test_a_duplicate_object_created_event_changes_nothing(user: SignedInUser, bucket: BucketView) -> None:
    original = camera_jpeg(2)
    granted = user.request_upload(original)
    put = httpx.request(granted["method"], granted["url"], headers=granted["headers"], content=original)
    assert put.status_code == 200, put.text
    key = original_key(user, granted["upload_id"])

    assert [finalize(bucket, key) for _ in range(2)] == [["finalized"], ["already_finalized"]]

    assert user.me()["storage_used"] == len(original)
    assert len(user.call(gallery, "GET /photos").body["items"]) == 1


@pytest.mark.parametrize(
    "stored_instead",
    [
        pytest.param(lambda granted: granted + b"\x00" * 1024, id="longer"),
        pytest.param(lambda granted: granted[: len(granted) // 2], id="shorter"),
        pytest.param(lambda granted: camera_jpeg(4)[: len(granted)].ljust(len(granted), b"\x00"), id="same-size-other-hash"),
    ],
)
def test_finalize_rejects_an_object_that_differs_from_the_grant_and_deletes_it(
    user: SignedInUser, bucket: BucketView, stored_instead: Any
) -> None:
    declared = camera_jpeg(3)
    other = stored_instead(declared)
    assert other != declared and other[:3] == b"\xff\xd8\xff"  # still looks like a JPEG by its magic bytes
    granted = user.request_upload(declared)
    key = original_key(user, granted["upload_id"])
    bucket.store_directly(key, other)

    result = finalize_handler.handler(bucket.object_created_event(key), LocalLambdaContext("finalize"))

    assert result["outcomes"] == ["rejected"]
    status = user.upload_status(granted["upload_id"])
    assert status["status"] == "failed" and "photo_id" not in status
    if len(other) != len(declared):
        assert status["reason"] == (
            f"rejected: the stored file is {len(other)} bytes, not the {len(declared)} bytes declared"
        )
    else:
        assert status["reason"] == "rejected: the stored file's SHA-256 differs from the one declared"
    me = user.me()
    assert (me["storage_used"], me["storage_pending"]) == (0, 0)
    assert bucket.keys() == set()
    assert user.call(gallery, "GET /photos").body["items"] == []
    # A late redelivery of the same event finds no reservation and charges nothing either.
    assert finalize_handler.handler(
        s3_object_created_event(bucket=bucket.name, key=key, size=len(other), etag=hashlib.md5(other).hexdigest()),
        LocalLambdaContext("finalize"),
    )["outcomes"] == ["orphan"]
    assert user.me()["storage_used"] == 0


def test_a_rejected_upload_does_not_block_the_right_bytes_later(user: SignedInUser, bucket: BucketView) -> None:
    declared = camera_jpeg(5)
    first = user.request_upload(declared)
    first_key = original_key(user, first["upload_id"])
    bucket.store_directly(first_key, declared[:-10] + b"\x00" * 10)
    assert finalize(bucket, first_key) == ["rejected"]

    again = user.request_upload(declared)
    put = httpx.request(again["method"], again["url"], headers=again["headers"], content=declared)
    assert put.status_code == 200, put.text
    second_key = original_key(user, again["upload_id"])

    assert finalize(bucket, second_key) == ["finalized"]
    assert user.me()["storage_used"] == len(declared)
    assert {second_key} <= bucket.keys() and first_key not in bucket.keys()

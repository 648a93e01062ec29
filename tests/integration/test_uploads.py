"""F1.2 / F1.7 against a real PostgreSQL and the local store: grant, finalize, quota, idempotency."""

from __future__ import annotations

import copy
import hashlib
import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote_plus

import psycopg
import pytest
from psycopg.rows import dict_row

from photosync.adapters.postgres.unit_of_work import UnitOfWork
from photosync.adapters.queues import LocalQueue
from photosync.config import settings
from photosync.domain.errors import QuotaExceeded
from photosync.domain.validation import UploadRequest
from photosync.handlers import environment
from photosync.handlers import finalize as finalize_handler
from photosync.local.lambda_runtime import LocalLambdaContext
from photosync.services import finalize, uploads
from tests.conftest import new_user
from tests.support.images import make_jpeg
from tests.support.renditions import MemoryQueue, handle_queued


def distinct_jpeg(n: int, **kwargs) -> bytes:
    """A camera-like JPEG whose bytes differ from every other `n`."""
    return make_jpeg(model=f"PhotoSync test {n}", **kwargs)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "events"


def s3_event(key: str, size: int) -> dict:
    event = json.loads((FIXTURES / "s3_object_created.json").read_text())
    record = event["Records"][0]["s3"]["object"]
    record["key"], record["size"] = quote_plus(key, safe="/"), size
    return event


def grant(uow, store, owner, data: bytes, *, content_type="image/jpeg", filename="IMG_0001.JPG"):
    request = UploadRequest(filename, content_type, len(data), hashlib.sha256(data).hexdigest())
    return uploads.request_upload(uow, store, owner_id=owner, request=request, url_ttl_seconds=900)


def object_key(owner: uuid.UUID, upload_id: uuid.UUID) -> str:
    return f"originals/{owner}/{upload_id}"


def account(uow, owner):
    return uow.users.get(owner)


def test_grant_upload_finalize_charges_once_and_keeps_the_upload_id(uow, store):
    owner = new_user(uow)
    data = distinct_jpeg(1, width=800, height=600)
    granted = grant(uow, store, owner, data)
    assert isinstance(granted, uploads.UploadGranted)
    assert account(uow, owner).storage_pending == len(data)
    assert uploads.upload_status(uow, owner_id=owner, upload_id=granted.upload_id).status == "pending"

    store.put(object_key(owner, granted.upload_id), data, content_type="image/jpeg")
    queue = MemoryQueue()
    result = finalize.finalize_object(uow, store, object_key(owner, granted.upload_id), queue=queue)

    assert (result.outcome, result.renditions) == ("finalized", "queued")
    photo = uow.photos.get(granted.upload_id, owner_id=owner)
    assert photo is not None and photo.size == len(data) and (photo.width, photo.height) == (800, 600)
    # Complete before its renditions exist: they are the renditions function's work.
    assert (photo.renditions, photo.thumbnail_key) == ("pending", None)
    assert handle_queued(uow, store, queue) == ["ready"]
    photo = uow.photos.get(granted.upload_id, owner_id=owner)
    assert photo.thumbnail_key is not None and store.head(photo.thumbnail_key) is not None
    state = account(uow, owner)
    assert (state.storage_used, state.storage_pending) == (len(data), 0)
    status = uploads.upload_status(uow, owner_id=owner, upload_id=granted.upload_id)
    assert (status.status, status.photo_id) == ("complete", granted.upload_id)


def test_same_content_again_is_reported_as_duplicate_and_reserves_nothing(uow, store):
    owner = new_user(uow)
    data = distinct_jpeg(3)
    first = grant(uow, store, owner, data)
    store.put(object_key(owner, first.upload_id), data, content_type="image/jpeg")
    finalize.finalize_object(uow, store, object_key(owner, first.upload_id))

    again = grant(uow, store, owner, data, filename="copy of IMG_0001.JPG")

    assert again == uploads.AlreadyBackedUp(first.upload_id, in_trash=False)
    assert account(uow, owner).storage_pending == 0


def test_a_pending_reservation_counts_against_the_quota(uow, store):
    owner = new_user(uow, quota=100_000)
    first = grant(uow, store, owner, b"\xff\xd8\xff" + b"a" * 59_997)
    assert isinstance(first, uploads.UploadGranted)
    with pytest.raises(QuotaExceeded) as refused:
        grant(uow, store, owner, b"\xff\xd8\xff" + b"b" * 49_997)
    assert refused.value.details == {
        "storage_quota": 100_000, "storage_used": 0, "storage_pending": 60_000, "size": 50_000,
    }
    assert account(uow, owner).storage_pending == 60_000


def test_thirty_concurrent_requests_for_a_tenth_of_the_quota_grant_exactly_ten(uow, store, database_url):
    quota = 1_000_000
    owner = new_user(uow, quota=quota)
    barrier = threading.Barrier(30)

    def request(i: int) -> str:
        with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as conn:
            barrier.wait()
            data = i.to_bytes(4, "big") * (quota // 10 // 4)
            try:
                grant(UnitOfWork(conn), store, owner, data)
                return "granted"
            except QuotaExceeded:
                return "refused"

    with ThreadPoolExecutor(max_workers=30) as pool:
        results = list(pool.map(request, range(30)))

    assert results.count("granted") == 10
    assert account(uow, owner).storage_pending == quota


def test_finalize_delivered_three_times_in_a_row_makes_one_photo_and_one_charge(uow, store, lambda_env):
    owner = new_user(uow)
    data = distinct_jpeg(5)
    granted = grant(uow, store, owner, data)
    key = object_key(owner, granted.upload_id)
    store.put(key, data, content_type="image/jpeg")

    outcomes = [finalize_handler.handler(s3_event(key, len(data)), LocalLambdaContext("finalize"))["outcomes"] for _ in range(3)]

    assert outcomes == [["finalized"], ["already_finalized"], ["already_finalized"]]
    assert uow.conn.execute("SELECT count(*) AS n FROM photos").fetchone()["n"] == 1
    assert account(uow, owner).storage_used == len(data)


def test_finalize_delivered_concurrently_makes_one_photo_and_one_charge(uow, store, lambda_env):
    owner = new_user(uow)
    data = distinct_jpeg(6)
    granted = grant(uow, store, owner, data)
    key = object_key(owner, granted.upload_id)
    store.put(key, data, content_type="image/jpeg")
    barrier = threading.Barrier(3)

    def deliver(_: int) -> list[str]:
        barrier.wait()
        return finalize_handler.handler(s3_event(key, len(data)), LocalLambdaContext("finalize"))["outcomes"]

    with ThreadPoolExecutor(max_workers=3) as pool:
        outcomes = sorted(o for result in pool.map(deliver, range(3)) for o in result)

    assert outcomes.count("finalized") == 1
    assert set(outcomes) <= {"finalized", "already_finalized"}
    assert uow.conn.execute("SELECT count(*) AS n FROM photos").fetchone()["n"] == 1
    assert account(uow, owner).storage_used == len(data)
    # Only the delivery that made the photo queued its renditions.
    queued = LocalQueue(environment.local_renditions_queue_dir(settings().data_dir)).receive(max_messages=10)
    assert [json.loads(m.body)["photo_id"] for m in queued] == [str(granted.upload_id)]


def test_event_after_cleanup_released_the_reservation_charges_nothing_and_removes_the_object(uow, store):
    owner = new_user(uow)
    data = distinct_jpeg(7)
    granted = grant(uow, store, owner, data)
    pending = uow.uploads.get(granted.upload_id, owner_id=owner)
    assert finalize.release_expired(uow, pending)
    key = object_key(owner, granted.upload_id)
    store.put(key, data, content_type="image/jpeg")  # a very late upload

    result = finalize.finalize_object(uow, store, key)

    assert result.outcome == "orphan"
    assert store.head(key) is None
    state = account(uow, owner)
    assert (state.storage_used, state.storage_pending) == (0, 0)
    assert uploads.upload_status(uow, owner_id=owner, upload_id=granted.upload_id).status == "failed"


@pytest.mark.parametrize(
    ("stored", "reason"),
    [
        pytest.param(lambda data: data + b"extra", "bytes, not the", id="longer"),
        pytest.param(lambda data: data[:-1] + bytes([data[-1] ^ 1]), "SHA-256", id="same-length-other-hash"),
    ],
)
def test_finalize_rejects_content_other_than_granted_and_deletes_it(uow, store, stored, reason):
    owner = new_user(uow)
    data = distinct_jpeg(8)
    granted = grant(uow, store, owner, data)
    key = object_key(owner, granted.upload_id)
    store.put(key, stored(data), content_type="image/jpeg")

    result = finalize.finalize_object(uow, store, key)

    assert result.outcome == "rejected" and reason in result.detail
    assert store.head(key) is None
    status = uploads.upload_status(uow, owner_id=owner, upload_id=granted.upload_id)
    assert status.status == "failed" and reason in status.reason
    state = account(uow, owner)
    assert (state.storage_used, state.storage_pending) == (0, 0)


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"<!doctype html><html><script>alert(1)</script></html>", id="html"),
        pytest.param(b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', id="svg"),
        pytest.param(b"just some text, not a photo\n" * 10, id="text"),
        pytest.param(bytes(range(256)) * 4, id="random-bytes"),
    ],
)
def test_content_that_is_not_media_is_rejected_at_finalize_not_charged_and_removed(uow, store, content):
    owner = new_user(uow)
    granted = grant(uow, store, owner, content)  # declared as image/jpeg
    key = object_key(owner, granted.upload_id)
    store.put(key, content, content_type="image/jpeg")

    result = finalize.finalize_object(uow, store, key)

    assert result.outcome == "rejected"
    assert store.head(key) is None
    assert uow.photos.get(granted.upload_id, owner_id=owner) is None
    assert account(uow, owner).storage_used == 0


def test_detected_type_is_stored_not_the_declared_one(uow, store):
    owner = new_user(uow)
    from tests.support.images import make_png

    data = make_png(64, 48)
    granted = grant(uow, store, owner, data, content_type="image/jpeg", filename="really-a.png")
    store.put(object_key(owner, granted.upload_id), data, content_type="image/jpeg")
    finalize.finalize_object(uow, store, object_key(owner, granted.upload_id))
    assert uow.photos.get(granted.upload_id, owner_id=owner).content_type == "image/png"


def test_an_object_with_neither_reservation_nor_photo_is_an_orphan_and_is_deleted(uow, store):
    owner = new_user(uow)
    key = object_key(owner, uuid.uuid4())
    store.put(key, distinct_jpeg(9), content_type="image/jpeg")
    assert finalize.finalize_object(uow, store, key).outcome == "orphan"
    assert store.head(key) is None


def test_keys_outside_the_originals_layout_are_ignored(uow, store):
    store.put("thumbnails/x.webp", b"RIFF....WEBP", content_type="image/webp")
    assert finalize.finalize_object(uow, store, "thumbnails/x.webp").outcome == "ignored"
    assert store.head("thumbnails/x.webp") is not None


def test_two_uploads_of_the_same_content_in_flight_keep_one_photo(uow, store):
    owner = new_user(uow)
    data = distinct_jpeg(10)
    first, second = grant(uow, store, owner, data), grant(uow, store, owner, data)
    for granted in (first, second):
        store.put(object_key(owner, granted.upload_id), data, content_type="image/jpeg")
    assert finalize.finalize_object(uow, store, object_key(owner, first.upload_id)).outcome == "finalized"
    assert finalize.finalize_object(uow, store, object_key(owner, second.upload_id)).outcome == "duplicate_content"
    assert store.head(object_key(owner, second.upload_id)) is None
    state = account(uow, owner)
    assert (state.storage_used, state.storage_pending) == (len(data), 0)


def test_finalize_handler_decodes_keys_as_s3_sends_them(uow, store, lambda_env):
    event = s3_event("originals/not a uuid/x+y", 10)
    assert event["Records"][0]["s3"]["object"]["key"] == "originals/not+a+uuid/x%2By"
    assert finalize_handler.handler(copy.deepcopy(event), LocalLambdaContext("finalize"))["outcomes"] == ["ignored"]


class StoreWithoutChecksums:
    """An S3-compatible store that records no checksum: finalize must hash the bytes itself."""

    def __init__(self, store) -> None:
        self._store = store

    def __getattr__(self, name):
        return getattr(self._store, name)

    def head(self, key):
        info = self._store.head(key)
        return None if info is None else type(info)(size=info.size, sha256=None, content_type=info.content_type)


def test_without_a_stored_checksum_finalize_hashes_the_object_itself(uow, store):
    owner = new_user(uow)
    data = distinct_jpeg(90)
    granted = grant(uow, store, owner, data)
    key = object_key(owner, granted.upload_id)
    store.put(key, data[:-1] + bytes([data[-1] ^ 1]), content_type="image/jpeg")  # same size, other bytes

    result = finalize.finalize_object(uow, StoreWithoutChecksums(store), key)

    assert result.outcome == "rejected" and "SHA-256" in result.detail
    assert store.head(key) is None

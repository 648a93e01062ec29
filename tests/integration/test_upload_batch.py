"""`POST /uploads/batch` through the Lambda handler, on a real database and store: one answer per
file in order, the quota granted in order, content twice in a batch granted once, existing photos
answered as `POST /uploads` answers them, and racing batches that never exceed the quota."""

from __future__ import annotations

import hashlib
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from psycopg.rows import dict_row

from photosync.adapters.postgres.unit_of_work import UnitOfWork
from photosync.domain.errors import QuotaExceeded
from photosync.domain.validation import UploadRequest
from photosync.handlers import environment
from photosync.services import finalize, uploads
from tests.conftest import new_user
from tests.integration.test_trash import upload
from tests.integration.test_uploads import distinct_jpeg
from tests.support.lambda_api import LambdaApi


@pytest.fixture
def api(lambda_env) -> LambdaApi:
    api = LambdaApi()
    api.ok("GET", "/me")  # provisioned, so a test can set its quota
    return api


def file_body(data: bytes, filename: str = "IMG.JPG", **changes) -> dict:
    return {"filename": filename, "content_type": "image/jpeg", "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(), **changes}


def sized(n: int, size: int) -> bytes:
    """`size` bytes that start like a JPEG and differ from every other `n`."""
    return (b"\xff\xd8\xff" + n.to_bytes(4, "big") * size)[:size]


def batch(api: LambdaApi, files: list) -> list[dict]:
    results = api.ok("POST", "/uploads/batch", json_body={"files": files})["results"]
    assert len(results) == len(files)
    return results


def set_quota(uow, api: LambdaApi, quota: int) -> None:
    uow.conn.execute("UPDATE users SET storage_quota = %s WHERE id = %s", (quota, api.user_id))


def reserved(uow, user_id) -> tuple[int, list[tuple[str, int]]]:
    """storage_pending and the pending uploads (sha256, size) as the database holds them."""
    pending = uow.conn.execute("SELECT storage_pending FROM users WHERE id = %s", (user_id,)).fetchone()
    rows = uow.conn.execute(
        "SELECT sha256, size FROM pending_uploads WHERE owner_id = %s AND status = 'pending' ORDER BY created_at, sha256",
        (user_id,),
    ).fetchall()
    return pending["storage_pending"], sorted((row["sha256"], row["size"]) for row in rows)


def send_and_finalize(api: LambdaApi, uow, grant: dict, data: bytes) -> None:
    key = f"originals/{api.user_id}/{grant['upload_id']}"
    environment.object_store().put(key, data, content_type="image/jpeg")
    assert finalize.finalize_object(uow, environment.object_store(), key).outcome == "finalized"


def test_a_quota_running_out_mid_batch_keeps_the_earlier_grants_and_refuses_the_later_files(api, uow):
    set_quota(uow, api, 250_000)
    files = [sized(1, 100_000), sized(2, 100_000), sized(3, 100_000), sized(4, 30_000), sized(5, 40_000)]

    results = batch(api, [file_body(data, f"IMG_{n}.JPG") for n, data in enumerate(files)])

    assert [r.get("status") or r["error"]["code"] for r in results] == [
        "pending", "pending", "quota_exceeded", "pending", "quota_exceeded",
    ]
    # The refusal is the one POST /uploads would give at that point of the batch.
    assert results[2]["error"] | {"message": ""} == {
        "code": "quota_exceeded", "message": "", "storage_quota": 250_000, "storage_used": 0,
        "storage_pending": 200_000, "size": 100_000,
    }
    assert results[4]["error"]["storage_pending"] == 230_000
    granted = [files[0], files[1], files[3]]
    assert reserved(uow, api.user_id) == (230_000, sorted((hashlib.sha256(d).hexdigest(), len(d)) for d in granted))
    # A grant of the batch is a grant like any other: its upload finalizes and is charged once.
    send_and_finalize(api, uow, results[3], files[3])
    me = api.ok("GET", "/me")
    assert (me["storage_used"], me["storage_pending"]) == (30_000, 200_000)
    assert api.ok("GET", f"/uploads/{results[3]['upload_id']}")["status"] == "complete"


def test_content_twice_in_a_batch_is_granted_once_and_sent_once(api, uow):
    same, other = distinct_jpeg(801), distinct_jpeg(802)

    results = batch(api, [file_body(same, "a.jpg"), file_body(other, "b.jpg"), file_body(same, "copy of a.jpg"),
                          file_body(same, "a.jpg")])

    first = results[0]
    assert first["status"] == "pending" and "duplicate_of" not in first
    for later in (results[2], results[3]):
        assert later == {**first, "duplicate_of": 0}
    assert results[1]["upload_id"] != first["upload_id"]
    assert reserved(uow, api.user_id) == (len(same) + len(other), sorted([
        (hashlib.sha256(same).hexdigest(), len(same)), (hashlib.sha256(other).hexdigest(), len(other)),
    ]))
    send_and_finalize(api, uow, first, same)
    assert [p["filename"] for p in api.ok("GET", "/photos")["items"]] == ["a.jpg"]
    assert api.ok("GET", "/me")["storage_used"] == len(same)


def test_the_same_hash_with_another_size_in_one_batch_is_refused_for_that_file(api, uow):
    data = distinct_jpeg(803)
    results = batch(api, [file_body(data), file_body(data, size=len(data) + 1)])

    assert results[0]["status"] == "pending"
    assert results[1]["error"]["code"] == "invalid_request" and results[1]["error"]["field"] == "size"
    assert reserved(uow, api.user_id)[0] == len(data)


def test_content_already_backed_up_or_in_the_trash_is_answered_as_post_uploads_answers_it(api, uow):
    kept, trashed, new = distinct_jpeg(804), distinct_jpeg(805), distinct_jpeg(806)
    kept_id = upload(api, uow, kept)
    trashed_id = upload(api, uow, trashed)
    api.ok("DELETE", f"/photos/{trashed_id}", status=204)

    results = batch(api, [file_body(kept), file_body(trashed), file_body(new), file_body(kept, "again.jpg")])

    alone = [api.call("POST", "/uploads", json_body=file_body(data)) for data in (kept, trashed)]
    assert alone == [(200, results[0]), (200, results[1])]
    assert results[0] == results[3] == {"status": "duplicate", "photo_id": kept_id}
    assert results[1] == {"status": "duplicate", "photo_id": trashed_id, "in_trash": True}
    assert results[2]["status"] == "pending"
    assert reserved(uow, api.user_id)[0] == len(new)


@pytest.mark.parametrize("body", [
    {},
    {"files": "IMG.JPG"},
    {"files": []},
    {"files": [{"filename": "a.jpg", "content_type": "image/jpeg", "size": 1, "sha256": "0" * 64}] * 101},
    {"file": [{"filename": "a.jpg", "content_type": "image/jpeg", "size": 1, "sha256": "0" * 64}]},
], ids=["empty", "not-a-list", "no-files", "over-100", "misnamed"])
def test_a_body_of_the_wrong_shape_is_refused_whole(api, uow, body):
    status, answer = api.call("POST", "/uploads/batch", json_body=body)

    assert status == 400 and answer["error"]["code"] == "invalid_request"
    assert reserved(uow, api.user_id) == (0, [])


def test_a_bad_file_gets_its_own_error_and_the_others_are_granted(api, uow):
    good = distinct_jpeg(807)
    bad = [
        "IMG.JPG",
        {"filename": "a.jpg", "content_type": "image/jpeg", "size": 10},
        file_body(good, sha256="A" * 64),
        file_body(good, content_type="application/pdf"),
        file_body(good, size=10**15),
        file_body(good, filename=""),
        file_body(good, size=True),
    ]

    results = batch(api, [*bad, file_body(good)])

    assert results[0]["error"]["code"] == "invalid_request"
    for entry, result in zip(bad[1:], results[1:]):
        status, alone = api.call("POST", "/uploads", json_body=entry)
        assert status >= 400 and result == alone, entry
    assert [r["error"]["code"] for r in results[1:-1]] == [
        "invalid_request", "invalid_request", "unsupported_media_type", "file_too_large", "invalid_request",
        "invalid_request",
    ]
    assert results[-1]["status"] == "pending"
    assert reserved(uow, api.user_id) == (len(good), [(hashlib.sha256(good).hexdigest(), len(good))])


def test_batches_racing_for_one_quota_never_exceed_it(uow, store, database_url):
    quota, size, racers, per_batch = 1_000_000, 50_000, 6, 10
    owner = new_user(uow, quota=quota)
    barrier = threading.Barrier(racers + 1)

    def race(racer: int) -> list[str]:
        requests = [
            UploadRequest(f"IMG_{racer}_{n}.JPG", "image/jpeg", size, hashlib.sha256(f"{racer}/{n}".encode()).hexdigest())
            for n in range(per_batch)
        ]
        with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as conn:
            barrier.wait()
            outcomes = uploads.request_uploads(UnitOfWork(conn), store, owner_id=owner, requests=requests, url_ttl_seconds=900)
        return ["granted" if isinstance(o, uploads.UploadGranted) else type(o).__name__ for o in outcomes]

    def single() -> str:
        # A single POST /uploads in the same race takes its space under the same rule.
        request = UploadRequest("single.jpg", "image/jpeg", size, hashlib.sha256(b"single").hexdigest())
        with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as conn:
            barrier.wait()
            try:
                uploads.request_upload(UnitOfWork(conn), store, owner_id=owner, request=request, url_ttl_seconds=900)
                return "granted"
            except QuotaExceeded:
                return "QuotaExceeded"

    with ThreadPoolExecutor(max_workers=racers + 1) as pool:
        racing = [pool.submit(race, racer) for racer in range(racers)]
        alone = pool.submit(single)
        batches = [future.result() for future in racing]
    outcomes = [o for results in batches for o in results] + [alone.result()]

    assert outcomes.count("granted") == quota // size
    assert set(outcomes) == {"granted", "QuotaExceeded"}
    # Each batch was granted in order: its refusals come after its grants.
    for results in batches:
        assert results == sorted(results, key=lambda o: o != "granted")
    pending, rows = reserved(uow, owner)
    assert pending == quota == sum(size for _, size in rows)

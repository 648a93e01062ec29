"""`DELETE /uploads/{id}` through the Lambda handlers, on a real database and store: the reservation
comes back at once, bytes already sent go, bytes sent later are never charged or kept."""

from __future__ import annotations

import hashlib

import pytest

from photosync.handlers import environment
from photosync.services import finalize
from tests.integration.test_trash import upload
from tests.integration.test_uploads import distinct_jpeg
from tests.support.lambda_api import LambdaApi


@pytest.fixture
def api(lambda_env) -> LambdaApi:
    return LambdaApi()


def grant(api: LambdaApi, data: bytes) -> tuple[str, str]:
    granted = api.ok("POST", "/uploads", status=201, json_body={
        "filename": "IMG.JPG", "content_type": "image/jpeg", "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    })
    return granted["upload_id"], f"originals/{api.user_id}/{granted['upload_id']}"


def test_cancel_releases_the_reservation_and_removes_the_bytes_already_sent(api, uow):
    data = distinct_jpeg(700)
    upload_id, key = grant(api, data)
    store = environment.object_store()
    store.put(key, data, content_type="image/jpeg")  # sent, its event not handled yet
    assert api.ok("GET", "/me")["storage_pending"] == len(data)

    assert api.call("DELETE", f"/uploads/{upload_id}") == (204, None)

    me = api.ok("GET", "/me")
    assert (me["storage_pending"], me["storage_used"]) == (0, 0)
    assert store.head(key) is None
    status = api.ok("GET", f"/uploads/{upload_id}")
    assert status["status"] == "failed" and status["reason"].startswith("cancelled")
    assert api.call("DELETE", f"/uploads/{upload_id}") == (204, None)  # cancelling again changes nothing


def test_bytes_sent_after_the_cancel_are_removed_and_never_charged(api, uow):
    data = distinct_jpeg(701)
    upload_id, key = grant(api, data)
    assert api.call("DELETE", f"/uploads/{upload_id}") == (204, None)

    store = environment.object_store()
    store.put(key, data, content_type="image/jpeg")  # the old link still worked
    assert finalize.finalize_object(uow, store, key).outcome == "orphan"

    assert store.head(key) is None
    assert api.ok("GET", "/photos")["items"] == []
    assert api.ok("GET", "/me")["storage_used"] == 0


def test_an_upload_that_became_a_photo_cannot_be_cancelled(api, uow):
    photo_id = upload(api, uow, distinct_jpeg(702))

    status, body = api.call("DELETE", f"/uploads/{photo_id}")

    assert status == 409 and body["error"]["code"] == "conflict"
    assert [p["id"] for p in api.ok("GET", "/photos")["items"]] == [photo_id]


def test_an_unknown_upload_and_another_user_s_look_the_same(api, uow):
    upload_id, _ = grant(api, distinct_jpeg(703))
    stranger = LambdaApi()

    unknown = api.call("DELETE", "/uploads/7f0c4a8e-0000-4000-8000-000000000001")
    not_theirs = stranger.call("DELETE", f"/uploads/{upload_id}")

    assert unknown == not_theirs and unknown[0] == 404
    assert api.ok("GET", f"/uploads/{upload_id}")["status"] == "pending"
    assert api.call("DELETE", "/uploads/not-a-uuid")[0] == 400

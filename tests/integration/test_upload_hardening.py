"""Uploads under failure and races: a URL that cannot be signed reserves nothing, and an upload that
lost a race to the same content reports the photo that won (api.md), not a failure."""

from __future__ import annotations

import hashlib

import pytest

from photosync.adapters.objectstore import ObjectStoreError
from photosync.domain.validation import UploadRequest
from photosync.services import finalize, uploads
from tests.conftest import new_user
from tests.integration.test_cleanup import FlakyStore
from tests.integration.test_uploads import distinct_jpeg, grant, object_key


def test_a_presign_failure_reserves_nothing(uow, store):
    owner = new_user(uow)
    data = distinct_jpeg(500)
    request = UploadRequest("a.jpg", "image/jpeg", len(data), hashlib.sha256(data).hexdigest())

    with pytest.raises(ObjectStoreError):
        uploads.request_upload(
            uow, FlakyStore(store, "presign_upload", failures=1), owner_id=owner, request=request, url_ttl_seconds=900
        )

    assert uow.users.get(owner).storage_pending == 0
    assert uow.conn.execute("SELECT count(*) AS n FROM pending_uploads").fetchone()["n"] == 0


def test_an_upload_that_lost_a_race_to_the_same_content_is_complete_with_the_winner_s_id(uow, store):
    owner = new_user(uow)
    data = distinct_jpeg(501)
    winner, loser = grant(uow, store, owner, data), grant(uow, store, owner, data)
    for granted in (winner, loser):
        store.put(object_key(owner, granted.upload_id), data, content_type="image/jpeg")
    finalize.finalize_object(uow, store, object_key(owner, winner.upload_id))
    assert finalize.finalize_object(uow, store, object_key(owner, loser.upload_id)).outcome == "duplicate_content"

    status = uploads.upload_status(uow, owner_id=owner, upload_id=loser.upload_id)

    assert (status.status, status.photo_id) == ("complete", winner.upload_id)
    assert uploads.upload_status(uow, owner_id=owner, upload_id=winner.upload_id).photo_id == winner.upload_id

"""The scheduled sweep, through the cleanup Lambda handler with an EventBridge event, on a real
database and store, including injected storage failures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from photosync.adapters.objectstore import ObjectStoreError
from photosync.handlers import cleanup as cleanup_handler
from photosync.handlers import environment
from photosync.local.lambda_runtime import LocalLambdaContext
from photosync.services import cleanup, finalize, renditions, trash, uploads
from tests.conftest import new_user
from tests.integration.test_uploads import distinct_jpeg, grant, object_key
from tests.support.renditions import MemoryQueue, handle_queued

SCHEDULED_EVENT = json.loads(
    (Path(__file__).resolve().parents[1] / "fixtures" / "events" / "eventbridge_scheduled.json").read_text()
)


class FlakyStore:
    """The real local store, with the next `failures` calls of one operation failing as a network would."""

    def __init__(self, store, operation: str, failures: int) -> None:
        self._store, self._operation, self.failures = store, operation, failures

    def __getattr__(self, name):
        real = getattr(self._store, name)
        if name != self._operation:
            return real

        def flaky(*args, **kwargs):
            if self.failures > 0:
                self.failures -= 1
                raise ObjectStoreError(f"injected failure of {name}")
            return real(*args, **kwargs)

        return flaky


def age_everything(uow, *, seconds: int) -> None:
    """Move every reservation, photo and retry time into the past, as if `seconds` had passed."""
    uow.conn.execute("UPDATE pending_uploads SET created_at = created_at - make_interval(secs => %s)", (seconds,))
    uow.conn.execute("UPDATE photos SET uploaded_at = uploaded_at - make_interval(secs => %s)", (seconds,))
    uow.conn.execute("UPDATE object_deletions SET next_attempt_at = next_attempt_at - make_interval(secs => %s)", (seconds,))


def run_scheduled_cleanup() -> dict:
    return cleanup_handler.handler(SCHEDULED_EVENT, LocalLambdaContext("cleanup"))


def test_expired_reservation_without_a_file_is_released(uow, store, lambda_env):
    owner = new_user(uow)
    granted = grant(uow, environment.object_store(), owner, distinct_jpeg(20))
    age_everything(uow, seconds=3601)

    report = run_scheduled_cleanup()

    assert report["released"] == 1
    status = uploads.upload_status(uow, owner_id=owner, upload_id=granted.upload_id)
    assert status.status == "failed" and status.reason.startswith("expired")
    assert uow.users.get(owner).storage_pending == 0


def test_fresh_reservations_are_left_alone(uow, store, lambda_env):
    owner = new_user(uow)
    data = distinct_jpeg(21)
    grant(uow, environment.object_store(), owner, data)
    age_everything(uow, seconds=3000)

    assert run_scheduled_cleanup()["released"] == 0
    assert uow.users.get(owner).storage_pending == len(data)


def test_expired_reservation_whose_file_arrived_is_finalized_not_discarded(uow, store, lambda_env):
    owner = new_user(uow)
    data = distinct_jpeg(22)
    live_store = environment.object_store()
    granted = grant(uow, live_store, owner, data)
    live_store.put(object_key(owner, granted.upload_id), data, content_type="image/jpeg")  # event lost
    age_everything(uow, seconds=3601)

    report = run_scheduled_cleanup()

    assert (report["finalized"], report["released"]) == (1, 0)
    assert uow.photos.get(granted.upload_id, owner_id=owner) is not None
    state = uow.users.get(owner)
    assert (state.storage_used, state.storage_pending) == (len(data), 0)


def test_a_failed_object_deletion_is_retried_by_the_sweep(uow, store):
    owner = new_user(uow)
    data = distinct_jpeg(23)
    granted = grant(uow, store, owner, data)
    key = object_key(owner, granted.upload_id)
    store.put(key, data, content_type="image/jpeg")
    finalize.finalize_object(uow, store, key)
    photo = uow.photos.get(granted.upload_id, owner_id=owner)
    flaky = FlakyStore(store, "delete", failures=1)

    trash.move_to_trash(uow, owner_id=owner, photo_id=photo.id)
    trash.delete_forever(uow, flaky, owner_id=owner, photo_id=photo.id)

    # The row and the charge are gone at once; the original's bytes wait in the outbox.
    assert uow.photos.get(photo.id, owner_id=owner) is None
    assert uow.users.get(owner).storage_used == 0
    assert store.head(key) is not None
    queued = uow.conn.execute("SELECT object_key, attempts, last_error FROM object_deletions").fetchall()
    assert [(row["object_key"], row["attempts"]) for row in queued] == [(key, 1)]
    assert "injected failure" in queued[0]["last_error"]

    assert cleanup.run_cleanup(uow, flaky, pending_ttl_seconds=3600).deleted_objects == 0  # backoff not over
    age_everything(uow, seconds=60)
    report = cleanup.run_cleanup(uow, flaky, pending_ttl_seconds=3600)

    assert report.deleted_objects == 1
    assert store.head(key) is None
    assert uow.conn.execute("SELECT count(*) AS n FROM object_deletions").fetchone()["n"] == 0


def test_a_rendition_lost_to_a_store_failure_is_made_by_the_sweep(uow, store):
    owner = new_user(uow)
    data = distinct_jpeg(24, width=1200, height=900)
    granted = grant(uow, store, owner, data)
    key = object_key(owner, granted.upload_id)
    store.put(key, data, content_type="image/jpeg")
    flaky = FlakyStore(store, "put", failures=1)
    queue = MemoryQueue()

    assert finalize.finalize_object(uow, flaky, key, queue=queue).outcome == "finalized"
    with pytest.raises(renditions.RenditionsNotStored):
        handle_queued(uow, flaky, queue)
    photo = uow.photos.get(granted.upload_id, owner_id=owner)
    assert (photo.renditions, photo.thumbnail_key) == ("pending", None)

    age_everything(uow, seconds=3600)
    report = cleanup.run_cleanup(uow, flaky, pending_ttl_seconds=3600)

    assert report.renditions_retried == 1
    photo = uow.photos.get(granted.upload_id, owner_id=owner)
    assert photo.renditions == "ready" and store.head(photo.thumbnail_key) is not None


def test_sweep_works_through_more_reservations_than_one_batch(uow, store):
    owner = new_user(uow)
    for n in range(8):
        grant(uow, store, owner, distinct_jpeg(30 + n))
    age_everything(uow, seconds=7200)

    report = cleanup.run_cleanup(uow, store, pending_ttl_seconds=3600, turn_size=3)

    assert report.released == 8
    assert uow.users.get(owner).storage_pending == 0

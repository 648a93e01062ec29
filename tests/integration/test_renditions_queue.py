"""Issue 12: finalize acknowledges at storage speed and queues the renditions; the renditions
function makes them from the queue, item by item; what fails is retried and never loses or blocks
the photo. On a real database, the local store and the local queue (the same SQS-shaped events the
local runtime delivers)."""

from __future__ import annotations

import json
import time

import psycopg
import pytest
from psycopg.rows import dict_row

from photosync.adapters.objectstore import ObjectStoreError
from photosync.adapters.postgres.unit_of_work import UnitOfWork
from photosync.adapters.queues import LocalQueue
from photosync.config import settings
from photosync.handlers import environment
from photosync.handlers import renditions as renditions_handler
from photosync.local.events import sqs_event
from photosync.local.lambda_runtime import LocalLambdaContext
from photosync.local import queue_poller
from photosync.local.queue_poller import QueuePoller
from photosync.services import cleanup, finalize, photos, renditions
from tests.conftest import new_user
from tests.integration.test_cleanup import age_everything
from tests.integration.test_uploads import distinct_jpeg, grant, object_key
from tests.support.renditions import FailingQueue, MemoryQueue, handle_queued


class CountingStore:
    """The real store, counting the bytes read from originals."""

    def __init__(self, store) -> None:
        self._store = store
        self.original_bytes_read = 0

    def __getattr__(self, name):
        return getattr(self._store, name)

    def read_range(self, key, start, length):
        data = self._store.read_range(key, start, length)
        self.original_bytes_read += len(data) if key.startswith("originals/") else 0
        return data

    def read(self, key):
        data = self._store.read(key)
        self.original_bytes_read += len(data) if key.startswith("originals/") else 0
        return data


class BrokenRenditions:
    """The real store, except that renditions of the photos named cannot be written."""

    def __init__(self, store, photo_ids) -> None:
        self._store = store
        self.photo_ids = {str(p) for p in photo_ids}

    def __getattr__(self, name):
        return getattr(self._store, name)

    def put(self, key, data, *, content_type):
        if any(photo_id in key for photo_id in self.photo_ids):
            raise ObjectStoreError("injected failure of a rendition write")
        return self._store.put(key, data, content_type=content_type)


def uploaded(uow, store, owner, n: int, **kwargs):
    data = distinct_jpeg(n, width=kwargs.pop("width", 2400), height=kwargs.pop("height", 1800), **kwargs)
    granted = grant(uow, store, owner, data)
    store.put(object_key(owner, granted.upload_id), data, content_type="image/jpeg")
    return granted.upload_id, data


def listed(uow, store, owner) -> dict[str, dict]:
    page = photos.list_photos(uow, store, caller=owner, limit=100, cursor=None, album_id=None, url_ttl_seconds=60)
    return {str(view.photo.id): view for view in page.items}


def test_a_photo_is_complete_and_listed_before_its_renditions_exist_and_gets_them_after(uow, store):
    owner = new_user(uow)
    photo_id, data = uploaded(uow, store, owner, 700)
    counting, queue = CountingStore(store), MemoryQueue()

    result = finalize.finalize_object(uow, counting, object_key(owner, photo_id), queue=queue)

    assert (result.outcome, result.renditions) == ("finalized", "queued")
    # Size, hash (the store's own) and type checked, metadata read from the header alone.
    assert counting.original_bytes_read < len(data) // 4
    [view] = listed(uow, store, owner).values()
    assert view.photo.id == photo_id and (view.photo.width, view.photo.height) == (2400, 1800)
    assert (view.photo.renditions, view.thumbnail_url, view.preview_url) == ("pending", None, None)
    assert queue.messages == [{"photo_id": str(photo_id), "owner_id": str(owner)}]

    assert handle_queued(uow, store, queue) == ["ready"]
    [view] = listed(uow, store, owner).values()
    assert view.thumbnail_url is not None and view.preview_url is not None
    # A repeated message (SQS delivers at least once) changes nothing.
    queue.send({"photo_id": str(photo_id), "owner_id": str(owner)})
    assert handle_queued(uow, store, queue) == ["ready"]


def test_a_photo_whose_renditions_could_not_be_queued_is_complete_and_the_sweep_makes_them(uow, store):
    owner = new_user(uow)
    photo_id, _ = uploaded(uow, store, owner, 701)

    result = finalize.finalize_object(uow, store, object_key(owner, photo_id), queue=FailingQueue())

    assert (result.outcome, result.renditions) == ("finalized", "pending")
    assert uow.photos.get(photo_id, owner_id=owner).renditions == "pending"
    age_everything(uow, seconds=3600)
    assert cleanup.run_cleanup(uow, store, pending_ttl_seconds=3600).renditions_retried == 1
    assert uow.photos.get(photo_id, owner_id=owner).renditions == "ready"


def rendition_event(queue: LocalQueue) -> dict:
    messages = queue.receive(max_messages=10)
    return sqs_event(queue_name="renditions", messages=[(m.message_id, m.body, m.sent_at_ms, m.receive_count) for m in messages])


def block_renditions_of(store, owner) -> None:
    """A file where the owner's thumbnail directory goes: every thumbnail write for them fails."""
    blocked = store.object_path(f"thumbnails/{owner}/x").parent
    blocked.parent.mkdir(parents=True, exist_ok=True)
    blocked.write_bytes(b"")


def test_the_renditions_function_reports_only_the_failed_items_of_a_batch(uow, lambda_env):
    store = environment.object_store()
    owner, blocked_owner = new_user(uow), new_user(uow)
    ids = [uploaded(uow, store, o, 710 + n, width=640, height=480)[0] for n, o in enumerate((owner, blocked_owner, owner))]
    queue = LocalQueue(environment.local_renditions_queue_dir(settings().data_dir))
    for photo_id, photo_owner in zip(ids, (owner, blocked_owner, owner)):
        finalize.finalize_object(uow, store, object_key(photo_owner, photo_id), queue=queue)
    block_renditions_of(store, blocked_owner)
    event = rendition_event(queue)
    event["Records"].append({**event["Records"][0], "messageId": "not-json", "body": "{"})  # dropped, not retried

    response = renditions_handler.handler(event, LocalLambdaContext("renditions"))

    failed_message = event["Records"][1]["messageId"]
    assert json.loads(event["Records"][1]["body"])["photo_id"] == str(ids[1])
    assert response == {"batchItemFailures": [{"itemIdentifier": failed_message}]}
    states = [uow.photos.get(p, owner_id=o).renditions for p, o in zip(ids, (owner, blocked_owner, owner))]
    assert states == ["ready", "pending", "ready"]


class RenditionsFunction:
    """The renditions function as the local runtime invokes it, on its own database connection and
    a store given by the test; failures reported item by item, as the batch utility does."""

    name = "renditions"

    def __init__(self, database_url: str, store) -> None:
        self._conn = psycopg.connect(database_url, autocommit=True, row_factory=dict_row)
        self._store = store

    def invoke(self, event: dict) -> dict:
        failures = []
        for record in event["Records"]:
            try:
                renditions.make_queued(UnitOfWork(self._conn), self._store, json.loads(record["body"]))
            except renditions.RenditionsNotStored:
                failures.append({"itemIdentifier": record["messageId"]})
        return {"batchItemFailures": failures}

    def close(self) -> None:
        self._conn.close()


def test_a_failing_rendition_is_retried_by_the_queue_then_the_sweep_and_never_blocks_other_photos(
    uow, store, database_url, monkeypatch
):
    owner = new_user(uow)
    queue = LocalQueue(store.object_path("queue").parent / "queue", max_receives=2)
    ids = [uploaded(uow, store, owner, 720 + n, width=640, height=480)[0] for n in range(4)]
    broken = BrokenRenditions(store, [ids[0]])
    function = RenditionsFunction(database_url, broken)
    monkeypatch.setattr(queue_poller, "RETRY_BACKOFF_SECONDS", 0.05)
    # One poller: the function here is one execution environment, with one connection.
    poller = QueuePoller(queue, function, queue_name="renditions", pollers=1)
    poller.start()
    try:
        for photo_id in ids:
            assert finalize.finalize_object(uow, store, object_key(owner, photo_id), queue=queue).outcome == "finalized"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (
            queue.dead_letters() and all(uow.photos.get(p, owner_id=owner).renditions == "ready" for p in ids[1:])
        ):
            time.sleep(0.05)
    finally:
        poller.stop()
        function.close()

    # The photo whose renditions fail is complete and listed; the others got theirs meanwhile.
    states = {p: uow.photos.get(p, owner_id=owner).renditions for p in ids}
    assert states == {ids[0]: "pending", **{p: "ready" for p in ids[1:]}}
    assert [json.loads(m)["photo_id"] for m in queue.dead_letters()] == [str(ids[0])]
    assert queue.receive(max_messages=10) == []
    assert listed(uow, store, owner)[str(ids[0])].thumbnail_url is None
    # The sweep keeps trying, and makes them once the store works.
    age_everything(uow, seconds=3600)
    assert cleanup.run_cleanup(uow, broken, pending_ttl_seconds=3600).renditions_failed == 1
    assert cleanup.run_cleanup(uow, store, pending_ttl_seconds=3600).renditions_retried == 1
    assert listed(uow, store, owner)[str(ids[0])].thumbnail_url is not None


@pytest.mark.parametrize("store_kind", ["local", "store-without-checksums"])
def test_finalize_trusts_the_local_store_s_checksum_and_hashes_only_without_one(uow, store, store_kind):
    """The local store hashed the body while it streamed in (and refused a mismatch): finalize
    reads only the header. A store without a checksum makes finalize hash the whole object."""
    from tests.integration.test_uploads import StoreWithoutChecksums

    owner = new_user(uow)
    photo_id, data = uploaded(uow, store, owner, 730)
    backend = store if store_kind == "local" else StoreWithoutChecksums(store)
    counting = CountingStore(backend)
    assert finalize.finalize_object(uow, counting, object_key(owner, photo_id), queue=MemoryQueue()).outcome == "finalized"
    if store_kind == "local":
        assert counting.original_bytes_read < len(data) // 4
    else:
        assert counting.original_bytes_read >= len(data)


def test_finalize_still_rejects_a_size_or_hash_the_store_reports_differently(uow, store):
    owner = new_user(uow)
    photo_id, data = uploaded(uow, store, owner, 740)
    # The local store's recorded hash is not the declared one (as if another body had been stored).
    meta = store.object_path(object_key(owner, photo_id)).with_name(
        store.object_path(object_key(owner, photo_id)).name + ".meta.json"
    )
    recorded = json.loads(meta.read_text())
    meta.write_text(json.dumps({**recorded, "sha256": "0" * 64}))
    counting = CountingStore(store)

    result = finalize.finalize_object(uow, counting, object_key(owner, photo_id), queue=MemoryQueue())

    assert result.outcome == "rejected" and "SHA-256" in result.detail
    assert counting.original_bytes_read == 0
    assert uow.photos.get(photo_id, owner_id=owner) is None
    assert uow.users.get(owner).storage_used == 0

    other_id, other = uploaded(uow, store, owner, 741)
    store.put(object_key(owner, other_id), other + b"tail", content_type="image/jpeg")
    result = finalize.finalize_object(uow, store, object_key(owner, other_id), queue=MemoryQueue())
    assert result.outcome == "rejected" and "bytes" in result.detail

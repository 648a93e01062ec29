"""The trash through the Lambda handlers, on a real database and store: delete, list, restore,
delete forever, empty, the sweep's purge, and what lookup and uploads say along the way."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from photosync.config import settings
from photosync.handlers import cleanup as cleanup_handler
from photosync.handlers import environment
from photosync.local.lambda_runtime import LocalLambdaContext
from photosync.services import cleanup, finalize, trash
from tests.integration.test_uploads import distinct_jpeg
from tests.support.lambda_api import LambdaApi
from tests.support.renditions import finalize_and_render

SCHEDULED_EVENT = json.loads(
    (Path(__file__).resolve().parents[1] / "fixtures" / "events" / "eventbridge_scheduled.json").read_text()
)


def upload(api: LambdaApi, uow, data: bytes) -> str:
    """POST /uploads, the bytes into the store, the finalize the store's event would trigger, and
    the renditions it queues."""
    granted = api.ok("POST", "/uploads", status=201, json_body={
        "filename": "IMG.JPG", "content_type": "image/jpeg", "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    })
    key = f"originals/{api.user_id}/{granted['upload_id']}"
    environment.object_store().put(key, data, content_type="image/jpeg")
    assert finalize_and_render(uow, environment.object_store(), key).outcome == "finalized"
    return granted["upload_id"]


def stored_keys(uow, photo_id: str) -> list[str]:
    row = uow.conn.execute("SELECT object_key, thumbnail_key, preview_key FROM photos WHERE id = %s", (photo_id,)).fetchone()
    return [key for key in row.values() if key]


def ids(items: list[dict]) -> list[str]:
    return [item["id"] for item in items]


@pytest.fixture
def api(lambda_env) -> LambdaApi:
    return LambdaApi()


def test_delete_moves_to_the_trash_restore_brings_it_back_with_its_albums(api, uow):
    photos = [upload(api, uow, distinct_jpeg(200 + n)) for n in range(3)]
    sizes = {p["id"]: p["size"] for p in api.all_pages("/photos")}
    album = api.ok("POST", "/albums", json_body={"name": "Trip"}, status=201)["id"]
    api.ok("POST", f"/albums/{album}/photos", json_body={"photo_ids": photos[:2]})

    for _ in range(2):  # deleting twice is the same 204: a retried request after a lost answer
        assert api.call("DELETE", f"/photos/{photos[0]}") == (204, None)

    assert set(ids(api.all_pages("/photos"))) == set(photos[1:])
    assert ids(api.all_pages("/photos", album_id=album)) == [photos[1]]
    assert api.ok("GET", f"/albums/{album}")["photo_count"] == 1
    [trashed] = api.all_pages("/trash")
    assert trashed["id"] == photos[0]
    trashed_at = datetime.fromisoformat(trashed["trashed_at"])
    assert datetime.fromisoformat(trashed["purge_at"]) == trashed_at + timedelta(days=30)
    assert api.ok("GET", f"/photos/{photos[0]}")["trashed_at"] == trashed["trashed_at"]  # still readable
    assert api.ok("GET", f"/photos/{photos[0]}/download")["url"]
    me = api.ok("GET", "/me")
    assert (me["storage_used"], me["storage_trash"]) == (sum(sizes.values()), sizes[photos[0]])
    # Its content is in the trash: a new upload would not bring it back, a restore does.
    duplicate = api.ok("POST", "/uploads", json_body={
        "filename": "again.jpg", "content_type": "image/jpeg", "size": sizes[photos[0]],
        "sha256": api.ok("GET", f"/photos/{photos[0]}")["sha256"],
    })
    assert duplicate == {"status": "duplicate", "photo_id": photos[0], "in_trash": True}
    # A trashed photo cannot be added to an album; it is the caller's, but gone from their view.
    assert api.call("POST", f"/albums/{album}/photos", json_body={"photo_ids": [photos[0]]})[0] == 404

    assert api.ok("POST", "/trash/restore", json_body={"photo_ids": [photos[0]]}) == {"restored": 1}

    assert set(ids(api.all_pages("/photos"))) == set(photos)
    assert set(ids(api.all_pages("/photos", album_id=album))) == set(photos[:2])
    assert api.ok("GET", f"/albums/{album}")["photo_count"] == 2
    assert api.all_pages("/trash") == []
    assert api.ok("GET", f"/photos/{photos[0]}")["trashed_at"] is None
    assert api.ok("GET", "/me")["storage_trash"] == 0


def test_restore_is_all_or_nothing(api, uow):
    photos = [upload(api, uow, distinct_jpeg(210 + n)) for n in range(3)]
    for photo in photos[:2]:
        api.call("DELETE", f"/photos/{photo}")
    other = LambdaApi()
    theirs = upload(other, uow, distinct_jpeg(213))
    other.call("DELETE", f"/photos/{theirs}")

    for not_in_my_trash in (photos[2], theirs, "00000000-0000-4000-8000-000000000000"):
        status, body = api.call("POST", "/trash/restore", json_body={"photo_ids": [photos[0], not_in_my_trash]})
        assert (status, body["error"]["code"]) == (404, "not_found")
        assert set(ids(api.all_pages("/trash"))) == set(photos[:2])  # nothing restored
    for bad in ({"photo_ids": []}, {"photo_ids": ["x"]}, {"photo_ids": [photos[0]] * 1001}, {}):
        assert api.call("POST", "/trash/restore", json_body=bad)[0] == 400
    assert ids(other.all_pages("/trash")) == [theirs]


def test_the_trash_pages_most_recently_trashed_first(api, uow):
    photos = [upload(api, uow, distinct_jpeg(220 + n)) for n in range(5)]
    for photo in photos:
        api.call("DELETE", f"/photos/{photo}")
    listed = [p for p in api.all_pages("/trash", limit="2")]
    assert ids(listed) == list(reversed(photos))
    assert api.call("GET", "/trash", query={"cursor": "bm9wZQ"})[0] == 400


def test_delete_forever_and_empty_free_the_bytes_and_the_quota(api, uow):
    photos = [upload(api, uow, distinct_jpeg(230 + n, width=900, height=600)) for n in range(4)]
    store = environment.object_store()
    keys = {photo: stored_keys(uow, photo) for photo in photos}
    assert all(len(k) == 3 for k in keys.values())  # original, thumbnail, preview
    sizes = {p["id"]: p["size"] for p in api.all_pages("/photos")}

    # Only what is in the trash can be deleted for good.
    assert api.call("DELETE", f"/trash/{photos[0]}")[0] == 404
    api.call("DELETE", f"/photos/{photos[0]}")
    assert api.call("DELETE", f"/trash/{photos[0]}") == (204, None)
    assert api.call("DELETE", f"/trash/{photos[0]}")[0] == 404
    assert all(store.head(key) is None for key in keys[photos[0]])
    assert api.call("GET", f"/photos/{photos[0]}")[0] == 404
    assert api.ok("GET", "/me")["storage_used"] == sum(sizes.values()) - sizes[photos[0]]

    for photo in photos[1:3]:
        api.call("DELETE", f"/photos/{photo}")
    assert api.ok("POST", "/trash/empty") == {"deleted": 2, "freed_bytes": sizes[photos[1]] + sizes[photos[2]]}
    assert all(store.head(key) is None for photo in photos[1:3] for key in keys[photo])
    assert all(store.head(key) is not None for key in keys[photos[3]])
    me = api.ok("GET", "/me")
    assert (me["storage_used"], me["storage_trash"]) == (sizes[photos[3]], 0)
    assert ids(api.all_pages("/photos")) == [photos[3]]
    assert api.ok("POST", "/trash/empty") == {"deleted": 0, "freed_bytes": 0}


def test_the_sweep_purges_exactly_the_photos_past_retention(api, uow, monkeypatch):
    monkeypatch.setenv("PHOTOSYNC_TRASH_RETENTION_DAYS", "7")
    settings.cache_clear()
    other = LambdaApi()
    mine = [upload(api, uow, distinct_jpeg(240 + n)) for n in range(4)]
    theirs = [upload(other, uow, distinct_jpeg(250 + n)) for n in range(2)]
    for user, photo in [(api, mine[0]), (api, mine[1]), (api, mine[2]), (other, theirs[0])]:
        user.call("DELETE", f"/photos/{photo}")
    trashed_days_ago = {mine[0]: 8, mine[1]: 6, mine[2]: 7.01, theirs[0]: 30}
    for photo, days in trashed_days_ago.items():
        uow.conn.execute("UPDATE photos SET trashed_at = now() - make_interval(secs => %s) WHERE id = %s", (days * 86400, photo))
    # A photo back from the trash is not purged, however long ago it was trashed.
    uow.conn.execute("UPDATE photos SET uploaded_at = now() - interval '90 days' WHERE id = %s", (mine[3],))
    doomed_keys = [key for photo in (mine[0], mine[2], theirs[0]) for key in stored_keys(uow, photo)]

    report = cleanup_handler.handler(SCHEDULED_EVENT, LocalLambdaContext("cleanup"))

    assert report["trash_purged"] == 3
    assert ids(api.all_pages("/trash")) == [mine[1]]
    assert set(ids(api.all_pages("/photos"))) == {mine[3]}
    assert other.all_pages("/trash") == [] and ids(other.all_pages("/photos")) == [theirs[1]]
    assert all(environment.object_store().head(key) is None for key in doomed_keys)
    assert cleanup_handler.handler(SCHEDULED_EVENT, LocalLambdaContext("cleanup"))["trash_purged"] == 0


def test_retention_zero_purges_the_whole_trash_at_the_next_sweep(api, uow, monkeypatch):
    monkeypatch.setenv("PHOTOSYNC_TRASH_RETENTION_DAYS", "0")
    settings.cache_clear()
    photos = [upload(api, uow, distinct_jpeg(260 + n)) for n in range(2)]
    api.call("DELETE", f"/photos/{photos[0]}")
    assert api.ok("GET", "/trash")["items"][0]["purge_at"] == api.ok("GET", "/trash")["items"][0]["trashed_at"]

    assert cleanup_handler.handler(SCHEDULED_EVENT, LocalLambdaContext("cleanup"))["trash_purged"] == 1
    assert api.all_pages("/trash") == [] and ids(api.all_pages("/photos")) == [photos[1]]


def test_lookup_is_found_trashed_or_deleted_through_a_photos_whole_life(api, uow, monkeypatch):
    monkeypatch.setenv("PHOTOSYNC_TRASH_RETENTION_DAYS", "0")
    settings.cache_clear()
    data, never = distinct_jpeg(270), distinct_jpeg(271)
    sha, never_sha = hashlib.sha256(data).hexdigest(), hashlib.sha256(never).hexdigest()

    def lookup() -> dict:
        answer = api.ok("POST", "/photos/lookup", json_body={"sha256": [sha, never_sha]})
        # Disjoint, and the unknown hash is in none of them.
        buckets = [set(answer["found"]), set(answer["trashed"]), set(answer["deleted"])]
        assert sum(len(b) for b in buckets) == len(set().union(*buckets)) <= 1
        return answer

    assert lookup() == {"found": {}, "trashed": {}, "deleted": []}
    first = upload(api, uow, data)
    assert lookup() == {"found": {sha: first}, "trashed": {}, "deleted": []}
    api.call("DELETE", f"/photos/{first}")
    assert lookup() == {"found": {}, "trashed": {sha: first}, "deleted": []}
    api.ok("POST", "/trash/restore", json_body={"photo_ids": [first]})
    assert lookup() == {"found": {sha: first}, "trashed": {}, "deleted": []}
    api.call("DELETE", f"/photos/{first}")
    assert lookup() == {"found": {}, "trashed": {sha: first}, "deleted": []}
    assert cleanup_handler.handler(SCHEDULED_EVENT, LocalLambdaContext("cleanup"))["trash_purged"] == 1
    assert lookup() == {"found": {}, "trashed": {}, "deleted": [sha]}
    # Another user's tombstone is theirs alone.
    assert LambdaApi().ok("POST", "/photos/lookup", json_body={"sha256": [sha]}) == {"found": {}, "trashed": {}, "deleted": []}
    # Uploading it again is allowed, and clears the tombstone.
    second = upload(api, uow, data)
    assert second != first
    assert lookup() == {"found": {sha: second}, "trashed": {}, "deleted": []}


def test_purge_and_empty_work_in_batches_and_the_sweep_stops_at_its_deadline(api, uow, monkeypatch):
    monkeypatch.setattr(trash, "DELETE_BATCH", 2)
    store = environment.object_store()
    photos = [upload(api, uow, distinct_jpeg(280 + n)) for n in range(7)]
    for photo in photos:
        api.call("DELETE", f"/photos/{photo}")
    now = datetime.now(timezone.utc)

    passed = cleanup.Deadline(at=0.0, clock=lambda: 1.0)
    stopped = cleanup.run_cleanup(uow, store, pending_ttl_seconds=3600, trash_retention_days=0, deadline=passed)
    assert (stopped.trash_purged, stopped.stopped_at_deadline) == (0, True)
    assert trash.purge_due(uow, store, trashed_before=now, limit=2) == (2, True)
    assert len(api.all_pages("/trash")) == 5
    assert api.ok("POST", "/trash/empty")["deleted"] == 5  # three batches in one request
    assert api.all_pages("/trash") == [] and api.ok("GET", "/me")["storage_used"] == 0

"""GET /sync through the Lambda handlers on a real database: what a first sync describes, photo
JSON with fresh URLs, rendition updates, compaction and reset, bad input, and writers committing
concurrently while a client polls."""

from __future__ import annotations

import hashlib
import random
import threading
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, unquote, urlsplit

import psycopg
import pytest
from psycopg.rows import dict_row

from photosync.adapters.objectstore.local_disk import STORE_PATH
from photosync.adapters.postgres.repositories import Changes
from photosync.adapters.postgres.unit_of_work import UnitOfWork
from photosync.handlers import environment
from photosync.services import albums, cleanup, finalize, sync
from tests.integration.test_cleanup import age_everything
from tests.integration.test_trash import upload
from tests.integration.test_uploads import distinct_jpeg
from tests.support.lambda_api import LambdaApi
from tests.support.renditions import FailingQueue
from tests.support.sync_replica import Replica, listed


@pytest.fixture
def api(lambda_env) -> LambdaApi:
    return LambdaApi()


def test_a_first_sync_describes_the_whole_library_also_what_predates_the_change_log(api, uow):
    photos = [upload(api, uow, distinct_jpeg(300 + n)) for n in range(5)]
    album = api.ok("POST", "/albums", json_body={"name": "Before"}, status=201)["id"]
    api.ok("POST", f"/albums/{album}/photos", json_body={"photo_ids": photos[:3]})
    api.call("DELETE", f"/photos/{photos[0]}")
    # As a database upgraded from the first schema: the rows are there, the log never saw them.
    uow.conn.execute("DELETE FROM changes")

    for limit in (1, 2, 4, 1000):  # pages that end inside and at the edge of each phase
        replica = Replica()
        replica.pull(api, limit=limit)
        assert replica.view() == listed(api)
        assert set(replica.photos) == set(photos) and replica.members == {(album, p) for p in photos[:3]}


def test_changes_carry_the_photo_as_get_photo_shows_it_with_working_urls(api, uow):
    photo_id = upload(api, uow, distinct_jpeg(310, width=900, height=600))
    replica = Replica()
    replica.pull(api)
    api.call("DELETE", f"/photos/{photo_id}")
    page = api.ok("GET", "/sync", query={"cursor": replica.cursor})

    [change] = page["changes"]
    assert change["type"] == "photo" and change["op"] == "upsert"
    assert change["photo"] == api.ok("GET", f"/photos/{photo_id}")
    assert change["photo"]["trashed_at"] is not None
    store = environment.object_store()
    for url in (change["photo"]["thumbnail_url"], change["photo"]["preview_url"]):
        parts = urlsplit(url)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        assert int(query["expires"]) > time.time()
        key = unquote(parts.path.removeprefix(STORE_PATH))
        store.verify_download(key, query)  # raises unless the signature is the store's own


def test_renditions_made_later_reach_clients_through_sync(api, uow):
    store = environment.object_store()
    data = distinct_jpeg(320, width=900, height=600)
    granted = api.ok("POST", "/uploads", status=201, json_body={
        "filename": "late.jpg", "content_type": "image/jpeg", "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    })
    key = f"originals/{api.user_id}/{granted['upload_id']}"
    store.put(key, data, content_type="image/jpeg")
    # The queue cannot be reached: the photo is complete, and the sweep makes its renditions.
    assert finalize.finalize_object(uow, store, key, queue=FailingQueue()).renditions == "pending"
    replica = Replica()
    replica.pull(api)
    assert replica.photos[granted["upload_id"]]["thumbnail_url"] is None

    age_everything(uow, seconds=3600)
    assert cleanup.run_cleanup(uow, store, pending_ttl_seconds=3600).renditions_retried == 1

    assert replica.pull(api) == 1
    assert replica.photos[granted["upload_id"]]["thumbnail_url"] is not None
    assert replica.view() == listed(api)


def test_compaction_resets_only_cursors_older_than_what_is_kept(api, uow):
    first = upload(api, uow, distinct_jpeg(330))
    old_cursor = api.ok("GET", "/sync")["next_cursor"]  # a complete copy, as of the first photo
    album = api.ok("POST", "/albums", json_body={"name": "Kept"}, status=201)["id"]
    current = Replica()
    current.pull(api)
    uow.conn.execute("UPDATE changes SET created_at = now() - interval '100 days'")
    api.ok("PATCH", f"/albums/{album}", json_body={"name": "Renamed"})  # a recent entry stays

    report = cleanup.run_cleanup(uow, environment.object_store(), pending_ttl_seconds=3600, change_log_retention_days=90)

    assert report.changes_compacted == 3  # the photo's creation and its renditions, the album's creation
    assert uow.conn.execute("SELECT count(*) AS n FROM changes").fetchone()["n"] == 1
    stale = api.ok("GET", "/sync", query={"cursor": old_cursor})
    assert (stale["reset"], stale["changes"]) == (True, [])
    # Starting again (the cursor given back is a first sync's) rebuilds the library.
    restarted = Replica(cursor=stale["next_cursor"])
    restarted.pull(api)
    assert restarted.view() == listed(api) and first in restarted.photos
    # A cursor past the compacted entries is served as usual.
    assert current.pull(api) == 1 and current.resets == 0
    assert current.albums[album]["name"] == "Renamed"
    assert current.view() == listed(api)


@pytest.mark.parametrize("query", [
    {"cursor": "not-a-cursor"}, {"cursor": "WzEsMl0"}, {"limit": "0"}, {"limit": "1001"}, {"limit": "ten"},
])
def test_bad_cursors_and_limits_are_400(api, query):
    status, body = api.call("GET", "/sync", query=query)
    assert (status, body["error"]["code"]) == (400, "invalid_request")


def test_a_cursor_from_the_future_is_reset_not_served(api, uow):
    other = LambdaApi()
    for n in range(3):
        other.ok("POST", "/albums", json_body={"name": f"{n}"}, status=201)
    far_ahead = Replica()
    far_ahead.pull(other)
    page = api.ok("GET", "/sync", query={"cursor": far_ahead.cursor})
    assert page["reset"] is True


WRITERS = 20
ALBUMS_PER_WRITER = 12


def test_no_change_is_skipped_when_20_connections_commit_in_interleaved_order(api, database_url, monkeypatch):
    """Each writer holds its transaction open a random while after its entry is numbered, so
    transactions finish out of the order they started in while a client polls /sync. Every album is
    created once and never changed again: an entry the poller's cursor skipped would stay missing."""
    record = Changes.record
    rng_lock, rng = threading.Lock(), random.Random(5)

    def slow_to_commit(self, entries, *, owner_id):
        record(self, entries, owner_id=owner_id)
        with rng_lock:
            pause = rng.random() * 0.01
        time.sleep(pause)

    monkeypatch.setattr(Changes, "record", slow_to_commit)
    api.ok("GET", "/me")  # provisioned before the writers start
    created: list[str] = []
    start = threading.Barrier(WRITERS + 1)
    done = threading.Event()

    def writer(n: int) -> None:
        with psycopg.connect(database_url, autocommit=True, row_factory=dict_row, prepare_threshold=None) as conn:
            uow = UnitOfWork(conn)
            start.wait()
            for k in range(ALBUMS_PER_WRITER):
                created.append(str(albums.create_album(uow, owner_id=api.user_id, name=f"w{n} a{k}").id))

    polls = 0
    replica = Replica()

    def poller() -> None:
        nonlocal polls
        start.wait()
        while not done.is_set():
            replica.pull(api, limit=7)
            polls += 1

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    polling = threading.Thread(target=poller)
    for thread in [*threads, polling]:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    polling.join()
    replica.pull(api)

    assert len(created) == WRITERS * ALBUMS_PER_WRITER
    assert polls > 3  # the poller really read while the writers committed
    assert set(replica.albums) == set(created)
    assert replica.view() == listed(api)
    with psycopg.connect(database_url, row_factory=dict_row) as conn:
        seqs = [row["seq"] for row in conn.execute("SELECT seq FROM changes WHERE owner_id = %s ORDER BY seq", (api.user_id,))]
    assert seqs == list(range(1, len(created) + 1))  # numbered without gaps, one per commit


def test_compaction_goes_by_age_in_batches_and_stops_at_the_deadline(uow, api):
    for n in range(5):
        api.ok("POST", "/albums", json_body={"name": f"{n}"}, status=201)
    uow.conn.execute("UPDATE changes SET created_at = now() - interval '100 days'")
    store = environment.object_store()
    passed = cleanup.Deadline(at=0.0, clock=lambda: 1.0)

    assert cleanup.run_cleanup(uow, store, pending_ttl_seconds=3600, deadline=passed).changes_compacted == 0
    month_ago = datetime.now(timezone.utc) - timedelta(days=30)
    assert cleanup.run_cleanup(uow, store, pending_ttl_seconds=3600, now=month_ago).changes_compacted == 0
    assert sync.compact(uow, created_before=datetime.now(timezone.utc), limit=2) == (2, True)
    assert cleanup.run_cleanup(uow, store, pending_ttl_seconds=3600).changes_compacted == 3

"""The SDK's trash, lookup and change-feed calls and the local library index, against a fake transport.

The end-to-end tests (tests/e2e/test_cli_trash_and_sync.py) run the same paths against a real server;
these pin the client's own rules: what a retried delete means, how pages and resets are applied.
"""

from __future__ import annotations

import json
import random

import httpx
import pytest

from photosync.client import NotFound, PhotoSyncClient, RetryPolicy, ServerUnreachable
from photosync.client.index import LibraryIndex


def _client(handler, attempts: int = 4) -> PhotoSyncClient:
    return PhotoSyncClient(
        "http://photosync.test", "token",
        retry=RetryPolicy(attempts=attempts, base_delay=0.01, rng=random.Random(3)),
        transport=httpx.MockTransport(handler), sleep=lambda _: None,
    )


def photo_json(photo_id: str, *, sha: str | None = None, taken: str | None = "2024-05-01T10:00:00Z",
               trashed_at: str | None = None, size: int = 100) -> dict:
    return {
        "id": photo_id, "owner_id": "u1", "filename": f"{photo_id}.jpg", "content_type": "image/jpeg", "size": size,
        "sha256": sha or (photo_id[0] * 64), "uploaded_at": "2024-06-01T00:00:00Z", "taken_at": taken,
        "width": 10, "height": 10, "thumbnail_url": None, "trashed_at": trashed_at,
    }


def test_lookup_sorts_hashes_into_found_trashed_and_deleted():
    answer = {"found": {"a" * 64: "p1"}, "trashed": {"b" * 64: "p2"}, "deleted": ["c" * 64]}
    client = _client(lambda request: httpx.Response(200, json=answer))
    result = client.lookup(["a" * 64, "b" * 64, "c" * 64, "d" * 64])
    assert result.found == {"a" * 64: "p1"}
    assert result.trashed == {"b" * 64: "p2"}
    assert result.deleted == {"c" * 64}


def lost_first_answer(outcome_after: httpx.Response):
    """The first request reaches the server (which carries it out) but its answer is lost."""
    calls = []

    def handler(request):
        calls.append((request.method, request.url.path))
        if len(calls) == 1:
            raise httpx.RemoteProtocolError("connection dropped before the answer", request=request)
        return outcome_after

    return handler, calls


def test_a_permanent_delete_whose_answer_was_lost_counts_as_done():
    handler, calls = lost_first_answer(httpx.Response(404, json={"error": {"code": "not_found", "message": "Not found"}}))
    client = _client(handler)
    client.delete_from_trash("p1")  # no error: the first attempt deleted it
    assert calls == [("DELETE", "/trash/p1"), ("DELETE", "/trash/p1")]


def test_moving_to_the_trash_again_after_a_lost_answer_is_success():
    handler, calls = lost_first_answer(httpx.Response(204))
    _client(handler).delete_photo("p1")
    assert len(calls) == 2


def test_a_delete_of_something_that_never_existed_still_fails():
    client = _client(lambda request: httpx.Response(404, json={"error": {"code": "not_found", "message": "No such photo"}}))
    with pytest.raises(NotFound):
        client.delete_from_trash("nope")
    with pytest.raises(NotFound):
        client.delete_photo("nope")


def test_a_restore_whose_answer_was_lost_is_confirmed_photo_by_photo():
    calls = []

    def handler(request):
        calls.append((request.method, request.url.path))
        if request.url.path == "/trash/restore":
            if len(calls) == 1:
                raise httpx.ReadTimeout("slow", request=request)
            return httpx.Response(404, json={"error": {"code": "not_found", "message": "Not in the trash"}})
        return httpx.Response(200, json=photo_json(request.url.path.rsplit("/", 1)[1]))

    assert _client(handler).restore(["p1", "p2"]) == 2
    assert calls[-2:] == [("GET", "/photos/p1"), ("GET", "/photos/p2")]


def test_a_restore_retry_that_finds_a_photo_still_in_the_trash_fails():
    calls = []

    def handler(request):
        calls.append(request.url.path)
        if request.url.path == "/trash/restore":
            if len(calls) == 1:
                return httpx.Response(503)
            return httpx.Response(404, json={"error": {"code": "not_found", "message": "Not in the trash"}})
        return httpx.Response(200, json=photo_json("p1", trashed_at="2024-06-02T00:00:00Z"))

    with pytest.raises(NotFound):
        _client(handler).restore(["p1"])


def test_trash_listing_carries_purge_dates_and_empty_reports_what_went():
    def handler(request):
        if request.url.path == "/trash":
            item = {**photo_json("p1", trashed_at="2024-06-02T00:00:00Z"), "purge_at": "2024-07-02T00:00:00Z"}
            return httpx.Response(200, json={"items": [item], "next_cursor": None})
        return httpx.Response(200, json={"deleted": 3, "freed_bytes": 4096})

    client = _client(handler)
    [trashed] = list(client.iter_trash())
    assert trashed.in_trash and trashed.purge_at.isoformat() == "2024-07-02T00:00:00+00:00"
    emptied = client.empty_trash()
    assert (emptied.deleted, emptied.freed_bytes) == (3, 4096)


class FakeFeed:
    """A change log the way `GET /sync` serves it: cursors are positions; old ones may be compacted."""

    def __init__(self) -> None:
        self.log: list[dict] = []
        self.oldest_kept = 0
        self.requests: list[dict] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        self.requests.append(params)
        start = int(params.get("cursor", 0))
        limit = int(params["limit"])
        if "cursor" in params and start < self.oldest_kept:
            return httpx.Response(200, json={"changes": [], "next_cursor": "0", "has_more": False, "reset": True})
        changes = self.log[start : start + limit]
        end = start + len(changes)
        return httpx.Response(200, json={"changes": changes, "next_cursor": str(end), "has_more": end < len(self.log), "reset": False})

    def upsert(self, photo: dict) -> None:
        self.log.append({"type": "photo", "op": "upsert", "photo": photo})

    def delete(self, photo_id: str) -> None:
        self.log.append({"type": "photo", "op": "delete", "id": photo_id})


@pytest.fixture
def feed():
    return FakeFeed()


def open_index(tmp_path, *, account: str = "u1", clock=None, max_age: float = 600.0) -> LibraryIndex:
    return LibraryIndex(tmp_path / "index.sqlite3", server="http://photosync.test", account=account,
                        max_age=max_age, clock=clock or (lambda: 1000.0))


def test_sync_replays_the_feed_in_pages_then_fetches_only_what_changed(tmp_path, feed):
    for number in range(25):
        feed.upsert(photo_json(f"p{number:02}", sha=f"{number:064x}", taken=f"2024-05-{number + 1:02}T10:00:00Z"))
    feed.upsert(photo_json("p03", sha=f"{3:064x}", taken="2024-05-04T10:00:00Z", trashed_at="2024-06-05T00:00:00Z"))
    feed.delete("p04")
    client = _client(feed.handler)
    with open_index(tmp_path) as index:
        assert not index.exists
        first = index.sync(client, page_size=10)
        assert first.pages == 3 and first.photos_changed == 26 and first.photos_deleted == 1
        timeline = index.photos()
        assert [photo.id for photo in timeline] == [f"p{n:02}" for n in reversed(range(25)) if n not in (3, 4)]
        assert index.counts().photos == 23 and index.counts().trashed == 1

        feed.requests.clear()
        feed.upsert(photo_json("p99", sha="f" * 64, taken="2030-01-01T00:00:00Z"))
        second = index.sync(client, page_size=10)
        assert second.photos_changed == 1 and feed.requests == [{"cursor": "27", "limit": "10"}]
        assert index.photos(limit=1)[0].id == "p99"

        known, unknown = index.lookup(["f" * 64, f"{3:064x}", f"{4:064x}", "e" * 64])
        assert known.found == {"f" * 64: "p99"} and known.trashed == {f"{3:064x}": "p03"}
        assert unknown == [f"{4:064x}", "e" * 64]  # deleted for good: only the server knows


def test_a_reset_drops_the_copy_and_rebuilds_it_from_the_start(tmp_path, feed):
    feed.upsert(photo_json("p1"))
    feed.upsert(photo_json("p2"))
    client = _client(feed.handler)
    with open_index(tmp_path) as index:
        index.sync(client)
        # The server compacts its log: p2's deletion is folded away, the old cursor is too old.
        feed.log = [{"type": "photo", "op": "upsert", "photo": photo_json("p1")}, {"type": "photo", "op": "upsert", "photo": photo_json("p3")}]
        feed.oldest_kept = 3
        summary = index.sync(client)
        assert summary.reset
        assert sorted(photo.id for photo in index.photos()) == ["p1", "p3"]


def test_an_interrupted_sync_resumes_after_the_last_applied_page(tmp_path, feed):
    for number in range(6):
        feed.upsert(photo_json(f"p{number}", sha=f"{number:064x}"))
    pages = []

    def flaky(request):
        pages.append(request.url.params.get("cursor"))
        if len(pages) == 2:
            raise httpx.ConnectError("gone", request=request)
        return feed.handler(request)

    with open_index(tmp_path) as index:
        with pytest.raises(ServerUnreachable):
            index.sync(_client(flaky, attempts=1), page_size=3)
        assert index.cursor == "3" and not index.exists  # the first page is kept, not yet caught up
        index.sync(_client(feed.handler), page_size=3)
        assert index.exists and len(index.photos()) == 6
        assert feed.requests[-1] == {"cursor": "3", "limit": "3"}


def test_the_index_is_fresh_for_max_age_seconds_after_a_complete_sync(tmp_path, feed):
    now = [1000.0]
    feed.upsert(photo_json("p1"))
    client = _client(feed.handler)
    with open_index(tmp_path, clock=lambda: now[0], max_age=60) as index:
        assert not index.fresh
        index.sync(client)
        now[0] += 59
        assert index.fresh and index.ensure_current(client) is None
        now[0] += 2
        assert not index.fresh
        assert index.ensure_current(client) is not None and index.fresh


def test_an_index_opened_for_another_account_starts_empty(tmp_path, feed):
    feed.upsert(photo_json("p1"))
    with open_index(tmp_path) as index:
        index.sync(_client(feed.handler))
    with open_index(tmp_path, account="someone-else") as other:
        assert not other.exists and other.photos() == [] and other.cursor is None


def test_album_changes_and_memberships_are_kept(tmp_path, feed):
    album = {"id": "a1", "name": "Trip", "created_at": "2024-05-01T00:00:00Z", "photo_count": 1, "role": "owner"}
    feed.upsert(photo_json("p1"))
    feed.upsert(photo_json("p2", sha="2" * 64))
    feed.log += [
        {"type": "album", "op": "upsert", "album": album},
        {"type": "album_photo", "op": "add", "album_id": "a1", "photo_id": "p1"},
        {"type": "album_photo", "op": "add", "album_id": "a1", "photo_id": "p2"},
        {"type": "album_photo", "op": "remove", "album_id": "a1", "photo_id": "p2"},
        {"type": "album", "op": "upsert", "album": {**album, "name": "Trip 2024"}},
        {"type": "something_new", "op": "upsert"},  # a kind a newer server adds: skipped
    ]
    with open_index(tmp_path) as index:
        index.sync(_client(feed.handler))
        assert index.album("a1").name == "Trip 2024" and index.counts().albums == 1
        assert [p.id for p in index.photos(album_id="a1")] == ["p1"]
        feed.log.append({"type": "album", "op": "delete", "id": "a1"})
        index.sync(_client(feed.handler))
        assert index.album("a1") is None and index.photos(album_id="a1") == []


def test_upload_of_content_in_the_trash_is_reported_as_such(tmp_path):
    source = tmp_path / "photo.jpg"
    source.write_bytes(b"\xff\xd8\xff" + b"x" * 100)

    def handler(request):
        assert request.url.path == "/uploads", request.url
        assert json.loads(request.content)["filename"] == "photo.jpg"
        return httpx.Response(200, json={"status": "duplicate", "photo_id": "p9", "in_trash": True})

    result = _client(handler).upload_file(source)
    assert (result.photo_id, result.duplicate, result.in_trash) == ("p9", True, True)

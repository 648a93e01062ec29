"""The trash and the change feed against a real `photosync serve`, over HTTP: the whole life of a
photo (timeline, albums, trash, restore, delete forever, empty), the bytes on disk, the quota, and
/sync agreeing with the listings; and a server whose sweep purges the trash at once."""

from __future__ import annotations

import hashlib
import time

import httpx
import pytest

from tests.e2e.api import ApiUser, assert_error
from tests.support.images import make_jpeg
from tests.support.server import start_server


def photo(n: int) -> bytes:
    return make_jpeg(width=320, height=240, model=f"trash e2e {n}")


def stored_files(server, photo_id: str) -> list:
    return [p for p in (server.data_dir / "objects").rglob(photo_id + "*") if not p.name.endswith(".meta.json")]


def pages(user: ApiUser, path: str, **params) -> list[dict]:
    items, cursor = [], None
    while True:
        page = user.request("GET", path, params={**params, **({"cursor": cursor} if cursor else {})}).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def synced(user: ApiUser, cursor: str | None = None, state: dict | None = None) -> tuple[dict, str]:
    """Apply /sync pages from `cursor` to `state` (photo id -> trashed_at, album id -> name, memberships)."""
    state = state or {"photos": {}, "albums": {}, "members": set()}
    while True:
        page = user.request("GET", "/sync", params={"limit": 3, **({"cursor": cursor} if cursor else {})}).json()
        assert page["reset"] is False
        for change in page["changes"]:
            if change["type"] == "photo" and change["op"] == "upsert":
                state["photos"][change["photo"]["id"]] = change["photo"]["trashed_at"]
            elif change["type"] == "photo":
                state["photos"].pop(change["id"], None)
                state["members"] = {(a, p) for a, p in state["members"] if p != change["id"]}
            elif change["type"] == "album" and change["op"] == "upsert":
                state["albums"][change["album"]["id"]] = (change["album"]["name"], change["album"]["photo_count"])
            elif change["type"] == "album":
                state["albums"].pop(change["id"], None)
            elif change["op"] == "add":
                state["members"].add((change["album_id"], change["photo_id"]))
            else:
                state["members"].discard((change["album_id"], change["photo_id"]))
        cursor = page["next_cursor"]
        if not page["has_more"]:
            return state, cursor


def test_a_photo_through_the_trash_and_back_and_deleted_for_good(server):
    user = ApiUser(server.base_url)
    data = [photo(n) for n in range(4)]
    ids = [user.upload(d) for d in data]
    for photo_id in ids:  # renditions come in the background: the files on disk are counted below
        user.wait_for_renditions(photo_id)
    album = user.request("POST", "/albums", json={"name": "Holiday"}).json()["id"]
    user.request("POST", f"/albums/{album}/photos", json={"photo_ids": ids[:2]})
    total = sum(len(d) for d in data)
    state, cursor = synced(user)

    assert user.request("DELETE", f"/photos/{ids[0]}").status_code == 204
    assert {p["id"] for p in user.all_photos()} == set(ids[1:])
    assert [p["id"] for p in user.all_photos(album_id=album)] == [ids[1]]
    [trashed] = pages(user, "/trash")
    assert trashed["id"] == ids[0] and trashed["purge_at"] > trashed["trashed_at"]
    me = user.me()
    assert (me["storage_used"], me["storage_trash"]) == (total, len(data[0]))
    assert len(stored_files(server, ids[0])) == 3
    state, cursor = synced(user, cursor, state)
    assert state["photos"][ids[0]] is not None and state["albums"][album] == ("Holiday", 1)

    assert user.request("POST", "/trash/restore", json={"photo_ids": [ids[0]]}).json() == {"restored": 1}
    assert {p["id"] for p in user.all_photos(album_id=album)} == set(ids[:2])
    assert pages(user, "/trash") == [] and user.me()["storage_trash"] == 0

    for photo_id in ids[:3]:
        user.request("DELETE", f"/photos/{photo_id}")
    assert user.request("DELETE", f"/trash/{ids[0]}").status_code == 204
    assert stored_files(server, ids[0]) == []
    assert user.me()["storage_used"] == total - len(data[0])
    emptied = user.request("POST", "/trash/empty").json()
    assert emptied == {"deleted": 2, "freed_bytes": len(data[1]) + len(data[2])}
    assert all(stored_files(server, p) == [] for p in ids[:3])
    me = user.me()
    assert (me["storage_used"], me["storage_trash"]) == (len(data[3]), 0)
    assert_error(user.request("GET", f"/photos/{ids[1]}"), 404, "not_found")
    lookup = user.request("POST", "/photos/lookup", json={"sha256": [hashlib.sha256(d).hexdigest() for d in data]}).json()
    assert lookup == {
        "found": {hashlib.sha256(data[3]).hexdigest(): ids[3]}, "trashed": {},
        "deleted": sorted(hashlib.sha256(d).hexdigest() for d in data[:3]),
    }

    # The incremental copy and a fresh one both match the listings.
    state, cursor = synced(user, cursor, state)
    fresh, _ = synced(user)
    for copy in (state, fresh):
        assert copy["photos"] == {ids[3]: None}
        assert copy["albums"] == {album: ("Holiday", 0)}
        assert copy["members"] == set()


@pytest.fixture(scope="module")
def purging_server(tmp_path_factory):
    """A server whose trash is purged at every sweep, and whose sweep runs every second."""
    process = start_server(
        tmp_path_factory.mktemp("purging") / "data",
        env={"PHOTOSYNC_TRASH_RETENTION_DAYS": "0", "PHOTOSYNC_CLEANUP_INTERVAL_SECONDS": "1"},
    )
    yield process
    process.stop()


def test_the_sweep_of_a_running_server_purges_the_trash(purging_server):
    user = ApiUser(purging_server.base_url)
    kept, doomed = user.upload(photo(10)), user.upload(photo(11))
    assert user.request("DELETE", f"/photos/{doomed}").status_code == 204

    deadline = time.monotonic() + 60
    while pages(user, "/trash") and time.monotonic() < deadline:
        time.sleep(0.5)

    assert pages(user, "/trash") == []
    assert [p["id"] for p in user.all_photos()] == [kept]
    assert stored_files(purging_server, doomed) == [] and stored_files(purging_server, kept)
    assert user.me()["storage_used"] == len(photo(10))


@pytest.mark.parametrize(("method", "path", "body"), [
    ("GET", "/trash?limit=0", None),
    ("GET", "/trash?limit=501", None),
    ("GET", "/trash?cursor=%%%", None),
    ("POST", "/trash/restore", {"photo_ids": []}),
    ("POST", "/trash/restore", {"photo_ids": ["nope"]}),
    ("POST", "/trash/restore", {"photo_ids": "x"}),
    ("POST", "/trash/restore", {}),
    ("POST", "/trash/restore", []),
    ("DELETE", "/trash/not-a-uuid", None),
    ("GET", "/sync?limit=0", None),
    ("GET", "/sync?limit=1001", None),
    ("GET", "/sync?limit=", None),
    ("GET", "/sync?cursor=%%%", None),
    ("GET", "/sync?cursor=WyJzMSIsLTEsbnVsbF0", None),  # a negative change number
])
def test_bad_trash_and_sync_requests_get_400(server, method, path, body):
    user = ApiUser(server.base_url)
    response = user.request(method, path, json=body) if body is not None else user.request(method, path)
    assert_error(response, 400, "invalid_request")


def test_the_trash_and_sync_need_a_token(server):
    for method, path in (("GET", "/trash"), ("POST", "/trash/empty"), ("GET", "/sync"), ("POST", "/trash/restore")):
        assert_error(httpx.request(method, server.base_url + path), 401, "unauthorized")

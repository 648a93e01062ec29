"""Albums that scale: an album's page comes from its own timeline index and its photo count and cover
are kept on the album, so they must stay exact while members are added, removed, trashed, restored
and deleted, also when all of that happens at once on many connections. The `db` fixture recounts
every album in SQL after each test (tests/conftest.py::assert_album_invariants)."""

from __future__ import annotations

import random
import threading
import uuid
from datetime import datetime, timezone
from urllib.parse import urlsplit

import psycopg
import pytest
from psycopg.rows import dict_row

from photosync.adapters.postgres.unit_of_work import UnitOfWork
from photosync.domain.errors import NotFound
from photosync.handlers import environment
from photosync.services import albums, photos, renditions, trash
from tests.conftest import assert_album_invariants, new_user
from tests.integration.test_gallery_albums import add_photo, walk
from tests.integration.test_trash import upload
from tests.integration.test_uploads import distinct_jpeg
from tests.support.images import make_jpeg
from tests.support.lambda_api import LambdaApi
from tests.support.sync_replica import Replica, listed

WORKERS = 6
OPERATIONS_PER_WORKER = 40


def album_order_by_recount(conn: psycopg.Connection, album_id: uuid.UUID) -> list[uuid.UUID]:
    """The album's photos as the timeline orders them, computed from photos themselves."""
    rows = conn.execute(
        "SELECT p.id FROM album_photos ap JOIN photos p ON p.id = ap.photo_id "
        "WHERE ap.album_id = %s AND p.trashed_at IS NULL ORDER BY p.sort_at DESC, p.id DESC",
        (album_id,),
    ).fetchall()
    return [row["id"] for row in rows]


def cover_path(view: albums.AlbumView) -> str | None:
    return urlsplit(view.cover_thumbnail_url).path if view.cover_thumbnail_url else None


def thumbnail_path(uow, store, owner, photo_id) -> str:
    view = photos.get_photo(uow, store, caller=owner, photo_id=photo_id, url_ttl_seconds=60)
    return urlsplit(view.thumbnail_url).path


def test_album_pages_follow_the_timeline_and_the_count_and_cover_follow_the_trash(uow, store):
    owner = new_user(uow)
    tie = datetime(2021, 6, 1, 9, 0, tzinfo=timezone.utc)
    tied = [add_photo(uow, store, owner, make_jpeg(taken_at=tie, model=f"album tie {n}")) for n in range(3)]
    old = add_photo(uow, store, owner, make_jpeg(taken_at=datetime(2003, 3, 3, 3, 0), model="album old"))
    undated = add_photo(uow, store, owner, distinct_jpeg(900))  # sorted by upload time: newest
    album = albums.create_album(uow, owner_id=owner, name="Ordered")
    [empty] = albums.album_views(store, [album], 60)
    assert (album.photo_count, empty.cover_thumbnail_url) == (0, None)

    albums.add_photos(uow, caller=owner, album_id=album.id, photo_ids=[old, *tied])
    albums.add_photos(uow, caller=owner, album_id=album.id, photo_ids=[undated])
    pages = walk(uow, store, owner, limit=2, album_id=album.id)
    assert [p for page in pages for p in page] == [undated, *sorted(tied, reverse=True), old]
    assert [len(page) for page in pages] == [2, 2, 1]

    def shown() -> tuple[int, str | None]:
        [view] = albums.album_views(store, albums.list_albums(uow, caller=owner), 60)
        return view.album.photo_count, cover_path(view)

    assert shown() == (5, thumbnail_path(uow, store, owner, undated))
    trash.move_to_trash(uow, owner_id=owner, photo_id=undated)
    trash.move_to_trash(uow, owner_id=owner, photo_id=undated)  # twice: counted once
    newest_tied = max(tied)
    assert shown() == (4, thumbnail_path(uow, store, owner, newest_tied))
    assert walk(uow, store, owner, limit=10, album_id=album.id) == [[*sorted(tied, reverse=True), old]]

    trash.restore(uow, owner_id=owner, photo_ids=[undated])
    assert shown() == (5, thumbnail_path(uow, store, owner, undated))
    albums.remove_photo(uow, caller=owner, album_id=album.id, photo_id=undated)
    trash.move_to_trash(uow, owner_id=owner, photo_id=old)
    albums.remove_photo(uow, caller=owner, album_id=album.id, photo_id=old)  # hidden: count unchanged
    assert shown() == (3, thumbnail_path(uow, store, owner, newest_tied))

    for photo_id in tied:
        trash.move_to_trash(uow, owner_id=owner, photo_id=photo_id)
    assert shown() == (0, None)
    trash.empty(uow, store, owner_id=owner)  # deleting trashed members leaves the count as it is
    assert shown() == (0, None)
    assert walk(uow, store, owner, limit=10, album_id=album.id) == [[]]


def test_a_trashed_photo_cannot_join_an_album_and_an_unknown_album_has_no_page(uow, store):
    owner = new_user(uow)
    photo_id = add_photo(uow, store, owner, distinct_jpeg(901))
    album = albums.create_album(uow, owner_id=owner, name="Strict")
    trash.move_to_trash(uow, owner_id=owner, photo_id=photo_id)
    with pytest.raises(NotFound):
        albums.add_photos(uow, caller=owner, album_id=album.id, photo_ids=[photo_id])
    with pytest.raises(NotFound):
        photos.list_photos(uow, store, caller=new_user(uow), limit=10, cursor=None, album_id=album.id, url_ttl_seconds=60)
    assert albums.get_album(uow, caller=owner, album_id=album.id).photo_count == 0


def test_counts_and_order_stay_exact_under_concurrent_add_remove_trash_and_restore(uow, store, database_url):
    """Six connections at once, each a random mix of adding photos to albums, removing them,
    trashing and restoring photos (photos in several albums each, some sharing a taken time); then
    every album's kept count, cover and page order against a recount from the photos."""
    owner = new_user(uow)
    tie = datetime(2022, 2, 2, 2, 0, tzinfo=timezone.utc)
    library = [add_photo(uow, store, owner, make_jpeg(taken_at=tie if n % 3 == 0 else datetime(2010 + n, 1, 1),
                                                       model=f"concurrent {n}")) for n in range(12)]
    album_ids = [albums.create_album(uow, owner_id=owner, name=f"Busy {n}").id for n in range(3)]
    start = threading.Barrier(WORKERS)
    failures: list[BaseException] = []

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        try:
            with psycopg.connect(database_url, autocommit=True, row_factory=dict_row, prepare_threshold=None) as conn:
                mine = UnitOfWork(conn)
                start.wait()
                for _ in range(OPERATIONS_PER_WORKER):
                    album_id, photo_id = rng.choice(album_ids), rng.choice(library)
                    action = rng.choice(("add", "add", "remove", "trash", "restore"))
                    try:
                        if action == "add":
                            albums.add_photos(mine, caller=owner, album_id=album_id,
                                              photo_ids=rng.sample(library, rng.randint(1, 4)))
                        elif action == "remove":
                            albums.remove_photo(mine, caller=owner, album_id=album_id, photo_id=photo_id)
                        elif action == "trash":
                            trash.move_to_trash(mine, owner_id=owner, photo_id=photo_id)
                        else:
                            trash.restore(mine, owner_id=owner, photo_ids=[photo_id])
                    except NotFound:
                        pass  # a trashed photo added, a photo not in the album or not in the trash
        except BaseException as error:  # noqa: BLE001 - reported by the test's thread
            failures.append(error)

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []

    assert_album_invariants(uow.conn)
    listed = {v.album.id: v for v in albums.album_views(store, albums.list_albums(uow, caller=owner), 60)}
    assert sum(listed[a].album.photo_count for a in album_ids) > 0  # the walk left something to check
    for album_id in album_ids:
        expected = album_order_by_recount(uow.conn, album_id)
        assert [p for page in walk(uow, store, owner, limit=4, album_id=album_id) for p in page] == expected
        assert listed[album_id].album.photo_count == len(expected)
        assert cover_path(listed[album_id]) == (thumbnail_path(uow, store, owner, expected[0]) if expected else None)


def test_an_album_cover_that_gets_its_thumbnail_later_reaches_sync_and_the_listing(uow, lambda_env):
    """Renditions may land after the photo is in an album (they are made after the upload is
    complete): the album's cover_thumbnail_url changes then, and /sync must say so."""
    api = LambdaApi()
    older, newest = (upload(api, uow, make_jpeg(taken_at=datetime(2020 + n, 1, 1), model=f"cover {n}")) for n in range(2))
    album = api.ok("POST", "/albums", json_body={"name": "Covered"}, status=201)["id"]
    api.ok("POST", f"/albums/{album}/photos", json_body={"photo_ids": [older, newest]})
    uow.conn.execute(
        "UPDATE photos SET thumbnail_key = NULL, preview_key = NULL, renditions = 'pending' WHERE id = %s", (newest,)
    )
    assert api.ok("GET", f"/albums/{album}")["cover_thumbnail_url"] is None  # the newest has none yet
    replica = Replica()
    replica.pull(api)

    photo = uow.photos.get(uuid.UUID(newest), owner_id=api.user_id)
    assert renditions.retry_pending(uow, environment.object_store(), photo)
    cover = api.ok("GET", f"/albums/{album}")["cover_thumbnail_url"]
    assert cover is not None and cover.split("?")[0] == api.ok("GET", f"/photos/{newest}")["thumbnail_url"].split("?")[0]
    replica.pull(api)
    assert replica.view() == listed(api)

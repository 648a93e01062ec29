"""Gallery pagination, the EXIF timeline, albums and delete, on a real database and store."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest

from photosync.domain.errors import InvalidRequest, NotFound
from photosync.services import albums, finalize, photos, trash
from tests.conftest import new_user
from tests.integration.test_uploads import distinct_jpeg, grant, object_key
from tests.support.images import make_jpeg
from tests.support.renditions import finalize_and_render


def add_photo(uow, store, owner, data: bytes) -> uuid.UUID:
    granted = grant(uow, store, owner, data)
    store.put(object_key(owner, granted.upload_id), data, content_type="image/jpeg")
    assert finalize_and_render(uow, store, object_key(owner, granted.upload_id)).outcome == "finalized"
    return granted.upload_id


def walk(uow, store, owner, *, limit: int, album_id=None) -> list[list[uuid.UUID]]:
    pages, cursor = [], None
    while True:
        page = photos.list_photos(uow, store, caller=owner, limit=limit, cursor=cursor, album_id=album_id, url_ttl_seconds=60)
        pages.append([view.photo.id for view in page.items])
        if page.next_cursor is None:
            return pages
        cursor = page.next_cursor


def test_pages_return_every_photo_once_newest_taken_first_with_ties_and_no_exif(uow, store):
    owner = new_user(uow)
    same_moment = datetime(2020, 5, 1, 12, 0, tzinfo=timezone.utc)
    tied = [add_photo(uow, store, owner, make_jpeg(taken_at=same_moment, model=f"tie {n}")) for n in range(5)]
    older = add_photo(uow, store, owner, make_jpeg(taken_at=datetime(2001, 1, 1, 8, 0), model="old"))
    newest = add_photo(uow, store, owner, make_jpeg(taken_at=datetime(2024, 12, 24, 18, 0), model="new"))
    no_exif = [add_photo(uow, store, owner, distinct_jpeg(40 + n)) for n in range(3)]  # sorted by upload time

    pages = walk(uow, store, owner, limit=2)
    ordered = [photo_id for page in pages for photo_id in page]

    assert all(len(page) <= 2 for page in pages)
    assert sorted(ordered) == sorted([*tied, older, newest, *no_exif])
    assert len(ordered) == len(set(ordered)) == 10
    # Uploaded now, so newer than any taken date above; then by date taken; ties by id, descending.
    assert ordered[:3] == sorted(no_exif, key=lambda i: (uow.photos.get(i, owner_id=owner).sort_at, i), reverse=True)
    assert ordered[3] == newest
    assert ordered[4:9] == sorted(tied, reverse=True)
    assert ordered[9] == older


def test_a_cursor_from_another_shape_is_refused(uow, store):
    owner = new_user(uow)
    with pytest.raises(InvalidRequest):
        photos.list_photos(uow, store, caller=owner, limit=10, cursor="bm90LWpzb24", album_id=None, url_ttl_seconds=60)


def test_albums_hold_only_their_owners_photos_and_hide_trashed_ones(uow, store):
    alice, bob = new_user(uow), new_user(uow)
    mine = [add_photo(uow, store, alice, distinct_jpeg(50 + n)) for n in range(3)]
    theirs = add_photo(uow, store, bob, distinct_jpeg(60))
    album = albums.create_album(uow, owner_id=alice, name="Holidays")

    assert albums.add_photos(uow, caller=alice, album_id=album.id, photo_ids=mine[:2]) == 2
    assert albums.add_photos(uow, caller=alice, album_id=album.id, photo_ids=mine[:2]) == 0  # no-op
    with pytest.raises(NotFound):
        albums.add_photos(uow, caller=alice, album_id=album.id, photo_ids=[mine[2], theirs])
    assert albums.get_album(uow, caller=alice, album_id=album.id).photo_count == 2  # all or nothing
    with pytest.raises(NotFound):
        albums.get_album(uow, caller=bob, album_id=album.id)

    assert sorted(walk(uow, store, alice, limit=10, album_id=album.id)[0]) == sorted(mine[:2])
    trash.move_to_trash(uow, owner_id=alice, photo_id=mine[0])
    assert walk(uow, store, alice, limit=10, album_id=album.id) == [[mine[1]]]
    assert albums.get_album(uow, caller=alice, album_id=album.id).photo_count == 1

    albums.delete_album(uow, caller=alice, album_id=album.id)
    assert uow.photos.get(mine[1], owner_id=alice) is not None  # its photos stay


def test_deleting_from_the_trash_removes_the_original_and_its_renditions(uow, store):
    owner = new_user(uow)
    photo_id = add_photo(uow, store, owner, distinct_jpeg(70, width=1600, height=1200))
    photo = uow.photos.get(photo_id, owner_id=owner)
    stored = [photo.object_key, photo.thumbnail_key, photo.preview_key]
    assert all(store.head(key) is not None for key in stored)

    trash.move_to_trash(uow, owner_id=owner, photo_id=photo_id)
    assert all(store.head(key) is not None for key in stored)
    trash.delete_forever(uow, store, owner_id=owner, photo_id=photo_id)

    assert all(store.head(key) is None for key in stored)
    assert uow.users.get(owner).storage_used == 0
    with pytest.raises(NotFound):
        trash.delete_forever(uow, store, owner_id=owner, photo_id=photo_id)
    with pytest.raises(NotFound):
        trash.move_to_trash(uow, owner_id=owner, photo_id=photo_id)


def test_another_users_photo_cannot_be_read_downloaded_or_deleted(uow, store):
    alice, bob = new_user(uow), new_user(uow)
    photo_id = add_photo(uow, store, alice, distinct_jpeg(80))
    for action in (photos.get_photo, photos.download_photo):
        with pytest.raises(NotFound):
            action(uow, store, caller=bob, photo_id=photo_id, url_ttl_seconds=60)
    with pytest.raises(NotFound):
        trash.move_to_trash(uow, owner_id=bob, photo_id=photo_id)
    with pytest.raises(NotFound):
        trash.delete_forever(uow, store, owner_id=bob, photo_id=photo_id)
    assert photos.lookup(uow, owner_id=bob, hashes=[uow.photos.get(photo_id, owner_id=alice).sha256]) == photos.Lookup({}, {}, [])
    assert uow.users.get(alice).storage_used > 0

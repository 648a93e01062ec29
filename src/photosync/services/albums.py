"""F1.6 albums: a user's named sets of their own photos."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from photosync.adapters.objectstore import ObjectStore
from photosync.adapters.postgres.unit_of_work import UnitOfWork
from photosync.domain.errors import NotFound
from photosync.domain.model import Album
from photosync.services import changes
from photosync.services.photos import rendition_url


@dataclass(frozen=True)
class AlbumView:
    album: Album
    cover_thumbnail_url: str | None


def album_views(store: ObjectStore, albums: list[Album], url_ttl_seconds: int) -> list[AlbumView]:
    return [AlbumView(a, rendition_url(store, a.cover_thumbnail_key, url_ttl_seconds)) for a in albums]


def create_album(uow: UnitOfWork, *, owner_id: uuid.UUID, name: str) -> Album:
    with uow.transaction():
        uow.users.lock(owner_id)
        album = uow.albums.add(uuid.uuid4(), owner_id=owner_id, name=name)
        changes.album_changed(uow, owner_id=owner_id, album_id=album.id)
    return album


def list_albums(uow: UnitOfWork, *, owner_id: uuid.UUID) -> list[Album]:
    return uow.albums.list(owner_id=owner_id)


def get_album(uow: UnitOfWork, *, owner_id: uuid.UUID, album_id: uuid.UUID) -> Album:
    album = uow.albums.get(album_id, owner_id=owner_id)
    if album is None:
        raise NotFound("album")
    return album


def rename_album(uow: UnitOfWork, *, owner_id: uuid.UUID, album_id: uuid.UUID, name: str) -> Album:
    with uow.transaction():
        uow.users.lock(owner_id)
        if not uow.albums.rename(album_id, owner_id=owner_id, name=name):
            raise NotFound("album")
        changes.album_changed(uow, owner_id=owner_id, album_id=album_id)
        album = uow.albums.get(album_id, owner_id=owner_id)
    assert album is not None
    return album


def delete_album(uow: UnitOfWork, *, owner_id: uuid.UUID, album_id: uuid.UUID) -> None:
    with uow.transaction():
        uow.users.lock(owner_id)
        if not uow.albums.delete(album_id, owner_id=owner_id):
            raise NotFound("album")
        changes.album_changed(uow, owner_id=owner_id, album_id=album_id)


def add_photos(
    uow: UnitOfWork, *, owner_id: uuid.UUID, album_id: uuid.UUID, photo_ids: list[uuid.UUID]
) -> int:
    """How many photos were newly added; all or none: one photo that is not the caller's (or is in
    the trash) is a 404."""
    with uow.transaction():
        uow.users.lock(owner_id)
        if not uow.albums.lock(album_id, owner_id=owner_id):
            raise NotFound("album")
        if uow.photos.owned_ids(photo_ids, owner_id=owner_id) != set(photo_ids):
            raise NotFound("photo")
        added = uow.albums.add_photos(album_id, photo_ids)
        changes.memberships_changed(uow, owner_id=owner_id, album_id=album_id, photo_ids=added)
    return len(added)


def remove_photo(uow: UnitOfWork, *, owner_id: uuid.UUID, album_id: uuid.UUID, photo_id: uuid.UUID) -> None:
    with uow.transaction():
        uow.users.lock(owner_id)
        if not uow.albums.lock(album_id, owner_id=owner_id):
            raise NotFound("album")
        if not uow.albums.remove_photo(album_id, photo_id):
            raise NotFound("photo")
        changes.memberships_changed(uow, owner_id=owner_id, album_id=album_id, photo_ids=[photo_id])

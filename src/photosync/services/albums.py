"""F1.6 albums: named sets of photos, the caller's own and those shared with them (sharing.py).

The caller's role in an album decides what they may change: the owner everything; a contributor
adds their own photos and removes those they added; a viewer nothing (403). A stranger gets 404."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from photosync.adapters.objectstore import ObjectStore
from photosync.adapters.postgres.unit_of_work import UnitOfWork
from photosync.domain.errors import Forbidden, NotFound
from photosync.domain.model import Album
from photosync.services import changes
from photosync.services.photos import rendition_url


@dataclass(frozen=True)
class AlbumView:
    album: Album
    cover_thumbnail_url: str | None


def album_views(store: ObjectStore, albums: list[Album], url_ttl_seconds: int) -> list[AlbumView]:
    return [AlbumView(a, rendition_url(store, a.cover_thumbnail_key, url_ttl_seconds)) for a in albums]


def _role(uow: UnitOfWork, album_id: uuid.UUID, caller: uuid.UUID) -> str:
    found = uow.albums.role(album_id, caller=caller)
    if found is None:
        raise NotFound("album")
    return found[1]


def _require_owner(uow: UnitOfWork, album_id: uuid.UUID, caller: uuid.UUID) -> None:
    if _role(uow, album_id, caller) != "owner":
        raise Forbidden("only the album's owner may do this")


def create_album(uow: UnitOfWork, *, owner_id: uuid.UUID, name: str) -> Album:
    with uow.transaction():
        uow.users.lock(owner_id)
        album = uow.albums.add(uuid.uuid4(), owner_id=owner_id, name=name)
        changes.album_changed(uow, album_id=album.id)
    return album


def list_albums(uow: UnitOfWork, *, caller: uuid.UUID) -> list[Album]:
    return uow.albums.list(caller=caller)


def get_album(uow: UnitOfWork, *, caller: uuid.UUID, album_id: uuid.UUID) -> Album:
    album = uow.albums.get(album_id, caller=caller)
    if album is None:
        raise NotFound("album")
    return album


@changes.retried_on_deadlock
def rename_album(uow: UnitOfWork, *, caller: uuid.UUID, album_id: uuid.UUID, name: str) -> Album:
    with uow.transaction():
        uow.users.lock(caller)
        _require_owner(uow, album_id, caller)
        uow.albums.rename(album_id, owner_id=caller, name=name)
        changes.album_changed(uow, album_id=album_id)
        album = uow.albums.get(album_id, caller=caller)
    assert album is not None
    return album


@changes.retried_on_deadlock
def delete_album(uow: UnitOfWork, *, caller: uuid.UUID, album_id: uuid.UUID) -> None:
    """Its photos stay with their owners; its members stop seeing it."""
    with uow.transaction():
        uow.users.lock(caller)
        _require_owner(uow, album_id, caller)
        audience = uow.albums.audience([album_id]).get(album_id, set())
        uow.albums.delete(album_id, owner_id=caller)
        changes.album_changed(uow, album_id=album_id, also=audience)


@changes.retried_on_deadlock
def add_photos(
    uow: UnitOfWork, *, caller: uuid.UUID, album_id: uuid.UUID, photo_ids: list[uuid.UUID]
) -> int:
    """How many photos were newly added; all or none: one photo that is not the caller's (or is in
    the trash) is a 404. The owner and contributors add their own photos; they stay theirs."""
    with uow.transaction():
        uow.users.lock(caller)
        if _role(uow, album_id, caller) == "viewer":
            raise Forbidden("viewers cannot add photos to this album")
        if uow.photos.owned_ids(photo_ids, owner_id=caller) != set(photo_ids):
            raise NotFound("photo")
        added = uow.albums.add_photos(album_id, photo_ids, added_by=caller)
        changes.memberships_changed(uow, album_id=album_id, photo_ids=added)
    return len(added)


@changes.retried_on_deadlock
def remove_photo(uow: UnitOfWork, *, caller: uuid.UUID, album_id: uuid.UUID, photo_id: uuid.UUID) -> None:
    """The owner removes any photo, a contributor those they added. The photo itself stays."""
    with uow.transaction():
        uow.users.lock(caller)
        role = _role(uow, album_id, caller)
        if role == "viewer":
            raise Forbidden("viewers cannot remove photos from this album")
        found = uow.albums.added_by(album_id, photo_id)
        if found is None:
            raise NotFound("photo")
        if role == "contributor" and found[0] != caller:
            raise Forbidden("contributors remove only the photos they added")
        uow.albums.remove_photo(album_id, photo_id)
        changes.memberships_changed(uow, album_id=album_id, photo_ids=[photo_id])

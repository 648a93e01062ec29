"""F1.3 gallery, F1.4 download, and the lookup the clients use to skip known files (deleting is in
services/trash.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from photosync.adapters.objectstore import ObjectStore, PresignedDownload
from photosync.adapters.postgres.unit_of_work import UnitOfWork
from photosync.domain import keys
from photosync.domain.cursor import TimelinePosition, decode_cursor, encode_cursor
from photosync.domain.errors import NotFound
from photosync.domain.model import Photo


@dataclass(frozen=True)
class PhotoView:
    photo: Photo
    thumbnail_url: str | None
    preview_url: str | None
    playback_url: str | None


@dataclass(frozen=True)
class PhotoPage:
    items: list[PhotoView]
    next_cursor: str | None


@dataclass(frozen=True)
class Lookup:
    """Disjoint: a hash is in at most one of the three."""

    found: dict[str, uuid.UUID]  # finalized, outside the trash: the only safe backups
    trashed: dict[str, uuid.UUID]
    deleted: list[str]  # deleted permanently


def rendition_url(store: ObjectStore, key: str | None, url_ttl_seconds: int) -> str | None:
    if key is None:
        return None
    return store.presign_download(key, expires_in=url_ttl_seconds, content_type=keys.rendition_content_type(key)).url


def _view(store: ObjectStore, photo: Photo, url_ttl_seconds: int) -> PhotoView:
    return PhotoView(
        photo,
        rendition_url(store, photo.thumbnail_key, url_ttl_seconds),
        rendition_url(store, photo.preview_key, url_ttl_seconds),
        rendition_url(store, photo.playback_key, url_ttl_seconds),
    )


def photo_views(store: ObjectStore, photos: list[Photo], url_ttl_seconds: int) -> list[PhotoView]:
    return [_view(store, photo, url_ttl_seconds) for photo in photos]


def list_photos(
    uow: UnitOfWork,
    store: ObjectStore,
    *,
    caller: uuid.UUID,
    limit: int,
    cursor: str | None,
    album_id: uuid.UUID | None,
    url_ttl_seconds: int,
) -> PhotoPage:
    """The caller's timeline (their own photos), or an album's photos (whoever owns them) when the
    caller may see the album."""
    after = decode_cursor(cursor) if cursor is not None else None
    if album_id is not None and uow.albums.get(album_id, caller=caller) is None:
        raise NotFound("album")
    # One row more than asked tells whether another page exists without a count query.
    if album_id is None:
        rows = uow.photos.page(owner_id=caller, limit=limit + 1, after=after)
    else:
        rows = uow.photos.album_page(album_id, caller=caller, limit=limit + 1, after=after)
    page, more = rows[:limit], len(rows) > limit
    next_cursor = encode_cursor(TimelinePosition(page[-1].sort_at, page[-1].id)) if more else None
    return PhotoPage([_view(store, p, url_ttl_seconds) for p in page], next_cursor)


def get_photo(
    uow: UnitOfWork, store: ObjectStore, *, caller: uuid.UUID, photo_id: uuid.UUID, url_ttl_seconds: int
) -> PhotoView:
    photo = uow.photos.visible(photo_id, caller=caller)
    if photo is None:
        raise NotFound("photo")
    return _view(store, photo, url_ttl_seconds)


def download_photo(
    uow: UnitOfWork, store: ObjectStore, *, caller: uuid.UUID, photo_id: uuid.UUID, url_ttl_seconds: int
) -> PresignedDownload:
    photo = uow.photos.visible(photo_id, caller=caller)
    if photo is None:
        raise NotFound("photo")
    return store.presign_download(
        photo.object_key, expires_in=url_ttl_seconds, filename=photo.filename,
        content_type=photo.content_type,
    )


def lookup(uow: UnitOfWork, *, owner_id: uuid.UUID, hashes: list[str]) -> Lookup:
    photos = uow.photos.by_sha256(hashes, owner_id=owner_id)
    # A photo's content cannot also have a tombstone (finalize clears it), but the photo decides.
    deleted = uow.deleted_content.among([h for h in hashes if h not in photos], owner_id=owner_id)
    return Lookup(
        found={sha: ref.id for sha, ref in photos.items() if ref.trashed_at is None},
        trashed={sha: ref.id for sha, ref in photos.items() if ref.trashed_at is not None},
        deleted=sorted(deleted),
    )

"""The trash: DELETE /photos/{id} moves a photo here (nothing is freed), and only from here is a
photo deleted permanently: by the owner, or by the sweep once the retention period is over.

Permanent deletion is the seed's F1.5 transaction: the row goes, storage_used drops by its size,
its object keys enter the deletion outbox and a tombstone of its content hash is left, all in one
transaction; the objects are removed after it commits (a failed removal stays queued)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from photosync.adapters.objectstore import ObjectStore
from photosync.adapters.postgres.unit_of_work import UnitOfWork
from photosync.domain.cursor import TimelinePosition, decode_cursor, encode_cursor
from photosync.domain.errors import Forbidden, NotFound
from photosync.domain.model import Photo
from photosync.log import logger
from photosync.services import changes, deletions
from photosync.services.photos import PhotoView, photo_views

# Photos deleted permanently per transaction: short transactions, and the request or sweep can stop
# between batches without losing anything.
DELETE_BATCH = 200


@dataclass(frozen=True)
class TrashedView:
    view: PhotoView
    purge_at: datetime


@dataclass(frozen=True)
class TrashPage:
    items: list[TrashedView]
    next_cursor: str | None


@dataclass(frozen=True)
class Emptied:
    deleted: int
    freed_bytes: int


def purge_at(photo: Photo, retention_days: int) -> datetime:
    assert photo.trashed_at is not None
    return photo.trashed_at + timedelta(days=retention_days)


@changes.retried_on_deadlock
def move_to_trash(uow: UnitOfWork, *, owner_id: uuid.UUID, photo_id: uuid.UUID) -> None:
    """Idempotent: a photo already in the trash stays there as it is (its purge date unchanged).
    Only the owner trashes a photo: one the caller sees in a shared album is a 403."""
    with uow.transaction():
        uow.users.lock(owner_id)
        if uow.photos.move_to_trash(photo_id, owner_id=owner_id):
            uow.albums.set_hidden([photo_id], hidden=True)
            changes.photos_changed(uow, owner_id=owner_id, photo_ids=[photo_id], counted=True)
        elif not uow.photos.exists(photo_id, owner_id=owner_id):
            if uow.photos.visible(photo_id, caller=owner_id) is not None:
                raise Forbidden("only the photo's owner may delete it")
            raise NotFound("photo")


def list_trash(
    uow: UnitOfWork, store: ObjectStore, *, owner_id: uuid.UUID, limit: int, cursor: str | None,
    retention_days: int, url_ttl_seconds: int,
) -> TrashPage:
    after = decode_cursor(cursor) if cursor is not None else None
    rows = uow.photos.trash_page(owner_id=owner_id, limit=limit + 1, after=after)
    page, more = rows[:limit], len(rows) > limit
    last = page[-1] if more else None
    next_cursor = encode_cursor(TimelinePosition(last.trashed_at, last.id)) if last and last.trashed_at else None
    views = photo_views(store, page, url_ttl_seconds)
    return TrashPage([TrashedView(v, purge_at(v.photo, retention_days)) for v in views], next_cursor)


@changes.retried_on_deadlock
def restore(uow: UnitOfWork, *, owner_id: uuid.UUID, photo_ids: list[uuid.UUID]) -> int:
    """All or nothing: one id that is not in the caller's trash is a 404 and restores nothing."""
    with uow.transaction():
        uow.users.lock(owner_id)
        restored = uow.photos.restore(photo_ids, owner_id=owner_id)
        if len(restored) != len(photo_ids):
            raise NotFound("photo in the trash")  # the transaction rolls back the others
        uow.albums.set_hidden(restored, hidden=False)
        changes.photos_changed(uow, owner_id=owner_id, photo_ids=restored, counted=True)
    return len(restored)


def delete_forever(uow: UnitOfWork, store: ObjectStore, *, owner_id: uuid.UUID, photo_id: uuid.UUID) -> None:
    if not _delete_permanently(uow, store, owner_id=owner_id, photo_ids=[photo_id]):
        raise NotFound("photo in the trash")


def empty(uow: UnitOfWork, store: ObjectStore, *, owner_id: uuid.UUID) -> Emptied:
    """Everything in the caller's trash, batch by batch (each committed on its own)."""
    deleted, freed = 0, 0
    while batch := uow.photos.trashed_ids(owner_id=owner_id, limit=DELETE_BATCH):
        gone = _delete_permanently(uow, store, owner_id=owner_id, photo_ids=batch)
        deleted += len(gone)
        freed += sum(p.size for p in gone)
        if not gone:
            break  # restored or deleted by someone else meanwhile; the next look finds the rest
    return Emptied(deleted, freed)


def purge_due(
    uow: UnitOfWork, store: ObjectStore, *, trashed_before: datetime, limit: int = DELETE_BATCH
) -> tuple[int, bool]:
    """One batch of the sweep's part: delete permanently the photos trashed before `trashed_before`
    (the retention period ago), oldest first. Returns (photos deleted, whether more may be due)."""
    due = uow.photos.trashed_before(trashed_before, limit=limit)
    by_owner: dict[uuid.UUID, list[uuid.UUID]] = {}
    for owner_id, photo_id in due:
        by_owner.setdefault(owner_id, []).append(photo_id)
    purged = sum(
        len(_delete_permanently(uow, store, owner_id=owner_id, photo_ids=photo_ids, trashed_before=trashed_before))
        for owner_id, photo_ids in by_owner.items()
    )
    if purged:
        logger.info("trash purged", extra={"photos": purged, "trashed_before": trashed_before.isoformat()})
    return purged, len(due) == limit


def _delete_permanently(
    uow: UnitOfWork, store: ObjectStore, *, owner_id: uuid.UUID, photo_ids: list[uuid.UUID],
    trashed_before: datetime | None = None,
) -> list[Photo]:
    """F1.5 for photos in the owner's trash (others among `photo_ids` are left alone)."""
    with uow.transaction():
        uow.users.lock(owner_id)
        gone = uow.photos.delete_trashed(photo_ids, owner_id=owner_id, trashed_before=trashed_before)
        if gone:
            uow.users.refund(owner_id, sum(p.size for p in gone))
            uow.deleted_content.add([p.sha256 for p in gone], owner_id=owner_id)
            # A trashed photo was not counted in any album, so the albums themselves are unchanged.
            changes.photos_changed(uow, owner_id=owner_id, photo_ids=[p.id for p in gone], counted=False)
        queued = uow.deletions.add(
            [k for p in gone for k in (p.object_key, p.thumbnail_key, p.preview_key, p.playback_key) if k is not None]
        )
    # After commit: the rows are gone whatever happens next; a failed removal stays queued.
    deletions.drain(uow, store, queued)
    return gone

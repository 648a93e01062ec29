"""Writing the change log: each use case that changes what GET /sync reports calls one of these in
its own transaction, after taking the owner's row lock (`uow.users.lock`) as its first statement.

An entry only names what changed; /sync reads its state when serving it. So an album's entry is
written whenever its Album object changes, including its photo_count when a member photo moves to
or from the trash."""

from __future__ import annotations

import uuid

from photosync.adapters.postgres.unit_of_work import UnitOfWork


def photos_changed(uow: UnitOfWork, *, owner_id: uuid.UUID, photo_ids: list[uuid.UUID], counted: bool) -> None:
    """Photos added, updated or deleted. `counted`: their albums' photo counts changed too (a photo
    entering or leaving the timeline). Otherwise only the albums they are the cover of changed (a
    new thumbnail is a new cover_thumbnail_url)."""
    entries = [("photo", photo_id, None) for photo_id in photo_ids]
    albums = uow.albums.ids_holding(photo_ids) if counted else uow.albums.ids_covered_by(photo_ids)
    entries += [("album", None, album_id) for album_id in albums]
    uow.changes.record(entries, owner_id=owner_id)


def album_changed(uow: UnitOfWork, *, owner_id: uuid.UUID, album_id: uuid.UUID) -> None:
    uow.changes.record([("album", None, album_id)], owner_id=owner_id)


def memberships_changed(
    uow: UnitOfWork, *, owner_id: uuid.UUID, album_id: uuid.UUID, photo_ids: list[uuid.UUID]
) -> None:
    """Photos added to or removed from an album, whose count changed with them."""
    if photo_ids:
        entries = [("album_photo", photo_id, album_id) for photo_id in photo_ids]
        uow.changes.record([*entries, ("album", None, album_id)], owner_id=owner_id)

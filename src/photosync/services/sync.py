"""GET /sync: the changes that bring a client's copy of the library up to date, and the sweep's
compaction of the change log.

A first sync (no cursor) does not replay the log from its start: the log is compacted, and replaying
it would cost the library's whole history. It reads the current state instead, page by page in key
order (photos, trash included, then albums, then memberships), remembering the change number S at
which it began, and then follows the log from S. Whatever changed while those pages were read has
an entry after S, so a client that applies every page ends with exactly the current library.

A log entry names what changed, not how: it is served as that thing's state when read (a photo
upsert, or a delete when the photo is gone). A later entry for the same thing supersedes it, so a
page serves each thing once, at its last entry.

Albums shared with the caller are album upserts and deletes too (their photos are not in the feed:
they are listed by GET /photos?album_id=). Client rules: apply changes in order; a photo delete also
drops the photo's memberships, an album delete the album's; an album's photos are its memberships whose photo is not in the trash."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from photosync.adapters.objectstore import ObjectStore
from photosync.adapters.postgres.unit_of_work import UnitOfWork
from photosync.domain.cursor import SNAPSHOT_PHASES, SyncPosition, decode_sync_cursor, encode_sync_cursor
from photosync.domain.model import ChangeRow
from photosync.services.albums import AlbumView, album_views
from photosync.services.photos import PhotoView, photo_views


@dataclass(frozen=True)
class PhotoUpsert:
    view: PhotoView


@dataclass(frozen=True)
class PhotoDelete:
    photo_id: uuid.UUID


@dataclass(frozen=True)
class AlbumUpsert:
    view: AlbumView


@dataclass(frozen=True)
class AlbumDelete:
    album_id: uuid.UUID


@dataclass(frozen=True)
class MembershipChange:
    op: str  # "add" or "remove"
    album_id: uuid.UUID
    photo_id: uuid.UUID


Change = PhotoUpsert | PhotoDelete | AlbumUpsert | AlbumDelete | MembershipChange


@dataclass(frozen=True)
class SyncPage:
    changes: list[Change]
    next_cursor: str
    has_more: bool
    reset: bool = False


def sync(
    uow: UnitOfWork, store: ObjectStore, *, owner_id: uuid.UUID, cursor: str | None, limit: int,
    url_ttl_seconds: int,
) -> SyncPage:
    requested = decode_sync_cursor(cursor) if cursor is not None else None
    # One snapshot of the database for the whole page: the log entries and the states they are
    # served with agree, and the counter read here covers every entry that is visible.
    with uow.read_only_snapshot():
        last_seq, compacted_through = uow.users.sync_position(owner_id)
        fresh_start = SyncPosition(last_seq, SNAPSHOT_PHASES[0])
        if requested is None:
            position = fresh_start
        elif requested.seq < compacted_through or requested.seq > last_seq:
            # Entries after this cursor were compacted away (or the cursor is from elsewhere): the
            # client starts over; the cursor given back is that of a first sync.
            return SyncPage([], encode_sync_cursor(fresh_start), has_more=True, reset=True)
        else:
            position = requested
        return _read(uow, store, owner_id, position, limit, url_ttl_seconds)


def _read(
    uow: UnitOfWork, store: ObjectStore, owner_id: uuid.UUID, position: SyncPosition, limit: int,
    url_ttl_seconds: int,
) -> SyncPage:
    changes: list[Change] = []
    # Each read asks for one row more than there is room for: whether that row exists tells if the
    # phase (or the log) has more, without a count.
    while position.phase is not None and len(changes) < limit:
        room = limit - len(changes)
        page, position = _snapshot_step(uow, store, owner_id, position, room, url_ttl_seconds)
        changes += page
    has_more = position.phase is not None
    if not has_more and len(changes) < limit:
        room = limit - len(changes)
        rows = uow.changes.after(position.seq, owner_id=owner_id, limit=room + 1)
        has_more = len(rows) > room
        rows = rows[:room]
        changes += _resolve(uow, store, owner_id, rows, url_ttl_seconds)
        if rows:
            position = SyncPosition(rows[-1].seq)
    elif not has_more:
        has_more = bool(uow.changes.after(position.seq, owner_id=owner_id, limit=1))
    return SyncPage(changes, encode_sync_cursor(position), has_more)


def _snapshot_step(
    uow: UnitOfWork, store: ObjectStore, owner_id: uuid.UUID, position: SyncPosition, room: int,
    url_ttl_seconds: int,
) -> tuple[list[Change], SyncPosition]:
    """One read of the current phase: its changes, and the position after them."""
    after = position.after
    page: list[Change]
    if position.phase == "photos":
        photos = uow.photos.snapshot_page(owner_id=owner_id, after_sha256=after[0] if after else None, limit=room + 1)
        more, photos = len(photos) > room, photos[:room]
        page = [PhotoUpsert(v) for v in photo_views(store, photos, url_ttl_seconds)]
        last = (photos[-1].sha256,) if photos else after
    elif position.phase == "albums":
        albums = uow.albums.snapshot_page(caller=owner_id, after=uuid.UUID(after[0]) if after else None, limit=room + 1)
        more, albums = len(albums) > room, albums[:room]
        page = [AlbumUpsert(v) for v in album_views(store, albums, url_ttl_seconds)]
        last = (str(albums[-1].id),) if albums else after
    else:
        pairs = uow.albums.memberships_page(
            owner_id=owner_id, after=(uuid.UUID(after[0]), uuid.UUID(after[1])) if after else None, limit=room + 1,
        )
        more, pairs = len(pairs) > room, pairs[:room]
        page = [MembershipChange("add", album_id, photo_id) for album_id, photo_id in pairs]
        last = (str(pairs[-1][0]), str(pairs[-1][1])) if pairs else after
    if more:
        return page, SyncPosition(position.seq, position.phase, last)
    following = SNAPSHOT_PHASES.index(position.phase) + 1
    next_phase = SNAPSHOT_PHASES[following] if following < len(SNAPSHOT_PHASES) else None
    return page, SyncPosition(position.seq, next_phase)


def _resolve(
    uow: UnitOfWork, store: ObjectStore, owner_id: uuid.UUID, rows: list[ChangeRow], url_ttl_seconds: int,
) -> list[Change]:
    """Each changed thing once, at its last entry, in its current state."""
    last_entry = {(row.kind, row.photo_id, row.album_id): row.seq for row in rows}
    entries = sorted(last_entry, key=last_entry.__getitem__)
    photo_ids = [p for kind, p, _ in entries if kind == "photo"]
    album_ids = [a for kind, _, a in entries if kind == "album"]
    pairs = [(a, p) for kind, p, a in entries if kind == "album_photo"]
    photos = {v.photo.id: v for v in photo_views(store, uow.photos.by_ids(photo_ids, owner_id=owner_id), url_ttl_seconds)} if photo_ids else {}
    albums = {v.album.id: v for v in album_views(store, uow.albums.by_ids(album_ids, caller=owner_id), url_ttl_seconds)} if album_ids else {}
    members = uow.albums.existing_memberships(pairs, owner_id=owner_id) if pairs else set()
    changes: list[Change] = []
    for kind, photo_id, album_id in entries:
        if kind == "photo":
            assert photo_id is not None
            changes.append(PhotoUpsert(photos[photo_id]) if photo_id in photos else PhotoDelete(photo_id))
        elif kind == "album":
            assert album_id is not None
            changes.append(AlbumUpsert(albums[album_id]) if album_id in albums else AlbumDelete(album_id))
        else:
            assert photo_id is not None and album_id is not None
            op = "add" if (album_id, photo_id) in members else "remove"
            changes.append(MembershipChange(op, album_id, photo_id))
    return changes


def compact(uow: UnitOfWork, *, created_before: datetime, limit: int) -> tuple[int, bool]:
    """One batch of the sweep's part: drop log entries older than `created_before`; a cursor that
    still needed them is answered `reset`. Returns (entries removed, whether more may be due)."""
    with uow.transaction():
        return uow.changes.compact(created_before=created_before, limit=limit)

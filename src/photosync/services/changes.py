"""Writing the change log: each use case that changes what GET /sync reports calls one of these in
its own transaction, after taking the caller's row lock (`uow.users.lock`) as its first statement.

An entry only names what changed; /sync reads its state when serving it. So an album's entry is
written whenever its Album object changes, including its photo_count when a member photo moves to
or from the trash.

Sharing widens who must hear of a change: an album's entry goes into the log of everyone who sees
the album (its owner and its members), and a membership's entry into the album owner's log (the
owner's /sync lists the memberships of their albums; members list a shared album's photos through
GET /photos?album_id=). Writing into another user's log takes that user's row lock too; several
are taken in id order (`uow.users.lock_all`), and a use case that may take locks in another order
than a concurrent one runs under `retried_on_deadlock`."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable
from typing import Callable, ParamSpec, TypeVar

import psycopg.errors

from photosync.adapters.postgres.repositories import ChangeEntry
from photosync.adapters.postgres.unit_of_work import UnitOfWork

P = ParamSpec("P")
R = TypeVar("R")
DEADLOCK_RETRIES = 3


def retried_on_deadlock(use_case: Callable[P, R]) -> Callable[P, R]:
    """Run the use case again when PostgreSQL broke a deadlock by rolling its transaction back:
    nothing of it was committed, so running it again is safe."""

    @functools.wraps(use_case)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        for attempt in range(DEADLOCK_RETRIES + 1):
            try:
                return use_case(*args, **kwargs)
            except psycopg.errors.DeadlockDetected:
                if attempt == DEADLOCK_RETRIES:
                    raise
        raise AssertionError("unreachable")

    return run


def _record(uow: UnitOfWork, entries: dict[uuid.UUID, list[ChangeEntry]]) -> None:
    wanted = {user: log for user, log in entries.items() if log}
    uow.users.lock_all(set(wanted))
    for user_id in sorted(wanted):
        uow.changes.record(wanted[user_id], owner_id=user_id)


def _album_entries(uow: UnitOfWork, album_ids: Iterable[uuid.UUID], into: dict[uuid.UUID, list[ChangeEntry]]) -> None:
    for album_id, audience in uow.albums.audience(sorted(set(album_ids))).items():
        for user_id in audience:
            into.setdefault(user_id, []).append(("album", None, album_id))


def photos_changed(uow: UnitOfWork, *, owner_id: uuid.UUID, photo_ids: list[uuid.UUID], counted: bool) -> None:
    """Photos added, updated or deleted. `counted`: they entered or left what albums show (the
    trash), so their albums' photo counts changed, and the owners of other users' albums holding
    them see the membership appear or go. Otherwise only the albums they are the cover of changed
    (a new thumbnail is a new cover_thumbnail_url)."""
    entries: dict[uuid.UUID, list[ChangeEntry]] = {owner_id: [("photo", photo_id, None) for photo_id in photo_ids]}
    if counted:
        holding = uow.albums.holding(photo_ids)
        for album_id, album_owner, photo_id in holding:
            if album_owner != owner_id:
                entries.setdefault(album_owner, []).append(("album_photo", photo_id, album_id))
        _album_entries(uow, (album_id for album_id, _, _ in holding), entries)
    else:
        _album_entries(uow, uow.albums.ids_covered_by(photo_ids), entries)
    _record(uow, entries)


def album_changed(uow: UnitOfWork, *, album_id: uuid.UUID, also: Iterable[uuid.UUID] = ()) -> None:
    """The album object changed (created, renamed, deleted, shared): everyone who sees it hears of
    it, and `also` those who stopped seeing it (a removed member, the members of a deleted album),
    whose /sync then reports it deleted."""
    entries: dict[uuid.UUID, list[ChangeEntry]] = {user_id: [("album", None, album_id)] for user_id in also}
    _album_entries(uow, [album_id], entries)
    _record(uow, entries)


def memberships_changed(uow: UnitOfWork, *, album_id: uuid.UUID, photo_ids: list[uuid.UUID]) -> None:
    """Photos added to or removed from an album, whose count changed with them."""
    if not photo_ids:
        return
    audience = uow.albums.audience([album_id]).get(album_id, set())
    owner_id = uow.albums.owner(album_id)
    entries: dict[uuid.UUID, list[ChangeEntry]] = {user_id: [] for user_id in audience}
    if owner_id is not None:
        entries.setdefault(owner_id, []).extend(("album_photo", photo_id, album_id) for photo_id in photo_ids)
    for user_id in audience:
        entries[user_id].append(("album", None, album_id))
    _record(uow, entries)


def albums_changed_for(uow: UnitOfWork, *, user_id: uuid.UUID, album_ids: list[uuid.UUID]) -> None:
    """What one user sees of these albums changed: shared with them (also invitations claimed at
    their first sign-in), their role changed, or they no longer see it."""
    _record(uow, {user_id: [("album", None, album_id) for album_id in album_ids]})

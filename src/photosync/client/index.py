"""A local copy of the library (photos, trash, albums, memberships) kept current by `GET /sync`.

SQLite in the client's state directory. Each page of changes is applied in one SQLite transaction
together with the cursor that follows it, so an interrupted sync resumes where it stopped and never
applies a change twice or skips one. A `reset` answer drops the copy and replays from the start.

The index is *fresh* when its last complete sync (caught up, `has_more` false) is less than
`max_age` seconds old (`PHOTOSYNC_INDEX_MAX_AGE_SECONDS`, default 600). A fresh index answers
`photosync ls` and backup's "is this already backed up?" without asking the server; a stale one is
brought current with an incremental sync first. Free-up-space never trusts it: deleting a local file
needs the server's word at that moment.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from photosync.client.api import PhotoSyncClient
from photosync.client.errors import ServerError
from photosync.client.models import Album, Change, Lookup, Photo

INDEX_FILE = "library-index.sqlite3"
MAX_AGE_ENV = "PHOTOSYNC_INDEX_MAX_AGE_SECONDS"
DEFAULT_MAX_AGE_SECONDS = 600.0
SCHEMA_VERSION = "1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS photo (
    id TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL,
    sort_us INTEGER NOT NULL,  -- taken_at, else uploaded_at, in microseconds since the epoch
    trashed INTEGER NOT NULL,
    data TEXT NOT NULL         -- the Photo object as the server sent it
);
CREATE INDEX IF NOT EXISTS photo_timeline ON photo (trashed, sort_us DESC, id DESC);
CREATE INDEX IF NOT EXISTS photo_content ON photo (sha256);
CREATE TABLE IF NOT EXISTS album (id TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS album_photo (album_id TEXT NOT NULL, photo_id TEXT NOT NULL, PRIMARY KEY (album_id, photo_id));
"""


def max_age_from_environment() -> float:
    configured = os.environ.get(MAX_AGE_ENV)
    if not configured:
        return DEFAULT_MAX_AGE_SECONDS
    try:
        value = float(configured)
    except ValueError:
        raise ValueError(f"{MAX_AGE_ENV} must be a number of seconds, not {configured!r}") from None
    if value < 0:
        raise ValueError(f"{MAX_AGE_ENV} must not be negative")
    return value


def _microseconds(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp() * 1_000_000)


@dataclass
class SyncSummary:
    photos_changed: int = 0  # upserts: added, edited, trashed or restored
    photos_deleted: int = 0
    albums_changed: int = 0
    memberships_changed: int = 0
    pages: int = 0
    reset: bool = False  # the server could no longer serve the cursor: the copy was rebuilt

    @property
    def changes(self) -> int:
        return self.photos_changed + self.photos_deleted + self.albums_changed + self.memberships_changed


@dataclass(frozen=True)
class IndexCounts:
    photos: int
    trashed: int
    albums: int
    size: int  # bytes of the photos outside the trash


class LibraryIndex:
    """The index of one account on one server. Opening it for another account starts it empty."""

    def __init__(self, path: Path, *, server: str, account: str, max_age: float | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.path = path
        self.max_age = max_age_from_environment() if max_age is None else max_age
        self._clock = clock
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.executescript(_SCHEMA)
        owner = (server.rstrip("/"), account)
        if (self._meta("server"), self._meta("account"), self._meta("schema")) != (*owner, SCHEMA_VERSION):
            with self._transaction():
                self._clear()
                self._set_meta("server", owner[0])
                self._set_meta("account", owner[1])
                self._set_meta("schema", SCHEMA_VERSION)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> LibraryIndex:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- state ----------------------------------------------------------------------------------

    @property
    def cursor(self) -> str | None:
        return self._meta("cursor")

    @property
    def synced_at(self) -> float | None:
        """When the index last caught up with the server (seconds since the epoch), or None."""
        value = self._meta("synced_at")
        return float(value) if value is not None else None

    @property
    def exists(self) -> bool:
        """Whether a sync ever completed for this account."""
        return self.synced_at is not None

    def age(self) -> float | None:
        synced_at = self.synced_at
        return None if synced_at is None else max(0.0, self._clock() - synced_at)

    @property
    def fresh(self) -> bool:
        age = self.age()
        return age is not None and age < self.max_age

    # --- syncing --------------------------------------------------------------------------------

    def sync(self, client: PhotoSyncClient, *, page_size: int = 1000,
             on_page: Callable[[SyncSummary], None] | None = None) -> SyncSummary:
        """Apply every change since the stored cursor, page by page, until caught up."""
        summary = SyncSummary()
        cursor = self.cursor
        while True:
            page = client.sync(cursor=cursor, limit=page_size)
            if page.reset:
                if cursor is None:
                    raise ServerError("The server asked to reset a sync that started from the beginning", status=200)
                with self._transaction():
                    self._clear()
                summary.reset = True
                cursor = None
                continue
            if page.next_cursor is None:
                raise ServerError("The server's /sync answer has no next_cursor", status=200)
            with self._transaction():
                for change in page.changes:
                    self._apply(change, summary)
                self._set_meta("cursor", page.next_cursor)
                if not page.has_more:
                    self._set_meta("synced_at", repr(self._clock()))
            cursor = page.next_cursor
            summary.pages += 1
            if on_page:
                on_page(summary)
            if not page.has_more:
                return summary

    def ensure_current(self, client: PhotoSyncClient) -> SyncSummary | None:
        """Sync when the index exists but is stale; None when it was fresh (nothing asked)."""
        if self.fresh:
            return None
        return self.sync(client)

    def _apply(self, change: Change, summary: SyncSummary) -> None:
        if change.kind == "photo" and change.op == "upsert" and change.photo is not None:
            photo = change.photo
            self._db.execute(
                "INSERT INTO photo (id, sha256, sort_us, trashed, data) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET sha256 = excluded.sha256, sort_us = excluded.sort_us,"
                " trashed = excluded.trashed, data = excluded.data",
                (photo.id, photo.sha256, _microseconds(photo.sort_time), int(photo.in_trash), json.dumps(change.raw["photo"])),
            )
            summary.photos_changed += 1
        elif change.kind == "photo" and change.op == "delete":
            self._db.execute("DELETE FROM photo WHERE id = ?", (change.id,))
            self._db.execute("DELETE FROM album_photo WHERE photo_id = ?", (change.id,))
            summary.photos_deleted += 1
        elif change.kind == "album" and change.op == "upsert" and change.album is not None:
            self._db.execute(
                "INSERT INTO album (id, data) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET data = excluded.data",
                (change.album.id, json.dumps(change.raw["album"])),
            )
            summary.albums_changed += 1
        elif change.kind == "album" and change.op == "delete":
            self._db.execute("DELETE FROM album WHERE id = ?", (change.id,))
            self._db.execute("DELETE FROM album_photo WHERE album_id = ?", (change.id,))
            summary.albums_changed += 1
        elif change.kind == "album_photo" and change.op == "add":
            self._db.execute(
                "INSERT INTO album_photo (album_id, photo_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
                (change.album_id, change.photo_id),
            )
            summary.memberships_changed += 1
        elif change.kind == "album_photo" and change.op == "remove":
            self._db.execute("DELETE FROM album_photo WHERE album_id = ? AND photo_id = ?", (change.album_id, change.photo_id))
            summary.memberships_changed += 1
        # Kinds a newer server may add are skipped: the contract may add, never change.

    # --- reading --------------------------------------------------------------------------------

    def photos(self, *, limit: int | None = None, album_id: str | None = None) -> list[Photo]:
        """The timeline (photos outside the trash), newest first, ties by id, like `GET /photos`."""
        query = "SELECT data FROM photo WHERE trashed = 0"
        params: list[object] = []
        if album_id is not None:
            query += " AND id IN (SELECT photo_id FROM album_photo WHERE album_id = ?)"
            params.append(album_id)
        query += " ORDER BY sort_us DESC, id DESC"
        if limit is not None:
            query += " LIMIT ?"
            params.append(limit)
        return [Photo.from_json(json.loads(row[0])) for row in self._db.execute(query, params)]

    def album(self, album_id: str) -> Album | None:
        row = self._db.execute("SELECT data FROM album WHERE id = ?", (album_id,)).fetchone()
        return Album.from_json(json.loads(row[0])) if row else None

    def lookup(self, sha256s: list[str]) -> tuple[Lookup, list[str]]:
        """What the index knows of these hashes, and the hashes it does not know.

        It knows found and trashed content; content deleted for good leaves no trace in the change
        feed, so those hashes are among the unknown ones (ask the server).
        """
        known = Lookup()
        unknown: list[str] = []
        for digest in dict.fromkeys(sha256s):
            row = self._db.execute("SELECT id, trashed FROM photo WHERE sha256 = ? ORDER BY trashed LIMIT 1", (digest,)).fetchone()
            if row is None:
                unknown.append(digest)
            elif row[1]:
                known.trashed[digest] = row[0]
            else:
                known.found[digest] = row[0]
        return known, unknown

    def counts(self) -> IndexCounts:
        photos, size = self._db.execute("SELECT count(*), coalesce(sum(json_extract(data, '$.size')), 0) FROM photo WHERE trashed = 0").fetchone()
        trashed = self._db.execute("SELECT count(*) FROM photo WHERE trashed = 1").fetchone()[0]
        albums = self._db.execute("SELECT count(*) FROM album").fetchone()[0]
        return IndexCounts(photos=photos, trashed=trashed, albums=albums, size=size)

    # --- plumbing -------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        # Explicit BEGIN/COMMIT: the connection runs in autocommit mode (isolation_level=None).
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _clear(self) -> None:
        for table in ("photo", "album", "album_photo"):
            self._db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
        self._db.execute("DELETE FROM meta WHERE key IN ('cursor', 'synced_at')")

    def _meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))


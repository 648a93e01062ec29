"""SQL for each aggregate. Every query that reads or changes a user's data takes the owner's id:
scoping by caller is not left to the services' discipline."""

from __future__ import annotations

import uuid
from datetime import datetime

import psycopg

from photosync.domain.cursor import TimelinePosition
from photosync.domain.model import (
    Account,
    Album,
    ChangeRow,
    ObjectDeletion,
    PendingUpload,
    Photo,
    PhotoMetadata,
    PhotoRef,
    Rendered,
)

_PHOTO_COLUMNS = (
    "id, owner_id, object_key, filename, content_type, size, sha256, uploaded_at, taken_at, sort_at, "
    "width, height, duration_ms, camera_make, camera_model, thumbnail_key, preview_key, playback_key, "
    "renditions, trashed_at"
)
_PENDING_COLUMNS = (
    "id, owner_id, object_key, filename, content_type, size, sha256, status, reason, created_at, "
    "url_expires_at"
)


def _photo(row: dict | None) -> Photo | None:
    return Photo(**row) if row else None


def _pending(row: dict | None) -> PendingUpload | None:
    return PendingUpload(**row) if row else None


class Users:
    def __init__(self, conn: psycopg.Connection) -> None:
        self._conn = conn

    def insert_if_missing(self, user_id: uuid.UUID, email: str, quota: int) -> bool:
        row = self._conn.execute(
            "INSERT INTO users (id, email, storage_quota) VALUES (%s, %s, %s) "
            "ON CONFLICT (id) DO NOTHING RETURNING id",
            (user_id, email, quota),
        ).fetchone()
        return row is not None

    def get(self, user_id: uuid.UUID) -> Account | None:
        # The trash's bytes are summed, not kept in a counter: the trash index makes that cheap, and
        # a sum cannot drift from the rows.
        row = self._conn.execute(
            "SELECT id, email, storage_quota, storage_used, storage_pending, "
            "(SELECT COALESCE(sum(size), 0) FROM photos p WHERE p.owner_id = u.id AND p.trashed_at IS NOT NULL)"
            "::bigint AS storage_trash FROM users u WHERE id = %s",
            (user_id,),
        ).fetchone()
        return Account(**row) if row else None

    def lock(self, user_id: uuid.UUID) -> None:
        """Take the user's row lock; every transaction that changes what /sync reports takes it first.
        Taking it first gives all of them one lock order (no deadlocks), and it is the lock under
        which change numbers are handed out. FOR NO KEY UPDATE, not FOR UPDATE: it serialises the
        writers just the same without blocking the foreign-key checks of inserts elsewhere."""
        self._conn.execute("SELECT 1 FROM users WHERE id = %s FOR NO KEY UPDATE", (user_id,))

    def sync_position(self, user_id: uuid.UUID) -> tuple[int, int]:
        """(the last change number handed out, the highest number compaction removed)."""
        row = self._conn.execute(
            "SELECT change_seq, changes_compacted_through FROM users WHERE id = %s", (user_id,)
        ).fetchone()
        return (row["change_seq"], row["changes_compacted_through"]) if row else (0, 0)

    def exists(self, user_id: uuid.UUID) -> bool:
        return self._conn.execute("SELECT 1 FROM users WHERE id = %s", (user_id,)).fetchone() is not None

    def reserve(self, user_id: uuid.UUID, size: int) -> bool:
        """Add `size` to the pending bytes if it fits in the quota. One statement, so concurrent
        requests cannot both see the same free space."""
        row = self._conn.execute(
            "UPDATE users SET storage_pending = storage_pending + %(size)s "
            "WHERE id = %(id)s AND storage_used + storage_pending + %(size)s <= storage_quota "
            "RETURNING id",
            {"id": user_id, "size": size},
        ).fetchone()
        return row is not None

    def release(self, user_id: uuid.UUID, size: int) -> None:
        self._conn.execute(
            "UPDATE users SET storage_pending = storage_pending - %s WHERE id = %s", (size, user_id)
        )

    def charge_reserved(self, user_id: uuid.UUID, size: int) -> None:
        self._conn.execute(
            "UPDATE users SET storage_pending = storage_pending - %(size)s, "
            "storage_used = storage_used + %(size)s WHERE id = %(id)s",
            {"id": user_id, "size": size},
        )

    def refund(self, user_id: uuid.UUID, size: int) -> None:
        self._conn.execute(
            "UPDATE users SET storage_used = storage_used - %s WHERE id = %s", (size, user_id)
        )


class PendingUploads:
    def __init__(self, conn: psycopg.Connection) -> None:
        self._conn = conn

    def add(self, upload: PendingUpload) -> None:
        self._conn.execute(
            f"INSERT INTO pending_uploads ({_PENDING_COLUMNS}) VALUES "
            "(%(id)s, %(owner_id)s, %(object_key)s, %(filename)s, %(content_type)s, %(size)s, "
            "%(sha256)s, %(status)s, %(reason)s, %(created_at)s, %(url_expires_at)s)",
            upload.__dict__,
        )

    def get(self, upload_id: uuid.UUID, *, owner_id: uuid.UUID) -> PendingUpload | None:
        return _pending(self._conn.execute(
            f"SELECT {_PENDING_COLUMNS} FROM pending_uploads WHERE id = %s AND owner_id = %s",
            (upload_id, owner_id),
        ).fetchone())

    def lock(self, upload_id: uuid.UUID, *, owner_id: uuid.UUID) -> PendingUpload | None:
        return _pending(self._conn.execute(
            f"SELECT {_PENDING_COLUMNS} FROM pending_uploads WHERE id = %s AND owner_id = %s FOR UPDATE",
            (upload_id, owner_id),
        ).fetchone())

    def remove(self, upload_id: uuid.UUID) -> None:
        self._conn.execute("DELETE FROM pending_uploads WHERE id = %s", (upload_id,))

    def mark_failed(self, upload_id: uuid.UUID, reason: str) -> None:
        self._conn.execute(
            "UPDATE pending_uploads SET status = 'failed', reason = %s WHERE id = %s",
            (reason, upload_id),
        )

    def expired(self, *, created_before: datetime, not_swept_since: datetime, limit: int) -> list[PendingUpload]:
        """Reservations older than `created_before` that no sweep took up since `not_swept_since`,
        the least-tried first, then oldest first."""
        rows = self._conn.execute(
            f"SELECT {_PENDING_COLUMNS} FROM pending_uploads "
            "WHERE status = 'pending' AND created_at < %(before)s "
            "AND (swept_at IS NULL OR swept_at < %(since)s) "
            "ORDER BY sweep_attempts, created_at, id LIMIT %(limit)s",
            {"before": created_before, "since": not_swept_since, "limit": limit},
        ).fetchall()
        return [PendingUpload(**row) for row in rows]

    def count_sweep_attempt(self, upload_id: uuid.UUID, *, at: datetime) -> int | None:
        """Record that the sweep takes up this reservation now; its attempts so far, or None when it
        is no longer pending (finalized or released meanwhile)."""
        row = self._conn.execute(
            "UPDATE pending_uploads SET sweep_attempts = sweep_attempts + 1, swept_at = %s "
            "WHERE id = %s AND status = 'pending' RETURNING sweep_attempts",
            (at, upload_id),
        ).fetchone()
        return row["sweep_attempts"] if row else None

    def purge_tombstones(self, *, created_before: datetime, limit: int) -> int:
        cur = self._conn.execute(
            "DELETE FROM pending_uploads WHERE id IN (SELECT id FROM pending_uploads "
            "WHERE status = 'failed' AND created_at < %s ORDER BY created_at LIMIT %s)",
            (created_before, limit),
        )
        return cur.rowcount


class Photos:
    def __init__(self, conn: psycopg.Connection) -> None:
        self._conn = conn

    def add_from_upload(self, upload: PendingUpload, metadata: PhotoMetadata, rendered: Rendered) -> bool:
        """Insert the photo; False when the owner already holds a photo with this content."""
        row = self._conn.execute(
            "INSERT INTO photos (id, owner_id, object_key, filename, content_type, size, sha256, "
            "taken_at, width, height, duration_ms, camera_make, camera_model, gps_latitude, gps_longitude, "
            "thumbnail_key, preview_key, playback_key, renditions) "
            "VALUES (%(id)s, %(owner_id)s, %(object_key)s, %(filename)s, %(content_type)s, %(size)s, "
            "%(sha256)s, %(taken_at)s, %(width)s, %(height)s, %(duration_ms)s, %(camera_make)s, %(camera_model)s, "
            "%(gps_latitude)s, %(gps_longitude)s, %(thumbnail_key)s, %(preview_key)s, %(playback_key)s, "
            "%(renditions)s) "
            "ON CONFLICT (owner_id, sha256) DO NOTHING RETURNING id",
            {
                "id": upload.id, "owner_id": upload.owner_id, "object_key": upload.object_key,
                "filename": upload.filename, "content_type": metadata.content_type,
                "size": upload.size, "sha256": upload.sha256, "taken_at": metadata.taken_at,
                "width": metadata.width, "height": metadata.height, "duration_ms": metadata.duration_ms,
                "camera_make": metadata.camera_make, "camera_model": metadata.camera_model,
                "gps_latitude": metadata.gps_latitude, "gps_longitude": metadata.gps_longitude,
                "thumbnail_key": rendered.thumbnail_key, "preview_key": rendered.preview_key,
                "playback_key": rendered.playback_key, "renditions": rendered.state,
            },
        ).fetchone()
        return row is not None

    def get(self, photo_id: uuid.UUID, *, owner_id: uuid.UUID) -> Photo | None:
        return _photo(self._conn.execute(
            f"SELECT {_PHOTO_COLUMNS} FROM photos WHERE id = %s AND owner_id = %s",
            (photo_id, owner_id),
        ).fetchone())

    def exists(self, photo_id: uuid.UUID, *, owner_id: uuid.UUID) -> bool:
        return self._conn.execute(
            "SELECT 1 FROM photos WHERE id = %s AND owner_id = %s", (photo_id, owner_id)
        ).fetchone() is not None

    def by_sha256(self, hashes: list[str], *, owner_id: uuid.UUID) -> dict[str, PhotoRef]:
        rows = self._conn.execute(
            "SELECT id, sha256, trashed_at FROM photos WHERE owner_id = %s AND sha256 = ANY(%s)",
            (owner_id, hashes),
        ).fetchall()
        return {row["sha256"]: PhotoRef(**row) for row in rows}

    def by_ids(self, photo_ids: list[uuid.UUID], *, owner_id: uuid.UUID) -> list[Photo]:
        rows = self._conn.execute(
            f"SELECT {_PHOTO_COLUMNS} FROM photos WHERE owner_id = %s AND id = ANY(%s)",
            (owner_id, photo_ids),
        ).fetchall()
        return [Photo(**row) for row in rows]

    def owned_ids(self, photo_ids: list[uuid.UUID], *, owner_id: uuid.UUID) -> set[uuid.UUID]:
        """Which of these are the owner's photos outside the trash (a trashed photo cannot be added
        to an album: the owner no longer sees it)."""
        rows = self._conn.execute(
            # Locked so a photo cannot be deleted between this check and what the caller does next.
            "SELECT id FROM photos WHERE owner_id = %s AND id = ANY(%s) AND trashed_at IS NULL FOR KEY SHARE",
            (owner_id, photo_ids),
        ).fetchall()
        return {row["id"] for row in rows}

    def page(
        self,
        *,
        owner_id: uuid.UUID,
        limit: int,
        after: TimelinePosition | None,
        album_id: uuid.UUID | None,
    ) -> list[Photo]:
        """Newest first by (sort_at, id); `after` is the last photo of the previous page."""
        conditions = ["p.owner_id = %(owner)s", "p.trashed_at IS NULL"]
        params: dict[str, object] = {"owner": owner_id, "limit": limit}
        join = ""
        if album_id is not None:
            join = "JOIN album_photos ap ON ap.photo_id = p.id AND ap.album_id = %(album)s"
            params["album"] = album_id
        if after is not None:
            conditions.append("(p.sort_at, p.id) < (%(sort_at)s, %(id)s)")
            params.update(sort_at=after.sort_at, id=after.photo_id)
        columns = ", ".join(f"p.{c.strip()}" for c in _PHOTO_COLUMNS.split(","))
        rows = self._conn.execute(
            f"SELECT {columns} FROM photos p {join} WHERE {' AND '.join(conditions)} "
            "ORDER BY p.sort_at DESC, p.id DESC LIMIT %(limit)s",
            params,
        ).fetchall()
        return [Photo(**row) for row in rows]

    def move_to_trash(self, photo_id: uuid.UUID, *, owner_id: uuid.UUID) -> bool:
        """True when the photo moved to the trash now; False when it was there already or is not
        the owner's (the caller tells those apart)."""
        row = self._conn.execute(
            "UPDATE photos SET trashed_at = now() WHERE id = %s AND owner_id = %s AND trashed_at IS NULL "
            "RETURNING id",
            (photo_id, owner_id),
        ).fetchone()
        return row is not None

    def restore(self, photo_ids: list[uuid.UUID], *, owner_id: uuid.UUID) -> list[uuid.UUID]:
        """Take these photos out of the trash; returns those that were in it."""
        rows = self._conn.execute(
            "UPDATE photos SET trashed_at = NULL WHERE owner_id = %s AND id = ANY(%s) "
            "AND trashed_at IS NOT NULL RETURNING id",
            (owner_id, photo_ids),
        ).fetchall()
        return [row["id"] for row in rows]

    def trash_page(self, *, owner_id: uuid.UUID, limit: int, after: TimelinePosition | None) -> list[Photo]:
        """The trash, most recently trashed first; `after` holds the last photo's trashed_at and id."""
        resume = "AND (trashed_at, id) < (%(at)s, %(id)s)" if after else ""
        rows = self._conn.execute(
            f"SELECT {_PHOTO_COLUMNS} FROM photos WHERE owner_id = %(owner)s AND trashed_at IS NOT NULL "
            f"{resume} ORDER BY trashed_at DESC, id DESC LIMIT %(limit)s",
            {"owner": owner_id, "limit": limit,
             "at": after.sort_at if after else None, "id": after.photo_id if after else None},
        ).fetchall()
        return [Photo(**row) for row in rows]

    def trashed_ids(self, *, owner_id: uuid.UUID, limit: int) -> list[uuid.UUID]:
        rows = self._conn.execute(
            "SELECT id FROM photos WHERE owner_id = %s AND trashed_at IS NOT NULL "
            "ORDER BY trashed_at, id LIMIT %s",
            (owner_id, limit),
        ).fetchall()
        return [row["id"] for row in rows]

    def trashed_before(self, moment: datetime, *, limit: int) -> list[tuple[uuid.UUID, uuid.UUID]]:
        """(owner id, photo id) of photos trashed before `moment`, oldest first, across users."""
        rows = self._conn.execute(
            "SELECT owner_id, id FROM photos WHERE trashed_at IS NOT NULL AND trashed_at < %s "
            "ORDER BY trashed_at, id LIMIT %s",
            (moment, limit),
        ).fetchall()
        return [(row["owner_id"], row["id"]) for row in rows]

    def delete_trashed(
        self, photo_ids: list[uuid.UUID], *, owner_id: uuid.UUID, trashed_before: datetime | None = None
    ) -> list[Photo]:
        """Delete these photos if they are in the owner's trash (and were trashed before
        `trashed_before`, when given); returns the rows deleted."""
        rows = self._conn.execute(
            f"DELETE FROM photos WHERE owner_id = %(owner)s AND id = ANY(%(ids)s) AND trashed_at IS NOT NULL "
            f"AND (%(before)s::timestamptz IS NULL OR trashed_at < %(before)s) RETURNING {_PHOTO_COLUMNS}",
            {"owner": owner_id, "ids": photo_ids, "before": trashed_before},
        ).fetchall()
        return [Photo(**row) for row in rows]

    def snapshot_page(self, *, owner_id: uuid.UUID, after_sha256: str | None, limit: int) -> list[Photo]:
        """Every photo of the owner, trash included, in content-hash order: the (owner_id, sha256)
        unique index is the keyset, so each page is one index range scan."""
        resume = "AND sha256 > %(after)s" if after_sha256 is not None else ""
        rows = self._conn.execute(
            f"SELECT {_PHOTO_COLUMNS} FROM photos WHERE owner_id = %(owner)s {resume} ORDER BY sha256 LIMIT %(limit)s",
            {"owner": owner_id, "after": after_sha256, "limit": limit},
        ).fetchall()
        return [Photo(**row) for row in rows]

    def set_renditions(self, photo_id: uuid.UUID, rendered: Rendered) -> bool:
        """Record renditions; False when the photo was deleted meanwhile (the caller cleans up)."""
        row = self._conn.execute(
            "UPDATE photos SET thumbnail_key = %s, preview_key = %s, playback_key = %s, renditions = %s, "
            "rendition_attempts = rendition_attempts + 1 WHERE id = %s RETURNING id",
            (rendered.thumbnail_key, rendered.preview_key, rendered.playback_key, rendered.state, photo_id),
        ).fetchone()
        return row is not None

    def count_rendition_attempt(self, photo_id: uuid.UUID, stored: Rendered, *, give_up_after: int) -> bool:
        """Count a failed attempt, recording the renditions it did store; False when the photo was
        deleted meanwhile (the caller cleans up)."""
        row = self._conn.execute(
            "UPDATE photos SET rendition_attempts = rendition_attempts + 1, renditions = CASE "
            "WHEN rendition_attempts + 1 >= %s THEN 'failed' ELSE renditions END, "
            "thumbnail_key = COALESCE(%s, thumbnail_key), preview_key = COALESCE(%s, preview_key), "
            "playback_key = COALESCE(%s, playback_key) WHERE id = %s RETURNING id",
            (give_up_after, stored.thumbnail_key, stored.preview_key, stored.playback_key, photo_id),
        ).fetchone()
        return row is not None

    def awaiting_renditions(
        self, *, uploaded_before: datetime, after: Photo | None = None, limit: int
    ) -> list[Photo]:
        """Photos still waiting for renditions, oldest first, resuming after `after`."""
        resume = "AND (uploaded_at, id) > (%(after_at)s, %(after_id)s)" if after else ""
        rows = self._conn.execute(
            f"SELECT {_PHOTO_COLUMNS} FROM photos WHERE renditions = 'pending' AND uploaded_at < %(before)s "
            f"{resume} ORDER BY uploaded_at, id LIMIT %(limit)s",
            {"before": uploaded_before, "limit": limit,
             "after_at": after.uploaded_at if after else None, "after_id": after.id if after else None},
        ).fetchall()
        return [Photo(**row) for row in rows]


class Albums:
    def __init__(self, conn: psycopg.Connection) -> None:
        self._conn = conn

    # Photos in the trash keep their memberships but are not counted or shown.
    _SELECT = (
        "SELECT a.id, a.owner_id, a.name, a.created_at, "
        "(SELECT count(*) FROM album_photos ap JOIN photos p ON p.id = ap.photo_id "
        " WHERE ap.album_id = a.id AND p.trashed_at IS NULL) AS photo_count "
        "FROM albums a"
    )

    def add(self, album_id: uuid.UUID, *, owner_id: uuid.UUID, name: str) -> Album:
        self._conn.execute(
            "INSERT INTO albums (id, owner_id, name) VALUES (%s, %s, %s)", (album_id, owner_id, name)
        )
        album = self.get(album_id, owner_id=owner_id)
        assert album is not None
        return album

    def get(self, album_id: uuid.UUID, *, owner_id: uuid.UUID) -> Album | None:
        row = self._conn.execute(
            f"{self._SELECT} WHERE a.id = %s AND a.owner_id = %s", (album_id, owner_id)
        ).fetchone()
        return Album(**row) if row else None

    def lock(self, album_id: uuid.UUID, *, owner_id: uuid.UUID) -> bool:
        return self._conn.execute(
            "SELECT 1 FROM albums WHERE id = %s AND owner_id = %s FOR UPDATE", (album_id, owner_id)
        ).fetchone() is not None

    def list(self, *, owner_id: uuid.UUID) -> list[Album]:
        rows = self._conn.execute(
            f"{self._SELECT} WHERE a.owner_id = %s ORDER BY a.created_at DESC, a.id DESC", (owner_id,)
        ).fetchall()
        return [Album(**row) for row in rows]

    def rename(self, album_id: uuid.UUID, *, owner_id: uuid.UUID, name: str) -> bool:
        row = self._conn.execute(
            "UPDATE albums SET name = %s WHERE id = %s AND owner_id = %s RETURNING id",
            (name, album_id, owner_id),
        ).fetchone()
        return row is not None

    def delete(self, album_id: uuid.UUID, *, owner_id: uuid.UUID) -> bool:
        row = self._conn.execute(
            "DELETE FROM albums WHERE id = %s AND owner_id = %s RETURNING id", (album_id, owner_id)
        ).fetchone()
        return row is not None

    def by_ids(self, album_ids: list[uuid.UUID], *, owner_id: uuid.UUID) -> list[Album]:
        rows = self._conn.execute(
            f"{self._SELECT} WHERE a.owner_id = %s AND a.id = ANY(%s)", (owner_id, album_ids)
        ).fetchall()
        return [Album(**row) for row in rows]

    def snapshot_page(self, *, owner_id: uuid.UUID, after: uuid.UUID | None, limit: int) -> list[Album]:
        resume = "AND a.id > %(after)s" if after is not None else ""
        rows = self._conn.execute(
            f"{self._SELECT} WHERE a.owner_id = %(owner)s {resume} ORDER BY a.id LIMIT %(limit)s",
            {"owner": owner_id, "after": after, "limit": limit},
        ).fetchall()
        return [Album(**row) for row in rows]

    def memberships_page(
        self, *, owner_id: uuid.UUID, after: tuple[uuid.UUID, uuid.UUID] | None, limit: int
    ) -> list[tuple[uuid.UUID, uuid.UUID]]:
        """(album id, photo id) of every membership of the owner's albums, trashed photos included."""
        resume = "AND (ap.album_id, ap.photo_id) > (%(album)s, %(photo)s)" if after is not None else ""
        rows = self._conn.execute(
            "SELECT ap.album_id, ap.photo_id FROM album_photos ap JOIN albums a ON a.id = ap.album_id "
            f"WHERE a.owner_id = %(owner)s {resume} ORDER BY ap.album_id, ap.photo_id LIMIT %(limit)s",
            {"owner": owner_id, "album": after[0] if after else None,
             "photo": after[1] if after else None, "limit": limit},
        ).fetchall()
        return [(row["album_id"], row["photo_id"]) for row in rows]

    def existing_memberships(
        self, pairs: list[tuple[uuid.UUID, uuid.UUID]], *, owner_id: uuid.UUID
    ) -> set[tuple[uuid.UUID, uuid.UUID]]:
        rows = self._conn.execute(
            "SELECT ap.album_id, ap.photo_id FROM album_photos ap JOIN albums a ON a.id = ap.album_id "
            "JOIN unnest(%s::uuid[], %s::uuid[]) AS wanted (album_id, photo_id) "
            "ON wanted.album_id = ap.album_id AND wanted.photo_id = ap.photo_id WHERE a.owner_id = %s",
            ([a for a, _ in pairs], [p for _, p in pairs], owner_id),
        ).fetchall()
        return {(row["album_id"], row["photo_id"]) for row in rows}

    def ids_holding(self, photo_ids: list[uuid.UUID]) -> list[uuid.UUID]:
        """The albums these photos are in."""
        rows = self._conn.execute(
            "SELECT DISTINCT album_id FROM album_photos WHERE photo_id = ANY(%s) ORDER BY album_id",
            (photo_ids,),
        ).fetchall()
        return [row["album_id"] for row in rows]

    def add_photos(self, album_id: uuid.UUID, photo_ids: list[uuid.UUID]) -> list[uuid.UUID]:
        """Add the photos; returns those that were not in the album already."""
        rows = self._conn.execute(
            "INSERT INTO album_photos (album_id, photo_id) SELECT %s, unnest(%s::uuid[]) "
            "ON CONFLICT DO NOTHING RETURNING photo_id",
            (album_id, photo_ids),
        ).fetchall()
        return [row["photo_id"] for row in rows]

    def remove_photo(self, album_id: uuid.UUID, photo_id: uuid.UUID) -> bool:
        row = self._conn.execute(
            "DELETE FROM album_photos WHERE album_id = %s AND photo_id = %s RETURNING photo_id",
            (album_id, photo_id),
        ).fetchone()
        return row is not None


class ObjectDeletions:
    """The outbox of object keys to remove from the store."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self._conn = conn

    def add(self, keys: list[str]) -> list[ObjectDeletion]:
        if not keys:
            return []
        rows = self._conn.execute(
            "INSERT INTO object_deletions (object_key) SELECT unnest(%s::text[]) "
            "RETURNING id, object_key, attempts",
            (keys,),
        ).fetchall()
        return [ObjectDeletion(**row) for row in rows]

    def due(self, *, limit: int) -> list[ObjectDeletion]:
        rows = self._conn.execute(
            "SELECT id, object_key, attempts FROM object_deletions WHERE next_attempt_at <= now() "
            "ORDER BY next_attempt_at, id LIMIT %s",
            (limit,),
        ).fetchall()
        return [ObjectDeletion(**row) for row in rows]

    def done(self, deletion_id: int) -> None:
        self._conn.execute("DELETE FROM object_deletions WHERE id = %s", (deletion_id,))

    def failed(self, deletion_id: int, error: str) -> None:
        # Exponential backoff, capped at an hour, so a broken store is not hammered.
        self._conn.execute(
            "UPDATE object_deletions SET attempts = attempts + 1, last_error = %s, "
            "next_attempt_at = now() + least(interval '1 hour', interval '10 seconds' * power(2, attempts)) "
            "WHERE id = %s",
            (error[:1000], deletion_id),
        )


class DeletedContent:
    """Tombstones: the content hashes of photos their owner deleted permanently."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self._conn = conn

    def add(self, hashes: list[str], *, owner_id: uuid.UUID) -> None:
        self._conn.execute(
            "INSERT INTO deleted_content (owner_id, sha256) SELECT %s, unnest(%s::text[]) "
            "ON CONFLICT (owner_id, sha256) DO UPDATE SET deleted_at = now()",
            (owner_id, hashes),
        )

    def clear(self, sha256: str, *, owner_id: uuid.UUID) -> None:
        self._conn.execute("DELETE FROM deleted_content WHERE owner_id = %s AND sha256 = %s", (owner_id, sha256))

    def among(self, hashes: list[str], *, owner_id: uuid.UUID) -> set[str]:
        rows = self._conn.execute(
            "SELECT sha256 FROM deleted_content WHERE owner_id = %s AND sha256 = ANY(%s)", (owner_id, hashes)
        ).fetchall()
        return {row["sha256"] for row in rows}


ChangeEntry = tuple[str, "uuid.UUID | None", "uuid.UUID | None"]  # (kind, photo id, album id)


class Changes:
    """The per-user change log behind GET /sync."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self._conn = conn

    def record(self, entries: list[ChangeEntry], *, owner_id: uuid.UUID) -> None:
        """Append entries, numbered from the owner's counter. The counter's UPDATE holds the user's
        row lock until the transaction ends: the next number is handed out only after these commit
        or roll back, so numbers become visible in order."""
        if not entries:
            return
        last = self._conn.execute(
            "UPDATE users SET change_seq = change_seq + %s WHERE id = %s RETURNING change_seq",
            (len(entries), owner_id),
        ).fetchone()["change_seq"]
        self._conn.execute(
            "INSERT INTO changes (owner_id, seq, kind, photo_id, album_id) "
            "SELECT %s, %s + n, kind, photo_id, album_id "
            "FROM unnest(%s::text[], %s::uuid[], %s::uuid[]) WITH ORDINALITY AS e (kind, photo_id, album_id, n)",
            (owner_id, last - len(entries), [e[0] for e in entries], [e[1] for e in entries], [e[2] for e in entries]),
        )

    def after(self, seq: int, *, owner_id: uuid.UUID, limit: int) -> list[ChangeRow]:
        rows = self._conn.execute(
            "SELECT seq, kind, photo_id, album_id FROM changes WHERE owner_id = %s AND seq > %s "
            "ORDER BY seq LIMIT %s",
            (owner_id, seq, limit),
        ).fetchall()
        return [ChangeRow(**row) for row in rows]

    def compact(self, *, created_before: datetime, limit: int) -> tuple[int, bool]:
        """Remove the `limit` oldest entries older than `created_before` (and any lower-numbered of
        the same users), raising each affected user's compaction mark to the highest number removed
        (older cursors are then reset). Returns (entries removed, whether `limit` were found)."""
        doomed = self._conn.execute(
            "SELECT owner_id, max(seq) AS through, count(*) AS found FROM (SELECT owner_id, seq FROM changes "
            "WHERE created_at < %s ORDER BY created_at, owner_id, seq LIMIT %s) oldest GROUP BY owner_id ORDER BY owner_id",
            (created_before, limit),
        ).fetchall()
        removed = 0
        for row in doomed:
            # Everything up to the mark goes, so no entry below a user's mark is left behind.
            removed += self._conn.execute(
                "DELETE FROM changes WHERE owner_id = %s AND seq <= %s", (row["owner_id"], row["through"])
            ).rowcount
            self._conn.execute(
                "UPDATE users SET changes_compacted_through = GREATEST(changes_compacted_through, %s) "
                "WHERE id = %s",
                (row["through"], row["owner_id"]),
            )
        return removed, sum(row["found"] for row in doomed) == limit

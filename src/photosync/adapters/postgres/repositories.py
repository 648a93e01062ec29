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
    ObjectDeletion,
    PendingUpload,
    Photo,
    PhotoMetadata,
    Rendered,
)

_PHOTO_COLUMNS = (
    "id, owner_id, object_key, filename, content_type, size, sha256, uploaded_at, taken_at, sort_at, "
    "width, height, camera_make, camera_model, thumbnail_key, preview_key, renditions"
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
        row = self._conn.execute(
            "SELECT id, email, storage_quota, storage_used, storage_pending FROM users WHERE id = %s",
            (user_id,),
        ).fetchone()
        return Account(**row) if row else None

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
            "taken_at, width, height, camera_make, camera_model, gps_latitude, gps_longitude, "
            "thumbnail_key, preview_key, renditions) "
            "VALUES (%(id)s, %(owner_id)s, %(object_key)s, %(filename)s, %(content_type)s, %(size)s, "
            "%(sha256)s, %(taken_at)s, %(width)s, %(height)s, %(camera_make)s, %(camera_model)s, "
            "%(gps_latitude)s, %(gps_longitude)s, %(thumbnail_key)s, %(preview_key)s, %(renditions)s) "
            "ON CONFLICT (owner_id, sha256) DO NOTHING RETURNING id",
            {
                "id": upload.id, "owner_id": upload.owner_id, "object_key": upload.object_key,
                "filename": upload.filename, "content_type": metadata.content_type,
                "size": upload.size, "sha256": upload.sha256, "taken_at": metadata.taken_at,
                "width": metadata.width, "height": metadata.height,
                "camera_make": metadata.camera_make, "camera_model": metadata.camera_model,
                "gps_latitude": metadata.gps_latitude, "gps_longitude": metadata.gps_longitude,
                "thumbnail_key": rendered.thumbnail_key, "preview_key": rendered.preview_key,
                "renditions": rendered.state,
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

    def id_by_sha256(self, sha256: str, *, owner_id: uuid.UUID) -> uuid.UUID | None:
        row = self._conn.execute(
            "SELECT id FROM photos WHERE owner_id = %s AND sha256 = %s", (owner_id, sha256)
        ).fetchone()
        return row["id"] if row else None

    def ids_by_sha256(self, hashes: list[str], *, owner_id: uuid.UUID) -> dict[str, uuid.UUID]:
        rows = self._conn.execute(
            "SELECT sha256, id FROM photos WHERE owner_id = %s AND sha256 = ANY(%s)",
            (owner_id, hashes),
        ).fetchall()
        return {row["sha256"]: row["id"] for row in rows}

    def owned_ids(self, photo_ids: list[uuid.UUID], *, owner_id: uuid.UUID) -> set[uuid.UUID]:
        rows = self._conn.execute(
            # Locked so a photo cannot be deleted between this check and what the caller does next.
            "SELECT id FROM photos WHERE owner_id = %s AND id = ANY(%s) FOR KEY SHARE",
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
        conditions = ["p.owner_id = %(owner)s"]
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

    def delete(self, photo_id: uuid.UUID, *, owner_id: uuid.UUID) -> Photo | None:
        return _photo(self._conn.execute(
            f"DELETE FROM photos WHERE id = %s AND owner_id = %s RETURNING {_PHOTO_COLUMNS}",
            (photo_id, owner_id),
        ).fetchone())

    def set_renditions(
        self, photo_id: uuid.UUID, *, thumbnail_key: str | None, preview_key: str | None, state: str
    ) -> bool:
        """Record renditions; False when the photo was deleted meanwhile (the caller cleans up)."""
        row = self._conn.execute(
            "UPDATE photos SET thumbnail_key = %s, preview_key = %s, renditions = %s, "
            "rendition_attempts = rendition_attempts + 1 WHERE id = %s RETURNING id",
            (thumbnail_key, preview_key, state, photo_id),
        ).fetchone()
        return row is not None

    def count_rendition_attempt(self, photo_id: uuid.UUID, *, give_up_after: int) -> None:
        self._conn.execute(
            "UPDATE photos SET rendition_attempts = rendition_attempts + 1, renditions = CASE "
            "WHEN rendition_attempts + 1 >= %s THEN 'failed' ELSE renditions END WHERE id = %s",
            (give_up_after, photo_id),
        )

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

    _SELECT = (
        "SELECT a.id, a.owner_id, a.name, a.created_at, "
        "(SELECT count(*) FROM album_photos ap WHERE ap.album_id = a.id) AS photo_count "
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

    def add_photos(self, album_id: uuid.UUID, photo_ids: list[uuid.UUID]) -> int:
        cur = self._conn.execute(
            "INSERT INTO album_photos (album_id, photo_id) SELECT %s, unnest(%s::uuid[]) "
            "ON CONFLICT DO NOTHING",
            (album_id, photo_ids),
        )
        return cur.rowcount

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

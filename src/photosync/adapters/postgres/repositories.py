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
    Link,
    Member,
    ObjectDeletion,
    PendingUpload,
    Photo,
    PhotoMetadata,
    PhotoRef,
    Rendered,
    StorageUse,
)

_PHOTO_COLUMNS = (
    "id, owner_id, object_key, filename, content_type, size, sha256, uploaded_at, taken_at, sort_at, "
    "width, height, duration_ms, camera_make, camera_model, thumbnail_key, preview_key, playback_key, "
    "renditions, trashed_at"
)
_PENDING_COLUMNS = (
    "id, owner_id, object_key, filename, content_type, size, sha256, status, reason, created_at, "
    "url_expires_at, multipart_id, part_size, part_count"
)


def _photo(row: dict | None) -> Photo | None:
    return Photo(**row) if row else None


def _pending(row: dict | None) -> PendingUpload | None:
    return PendingUpload(**row) if row else None


# THE visibility rule (architecture.md, "Security rules"), kept here and nowhere else: every read of
# albums and photos that is not the owner's own goes through these.
#   - an album is visible to its owner and to its members (people it is shared with);
#   - a photo is visible to its owner, and to whoever sees an album that shows it; an album shows
#     its memberships that are not hidden (a membership is hidden while its photo is in its owner's
#     trash: hidden from every album, shared ones included, until restored).
# A public link's holder sees what the link's one album shows. Statements using these bind the
# caller's user id as %(caller)s; `ap` is the membership (album_photos) being shown.
_VISIBLE_ALBUM_IDS = (
    "(SELECT id FROM albums WHERE owner_id = %(caller)s "
    "UNION ALL SELECT album_id FROM album_members WHERE user_id = %(caller)s)"
)
_SHOWN_IN_ALBUMS = "NOT ap.hidden"
_PHOTO_VISIBLE = (
    "(p.owner_id = %(caller)s OR EXISTS (SELECT 1 FROM album_photos ap WHERE ap.photo_id = p.id "
    f"AND {_SHOWN_IN_ALBUMS} AND ap.album_id IN {_VISIBLE_ALBUM_IDS}))"
)


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

    def id_by_email(self, email: str) -> uuid.UUID | None:
        """The account signed in with this email, if there is exactly one."""
        rows = self._conn.execute("SELECT id FROM users WHERE lower(email) = lower(%s) LIMIT 2", (email,)).fetchall()
        return rows[0]["id"] if len(rows) == 1 else None

    def lock_all(self, user_ids: set[uuid.UUID]) -> None:
        """Take several users' row locks, in id order: two transactions that lock overlapping sets
        take them in the same order."""
        for user_id in sorted(user_ids):
            self.lock(user_id)

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

    def reserve_in_order(self, user_id: uuid.UUID, sizes: list[int]) -> list[StorageUse | None]:
        """Reserve each size in turn if it still fits, as that many `reserve` calls would, in two
        statements: the user's row is locked first, so nothing else can take the space in between.

        For each size: None when it was reserved, else the account's figures when the size was
        considered (earlier reservations of the list included), which it did not fit."""
        row = self._conn.execute(
            "SELECT storage_quota, storage_used, storage_pending FROM users WHERE id = %s FOR NO KEY UPDATE",
            (user_id,),
        ).fetchone()
        assert row is not None, "the caller is provisioned before any use case runs"
        refusals: list[StorageUse | None] = []
        pending = row["storage_pending"]
        for size in sizes:
            if row["storage_used"] + pending + size <= row["storage_quota"]:
                pending += size
                refusals.append(None)
            else:
                refusals.append(StorageUse(row["storage_quota"], row["storage_used"], pending))
        if pending != row["storage_pending"]:
            self._conn.execute(
                "UPDATE users SET storage_pending = storage_pending + %s WHERE id = %s",
                (pending - row["storage_pending"], user_id),
            )
        return refusals

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

    _INSERT = (
        f"INSERT INTO pending_uploads ({_PENDING_COLUMNS}) VALUES "
        "(%(id)s, %(owner_id)s, %(object_key)s, %(filename)s, %(content_type)s, %(size)s, "
        "%(sha256)s, %(status)s, %(reason)s, %(created_at)s, %(url_expires_at)s, %(multipart_id)s, "
        "%(part_size)s, %(part_count)s)"
    )

    def add(self, upload: PendingUpload) -> None:
        self._conn.execute(self._INSERT, upload.__dict__)

    def add_many(self, uploads: list[PendingUpload]) -> None:
        """Several uploads in one round trip (psycopg pipelines `executemany`)."""
        with self._conn.cursor() as cursor:
            cursor.executemany(self._INSERT, [upload.__dict__ for upload in uploads])

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

    def expired(
        self, *, created_before: datetime, lapsed_before: datetime | None = None, not_swept_since: datetime, limit: int
    ) -> list[PendingUpload]:
        """Reservations that no sweep took up since `not_swept_since` and are over: a single upload
        created before `created_before`, a multipart upload whose reservation lapsed before
        `lapsed_before` (its last part request plus the multipart TTL). Least-tried first, then oldest."""
        rows = self._conn.execute(
            f"SELECT {_PENDING_COLUMNS} FROM pending_uploads "
            "WHERE status = 'pending' AND CASE WHEN multipart_id IS NULL THEN created_at < %(before)s "
            "ELSE url_expires_at < %(lapsed)s END "
            "AND (swept_at IS NULL OR swept_at < %(since)s) "
            "ORDER BY sweep_attempts, created_at, id LIMIT %(limit)s",
            {"before": created_before, "lapsed": lapsed_before or not_swept_since, "since": not_swept_since,
             "limit": limit},
        ).fetchall()
        return [PendingUpload(**row) for row in rows]

    def extend(self, upload_id: uuid.UUID, *, until: datetime) -> None:
        """A multipart upload is in use: its reservation lives on until `until`."""
        self._conn.execute(
            "UPDATE pending_uploads SET url_expires_at = greatest(url_expires_at, %s) WHERE id = %s",
            (until, upload_id),
        )

    def owe_parts_abort(self, upload_id: uuid.UUID) -> None:
        """The reservation ended while the store may hold parts: they must be aborted."""
        self._conn.execute(
            "UPDATE pending_uploads SET parts_abort_due = true WHERE id = %s AND multipart_id IS NOT NULL",
            (upload_id,),
        )

    def parts_aborted(self, upload_id: uuid.UUID) -> None:
        self._conn.execute("UPDATE pending_uploads SET parts_abort_due = false WHERE id = %s", (upload_id,))

    def aborts_due(self, *, after: uuid.UUID | None, limit: int) -> list[PendingUpload]:
        rows = self._conn.execute(
            f"SELECT {_PENDING_COLUMNS} FROM pending_uploads WHERE parts_abort_due "
            "AND (%(after)s::uuid IS NULL OR id > %(after)s) ORDER BY id LIMIT %(limit)s",
            {"after": after, "limit": limit},
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
            "WHERE status = 'failed' AND NOT parts_abort_due AND created_at < %s ORDER BY created_at LIMIT %s)",
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

    def visible(self, photo_id: uuid.UUID, *, caller: uuid.UUID) -> Photo | None:
        """The photo if `caller` may see it: their own, or one shown in an album they see."""
        return _photo(self._conn.execute(
            f"SELECT {_PHOTO_COLUMNS} FROM photos p WHERE p.id = %(id)s AND {_PHOTO_VISIBLE}",
            {"id": photo_id, "caller": caller},
        ).fetchone())

    def page(self, *, owner_id: uuid.UUID, limit: int, after: TimelinePosition | None) -> list[Photo]:
        """The owner's timeline (their own photos outside the trash), newest first by (sort_at, id);
        `after` is the last photo of the previous page."""
        resume = "AND (sort_at, id) < (%(sort_at)s, %(id)s)" if after is not None else ""
        rows = self._conn.execute(
            f"SELECT {_PHOTO_COLUMNS} FROM photos WHERE owner_id = %(owner)s AND trashed_at IS NULL {resume} "
            "ORDER BY sort_at DESC, id DESC LIMIT %(limit)s",
            {"owner": owner_id, "limit": limit,
             "sort_at": after.sort_at if after else None, "id": after.photo_id if after else None},
        ).fetchall()
        return [Photo(**row) for row in rows]

    def album_page(
        self, album_id: uuid.UUID, *, caller: uuid.UUID, limit: int, after: TimelinePosition | None
    ) -> list[Photo]:
        """The photos an album shows to `caller` (nothing if they may not see the album), whoever
        owns them, in timeline order."""
        return self._album_page(
            f"ap.album_id = %(album)s AND %(album)s IN {_VISIBLE_ALBUM_IDS}",
            {"album": album_id, "caller": caller}, limit=limit, after=after,
        )

    def public_page(self, album_id: uuid.UUID, *, limit: int, after: TimelinePosition | None) -> list[Photo]:
        """What a public link to the album shows: the photos the album shows."""
        return self._album_page("ap.album_id = %(album)s", {"album": album_id}, limit=limit, after=after)

    def shown_in_album(self, photo_id: uuid.UUID, *, album_id: uuid.UUID) -> Photo | None:
        """The photo if the album shows it (a public link's download)."""
        columns = ", ".join(f"p.{c.strip()}" for c in _PHOTO_COLUMNS.split(","))
        return _photo(self._conn.execute(
            f"SELECT {columns} FROM photos p JOIN album_photos ap ON ap.photo_id = p.id "
            f"WHERE p.id = %s AND ap.album_id = %s AND {_SHOWN_IN_ALBUMS}",
            (photo_id, album_id),
        ).fetchone())

    def _album_page(
        self, selection: str, params: dict[str, object], *, limit: int, after: TimelinePosition | None
    ) -> list[Photo]:
        """One range of album_photos_timeline_idx (memberships carry their photo's sort_at and leave
        that index while the photo is in the trash), then each photo by its key: the cost is the
        page's, whatever the album's size."""
        resume = "AND (ap.sort_at, ap.photo_id) < (%(sort_at)s, %(id)s)" if after is not None else ""
        columns = ", ".join(f"p.{c.strip()}" for c in _PHOTO_COLUMNS.split(","))
        rows = self._conn.execute(
            f"SELECT {columns} FROM album_photos ap JOIN photos p ON p.id = ap.photo_id "
            f"WHERE {selection} AND {_SHOWN_IN_ALBUMS} {resume} "
            "ORDER BY ap.sort_at DESC, ap.photo_id DESC LIMIT %(limit)s",
            {**params, "limit": limit,
             "sort_at": after.sort_at if after else None, "id": after.photo_id if after else None},
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

    # An album as `caller` sees it. photo_count is kept on the row; the cover is the first entry of
    # the album's timeline index (its newest photo shown), so listing albums costs the same whatever
    # their sizes.
    _SELECT = (
        "SELECT a.id, a.owner_id, o.email AS owner_email, a.name, a.created_at, a.photo_count, "
        "cover.thumbnail_key AS cover_thumbnail_key, "
        "CASE WHEN a.owner_id = %(caller)s THEN 'owner' ELSE (SELECT m.role FROM album_members m "
        " WHERE m.album_id = a.id AND m.user_id = %(caller)s) END AS role "
        "FROM albums a JOIN users o ON o.id = a.owner_id "
        "LEFT JOIN LATERAL (SELECT p.thumbnail_key FROM album_photos ap JOIN photos p ON p.id = ap.photo_id "
        f" WHERE ap.album_id = a.id AND {_SHOWN_IN_ALBUMS} ORDER BY ap.sort_at DESC, ap.photo_id DESC LIMIT 1) cover ON true "
        f"WHERE a.id IN {_VISIBLE_ALBUM_IDS}"
    )

    def _select(self, condition: str, params: dict[str, object], order: str = "") -> list[Album]:
        rows = self._conn.execute(f"{self._SELECT} AND {condition} {order}", params).fetchall()
        return [Album(**row) for row in rows]

    def add(self, album_id: uuid.UUID, *, owner_id: uuid.UUID, name: str) -> Album:
        self._conn.execute(
            "INSERT INTO albums (id, owner_id, name) VALUES (%s, %s, %s)", (album_id, owner_id, name)
        )
        album = self.get(album_id, caller=owner_id)
        assert album is not None
        return album

    def get(self, album_id: uuid.UUID, *, caller: uuid.UUID) -> Album | None:
        """The album if `caller` may see it (owns it or is a member), else None."""
        found = self._select("a.id = %(album)s", {"caller": caller, "album": album_id})
        return found[0] if found else None

    def role(self, album_id: uuid.UUID, *, caller: uuid.UUID) -> tuple[uuid.UUID, str] | None:
        """(owner id, caller's role) if `caller` may see the album. Its row is key-share locked, so
        the album cannot be deleted before the caller's transaction ends (renames do not wait)."""
        row = self._conn.execute(
            "SELECT a.owner_id, CASE WHEN a.owner_id = %(caller)s THEN 'owner' ELSE (SELECT m.role "
            "FROM album_members m WHERE m.album_id = a.id AND m.user_id = %(caller)s) END AS role "
            f"FROM albums a WHERE a.id = %(album)s AND a.id IN {_VISIBLE_ALBUM_IDS} FOR KEY SHARE OF a",
            {"caller": caller, "album": album_id},
        ).fetchone()
        return (row["owner_id"], row["role"]) if row else None

    def owner(self, album_id: uuid.UUID) -> uuid.UUID | None:
        row = self._conn.execute("SELECT owner_id FROM albums WHERE id = %s", (album_id,)).fetchone()
        return row["owner_id"] if row else None

    def list(self, *, caller: uuid.UUID) -> list[Album]:
        """The caller's albums and the albums shared with them, newest first."""
        return self._select("TRUE", {"caller": caller}, "ORDER BY a.created_at DESC, a.id DESC")

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

    def by_ids(self, album_ids: list[uuid.UUID], *, caller: uuid.UUID) -> list[Album]:
        return self._select("a.id = ANY(%(ids)s)", {"caller": caller, "ids": album_ids})

    def snapshot_page(self, *, caller: uuid.UUID, after: uuid.UUID | None, limit: int) -> list[Album]:
        resume = "a.id > %(after)s" if after is not None else "TRUE"
        return self._select(resume, {"caller": caller, "after": after, "limit": limit}, "ORDER BY a.id LIMIT %(limit)s")

    # A membership of an owner's album, as the owner's /sync reports it: the owner's own photos are
    # members whatever their trash state (the client hides trashed ones), another user's photo (a
    # contributor's) only while it is shown, since the owner's copy has no photo to read that from.
    _MEMBERSHIP_SHOWN = f"(p.owner_id = %(owner)s OR {_SHOWN_IN_ALBUMS})"

    def memberships_page(
        self, *, owner_id: uuid.UUID, after: tuple[uuid.UUID, uuid.UUID] | None, limit: int
    ) -> list[tuple[uuid.UUID, uuid.UUID]]:
        """(album id, photo id) of every membership of the owner's albums, trashed photos included."""
        resume = "AND (ap.album_id, ap.photo_id) > (%(album)s, %(photo)s)" if after is not None else ""
        rows = self._conn.execute(
            "SELECT ap.album_id, ap.photo_id FROM album_photos ap JOIN albums a ON a.id = ap.album_id "
            f"JOIN photos p ON p.id = ap.photo_id WHERE a.owner_id = %(owner)s AND {self._MEMBERSHIP_SHOWN} "
            f"{resume} ORDER BY ap.album_id, ap.photo_id LIMIT %(limit)s",
            {"owner": owner_id, "album": after[0] if after else None,
             "photo": after[1] if after else None, "limit": limit},
        ).fetchall()
        return [(row["album_id"], row["photo_id"]) for row in rows]

    def existing_memberships(
        self, pairs: list[tuple[uuid.UUID, uuid.UUID]], *, owner_id: uuid.UUID
    ) -> set[tuple[uuid.UUID, uuid.UUID]]:
        rows = self._conn.execute(
            "SELECT ap.album_id, ap.photo_id FROM album_photos ap JOIN albums a ON a.id = ap.album_id "
            "JOIN photos p ON p.id = ap.photo_id "
            "JOIN unnest(%(albums)s::uuid[], %(photos)s::uuid[]) AS wanted (album_id, photo_id) "
            "ON wanted.album_id = ap.album_id AND wanted.photo_id = ap.photo_id "
            f"WHERE a.owner_id = %(owner)s AND {self._MEMBERSHIP_SHOWN}",
            {"albums": [a for a, _ in pairs], "photos": [p for _, p in pairs], "owner": owner_id},
        ).fetchall()
        return {(row["album_id"], row["photo_id"]) for row in rows}

    def holding(self, photo_ids: list[uuid.UUID]) -> list[tuple[uuid.UUID, uuid.UUID, uuid.UUID]]:
        """(album id, album owner id, photo id) of every album these photos are in."""
        rows = self._conn.execute(
            "SELECT ap.album_id, a.owner_id, ap.photo_id FROM album_photos ap JOIN albums a ON a.id = ap.album_id "
            "WHERE ap.photo_id = ANY(%s) ORDER BY ap.album_id, ap.photo_id",
            (photo_ids,),
        ).fetchall()
        return [(row["album_id"], row["owner_id"], row["photo_id"]) for row in rows]

    def ids_covered_by(self, photo_ids: list[uuid.UUID]) -> list[uuid.UUID]:
        """The albums whose cover (newest photo outside the trash) is one of these photos."""
        rows = self._conn.execute(
            "SELECT ap.album_id FROM album_photos ap WHERE ap.photo_id = ANY(%s) AND NOT ap.hidden "
            "AND ap.photo_id = (SELECT c.photo_id FROM album_photos c WHERE c.album_id = ap.album_id AND NOT c.hidden "
            " ORDER BY c.sort_at DESC, c.photo_id DESC LIMIT 1) ORDER BY ap.album_id",
            (photo_ids,),
        ).fetchall()
        return [row["album_id"] for row in rows]

    def audience(self, album_ids: list[uuid.UUID]) -> dict[uuid.UUID, set[uuid.UUID]]:
        """Everyone who sees each of these albums: its owner and its members with an account."""
        rows = self._conn.execute(
            "SELECT id AS album_id, owner_id AS user_id FROM albums WHERE id = ANY(%(ids)s) "
            "UNION SELECT album_id, user_id FROM album_members WHERE album_id = ANY(%(ids)s) AND user_id IS NOT NULL",
            {"ids": album_ids},
        ).fetchall()
        seen: dict[uuid.UUID, set[uuid.UUID]] = {}
        for row in rows:
            seen.setdefault(row["album_id"], set()).add(row["user_id"])
        return seen

    def add_photos(self, album_id: uuid.UUID, photo_ids: list[uuid.UUID], *, added_by: uuid.UUID) -> list[uuid.UUID]:
        """Add the photos; returns those that were not in the album already. The album's count
        changes in the same statement (the caller holds the album's lock)."""
        rows = self._conn.execute(
            "WITH added AS (INSERT INTO album_photos (album_id, photo_id, sort_at, hidden, added_by) "
            " SELECT %(album)s, p.id, p.sort_at, p.trashed_at IS NOT NULL, %(by)s FROM photos p WHERE p.id = ANY(%(ids)s) "
            " ON CONFLICT DO NOTHING RETURNING photo_id, hidden), "
            "counted AS (UPDATE albums SET photo_count = photo_count + (SELECT count(*) FROM added WHERE NOT hidden) "
            " WHERE id = %(album)s) "
            "SELECT photo_id FROM added",
            {"album": album_id, "ids": photo_ids, "by": added_by},
        ).fetchall()
        return [row["photo_id"] for row in rows]

    def added_by(self, album_id: uuid.UUID, photo_id: uuid.UUID) -> tuple[uuid.UUID] | None:
        """(who added the photo,) when it is in the album; rows from before sharing were the owner's."""
        row = self._conn.execute(
            "SELECT COALESCE(ap.added_by, a.owner_id) AS added_by FROM album_photos ap "
            "JOIN albums a ON a.id = ap.album_id WHERE ap.album_id = %s AND ap.photo_id = %s",
            (album_id, photo_id),
        ).fetchone()
        return (row["added_by"],) if row else None

    def remove_photo(self, album_id: uuid.UUID, photo_id: uuid.UUID) -> bool:
        row = self._conn.execute(
            "WITH removed AS (DELETE FROM album_photos WHERE album_id = %(album)s AND photo_id = %(photo)s "
            " RETURNING photo_id, hidden), "
            "counted AS (UPDATE albums SET photo_count = photo_count - 1 "
            " WHERE id = %(album)s AND EXISTS (SELECT 1 FROM removed WHERE NOT hidden)) "
            "SELECT photo_id FROM removed",
            {"album": album_id, "photo": photo_id},
        ).fetchone()
        return row is not None

    def set_hidden(self, photo_ids: list[uuid.UUID], *, hidden: bool) -> None:
        """Hide these photos' memberships (they moved to the trash) or show them again (restored),
        adjusting each album's count by the memberships that changed. Called in the transaction that
        moves the photos, after it changed them."""
        # The albums are locked in id order first: transactions of different users (a contributor's
        # photos in someone else's album) touching several albums cannot deadlock on them.
        albums = [row["id"] for row in self._conn.execute(
            "SELECT id FROM albums WHERE id IN (SELECT album_id FROM album_photos WHERE photo_id = ANY(%s)) "
            "ORDER BY id FOR NO KEY UPDATE",
            (photo_ids,),
        ).fetchall()]
        if not albums:
            return
        self._conn.execute(
            "WITH changed AS (UPDATE album_photos SET hidden = %(hidden)s "
            " WHERE photo_id = ANY(%(ids)s) AND hidden <> %(hidden)s RETURNING album_id) "
            "UPDATE albums a SET photo_count = a.photo_count + c.n * %(sign)s "
            "FROM (SELECT album_id, count(*) AS n FROM changed GROUP BY album_id) c WHERE a.id = c.album_id",
            {"hidden": hidden, "ids": photo_ids, "sign": -1 if hidden else 1},
        )

    def remove_added_by(self, album_id: uuid.UUID, user_id: uuid.UUID) -> list[uuid.UUID]:
        """Take out of the album every photo this user added (a member leaving takes theirs along),
        the album's count with them."""
        rows = self._conn.execute(
            "WITH removed AS (DELETE FROM album_photos WHERE album_id = %(album)s AND added_by = %(user)s "
            " RETURNING photo_id, hidden), "
            "counted AS (UPDATE albums SET photo_count = photo_count - (SELECT count(*) FROM removed WHERE NOT hidden) "
            " WHERE id = %(album)s) "
            "SELECT photo_id FROM removed",
            {"album": album_id, "user": user_id},
        ).fetchall()
        return [row["photo_id"] for row in rows]


_MEMBER_COLUMNS = "id, album_id, email, role, user_id, added_at"


class Members:
    """The people an album is shared with."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self._conn = conn

    def add(self, album_id: uuid.UUID, *, email: str, role: str, user_id: uuid.UUID | None) -> Member | None:
        """None when that email is a member already."""
        row = self._conn.execute(
            f"INSERT INTO album_members (id, album_id, email, role, user_id) VALUES (%s, %s, %s, %s, %s) "
            f"ON CONFLICT (album_id, email) DO NOTHING RETURNING {_MEMBER_COLUMNS}",
            (uuid.uuid4(), album_id, email, role, user_id),
        ).fetchone()
        return Member(**row) if row else None

    def list(self, album_id: uuid.UUID) -> list[Member]:
        rows = self._conn.execute(
            f"SELECT {_MEMBER_COLUMNS} FROM album_members WHERE album_id = %s ORDER BY added_at, id", (album_id,)
        ).fetchall()
        return [Member(**row) for row in rows]

    def get(self, member_id: uuid.UUID, *, album_id: uuid.UUID) -> Member | None:
        row = self._conn.execute(
            f"SELECT {_MEMBER_COLUMNS} FROM album_members WHERE id = %s AND album_id = %s", (member_id, album_id)
        ).fetchone()
        return Member(**row) if row else None

    def set_role(self, member_id: uuid.UUID, *, album_id: uuid.UUID, role: str) -> Member | None:
        row = self._conn.execute(
            f"UPDATE album_members SET role = %s WHERE id = %s AND album_id = %s RETURNING {_MEMBER_COLUMNS}",
            (role, member_id, album_id),
        ).fetchone()
        return Member(**row) if row else None

    def remove(self, member_id: uuid.UUID, *, album_id: uuid.UUID) -> Member | None:
        row = self._conn.execute(
            f"DELETE FROM album_members WHERE id = %s AND album_id = %s RETURNING {_MEMBER_COLUMNS}",
            (member_id, album_id),
        ).fetchone()
        return Member(**row) if row else None

    def claim(self, email: str, *, user_id: uuid.UUID) -> list[uuid.UUID]:
        """A first sign-in: the invitations waiting for this email become this user's memberships.
        Returns the albums that are now shared with them."""
        rows = self._conn.execute(
            # Lowercased as the invitation was (parse_email), not by the database's own rules.
            "UPDATE album_members SET user_id = %s WHERE user_id IS NULL AND email = %s "
            "AND album_id NOT IN (SELECT id FROM albums WHERE owner_id = %s) RETURNING album_id",
            (user_id, email.strip().lower(), user_id),
        ).fetchall()
        return [row["album_id"] for row in rows]


_LINK_COLUMNS = "id, album_id, token, password_hash, allow_download, expires_at, created_at"


class Links:
    """Public links to albums. A link that has expired is treated as gone by every read."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self._conn = conn

    def add(self, link: Link) -> None:
        self._conn.execute(
            f"INSERT INTO album_links ({_LINK_COLUMNS}) VALUES (%(id)s, %(album_id)s, %(token)s, "
            "%(password_hash)s, %(allow_download)s, %(expires_at)s, %(created_at)s)",
            link.__dict__,
        )

    def list(self, album_id: uuid.UUID) -> list[Link]:
        rows = self._conn.execute(
            f"SELECT {_LINK_COLUMNS} FROM album_links WHERE album_id = %s ORDER BY created_at, id", (album_id,)
        ).fetchall()
        return [Link(**row) for row in rows]

    def delete(self, link_id: uuid.UUID, *, album_id: uuid.UUID) -> bool:
        row = self._conn.execute(
            "DELETE FROM album_links WHERE id = %s AND album_id = %s RETURNING id", (link_id, album_id)
        ).fetchone()
        return row is not None

    def live(self, token: str) -> Link | None:
        """The link with this token, unless it expired (or never existed)."""
        row = self._conn.execute(
            f"SELECT {_LINK_COLUMNS} FROM album_links WHERE token = %s AND (expires_at IS NULL OR expires_at > now())",
            (token,),
        ).fetchone()
        return Link(**row) if row else None

    def take_password_attempt(self, link_id: uuid.UUID, *, limit: int, window_seconds: int) -> bool:
        """Count a password attempt against the link, if it has attempts left in its window (which
        starts at the first counted attempt); False when the limit is reached. One statement, so
        concurrent attempts cannot all pass the same count."""
        # The window test reads the row being updated (no sub-select): under concurrent attempts
        # PostgreSQL re-evaluates it on the row version the previous attempt committed.
        window_over = "(failures_since IS NULL OR failures_since <= now() - make_interval(secs => %(window)s))"
        row = self._conn.execute(
            "UPDATE album_links SET "
            f"failed_attempts = CASE WHEN {window_over} THEN 1 ELSE failed_attempts + 1 END, "
            f"failures_since = CASE WHEN {window_over} THEN now() ELSE failures_since END "
            f"WHERE id = %(id)s AND ({window_over} OR failed_attempts < %(limit)s) RETURNING id",
            {"id": link_id, "limit": limit, "window": window_seconds},
        ).fetchone()
        return row is not None

    def return_password_attempt(self, link_id: uuid.UUID) -> None:
        """The attempt was the right password: it does not count as a wrong one."""
        self._conn.execute(
            "UPDATE album_links SET failed_attempts = failed_attempts - 1 WHERE id = %s AND failed_attempts > 0",
            (link_id,),
        )

    def album(self, link: Link) -> tuple[str, int]:
        """(name, photo count) of the link's album, as its page shows them."""
        row = self._conn.execute(
            "SELECT name, photo_count FROM albums WHERE id = %s",
            (link.album_id,),
        ).fetchone()
        return row["name"], row["photo_count"]


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

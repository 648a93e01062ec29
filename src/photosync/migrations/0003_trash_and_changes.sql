-- PhotoSync schema, version 3: the trash, tombstones of deleted content, and the per-user change log.
-- Forward-only and in place: every statement keeps the existing rows (new columns are nullable or
-- have defaults; no table is rewritten), so a database on version 1 upgrades with its data.

-- A photo in the trash has trashed_at set; it still counts in storage_used until it is purged.
ALTER TABLE photos ADD COLUMN trashed_at timestamptz;

-- The timeline shows only photos outside the trash: its index holds only those rows, and the trash
-- has its own (small) index, listed most recently trashed first.
DROP INDEX photos_timeline_idx;
CREATE INDEX photos_timeline_idx ON photos (owner_id, sort_at DESC, id DESC) WHERE trashed_at IS NULL;
CREATE INDEX photos_trash_idx ON photos (owner_id, trashed_at DESC, id DESC) WHERE trashed_at IS NOT NULL;
-- The sweep purges across all users, oldest first.
CREATE INDEX photos_purge_idx ON photos (trashed_at, id) WHERE trashed_at IS NOT NULL;

-- Content the user deleted permanently, so clients do not upload it again unless asked. A new
-- upload of the same content removes the row in the transaction that records the photo.
CREATE TABLE deleted_content (
    owner_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    sha256     char(64) NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    deleted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (owner_id, sha256)
);

-- The change log behind GET /sync. Each row names one thing that changed (a photo, an album, or a
-- membership); /sync answers with that thing's state when it is read, so a row needs no payload
-- and a later row for the same thing supersedes it.
-- Numbers come from users.change_seq, incremented under the user's row lock in the transaction
-- that makes the change: number n+1 cannot be taken before the transaction holding n has ended,
-- so the numbers become visible in order and a cursor (the last number read) never skips a
-- change that committed late. A rolled-back transaction rolls its numbers back too: no gaps.
ALTER TABLE users ADD COLUMN change_seq bigint NOT NULL DEFAULT 0 CHECK (change_seq >= 0);
-- Compaction removes old rows; a cursor below this number may have missed some and is reset.
ALTER TABLE users ADD COLUMN changes_compacted_through bigint NOT NULL DEFAULT 0
    CHECK (changes_compacted_through >= 0 AND changes_compacted_through <= change_seq);

CREATE TABLE changes (
    owner_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    seq        bigint NOT NULL CHECK (seq > 0),
    kind       text NOT NULL CHECK (kind IN ('photo', 'album', 'album_photo')),
    photo_id   uuid,
    album_id   uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (owner_id, seq),
    CHECK (CASE kind
           WHEN 'photo' THEN photo_id IS NOT NULL AND album_id IS NULL
           WHEN 'album' THEN album_id IS NOT NULL AND photo_id IS NULL
           ELSE photo_id IS NOT NULL AND album_id IS NOT NULL END)
);
-- Compaction walks the log by age, across users.
CREATE INDEX changes_age_idx ON changes (created_at);

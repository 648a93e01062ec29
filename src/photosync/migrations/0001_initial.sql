-- PhotoSync schema, version 1.
-- Money rules live here as constraints, so no code path can break them:
--   storage_used  = sum of the owner's photo sizes       (kept in the same transaction as the rows)
--   storage_pending = sum of the owner's pending uploads  (ditto)
--   neither counter can go negative; a reservation is granted only inside the quota.

CREATE TABLE users (
    id              uuid PRIMARY KEY,               -- the Cognito `sub`
    email           text NOT NULL,
    storage_quota   bigint NOT NULL CHECK (storage_quota >= 0),
    storage_used    bigint NOT NULL DEFAULT 0 CHECK (storage_used >= 0),
    storage_pending bigint NOT NULL DEFAULT 0 CHECK (storage_pending >= 0),
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE pending_uploads (
    id           uuid PRIMARY KEY,
    owner_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    object_key   text NOT NULL UNIQUE,
    filename     text NOT NULL CHECK (char_length(filename) BETWEEN 1 AND 255),
    content_type text NOT NULL,
    size         bigint NOT NULL CHECK (size > 0),
    sha256       char(64) NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    -- A finalized upload leaves this table (its row becomes a photo); a failed one stays as a
    -- tombstone for a while so `GET /uploads/{id}` can say why.
    status       text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'failed')),
    reason       text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    url_expires_at timestamptz NOT NULL,
    CHECK ((status = 'failed') = (reason IS NOT NULL))
);
-- The sweep walks expired reservations oldest first; tombstones are purged by age.
CREATE INDEX pending_uploads_sweep_idx ON pending_uploads (created_at, id) WHERE status = 'pending';
CREATE INDEX pending_uploads_tombstone_idx ON pending_uploads (created_at) WHERE status = 'failed';
CREATE INDEX pending_uploads_owner_idx ON pending_uploads (owner_id);

CREATE TABLE photos (
    id            uuid PRIMARY KEY,                 -- the id of the upload that created it
    owner_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    object_key    text NOT NULL UNIQUE,
    filename      text NOT NULL CHECK (char_length(filename) BETWEEN 1 AND 255),
    content_type  text NOT NULL,
    size          bigint NOT NULL CHECK (size > 0),
    sha256        char(64) NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    uploaded_at   timestamptz NOT NULL DEFAULT now(),
    taken_at      timestamptz,
    -- The timeline's sort key: when the photo was taken, else when it arrived.
    sort_at       timestamptz GENERATED ALWAYS AS (COALESCE(taken_at, uploaded_at)) STORED,
    width         integer CHECK (width > 0),
    height        integer CHECK (height > 0),
    camera_make   text,
    camera_model  text,
    -- Stored for later features; no route exposes it.
    gps_latitude  double precision,
    gps_longitude double precision,
    thumbnail_key text,
    preview_key   text,
    renditions    text NOT NULL DEFAULT 'pending' CHECK (renditions IN ('pending', 'ready', 'failed', 'none')),
    rendition_attempts integer NOT NULL DEFAULT 0,
    UNIQUE (owner_id, sha256)
);
CREATE INDEX photos_timeline_idx ON photos (owner_id, sort_at DESC, id DESC);
CREATE INDEX photos_renditions_retry_idx ON photos (uploaded_at) WHERE renditions = 'pending';

CREATE TABLE albums (
    id         uuid PRIMARY KEY,
    owner_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX albums_owner_idx ON albums (owner_id, created_at, id);

CREATE TABLE album_photos (
    album_id uuid NOT NULL REFERENCES albums (id) ON DELETE CASCADE,
    photo_id uuid NOT NULL REFERENCES photos (id) ON DELETE CASCADE,
    added_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (album_id, photo_id)
);
CREATE INDEX album_photos_photo_idx ON album_photos (photo_id);

-- Transactional outbox: object keys whose rows are gone and whose bytes must be removed.
CREATE TABLE object_deletions (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    object_key      text NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    next_attempt_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX object_deletions_due_idx ON object_deletions (next_attempt_at, id);

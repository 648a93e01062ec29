-- PhotoSync schema: sharing. Albums shared with people (members with a role) and public links.
-- Forward-only and in place: new tables, and new columns that are nullable, so no table is rewritten.

-- A member is invited by email; user_id is filled in when that email has (or gets) an account.
-- Emails are kept lowercased (by the service), so one address is one member whatever its spelling.
CREATE TABLE album_members (
    id       uuid PRIMARY KEY,
    album_id uuid NOT NULL REFERENCES albums (id) ON DELETE CASCADE,
    email    text NOT NULL CHECK (char_length(email) BETWEEN 3 AND 254),
    user_id  uuid REFERENCES users (id) ON DELETE CASCADE,
    role     text NOT NULL CHECK (role IN ('viewer', 'contributor')),
    added_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (album_id, email)
);
-- "Which albums may this user see" is the visibility rule's question: one index range per caller.
CREATE UNIQUE INDEX album_members_user_idx ON album_members (user_id, album_id) WHERE user_id IS NOT NULL;
-- A first sign-in claims the invitations waiting for its email.
CREATE INDEX album_members_invited_idx ON album_members (email) WHERE user_id IS NULL;
CREATE INDEX users_email_idx ON users (lower(email));

-- Who put a photo in an album: contributors remove only what they added, and a contributor's photos
-- leave the album with them. NULL on rows from before sharing: the album's owner added those.
ALTER TABLE album_photos ADD COLUMN added_by uuid REFERENCES users (id) ON DELETE CASCADE;
CREATE INDEX album_photos_added_by_idx ON album_photos (album_id, added_by) WHERE added_by IS NOT NULL;

-- Public links are capabilities: the token (>= 128 random bits) is the whole credential. The owner
-- lists links with their tokens, so the token is kept; a password only as an argon2 hash.
-- Wrong passwords are counted per link in a window that starts at its first wrong attempt, so the
-- limit holds across every function environment and server process.
CREATE TABLE album_links (
    id             uuid PRIMARY KEY,
    album_id       uuid NOT NULL REFERENCES albums (id) ON DELETE CASCADE,
    token          text NOT NULL UNIQUE CHECK (char_length(token) >= 22),
    password_hash  text,
    allow_download boolean NOT NULL,
    expires_at     timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    failed_attempts integer NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0),
    failures_since timestamptz
);
CREATE INDEX album_links_album_idx ON album_links (album_id, created_at, id);

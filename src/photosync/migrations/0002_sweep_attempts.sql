-- The sweep counts how often it took up each expired reservation and remembers when, so one run
-- never takes the same row twice and the least-tried rows go first: a few reservations whose check
-- keeps failing cannot hold back the rest.
ALTER TABLE pending_uploads
    ADD COLUMN sweep_attempts integer NOT NULL DEFAULT 0 CHECK (sweep_attempts >= 0),
    ADD COLUMN swept_at timestamptz;
DROP INDEX pending_uploads_sweep_idx;
CREATE INDEX pending_uploads_sweep_idx ON pending_uploads (sweep_attempts, created_at, id) WHERE status = 'pending';

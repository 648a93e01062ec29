-- PhotoSync schema, version 7: multipart, resumable uploads (api.md "Large files").
-- Forward-only and in place: new columns are nullable or have defaults, existing rows stay single
-- uploads.

-- The store's handle on a multipart upload (S3's UploadId) and its layout; all null for a single PUT.
ALTER TABLE pending_uploads
    ADD COLUMN multipart_id text CHECK (char_length(multipart_id) BETWEEN 1 AND 1024),
    ADD COLUMN part_size bigint CHECK (part_size > 0),
    ADD COLUMN part_count integer CHECK (part_count BETWEEN 1 AND 10000),
    -- Set when the reservation ends (cancelled, expired, rejected) while the store may still hold
    -- parts: the sweep aborts the store's multipart upload until that succeeds, so no part outlives
    -- its reservation, and the row is kept until then.
    ADD COLUMN parts_abort_due boolean NOT NULL DEFAULT false,
    ADD CHECK ((multipart_id IS NULL) = (part_size IS NULL) AND (part_size IS NULL) = (part_count IS NULL)),
    ADD CHECK (NOT parts_abort_due OR multipart_id IS NOT NULL);

-- url_expires_at of a multipart upload is when its reservation lapses: it moves forward with every
-- part request. The sweep finds lapsed ones by it.
CREATE INDEX pending_uploads_multipart_sweep_idx ON pending_uploads (url_expires_at, id)
    WHERE status = 'pending' AND multipart_id IS NOT NULL;
CREATE INDEX pending_uploads_abort_due_idx ON pending_uploads (id) WHERE parts_abort_due;

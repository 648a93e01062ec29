-- PhotoSync schema, version 6: videos' length and their browser-playable copies.
-- Forward-only and in place: new nullable columns, no table rewritten.

-- A video's length in milliseconds (null for photos, and for videos whose length is unknown).
ALTER TABLE photos ADD COLUMN duration_ms integer CHECK (duration_ms >= 0);
-- The H.264/AAC copy made for a video browsers cannot play (null when the original plays, or none
-- was made); deleted with the photo, like its thumbnail and preview.
ALTER TABLE photos ADD COLUMN playback_key text;

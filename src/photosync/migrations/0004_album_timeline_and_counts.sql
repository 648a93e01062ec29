-- PhotoSync schema, version 4: albums that scale.
-- An album page used to join the album's memberships to photos and sort them, and every listed album
-- counted its photos: both grew with the album. Now a membership carries its photo's timeline key and
-- whether the photo is in the trash, so one index serves an album's page in timeline order without
-- sorting, and the album row keeps its visible photo count, changed in the transaction that adds,
-- removes, trashes or restores a member photo.
-- Forward-only and in place: existing rows are backfilled here.

-- The photo's sort_at (COALESCE(taken_at, uploaded_at)), which never changes once the photo exists.
ALTER TABLE album_photos ADD COLUMN sort_at timestamptz;
-- True while the photo is in its owner's trash: the membership is kept but not shown or counted.
ALTER TABLE album_photos ADD COLUMN hidden boolean NOT NULL DEFAULT false;
UPDATE album_photos ap SET sort_at = p.sort_at, hidden = (p.trashed_at IS NOT NULL)
FROM photos p WHERE p.id = ap.photo_id;
ALTER TABLE album_photos ALTER COLUMN sort_at SET NOT NULL;

-- An album's page is one range of this index (newest first, ties by photo id, as the timeline), and
-- its cover is the first entry; trashed members are not in it.
CREATE INDEX album_photos_timeline_idx ON album_photos (album_id, sort_at DESC, photo_id DESC) WHERE NOT hidden;

-- The number of the album's photos outside the trash.
ALTER TABLE albums ADD COLUMN photo_count integer NOT NULL DEFAULT 0 CHECK (photo_count >= 0);
UPDATE albums a SET photo_count = counted.n
FROM (SELECT album_id, count(*) AS n FROM album_photos WHERE NOT hidden GROUP BY album_id) counted
WHERE counted.album_id = a.id;

import type { Photo } from '../api/types';
import { timelineRows } from './timeline';

function photo(id: string, taken: string | null, uploaded = '2024-07-01T00:00:00Z'): Photo {
  return {
    id, owner_id: 'u', filename: `${id}.jpg`, content_type: 'image/jpeg', size: 1, sha256: 'x'.repeat(64),
    uploaded_at: uploaded, taken_at: taken, width: 4, height: 3, duration_ms: null, camera_make: null,
    camera_model: null, thumbnail_url: null, preview_url: null, playback_url: null, trashed_at: null,
  };
}

describe('timelineRows', () => {
  it('groups newest-first photos by month and day, in rows of the column count', () => {
    const rows = timelineRows(
      [
        photo('a', '2024-06-03T10:00:00Z'),
        photo('b', '2024-06-03T09:00:00Z'),
        photo('c', '2024-06-03T08:00:00Z'),
        photo('d', '2024-06-01T08:00:00Z'),
        photo('e', null, '2024-05-20T08:00:00Z'),
      ],
      2,
    );
    expect(rows.map((r) => (r.kind === 'photos' ? r.photos.map((p) => p.id).join('') : `${r.kind}:${r.label}`))).toEqual([
      'month:June 2024',
      'day:Mon, Jun 3',
      'ab',
      'c',
      'day:Sat, Jun 1',
      'd',
      'month:May 2024',
      'day:Mon, May 20',
      'e',
    ]);
  });

  it('builds the rows of tens of thousands of photos (the list renders only the visible ones)', () => {
    const many = Array.from({ length: 30_000 }, (_, i) =>
      photo(`p${i}`, new Date(Date.UTC(2024, 0, 1) - i * 3_600_000).toISOString()),
    );
    const rows = timelineRows(many, 4);
    const photosInRows = rows.reduce((n, r) => n + (r.kind === 'photos' ? r.photos.length : 0), 0);
    expect(photosInRows).toBe(30_000);
    expect(new Set(rows.map((r) => r.key)).size).toBe(rows.length);
  });
});

/**
 * The timeline's rows: photos (newest first, as GET /photos returns them) cut into a month header,
 * day headers and rows of `columns` thumbnails, so a virtualized list renders only what is visible.
 */
import type { Photo } from '../api/types';

export type TimelineRow =
  | { kind: 'month'; key: string; label: string }
  | { kind: 'day'; key: string; label: string }
  | { kind: 'photos'; key: string; photos: Photo[] };

const MONTH = new Intl.DateTimeFormat('en', { month: 'long', year: 'numeric', timeZone: 'UTC' });
const DAY = new Intl.DateTimeFormat('en', { weekday: 'short', day: 'numeric', month: 'short', timeZone: 'UTC' });

export function photoDate(photo: Photo): Date {
  return new Date(photo.taken_at ?? photo.uploaded_at);
}

export function timelineRows(photos: readonly Photo[], columns: number): TimelineRow[] {
  const rows: TimelineRow[] = [];
  let month = '';
  let day = '';
  let current: Photo[] = [];
  const flush = () => {
    if (current.length) rows.push({ kind: 'photos', key: `row-${current[0].id}`, photos: current });
    current = [];
  };
  for (const photo of photos) {
    const date = photoDate(photo);
    const iso = date.toISOString();
    const monthKey = iso.slice(0, 7);
    const dayKey = iso.slice(0, 10);
    if (monthKey !== month) {
      flush();
      month = monthKey;
      rows.push({ kind: 'month', key: `month-${monthKey}`, label: MONTH.format(date) });
    }
    if (dayKey !== day) {
      flush();
      day = dayKey;
      rows.push({ kind: 'day', key: `day-${dayKey}`, label: DAY.format(date) });
    }
    current.push(photo);
    if (current.length === columns) flush();
  }
  flush();
  return rows;
}

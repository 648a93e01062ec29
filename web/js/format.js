const UNITS = ["B", "KB", "MB", "GB", "TB", "PB"];

/** Bytes in binary units with the familiar labels: 15 GiB reads "15 GB", as storage is sold. */
export function formatBytes(bytes) {
  if (!Number.isFinite(bytes) || bytes < 0) return "—";
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  if (unit === 0) return `${value} B`;
  const digits = value < 10 && !Number.isInteger(value) ? 1 : 0;
  return `${value.toFixed(digits).replace(/\.0$/, "")} ${UNITS[unit]}`;
}

/** When a photo happened: the camera's time when it has one, else when it was backed up. */
export function photoDate(photo) {
  return new Date(photo.taken_at || photo.uploaded_at);
}

const dayKeyFormat = new Intl.DateTimeFormat("en-CA", { year: "numeric", month: "2-digit", day: "2-digit" });

export function dayKey(date) {
  return dayKeyFormat.format(date); // YYYY-MM-DD in the viewer's time zone
}

export function monthKey(date) {
  return dayKey(date).slice(0, 7);
}

const monthLabelFormat = new Intl.DateTimeFormat(undefined, { month: "long", year: "numeric" });
const dayLabelFormat = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short" });
const dayLabelWithYearFormat = new Intl.DateTimeFormat(undefined, {
  weekday: "short", day: "numeric", month: "short", year: "numeric",
});
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export function monthLabel(date) {
  return monthLabelFormat.format(date);
}

export function dayLabel(date) {
  const sameYear = date.getFullYear() === new Date().getFullYear();
  return (sameYear ? dayLabelFormat : dayLabelWithYearFormat).format(date);
}

export function formatDateTime(value) {
  if (!value) return "Unknown";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? "Unknown" : dateTimeFormat.format(date);
}

export function formatDimensions(photo) {
  const size = photo.width && photo.height ? `${photo.width} × ${photo.height}` : "Unknown";
  return photo.duration_ms == null ? size : `${size} · ${formatDuration(photo.duration_ms)}`;
}

/** A video's length as a player shows it: 0:07, 12:34, 1:02:03. */
export function formatDuration(ms) {
  const total = Math.round(ms / 1000);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, "0");
  return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${seconds}` : `${minutes}:${seconds}`;
}

// A photo grid grouped by day under month headers, newest first, loaded page by page as the user
// scrolls. Tiles are only ever added or removed one by one: a tile, once shown, is never rebuilt, so
// the page does not jump while further pages, freshly uploaded photos or changes made elsewhere
// (from the change feed, see sync.js) arrive.

import { h } from "./dom.js";
import { dayKey, dayLabel, formatDuration, monthKey, monthLabel, photoDate } from "./format.js";

const PAGE_SIZE = 60;

/** Newest first; ties by id, descending, so the order is total. */
function comesBefore(a, b) {
  if (a.time !== b.time) return a.time > b.time;
  return a.id > b.id;
}

function sortKeyOf(el) {
  return { time: Number(el.dataset.time), id: el.dataset.sortId };
}

function sortKey(photo) {
  const time = photoDate(photo).getTime();
  return { time: Number.isNaN(time) ? 0 : time, id: photo.id };
}

/** Insert `el` among `parent`'s children (already in order), checking the end first: pages append. */
function insertInOrder(parent, el, before) {
  const last = parent.lastElementChild;
  if (!last || before(last, el)) {
    parent.append(el);
    return;
  }
  for (const child of parent.children) {
    if (before(el, child)) {
      parent.insertBefore(el, child);
      return;
    }
  }
  parent.append(el);
}

export class Timeline {
  constructor({ api, albumId = null, onOpen, emptyTitle, emptyText }) {
    this.api = api;
    this.albumId = albumId;
    this.onOpen = onOpen;
    this.photos = new Map();
    this.tiles = new Map();
    // Photos the change feed removed: a page fetched before the removal must not bring them back.
    this.gone = new Set();
    this.days = new Map();
    this.months = new Map();
    this.cursor = null;
    this.started = false;
    this.done = false;
    this.loading = null;
    this.abort = new AbortController();

    this.groups = h("div", { class: "timeline-groups" });
    this.status = h("div", { class: "timeline-status", role: "status" });
    this.sentinel = h("div", { class: "timeline-sentinel", "aria-hidden": "true" });
    this.empty = h(
      "div",
      { class: "empty-state", hidden: true },
      h("div", { class: "empty-illustration", "aria-hidden": "true" }),
      h("h2", { text: emptyTitle }),
      h("p", { class: "muted", text: emptyText }),
    );
    this.element = h("div", { class: "timeline" }, this.groups, this.empty, this.status, this.sentinel);

    this.observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((entry) => entry.isIntersecting)) this.loadMore();
      },
      { rootMargin: "1200px 0px" },
    );
    this.observer.observe(this.sentinel);
  }

  destroy() {
    this.observer.disconnect();
    this.abort.abort();
    this.element.remove();
  }

  get hasMore() {
    return !this.done;
  }

  /** Fetch the next page; concurrent calls share one request. */
  loadMore() {
    if (this.done) return Promise.resolve();
    this.loading ??= this.fetchPage().finally(() => {
      this.loading = null;
      // The observer reports changes only: if the sentinel is still in reach, ask again.
      if (!this.done && !this.failed) {
        this.observer.unobserve(this.sentinel);
        this.observer.observe(this.sentinel);
      }
    });
    return this.loading;
  }

  async fetchPage() {
    this.failed = false;
    this.setStatus(this.started ? "Loading more photos…" : "Loading your photos…", true);
    try {
      const page = await this.api.listPhotos({
        cursor: this.cursor ?? undefined,
        albumId: this.albumId ?? undefined,
        limit: PAGE_SIZE,
        signal: this.abort.signal,
      });
      this.started = true;
      for (const photo of page.items) {
        if (!this.gone.has(photo.id)) this.add(photo);
      }
      this.cursor = page.next_cursor;
      this.done = !page.next_cursor;
      this.setStatus("");
    } catch (error) {
      if (error.name === "AbortError") return;
      this.failed = true;
      if (error.status === 401) return;
      this.setStatus(error.message, false, () => this.loadMore());
    }
    this.updateEmpty();
  }

  setStatus(message, busy = false, retry = null) {
    this.status.replaceChildren();
    this.status.classList.toggle("busy", busy);
    if (!message) return;
    if (busy) this.status.append(h("span", { class: "spinner small", "aria-hidden": "true" }));
    this.status.append(h("span", { text: message }));
    if (retry) this.status.append(h("button", { type: "button", class: "button small", text: "Try again", onclick: retry }));
  }

  updateEmpty() {
    this.empty.hidden = !(this.started && this.done && this.photos.size === 0);
  }

  has(id) {
    return this.photos.has(id);
  }

  /** Add one photo in its place (no-op when it is already shown). */
  add(photo) {
    if (this.photos.has(photo.id)) return;
    const date = photoDate(photo);
    this.photos.set(photo.id, photo);
    const tile = this.createTile(photo);
    tile.dataset.time = String(sortKey(photo).time);
    tile.dataset.sortId = photo.id;
    this.tiles.set(photo.id, tile);
    insertInOrder(this.dayGrid(date), tile, (a, b) => comesBefore(sortKeyOf(a), sortKeyOf(b)));
    this.updateEmpty();
  }

  /** Show a photo that has just been finalized (from an upload). */
  addNew(photo) {
    this.add(photo);
    this.tiles.get(photo.id)?.classList.add("tile-new");
  }

  /** Whether `photo` falls within what is loaded: later pages bring the photos beyond it. */
  covers(photo) {
    if (this.done) return true;
    const tiles = this.groups.getElementsByClassName("tile");
    const last = tiles[tiles.length - 1];
    return Boolean(last) && comesBefore(sortKey(photo), sortKeyOf(last));
  }

  /** A photo added or changed elsewhere (change feed): shown in its place, or gone if trashed. */
  applyUpsert(photo) {
    if (photo.trashed_at) {
      this.applyDelete(photo.id);
      return;
    }
    this.gone.delete(photo.id);
    if (this.photos.has(photo.id)) this.update(photo);
    else if (this.covers(photo)) this.add(photo);
  }

  applyDelete(id) {
    this.gone.add(id);
    this.remove(id);
  }

  /** New details for a shown photo; a thumbnail made since replaces the placeholder. */
  update(photo) {
    this.photos.set(photo.id, photo);
    const tile = this.tiles.get(photo.id);
    const shown = tile?.querySelector(".tile-placeholder");
    if (shown && photo.thumbnail_url) shown.replaceWith(this.thumbnail(photo));
  }

  /** Start again from the first page (the change feed asked for a full replay). */
  reset() {
    this.abort.abort();
    this.abort = new AbortController();
    for (const id of [...this.tiles.keys()]) this.remove(id);
    this.gone.clear();
    this.cursor = null;
    this.started = false;
    this.done = false;
    this.loading = null;
    return this.loadMore();
  }

  remove(id) {
    const tile = this.tiles.get(id);
    if (!tile) return;
    const grid = tile.parentElement;
    tile.remove();
    this.tiles.delete(id);
    this.photos.delete(id);
    if (grid && grid.childElementCount === 0) {
      const day = grid.closest(".day");
      const month = day.closest(".month");
      day.remove();
      this.days.delete(day.dataset.day);
      if (!month.querySelector(".day")) {
        month.remove();
        this.months.delete(month.dataset.month);
      }
    }
    this.updateEmpty();
  }

  /** The loaded photos in display order, for the viewer's previous/next. */
  orderedPhotos() {
    return [...this.groups.querySelectorAll(".tile")].map((tile) => this.photos.get(tile.dataset.photoId));
  }

  dayGrid(date) {
    const key = dayKey(date);
    const existing = this.days.get(key);
    if (existing) return existing.querySelector(".grid");
    const day = h(
      "section",
      { class: "day", dataset: { day: key } },
      h("h3", { class: "day-title", text: dayLabel(date) }),
      h("div", { class: "grid" }),
    );
    this.days.set(key, day);
    insertInOrder(this.monthSection(date), day, (a, b) => {
      if (!a.dataset.day) return true; // the month's heading stays first
      return a.dataset.day > b.dataset.day;
    });
    return day.querySelector(".grid");
  }

  monthSection(date) {
    const key = monthKey(date);
    const existing = this.months.get(key);
    if (existing) return existing;
    const month = h("section", { class: "month", dataset: { month: key } }, h("h2", { class: "month-title", text: monthLabel(date) }));
    this.months.set(key, month);
    insertInOrder(this.groups, month, (a, b) => a.dataset.month > b.dataset.month);
    return month;
  }

  createTile(photo) {
    const isVideo = (photo.content_type || "").startsWith("video/");
    const tile = h("button", {
      type: "button",
      class: `tile${isVideo ? " tile-video" : ""}`,
      dataset: { photoId: photo.id },
      title: photo.filename,
      "aria-label": `Open ${photo.filename}`,
      onclick: () => this.onOpen(this.photos.get(photo.id), this),
    });
    if (photo.thumbnail_url) tile.append(this.thumbnail(photo));
    else tile.append(placeholder(photo));
    if (isVideo) {
      const length = photo.duration_ms == null ? "" : ` ${formatDuration(photo.duration_ms)}`;
      tile.append(h("span", { class: "tile-badge", text: `▶${length}`, "aria-hidden": "true" }));
    }
    return tile;
  }

  thumbnail(photo) {
    const img = h("img", { alt: photo.filename, loading: "lazy", decoding: "async", draggable: "false" });
    let refreshed = false;
    // Thumbnail URLs are short-lived: a tile that scrolls into view after its URL has expired asks
    // for a fresh one, once.
    img.addEventListener("error", async () => {
      if (refreshed) {
        img.replaceWith(placeholder(photo));
        return;
      }
      refreshed = true;
      try {
        const fresh = await this.api.getPhoto(photo.id);
        this.photos.set(photo.id, fresh);
        if (fresh.thumbnail_url) img.src = fresh.thumbnail_url;
        else img.replaceWith(placeholder(fresh));
      } catch {
        img.replaceWith(placeholder(photo));
      }
    });
    img.src = photo.thumbnail_url;
    return img;
  }
}

export function placeholder(photo) {
  const isVideo = (photo.content_type || "").startsWith("video/");
  const extension = (photo.filename.match(/\.([A-Za-z0-9]{1,5})$/)?.[1] || "").toUpperCase();
  return h(
    "span",
    { class: "tile-placeholder" },
    h("span", { class: `placeholder-icon ${isVideo ? "icon-video" : "icon-photo"}`, "aria-hidden": "true" }),
    h("span", { class: "placeholder-label", text: isVideo ? "Video" : extension || "Photo" }),
  );
}

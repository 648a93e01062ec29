// Keeps the open library current through the change feed (GET /sync): polls on an interval, when
// the window regains focus and when the tab becomes visible, and hands each page of changes over in
// order. The cursor is kept per account in localStorage, so a reload continues where it stopped
// instead of replaying the whole library; a `reset` answer replays from the start. Applying a change
// twice is harmless (an upsert of a shown photo or a delete of a gone one changes nothing), which is
// what makes a page loaded from the listing and the feed safe to combine.

const PAGE_LIMIT = 1000; // the largest page GET /sync serves: a first replay takes fewest requests

export class LibrarySync {
  constructor({ api, account, intervalMs, onChanges, onReset, signal }) {
    this.api = api;
    this.key = `photosync.syncCursor.${account}`;
    this.intervalMs = intervalMs;
    this.onChanges = onChanges;
    this.onReset = onReset;
    this.signal = signal;
    this.cursor = localStorage.getItem(this.key);
    this.running = null;
    this.timer = null;
  }

  start() {
    const poll = () => this.poll();
    window.addEventListener("focus", poll, { signal: this.signal });
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") this.poll();
    }, { signal: this.signal });
    this.timer = setInterval(poll, this.intervalMs);
    this.signal.addEventListener("abort", () => clearInterval(this.timer));
    return this.poll();
  }

  /** Fetch and apply everything new; concurrent calls share one run. */
  poll() {
    if (this.signal.aborted) return Promise.resolve();
    this.running ??= this.catchUp().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  async catchUp() {
    // Read from the start (first run, or after a reset): the whole library, not news.
    let replay = this.cursor === null;
    try {
      for (;;) {
        const page = await this.api.sync({ cursor: this.cursor ?? undefined, limit: PAGE_LIMIT, signal: this.signal });
        if (page.reset) {
          if (this.cursor === null) return; // nothing older to drop: do not loop
          this.save(null);
          replay = true;
          this.onReset();
          continue;
        }
        if (page.changes.length) this.onChanges(page.changes, { replay });
        this.save(page.next_cursor);
        if (!page.has_more) return;
      }
    } catch (error) {
      // Offline or a hiccup: the next poll tries again from the same cursor.
      if (error.name !== "AbortError" && error.status !== 401) console.warn("Sync failed:", error.message);
    }
  }

  save(cursor) {
    this.cursor = cursor;
    if (cursor === null) localStorage.removeItem(this.key);
    else localStorage.setItem(this.key, cursor);
  }
}

// The Trash: photos deleted from the library, each with the days left before the server deletes it
// for good; restore one, delete one forever, or empty the whole trash (each after a confirmation).

import { h, toast } from "./dom.js";
import { confirmDialog } from "./dialogs.js";
import { formatBytes } from "./format.js";
import { placeholder } from "./timeline.js";

const PAGE_SIZE = 60;
const DAY_MS = 86_400_000;

/** "12 days left", "1 day left", or "Deleted soon" once the retention has run out. */
export function daysLeftLabel(purgeAt, now = Date.now()) {
  const left = Math.ceil((Date.parse(purgeAt) - now) / DAY_MS);
  if (!Number.isFinite(left)) return "";
  if (left <= 0) return "Deleted soon";
  return `${left} ${left === 1 ? "day" : "days"} left`;
}

export class TrashView {
  constructor({ api, element, onRestored, onDeletedForever }) {
    this.api = api;
    this.element = element;
    this.onRestored = onRestored;
    this.onDeletedForever = onDeletedForever;
    this.items = new Map();
    this.cursor = null;
    this.loading = null;
    this.grid = h("div", { class: "trash-grid" });
    this.status = h("div", { class: "timeline-status", role: "status" });
    this.more = h("button", { type: "button", class: "button", text: "Show more", hidden: true, onclick: () => this.loadPage() });
    this.emptyButton = h("button", { type: "button", class: "button danger", text: "Empty trash", onclick: () => this.emptyTrash() });
    this.empty = h("div", { class: "empty-state", hidden: true },
      h("div", { class: "empty-illustration", "aria-hidden": "true" }),
      h("h2", { text: "Trash is empty" }),
      h("p", { class: "muted", text: "Photos you move to the trash stay here for a while before they are deleted for good." }));
    element.replaceChildren(
      h("div", { class: "view-header" },
        h("div", { class: "view-title" },
          h("h1", { text: "Trash" }),
          h("span", { class: "muted album-meta", text: "Photos here still count towards your storage until they are deleted for good." })),
        h("div", { class: "view-actions" }, this.emptyButton)),
      this.status, this.empty, this.grid, h("div", { class: "trash-more" }, this.more),
    );
  }

  /** Show the trash from its first page (called each time the view is opened). */
  load() {
    this.items.clear();
    this.grid.replaceChildren();
    this.cursor = null;
    return this.loadPage();
  }

  loadPage() {
    this.loading ??= this.fetchPage().finally(() => {
      this.loading = null;
    });
    return this.loading;
  }

  async fetchPage() {
    this.status.textContent = "Loading the trash…";
    try {
      const page = await this.api.listTrash({ cursor: this.cursor ?? undefined, limit: PAGE_SIZE });
      for (const photo of page.items) this.add(photo);
      this.cursor = page.next_cursor;
      this.more.hidden = !page.next_cursor;
      this.status.textContent = "";
    } catch (error) {
      if (error.status !== 401) this.status.textContent = error.message;
    }
    this.updateEmpty();
  }

  updateEmpty() {
    const none = this.items.size === 0 && !this.cursor;
    this.empty.hidden = !none;
    this.emptyButton.disabled = none;
  }

  add(photo) {
    if (this.items.has(photo.id)) return;
    const cover = photo.thumbnail_url
      ? h("img", { src: photo.thumbnail_url, alt: photo.filename, loading: "lazy", draggable: "false" })
      : placeholder(photo);
    const item = h("article", { class: "trash-item", dataset: { photoId: photo.id }, "aria-label": photo.filename },
      h("div", { class: "trash-cover" }, cover),
      h("span", { class: "trash-name", text: photo.filename, title: photo.filename }),
      h("span", { class: "trash-left muted", text: daysLeftLabel(photo.purge_at) }),
      h("div", { class: "trash-actions" },
        h("button", { type: "button", class: "button small", text: "Restore", onclick: () => this.restore(photo) }),
        h("button", { type: "button", class: "button small danger", text: "Delete forever", onclick: () => this.deleteForever(photo) })));
    this.items.set(photo.id, item);
    this.grid.append(item);
  }

  remove(id) {
    this.items.get(id)?.remove();
    this.items.delete(id);
    this.updateEmpty();
  }

  async restore(photo) {
    try {
      await this.api.restore([photo.id]);
      this.remove(photo.id);
      toast(`Restored ${photo.filename}`);
      this.onRestored(photo);
    } catch (error) {
      if (error.status !== 401) toast(error.message, { kind: "error" });
    }
  }

  async deleteForever(photo) {
    const confirmed = await confirmDialog({
      title: "Delete forever?",
      body: `“${photo.filename}” will be deleted for good and its ${formatBytes(photo.size)} freed. This cannot be undone.`,
      confirmLabel: "Delete forever",
    });
    if (!confirmed) return;
    try {
      await this.api.deleteForever(photo.id);
      this.remove(photo.id);
      toast("Deleted forever");
      this.onDeletedForever();
    } catch (error) {
      if (error.status !== 401) toast(error.message, { kind: "error" });
    }
  }

  async emptyTrash() {
    const confirmed = await confirmDialog({
      title: "Empty the trash?",
      body: "Every photo in the trash will be deleted for good and its storage freed. This cannot be undone.",
      confirmLabel: "Empty trash",
    });
    if (!confirmed) return;
    try {
      const result = await this.api.emptyTrash();
      this.items.clear();
      this.grid.replaceChildren();
      this.cursor = null;
      this.more.hidden = true;
      this.updateEmpty();
      toast(`Deleted ${result.deleted} ${result.deleted === 1 ? "photo" : "photos"} forever, freed ${formatBytes(result.freed_bytes)}`);
      this.onDeletedForever();
    } catch (error) {
      if (error.status !== 401) toast(error.message, { kind: "error" });
    }
  }
}

// Albums: the list, one album's photos, and the "Add to album" picker used by the viewer.

import { $, h, toast } from "./dom.js";
import { confirmDialog, promptDialog } from "./dialogs.js";
import { Timeline } from "./timeline.js";

function countLabel(count) {
  return `${count} ${count === 1 ? "item" : "items"}`;
}

export class AlbumPicker {
  constructor({ api, onAdded, signal }) {
    this.api = api;
    this.onAdded = onAdded;
    this.dialog = $("#album-picker");
    this.choices = $(".album-choices", this.dialog);
    this.nameInput = $("#new-album-name", this.dialog);
    this.error = $(".modal-error", this.dialog);
    this.photo = null;
    $("[data-action=create-album]", this.dialog).addEventListener("click", () => this.createAndAdd(), { signal });
    // Enter in the name field creates the album rather than closing the dialog.
    $("form", this.dialog).addEventListener("submit", (event) => {
      event.preventDefault();
      this.createAndAdd();
    }, { signal });
  }

  async pick(photo) {
    this.photo = photo;
    this.nameInput.value = "";
    this.showError("");
    this.choices.replaceChildren(h("li", { class: "muted", text: "Loading albums…" }));
    this.dialog.showModal();
    try {
      const { items } = await this.api.listAlbums();
      this.choices.replaceChildren(
        ...items.map((album) =>
          h("li", {},
            h("button", {
              type: "button",
              class: "album-choice",
              dataset: { albumId: album.id },
              onclick: () => this.addTo(album),
            },
            h("span", { class: "album-choice-name", text: album.name }),
            h("span", { class: "muted", text: countLabel(album.photo_count) }))),
        ),
      );
      if (items.length === 0) this.choices.replaceChildren(h("li", { class: "muted", text: "No albums yet. Create one below." }));
      this.nameInput.focus();
    } catch (error) {
      this.showError(error.message);
    }
  }

  showError(message) {
    this.error.textContent = message;
    this.error.hidden = !message;
  }

  async addTo(album) {
    try {
      await this.api.addToAlbum(album.id, [this.photo.id]);
      this.dialog.close("added");
      this.onAdded(album, this.photo);
      toast(`Added to ${album.name}`);
    } catch (error) {
      this.showError(error.message);
    }
  }

  async createAndAdd() {
    const name = this.nameInput.value.trim();
    if (!name) {
      this.showError("Please enter a name for the new album.");
      return;
    }
    try {
      const album = await this.api.createAlbum(name);
      await this.addTo(album);
    } catch (error) {
      this.showError(error.message);
    }
  }
}

export class AlbumsView {
  constructor({ api, element }) {
    this.api = api;
    this.element = element;
    this.grid = h("div", { class: "album-grid" });
    this.status = h("div", { class: "timeline-status", role: "status" });
    this.empty = h("div", { class: "empty-state", hidden: true },
      h("div", { class: "empty-illustration empty-albums", "aria-hidden": "true" }),
      h("h2", { text: "No albums yet" }),
      h("p", { class: "muted", text: "Albums keep photos together, such as a trip or a family event." }));
    element.append(
      h("div", { class: "view-header" },
        h("h1", { text: "Albums" }),
        h("button", { type: "button", class: "button primary", text: "New album", onclick: () => this.create() })),
      this.status, this.empty, this.grid,
    );
  }

  async load() {
    this.status.textContent = "Loading albums…";
    try {
      const { items } = await this.api.listAlbums();
      this.status.textContent = "";
      this.grid.replaceChildren(...items.map((album) => this.card(album)));
      this.empty.hidden = items.length > 0;
    } catch (error) {
      if (error.status !== 401) this.status.textContent = error.message;
    }
  }

  card(album) {
    const cover = h("div", { class: "album-cover" }, h("span", { class: "placeholder-icon icon-album", "aria-hidden": "true" }));
    this.loadCover(album, cover);
    return h("a", { class: "album-card", href: `#/albums/${encodeURIComponent(album.id)}`, dataset: { albumId: album.id } },
      cover,
      h("span", { class: "album-name", text: album.name }),
      h("span", { class: "album-count muted", text: countLabel(album.photo_count) }));
  }

  async loadCover(album, cover) {
    if (!album.photo_count) return;
    try {
      const { items } = await this.api.listPhotos({ albumId: album.id, limit: 1 });
      const url = items[0]?.thumbnail_url;
      if (url) cover.replaceChildren(h("img", { src: url, alt: "", loading: "lazy" }));
    } catch {
      // A cover is decoration; the card works without one.
    }
  }

  async create() {
    const album = await promptDialog({
      title: "New album",
      label: "Album name",
      confirmLabel: "Create",
      submit: (name) => this.api.createAlbum(name),
    });
    if (album) window.location.hash = `#/albums/${encodeURIComponent(album.id)}`;
  }
}

export class AlbumView {
  constructor({ api, element, albumId, onOpen }) {
    this.api = api;
    this.element = element;
    this.albumId = albumId;
    this.title = h("h1", { text: "Album" });
    this.count = h("span", { class: "muted album-meta" });
    this.timeline = new Timeline({
      api,
      albumId,
      onOpen: (photo, timeline) => onOpen(photo, { timeline, albumId }),
      emptyTitle: "This album is empty",
      emptyText: "Open a photo and choose “Add to album” to put it here.",
    });
    this.element.replaceChildren(
      h("div", { class: "view-header" },
        h("a", { href: "#/albums", class: "button ghost back-link", text: "← Albums" }),
        h("div", { class: "view-title" }, this.title, this.count),
        h("div", { class: "view-actions" },
          h("button", { type: "button", class: "button", text: "Rename", onclick: () => this.rename() }),
          h("button", { type: "button", class: "button danger", text: "Delete album", onclick: () => this.remove() }))),
      this.timeline.element,
    );
  }

  async load() {
    try {
      this.show(await this.api.getAlbum(this.albumId));
      this.timeline.loadMore();
    } catch (error) {
      if (error.status === 401) return;
      this.title.textContent = error.status === 404 ? "Album not found" : "Album unavailable";
      this.count.textContent = error.message;
    }
  }

  show(album) {
    this.album = album;
    this.title.textContent = album.name;
    this.count.textContent = countLabel(album.photo_count);
  }

  /** The album changed elsewhere: new name or count; photos that came back are loaded again. */
  refreshFrom(album) {
    const shown = this.timeline.photos.size;
    this.show(album);
    if (this.timeline.done && shown !== album.photo_count) this.timeline.reset();
  }

  adjustCount(delta) {
    if (!this.album) return;
    this.show({ ...this.album, photo_count: Math.max(0, this.album.photo_count + delta) });
  }

  async rename() {
    if (!this.album) return;
    const album = await promptDialog({
      title: "Rename album",
      label: "Album name",
      value: this.album.name,
      submit: (name) => this.api.renameAlbum(this.albumId, name),
    });
    if (album) this.show(album);
  }

  async remove() {
    if (!this.album) return;
    const confirmed = await confirmDialog({
      title: "Delete this album?",
      body: `“${this.album.name}” will be deleted. Its photos stay in your library.`,
      confirmLabel: "Delete album",
    });
    if (!confirmed) return;
    try {
      await this.api.deleteAlbum(this.albumId);
      toast("Album deleted");
      window.location.hash = "#/albums";
    } catch (error) {
      if (error.status !== 401) toast(error.message, { kind: "error" });
    }
  }

  destroy() {
    this.timeline.destroy();
  }
}

// Albums: the list (the caller's own and those shared with them), one album's photos, and the
// "Add to album" picker used by the viewer. What an album offers follows the caller's role in it:
// the owner renames, shares and deletes; a contributor adds their own photos; a viewer looks.

import { $, h, toast } from "./dom.js";
import { confirmDialog, promptDialog } from "./dialogs.js";
import { ROLE_LABELS } from "./sharing.js";
import { Timeline } from "./timeline.js";

function countLabel(count) {
  return `${count} ${count === 1 ? "item" : "items"}`;
}

function sharedBy(album) {
  return `Shared by ${album.owner?.email ?? "someone"}`;
}

/** Albums the caller may put their own photos in. */
function acceptsPhotos(album) {
  return album.role === "owner" || album.role === "contributor";
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
      const items = (await this.api.listAlbums()).items.filter(acceptsPhotos);
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
            h("span", { class: "muted", text: album.role === "owner" ? countLabel(album.photo_count) : sharedBy(album) }))),
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
    this.grid = h("div", { class: "album-grid", dataset: { albums: "own" } });
    this.sharedGrid = h("div", { class: "album-grid", dataset: { albums: "shared" } });
    this.sharedSection = h("section", { class: "shared-albums", "aria-label": "Shared with me", hidden: true },
      h("h2", { class: "section-title", text: "Shared with me" }),
      this.sharedGrid);
    this.status = h("div", { class: "timeline-status", role: "status" });
    this.empty = h("div", { class: "empty-state", hidden: true },
      h("div", { class: "empty-illustration empty-albums", "aria-hidden": "true" }),
      h("h2", { text: "No albums yet" }),
      h("p", { class: "muted", text: "Albums keep photos together, such as a trip or a family event." }));
    element.append(
      h("div", { class: "view-header" },
        h("h1", { text: "Albums" }),
        h("button", { type: "button", class: "button primary", text: "New album", onclick: () => this.create() })),
      this.status, this.empty, this.grid, this.sharedSection,
    );
  }

  async load() {
    this.status.textContent = "Loading albums…";
    try {
      const { items } = await this.api.listAlbums();
      const own = items.filter((album) => album.role === "owner");
      const shared = items.filter((album) => album.role !== "owner");
      this.status.textContent = "";
      this.grid.replaceChildren(...own.map((album) => this.card(album)));
      this.sharedGrid.replaceChildren(...shared.map((album) => this.card(album)));
      this.sharedSection.hidden = shared.length === 0;
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
      h("span", { class: "album-count muted", text: countLabel(album.photo_count) }),
      album.role === "owner" ? null : h("span", { class: "album-owner muted", text: sharedBy(album) }));
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
  constructor({ api, element, albumId, onOpen, shareDialog }) {
    this.api = api;
    this.element = element;
    this.albumId = albumId;
    this.shareDialog = shareDialog;
    this.accountId = null;
    this.title = h("h1", { text: "Album" });
    this.count = h("span", { class: "muted album-meta" });
    this.sharing = h("span", { class: "muted album-sharing" });
    this.actions = h("div", { class: "view-actions" });
    this.timeline = new Timeline({
      api,
      albumId,
      onOpen: (photo, timeline) => onOpen(photo, { timeline, albumId, allowed: (shown) => this.allowed(shown) }),
      emptyTitle: "This album is empty",
      emptyText: "Open a photo and choose “Add to album” to put it here.",
    });
    this.element.replaceChildren(
      h("div", { class: "view-header" },
        h("a", { href: "#/albums", class: "button ghost back-link", text: "← Albums" }),
        h("div", { class: "view-title" }, this.title, this.count, this.sharing),
        this.actions),
      this.timeline.element,
    );
  }

  /** What the viewer offers for a photo of this album: a member's photos stay theirs. */
  allowed(photo) {
    const mine = !photo.owner_id || photo.owner_id === this.accountId;
    return {
      trash: mine,
      addToAlbum: mine,
      removeFromAlbum: this.album?.role === "owner" || (this.album?.role === "contributor" && mine),
    };
  }

  async load() {
    try {
      const [album, account] = await Promise.all([this.api.getAlbum(this.albumId), this.api.me()]);
      this.accountId = account.id;
      this.show(album);
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
    this.sharing.textContent = album.role === "owner" ? "" : `${sharedBy(album)} · ${ROLE_LABELS[album.role] ?? album.role}`;
    if (this.shownRole !== album.role) this.showActions(album.role);
  }

  showActions(role) {
    this.shownRole = role;
    const button = (text, onclick, kind = "") => h("button", { type: "button", class: `button ${kind}`.trim(), text, onclick });
    if (role === "owner") {
      this.actions.replaceChildren(
        button("Share", () => this.shareDialog.open(this.album), "primary"),
        button("Rename", () => this.rename()),
        button("Delete album", () => this.remove(), "danger"));
    } else {
      this.actions.replaceChildren(button("Leave album", () => this.leave(), "danger"));
    }
    this.timeline.empty.querySelector("p").textContent = role === "viewer"
      ? "Photos added to this album will show here."
      : "Open one of your photos and choose “Add to album” to put it here.";
  }

  async leave() {
    const confirmed = await confirmDialog({
      title: "Leave this album?",
      body: `“${this.album.name}” will no longer be shared with you. Photos of yours in it leave it too.`,
      confirmLabel: "Leave album",
    });
    if (!confirmed) return;
    try {
      const { items } = await this.api.listMembers(this.albumId);
      const me = items.find((member) => member.user_id === this.accountId && member.role !== "owner");
      if (me) await this.api.removeMember(this.albumId, me.id);
      toast("You left the album");
      window.location.hash = "#/albums";
    } catch (error) {
      if (error.status !== 401) toast(error.message, { kind: "error" });
    }
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

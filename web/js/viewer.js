// The photo viewer: a large preview with the photo's details, download, delete, albums, and
// keyboard navigation through the photos of the grid it was opened from.

import { $, h, toast } from "./dom.js";
import { confirmDialog, modalOnTop } from "./dialogs.js";
import { formatBytes, formatDateTime, formatDimensions } from "./format.js";
import { placeholder } from "./timeline.js";

// Types every browser can draw, and a size worth fetching just to look at.
const BROWSER_IMAGE_TYPES = new Set(["image/jpeg", "image/png", "image/webp", "image/gif"]);
const ORIGINAL_PREVIEW_MAX_BYTES = 40 * 1024 * 1024;
const URL_REFRESH_MARGIN_MS = 60_000;

export class Viewer {
  constructor({ api, albumPicker, onDeleted, onRemovedFromAlbum, signal }) {
    this.api = api;
    this.albumPicker = albumPicker;
    this.onDeleted = onDeleted;
    this.onRemovedFromAlbum = onRemovedFromAlbum;
    this.dialog = $("#viewer");
    this.media = $(".viewer-media", this.dialog);
    this.filename = $(".viewer-filename", this.dialog);
    this.status = $(".viewer-status", this.dialog);
    this.fields = Object.fromEntries(
      [...this.dialog.querySelectorAll("[data-field]")].map((el) => [el.dataset.field, el]),
    );
    this.removeButton = $("[data-action=remove-from-album]", this.dialog);
    this.trashButton = $("[data-action=delete]", this.dialog);
    this.addButton = $("[data-action=add-to-album]", this.dialog);
    this.downloadUrls = new Map();
    this.photo = null;
    this.context = null;
    this.showToken = 0;

    this.dialog.addEventListener("click", (event) => {
      const action = event.target.closest("[data-action]")?.dataset.action;
      if (action) this.act(action);
      else if (event.target === this.dialog || event.target.classList.contains("viewer-stage")) this.close();
    }, { signal });
    this.dialog.addEventListener("keydown", (event) => {
      if (modalOnTop() || event.target.matches("input, textarea, select")) return;
      if (event.key === "ArrowRight") {
        event.preventDefault();
        this.step(1);
      } else if (event.key === "ArrowLeft") {
        event.preventDefault();
        this.step(-1);
      }
    }, { signal });
    this.dialog.addEventListener("close", () => {
      this.showToken += 1;
      this.media.replaceChildren();
      this.photo = null;
      this.context = null;
    }, { signal });
  }

  /**
   * `context`: { timeline, albumId, allowed? } — where the photo was opened from; `allowed(photo)`
   * says which changes a shared album lets the caller make ({ trash, addToAlbum, removeFromAlbum }).
   */
  open(photo, context) {
    this.context = context;
    this.show(photo);
    if (!this.dialog.open) this.dialog.showModal();
    this.dialog.focus();
  }

  close() {
    if (this.dialog.open) this.dialog.close();
  }

  show(photo) {
    this.photo = photo;
    const token = ++this.showToken;
    this.filename.textContent = photo.filename;
    this.fields.taken.textContent = photo.taken_at ? formatDateTime(photo.taken_at) : "Unknown";
    this.fields.uploaded.textContent = formatDateTime(photo.uploaded_at);
    this.fields.size.textContent = formatBytes(photo.size);
    this.fields.dimensions.textContent = formatDimensions(photo);
    this.fields.type.textContent = photo.content_type || "Unknown";
    this.status.textContent = "";
    this.updateNav();
    const allowed = this.context?.allowed?.(photo) ?? { trash: true, addToAlbum: true, removeFromAlbum: true };
    this.trashButton.hidden = !allowed.trash;
    this.addButton.hidden = !allowed.addToAlbum;
    this.removeButton.hidden = !(this.context?.albumId && allowed.removeFromAlbum);

    const previewUrl = photo.preview_url || photo.thumbnail_url;
    const isVideo = (photo.content_type || "").startsWith("video/");
    if (isVideo) {
      this.media.replaceChildren(placeholder(photo));
      this.showVideo(photo, token);
    } else if (previewUrl) {
      this.media.replaceChildren(h("img", { src: previewUrl, alt: photo.filename, class: "viewer-image" }));
      if (BROWSER_IMAGE_TYPES.has(photo.content_type) && photo.size <= ORIGINAL_PREVIEW_MAX_BYTES) {
        this.upgradeToOriginal(photo, token);
      }
    } else {
      this.media.replaceChildren(
        h("div", { class: "viewer-fallback" },
          placeholder(photo),
          h("p", { text: "No preview is available for this file." }),
          h("button", { type: "button", class: "button primary", "data-action": "download", text: "Download to view" })),
      );
    }
  }

  /** Swap the small rendition for the original once it has loaded, if the viewer still shows it. */
  async upgradeToOriginal(photo, token) {
    try {
      const url = await this.downloadUrl(photo.id);
      const original = new Image();
      original.src = url;
      await original.decode();
      if (token !== this.showToken) return;
      original.alt = photo.filename;
      original.className = "viewer-image";
      this.media.replaceChildren(original);
    } catch {
      // The small rendition stays: it is still a faithful preview.
    }
  }

  /** A video plays from its browser-playable copy when it has one (an HEVC original, say), else from
   * the original itself; both are served with HTTP range requests, which is how seeking works. */
  async showVideo(photo, token) {
    try {
      const url = photo.playback_url || await this.downloadUrl(photo.id);
      if (token !== this.showToken) return;
      const video = h("video", { src: url, controls: true, preload: "metadata", playsinline: true, class: "viewer-image", "aria-label": photo.filename });
      const poster = photo.preview_url || photo.thumbnail_url;
      if (poster) video.poster = poster;
      this.media.replaceChildren(video);
    } catch {
      // The placeholder stays; "Download original" still works.
    }
  }

  async downloadUrl(id) {
    const cached = this.downloadUrls.get(id);
    if (cached && cached.expires > Date.now() + URL_REFRESH_MARGIN_MS) return cached.url;
    const grant = await this.api.downloadUrl(id);
    const expires = grant.expires_at ? Date.parse(grant.expires_at) : Date.now() + 5 * 60_000;
    this.downloadUrls.set(id, { url: grant.url, expires });
    return grant.url;
  }

  siblings() {
    return this.context?.timeline?.orderedPhotos() ?? [];
  }

  updateNav() {
    const list = this.siblings();
    const index = list.findIndex((photo) => photo.id === this.photo?.id);
    $(".viewer-prev", this.dialog).disabled = index <= 0;
    $(".viewer-next", this.dialog).disabled = index === -1 || (index >= list.length - 1 && !this.context?.timeline?.hasMore);
  }

  async step(direction) {
    if (!this.photo) return;
    let list = this.siblings();
    let index = list.findIndex((photo) => photo.id === this.photo.id);
    if (index === -1) return;
    if (direction > 0 && index === list.length - 1 && this.context.timeline.hasMore) {
      await this.context.timeline.loadMore();
      list = this.siblings();
      index = list.findIndex((photo) => photo.id === this.photo?.id);
    }
    const next = list[index + direction];
    if (next) this.show(next);
  }

  async act(action) {
    const photo = this.photo;
    if (!photo && action !== "close") return;
    try {
      if (action === "close") this.close();
      else if (action === "prev") await this.step(-1);
      else if (action === "next") await this.step(1);
      else if (action === "download") await this.download(photo);
      else if (action === "delete") await this.delete(photo);
      else if (action === "add-to-album") await this.albumPicker.pick(photo);
      else if (action === "remove-from-album") await this.removeFromAlbum(photo);
    } catch (error) {
      if (error.status === 401) return;
      this.status.textContent = error.message;
    }
  }

  async download(photo) {
    this.status.textContent = "Preparing download…";
    const url = await this.downloadUrl(photo.id);
    const link = h("a", { href: url, download: photo.filename, rel: "noopener", class: "visually-hidden" });
    document.body.append(link);
    link.click();
    link.remove();
    this.status.textContent = "";
  }

  /** After the current photo leaves the grid, show its neighbour (or close when none is left). */
  async moveAwayFrom(photo, remove) {
    const list = this.siblings();
    const index = list.findIndex((item) => item.id === photo.id);
    remove();
    const next = list[index + 1] || list[index - 1];
    if (next && next.id !== photo.id) this.show(next);
    else this.close();
  }

  async delete(photo) {
    const confirmed = await confirmDialog({
      title: "Move this photo to the trash?",
      body: `“${photo.filename}” leaves your library and its albums. You can restore it from Trash until it is deleted for good.`,
      confirmLabel: "Move to trash",
    });
    if (!confirmed) return;
    this.status.textContent = "Moving to trash…";
    await this.api.deletePhoto(photo.id);
    this.downloadUrls.delete(photo.id);
    await this.moveAwayFrom(photo, () => this.onDeleted(photo.id));
    toast("Moved to trash");
  }

  async removeFromAlbum(photo) {
    const albumId = this.context.albumId;
    await this.api.removeFromAlbum(albumId, photo.id);
    await this.moveAwayFrom(photo, () => this.onRemovedFromAlbum(albumId, photo.id));
    toast("Removed from album");
  }
}

// The public page of an album link, `/s/{token}`: anyone with the link sees the album's photos,
// signed out. It speaks only to `GET /public/{token}` and its download route, never with a sign-in,
// and shows only what those answer (no filenames, owners or places). A password the visitor types is
// kept in memory for this page only and sent in `X-Link-Password` with each call.

import { ApiError } from "./api.js";
import { $, h } from "./dom.js";
import { formatDateTime, formatDimensions } from "./format.js";

const PAGE_SIZE = 60;
const MESSAGES = {
  404: "This link does not work any more: it may have expired or been turned off. Ask whoever sent it for a new one.",
  429: "Too many wrong passwords. Wait a few minutes, then try again.",
  network: "Could not reach PhotoSync. Check your connection and try again.",
};
const EXTENSIONS = { "image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/gif": "gif", "image/heic": "heic",
  "image/heif": "heif", "image/avif": "avif", "video/mp4": "mp4", "video/quicktime": "mov" };

/** The link token of a `/s/{token}` page (the app may be served below a path prefix), else null. */
export function publicToken(pathname) {
  const match = pathname.match(/\/s\/([A-Za-z0-9_-]+)\/?$/);
  return match ? match[1] : null;
}

function createPublicApi(baseUrl, token) {
  let password = null;
  async function get(path, query = {}) {
    const target = new URL(`${baseUrl}/public/${encodeURIComponent(token)}${path}`);
    for (const [key, value] of Object.entries(query)) if (value) target.searchParams.set(key, value);
    const headers = { Accept: "application/json" };
    if (password !== null) headers["X-Link-Password"] = password;
    let response;
    try {
      response = await fetch(target.href, { headers, cache: "no-store", credentials: "omit" });
    } catch {
      throw new ApiError(0, "network", MESSAGES.network);
    }
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      const code = body?.error?.code ?? `http_${response.status}`;
      throw new ApiError(response.status, code, MESSAGES[response.status] ?? body?.error?.message ?? `Request failed (HTTP ${response.status}).`);
    }
    return body;
  }
  return {
    setPassword: (value) => {
      password = value;
    },
    hasPassword: () => password !== null,
    page: (cursor) => get("", { limit: PAGE_SIZE, cursor }),
    downloadUrl: (photoId) => get(`/photos/${encodeURIComponent(photoId)}/download`),
  };
}

function isVideo(photo) {
  return (photo.content_type || "").startsWith("video/");
}

function label(photo, index) {
  const kind = isVideo(photo) ? "Video" : "Photo";
  return photo.taken_at ? `${kind} taken ${formatDateTime(photo.taken_at)}` : `${kind} ${index + 1}`;
}

class PublicAlbum {
  constructor({ api }) {
    this.api = api;
    this.photos = [];
    this.cursor = null;
    this.done = false;
    this.loading = null;
    this.allowDownload = true;
    this.root = $("#public");
    this.title = $("#public-title");
    this.count = $("#public-count");
    this.message = $("#public-message");
    this.passwordForm = $("#public-password");
    this.passwordError = $(".notice", this.passwordForm);
    this.grid = $("#public-grid");
    this.status = $("#public-status");
    this.viewer = new PublicViewer({ album: this });
    this.observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) this.loadMore();
    }, { rootMargin: "1200px 0px" });
    this.passwordForm.addEventListener("submit", (event) => {
      event.preventDefault();
      this.api.setPassword($("input", this.passwordForm).value);
      this.loadMore();
    });
  }

  start() {
    this.root.hidden = false;
    this.loadMore();
  }

  loadMore() {
    if (this.done) return Promise.resolve();
    this.loading ??= this.fetchPage().finally(() => {
      this.loading = null;
    });
    return this.loading;
  }

  async fetchPage() {
    this.status.textContent = this.photos.length ? "Loading more photos…" : "Loading…";
    let page;
    try {
      page = await this.api.page(this.cursor);
    } catch (error) {
      this.status.textContent = "";
      this.failed(error);
      return;
    }
    this.status.textContent = "";
    this.passwordForm.hidden = true;
    this.message.hidden = true;
    this.showAlbum(page);
    const first = this.photos.length;
    this.photos.push(...page.items);
    this.grid.append(...page.items.map((photo, offset) => this.tile(photo, first + offset)));
    this.cursor = page.next_cursor;
    this.done = !page.next_cursor;
    if (this.done) this.observer.disconnect();
    else {
      // The observer reports changes only: look again whether the end of the grid is in reach.
      this.observer.unobserve(this.status);
      this.observer.observe(this.status);
    }
    if (this.photos.length === 0) this.showMessage("This album is empty.");
  }

  failed(error) {
    if (error.code === "password_required") {
      this.passwordForm.hidden = false;
      const wrong = this.api.hasPassword();
      this.passwordError.textContent = wrong ? "That password is not right. Try again." : "";
      this.passwordError.hidden = !wrong;
      const input = $("input", this.passwordForm);
      input.value = "";
      input.focus();
      return;
    }
    if (error.status === 404) this.title.textContent = "Link not available";
    this.showMessage(error.message);
  }

  showMessage(text) {
    this.message.textContent = text;
    this.message.hidden = false;
  }

  showAlbum(page) {
    this.title.textContent = page.album.name;
    document.title = `${page.album.name} · PhotoSync`;
    const count = page.album.photo_count;
    this.count.textContent = `${count} ${count === 1 ? "item" : "items"}`;
    // A link that does not allow downloads may say so; one that does not say is asked, and answers.
    const allow = page.album.allow_download ?? page.allow_download;
    if (typeof allow === "boolean") this.allowDownload = allow;
  }

  tile(photo, index) {
    const tile = h("button", {
      type: "button",
      class: `tile${isVideo(photo) ? " tile-video" : ""}`,
      dataset: { photoId: photo.id },
      "aria-label": `Open ${label(photo, index)}`,
      onclick: () => this.viewer.open(index),
    });
    const shown = () => h("span", { class: "tile-placeholder" },
      h("span", { class: `placeholder-icon ${isVideo(photo) ? "icon-video" : "icon-photo"}`, "aria-hidden": "true" }),
      h("span", { class: "placeholder-label", text: isVideo(photo) ? "Video" : "Photo" }));
    if (photo.thumbnail_url) {
      const img = h("img", { src: photo.thumbnail_url, alt: label(photo, index), loading: "lazy", decoding: "async", draggable: "false" });
      img.addEventListener("error", () => img.replaceWith(shown()), { once: true });
      tile.append(img);
    } else {
      tile.append(shown());
    }
    if (isVideo(photo)) tile.append(h("span", { class: "tile-badge", text: "▶", "aria-hidden": "true" }));
    return tile;
  }
}

class PublicViewer {
  constructor({ album }) {
    this.album = album;
    this.dialog = $("#public-viewer");
    this.media = $(".viewer-media", this.dialog);
    this.details = $(".public-viewer-details", this.dialog);
    this.status = $(".viewer-status", this.dialog);
    this.downloadButton = $("[data-action=download]", this.dialog);
    this.index = -1;
    this.token = 0;
    this.dialog.addEventListener("click", (event) => {
      const action = event.target.closest("[data-action]")?.dataset.action;
      if (action === "close") this.dialog.close();
      else if (action === "prev") this.step(-1);
      else if (action === "next") this.step(1);
      else if (action === "download") this.download();
      else if (event.target === this.dialog || event.target.classList.contains("viewer-stage")) this.dialog.close();
    });
    this.dialog.addEventListener("keydown", (event) => {
      if (event.key === "ArrowRight") this.step(1);
      else if (event.key === "ArrowLeft") this.step(-1);
    });
    this.dialog.addEventListener("close", () => {
      this.token += 1;
      this.media.replaceChildren();
      this.index = -1;
    });
  }

  open(index) {
    this.show(index);
    if (!this.dialog.open) this.dialog.showModal();
    this.dialog.focus();
  }

  show(index) {
    const photo = this.album.photos[index];
    if (!photo) return;
    this.index = index;
    const token = ++this.token;
    this.status.textContent = "";
    this.downloadButton.hidden = !this.album.allowDownload;
    this.details.textContent = [photo.taken_at ? formatDateTime(photo.taken_at) : null, formatDimensions(photo)]
      .filter((part) => part && part !== "Unknown").join(" · ");
    $(".viewer-prev", this.dialog).disabled = index <= 0;
    $(".viewer-next", this.dialog).disabled = index >= this.album.photos.length - 1 && this.album.done;
    const still = photo.preview_url || photo.thumbnail_url;
    if (isVideo(photo) && this.album.allowDownload) this.showVideo(photo, still, token);
    else if (still) this.media.replaceChildren(h("img", { src: still, alt: label(photo, index), class: "viewer-image" }));
    else this.media.replaceChildren(h("p", { class: "viewer-fallback", text: "No preview is available for this file." }));
  }

  async showVideo(photo, poster, token) {
    if (poster) this.media.replaceChildren(h("img", { src: poster, alt: label(photo, this.index), class: "viewer-image" }));
    try {
      const { url } = await this.album.api.downloadUrl(photo.id);
      if (token !== this.token) return;
      const video = h("video", { src: url, controls: true, preload: "metadata", class: "viewer-image", "aria-label": label(photo, this.index) });
      if (poster) video.poster = poster;
      this.media.replaceChildren(video);
    } catch (error) {
      if (token === this.token) this.refused(error);
    }
  }

  async step(direction) {
    if (this.index < 0) return;
    const next = this.index + direction;
    if (next >= this.album.photos.length && !this.album.done) await this.album.loadMore();
    if (next >= 0 && next < this.album.photos.length) this.show(next);
  }

  async download() {
    const photo = this.album.photos[this.index];
    if (!photo) return;
    this.status.textContent = "Preparing download…";
    try {
      const { url } = await this.album.api.downloadUrl(photo.id);
      const name = `photo-${photo.id.slice(0, 8)}.${EXTENSIONS[photo.content_type] ?? "bin"}`;
      const link = h("a", { href: url, download: name, rel: "noopener", class: "visually-hidden" });
      document.body.append(link);
      link.click();
      link.remove();
      this.status.textContent = "";
    } catch (error) {
      this.refused(error);
    }
  }

  /** A download the link does not allow (or no longer serves): say so, and offer it no more. */
  refused(error) {
    if (error.status === 403 || error.code === "forbidden") {
      this.album.allowDownload = false;
      this.downloadButton.hidden = true;
      this.status.textContent = "Downloads are turned off for this link.";
    } else {
      this.status.textContent = error.message;
    }
  }
}

/** Show the public album of `token` (the signed-in app is never started on this page). */
export function startPublicPage(config, token) {
  const api = createPublicApi(config.apiBaseUrl, token);
  new PublicAlbum({ api }).start();
}

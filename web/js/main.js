// PhotoSync web client: boot, sign-in, routing between the library's views, and the wiring between
// uploads, the timeline, the viewer, the trash, the change feed and the storage meter.

import { createApi } from "./api.js";
import { AlbumPicker, AlbumsView, AlbumView } from "./albums.js";
import {
  completeAuthorization, currentSession, endSession, logoutRedirect, renewAfterRefusal, signInLocal,
  startAuthorization, validAccessToken,
} from "./auth.js";
import { loadConfig } from "./config.js";
import { confirmDialog } from "./dialogs.js";
import { $, toast } from "./dom.js";
import { publicToken, startPublicPage } from "./public.js";
import { ShareDialog } from "./sharing.js";
import { StorageMeter } from "./storage.js";
import { LibrarySync } from "./sync.js";
import { Timeline } from "./timeline.js";
import { TrashView } from "./trash.js";
import { UploadManager } from "./uploads.js";
import { Viewer } from "./viewer.js";

let config;
let app = null;

function show(screen) {
  $("#boot").hidden = screen !== "boot";
  $("#public").hidden = screen !== "public";
  $("#signin").hidden = screen !== "signin";
  $("#app").hidden = screen !== "app";
}

function bootFailure(message) {
  $("#boot-message").textContent = message;
  $("#boot").classList.add("boot-error");
  show("boot");
}

// ---- sign-in screen ----------------------------------------------------------------------------

function showSignIn(message) {
  const notice = $("#signin-message");
  notice.textContent = message || "";
  notice.hidden = !message;
  const local = config.auth.mode === "local";
  $("#local-signin").hidden = !local;
  $("#oauth-signin").hidden = local;
  show("signin");
  if (local) $("#signin-email").focus();
}

function wireSignIn() {
  const form = $("#local-signin");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = $("button[type=submit]", form);
    button.disabled = true;
    try {
      const email = $("#signin-email").value.trim();
      await signInLocal(config.auth, email);
      startApp(currentSession());
    } catch (error) {
      showSignIn(error.message);
    } finally {
      button.disabled = false;
    }
  });
  $("#oauth-signin").addEventListener("click", async () => {
    try {
      await startAuthorization(config.auth);
    } catch (error) {
      showSignIn(error.message);
    }
  });
}

/** Called on any 401: the token is gone or no longer accepted. */
function signOutWith(message) {
  endSession();
  if (app) {
    app.teardown();
    app = null;
  }
  showSignIn(message);
}

// ---- the signed-in app -------------------------------------------------------------------------

class App {
  constructor(session) {
    // Every listener the app adds to long-lived elements goes when the app does (sign-out).
    this.listeners = new AbortController();
    const { signal } = this.listeners;
    this.api = createApi({
      baseUrl: config.apiBaseUrl,
      getToken: () => validAccessToken(config.auth),
      renewToken: (refusedToken) => renewAfterRefusal(config.auth, refusedToken),
      // Requests still in flight from a torn-down app must not sign the next user out.
      onUnauthorized: (message) => {
        if (app === this) signOutWith(message);
      },
    });
    this.storage = new StorageMeter({ api: this.api, element: $("#storage") });
    this.shareDialog = new ShareDialog({ api: this.api, signal });
    this.albumPicker = new AlbumPicker({
      api: this.api,
      signal,
      onAdded: (album, photo) => {
        if (this.albumView?.albumId === album.id) {
          this.albumView.timeline.addNew(photo);
          this.albumView.adjustCount(1);
        }
      },
    });
    this.viewer = new Viewer({
      api: this.api,
      signal,
      albumPicker: this.albumPicker,
      onDeleted: (id) => this.photoDeleted(id),
      onRemovedFromAlbum: (albumId, id) => {
        if (this.albumView?.albumId === albumId) {
          this.albumView.timeline.remove(id);
          this.albumView.adjustCount(-1);
        }
      },
    });
    this.timeline = new Timeline({
      api: this.api,
      onOpen: (photo, timeline) => this.viewer.open(photo, { timeline, albumId: null }),
      emptyTitle: "No photos yet",
      emptyText: "Drag photos and videos here, or choose Upload, to back them up.",
    });
    this.uploads = new UploadManager({
      api: this.api,
      signal,
      storage: this.storage,
      onPhotoAdded: (photo) => this.timeline.addNew(photo),
    });
    this.albumsView = null;
    this.albumView = null;
    this.trashView = null; // built when first opened
    this.sync = new LibrarySync({
      api: this.api,
      account: session.email || "default",
      intervalMs: config.syncIntervalMs,
      signal,
      onChanges: (changes, context) => this.applyChanges(changes, context),
      onReset: () => {
        this.timeline.reset();
        if (!$("#trash-view").hidden) this.trashView?.load();
      },
    });

    $("#photos-view").replaceChildren(this.timeline.element);
    $("#account-email").textContent = session.email || "";
    this.wire();
    this.storage.refresh().then((account) => {
      if (account?.email) $("#account-email").textContent = account.email;
    });
    this.route();
    this.sync.start();
  }

  /**
   * Changes made elsewhere (another tab, device or the CLI), in order, from the change feed.
   * `replay`: the feed is being read from the start, while the views load from the listings anyway,
   * so only what is cheap to apply locally is applied.
   */
  applyChanges(changes, { replay }) {
    let photosChanged = false;
    let trashChanged = false;
    let albumsChanged = false;
    for (const change of changes) {
      if (change.type === "photo") {
        photosChanged = true;
        const id = change.op === "delete" ? change.id : change.photo.id;
        if (change.op === "upsert") this.timeline.applyUpsert(change.photo);
        else this.timeline.applyDelete(id);
        const leftAlbum = change.op === "delete" || change.photo.trashed_at;
        if (leftAlbum && this.albumView?.timeline.has(id)) {
          this.albumView.timeline.applyDelete(id);
          this.albumView.adjustCount(-1);
        }
        trashChanged ||= change.op === "delete" || this.trashView?.items.has(id) !== Boolean(change.photo.trashed_at);
      } else if (change.type === "album") {
        albumsChanged = true;
        const id = change.op === "delete" ? change.id : change.album.id;
        if (!replay && this.albumView?.albumId === id) {
          if (change.op === "upsert") this.albumView.refreshFrom(change.album);
          else {
            toast(this.albumView.album?.role === "owner" ? "This album was deleted" : "This album is no longer shared with you");
            window.location.hash = "#/albums";
          }
        }
      } else if (change.type === "album_photo" && !replay && this.albumView?.albumId === change.album_id) {
        this.applyMembership(change);
      }
    }
    if (photosChanged) this.storage.refresh();
    if (trashChanged && !$("#trash-view").hidden) this.trashView?.load();
    if (albumsChanged && !replay && !$("#albums-view").hidden) this.albumsView?.load();
  }

  async applyMembership(change) {
    const view = this.albumView;
    if (change.op === "remove") {
      if (view.timeline.has(change.photo_id)) {
        view.timeline.applyDelete(change.photo_id);
        view.adjustCount(-1);
      }
      return;
    }
    if (view.timeline.has(change.photo_id)) return;
    try {
      const photo = this.timeline.photos.get(change.photo_id) ?? (await this.api.getPhoto(change.photo_id));
      if (this.albumView !== view || view.timeline.has(photo.id) || photo.trashed_at) return;
      view.timeline.applyUpsert(photo);
      view.adjustCount(1);
    } catch {
      // Gone again meanwhile: a later change says so.
    }
  }

  wire() {
    const { signal } = this.listeners;
    window.addEventListener("hashchange", () => this.route(), { signal });
    const input = $("#file-input");
    input.addEventListener("change", () => {
      this.uploads.add(input.files);
      input.value = "";
    }, { signal });
    $("#signout").addEventListener("click", () => this.signOut(), { signal });
    this.wireDragAndDrop(signal);
  }

  wireDragAndDrop(signal) {
    const overlay = $("#drop-overlay");
    let depth = 0;
    const carriesFiles = (event) => [...(event.dataTransfer?.types ?? [])].includes("Files");
    window.addEventListener("dragenter", (event) => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      depth += 1;
      overlay.hidden = false;
    }, { signal });
    window.addEventListener("dragover", (event) => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
    }, { signal });
    window.addEventListener("dragleave", (event) => {
      if (!carriesFiles(event)) return;
      depth = Math.max(0, depth - 1);
      if (depth === 0) overlay.hidden = true;
    }, { signal });
    window.addEventListener("drop", (event) => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      depth = 0;
      overlay.hidden = true;
      if (event.dataTransfer.files.length) this.uploads.add(event.dataTransfer.files);
    }, { signal });
  }

  route() {
    const hash = window.location.hash.replace(/^#\/?/, "");
    const [section, id] = hash.split("/").map(decodeURIComponent);
    this.viewer.close();
    this.albumView?.destroy();
    this.albumView = null;
    $("#photos-view").hidden = true;
    $("#albums-view").hidden = true;
    $("#album-view").hidden = true;
    $("#trash-view").hidden = true;
    let tab = "photos";
    if (section === "trash") {
      tab = "trash";
      this.trashView ??= new TrashView({
        api: this.api,
        element: $("#trash-view"),
        onRestored: (photo) => {
          this.timeline.applyUpsert({ ...photo, trashed_at: null });
          this.storage.refresh();
        },
        onDeletedForever: () => this.storage.refresh(),
      });
      $("#trash-view").hidden = false;
      this.trashView.load();
    } else if (section === "albums" && id) {
      tab = "albums";
      this.albumView = new AlbumView({
        api: this.api,
        element: $("#album-view"),
        albumId: id,
        onOpen: (photo, context) => this.viewer.open(photo, context),
        shareDialog: this.shareDialog,
      });
      $("#album-view").hidden = false;
      this.albumView.load();
    } else if (section === "albums") {
      tab = "albums";
      this.albumsView ??= new AlbumsView({ api: this.api, element: $("#albums-view") });
      $("#albums-view").hidden = false;
      this.albumsView.load();
    } else {
      $("#photos-view").hidden = false;
      this.timeline.loadMore();
    }
    for (const link of document.querySelectorAll("[data-nav]")) {
      link.classList.toggle("active", link.dataset.nav === tab);
      if (link.dataset.nav === tab) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    window.scrollTo(0, 0);
  }

  photoDeleted(id) {
    this.timeline.remove(id);
    if (this.albumView?.timeline.has(id)) {
      this.albumView.timeline.remove(id);
      this.albumView.adjustCount(-1);
    }
    this.storage.refresh();
  }

  async signOut() {
    if (this.uploads.busy) {
      const confirmed = await confirmDialog({
        title: "Sign out now?",
        body: "Uploads still in progress will stop. Files not yet backed up will need to be added again.",
        confirmLabel: "Sign out",
      });
      if (!confirmed) return;
    }
    endSession();
    const redirect = logoutRedirect(config.auth);
    this.teardown();
    app = null;
    if (redirect) window.location.assign(redirect);
    else showSignIn("You have signed out.");
  }

  teardown() {
    this.listeners.abort();
    this.uploads.cancel();
    this.viewer.close();
    this.timeline.destroy();
    this.albumView?.destroy();
    $("#albums-view").replaceChildren();
    $("#album-view").replaceChildren();
    $("#trash-view").replaceChildren();
    $("#upload-list").replaceChildren();
    $("#upload-panel").hidden = true;
  }
}

function startApp(session) {
  show("app");
  app = new App(session);
}

async function boot() {
  try {
    config = await loadConfig();
  } catch (error) {
    bootFailure(error.message);
    return;
  }
  // A public link's page (/s/{token}) is for anyone: no sign-in, and the library app never starts.
  const token = publicToken(window.location.pathname);
  if (token) {
    show("public");
    startPublicPage(config, token);
    return;
  }
  wireSignIn();
  if (config.auth.mode !== "local") {
    try {
      await completeAuthorization(config.auth);
    } catch (error) {
      showSignIn(error.message);
      return;
    }
  }
  const session = currentSession();
  if (session) startApp(session);
  else showSignIn();
}

window.addEventListener("unhandledrejection", (event) => {
  // An expired session is already handled by sending the user to sign-in.
  if (event.reason?.status === 401) event.preventDefault();
  else if (event.reason?.message) toast(event.reason.message, { kind: "error" });
});

boot();

// Backing up files: hash in the browser (a streaming SHA-256, hashing.js), ask for an upload grant,
// PUT the bytes with exactly the granted headers (XMLHttpRequest, for upload progress; big files in
// parts, multipart.js), then wait for the server to finalize. A few files at a time; the rest wait
// their turn while the user keeps browsing.

import { ApiError } from "./api.js";
import { $, h } from "./dom.js";
import { formatBytes } from "./format.js";
import { sha256Hex } from "./hashing.js";
import { forgetUnfinished, rememberUnfinished, sendInParts, unfinishedGrant, wantsMultipart } from "./multipart.js";
import { StorageMeter } from "./storage.js";

const CONCURRENCY = 3;
const POLL_FIRST_MS = 400;
const POLL_MAX_MS = 3000;
const POLL_GIVE_UP_MS = 10 * 60 * 1000;

// Browsers set these themselves and refuse (noisily) to let a page set them.
const BROWSER_CONTROLLED_HEADERS = new Set([
  "content-length", "host", "connection", "expect", "keep-alive", "te", "trailer",
  "transfer-encoding", "upgrade", "accept-encoding", "date", "origin", "referer", "cookie",
]);

// Browsers often leave File.type empty for HEIC, camera RAW and some videos, or name a RAW file
// with a type of their own (image/x-dcraw): the extension decides for those; the server checks the
// real bytes.
const TYPES_BY_EXTENSION = {
  jpg: "image/jpeg", jpeg: "image/jpeg", jpe: "image/jpeg", png: "image/png", gif: "image/gif",
  webp: "image/webp", heic: "image/heic", heif: "image/heif", hif: "image/heif", avif: "image/avif",
  dng: "image/x-adobe-dng", cr2: "image/x-canon-cr2", cr3: "image/x-canon-cr3", nef: "image/x-nikon-nef",
  arw: "image/x-sony-arw", raf: "image/x-fuji-raf", rw2: "image/x-panasonic-rw2", orf: "image/x-olympus-orf",
  mp4: "video/mp4", m4v: "video/mp4", mov: "video/quicktime", qt: "video/quicktime",
};
const RAW_EXTENSIONS = new Set(["dng", "cr2", "cr3", "nef", "arw", "raf", "rw2", "orf"]);

export function contentTypeOf(file) {
  const extension = file.name.split(".").pop()?.toLowerCase() ?? "";
  if (RAW_EXTENSIONS.has(extension)) return TYPES_BY_EXTENSION[extension];
  if (file.type) return file.type;
  return TYPES_BY_EXTENSION[extension] ?? "application/octet-stream";
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const STATUS_TEXT = {
  queued: "Waiting",
  hashing: "Checking file…",
  requesting: "Preparing…",
  uploading: "Uploading",
  processing: "Processing…",
  done: "Backed up",
  duplicate: "Already backed up",
  failed: "Failed",
};

const FINISHED = new Set(["done", "duplicate", "failed"]);

export class UploadManager {
  constructor({ api, storage, onPhotoAdded, signal }) {
    this.api = api;
    this.storage = storage;
    this.onPhotoAdded = onPhotoAdded;
    this.jobs = [];
    this.requests = new Set();
    this.cancelled = false;
    this.active = 0;
    this.nextId = 1;
    this.panel = $("#upload-panel");
    this.list = $("#upload-list");
    this.total = $("#upload-total");
    this.title = $("#upload-title");
    this.subtitle = $("#upload-subtitle");
    this.toggle = $("#upload-toggle");
    this.closeButton = $("#upload-close");
    this.toggle.addEventListener("click", () => {
      const collapsed = this.panel.classList.toggle("collapsed");
      this.toggle.textContent = collapsed ? "Show" : "Hide";
      this.toggle.setAttribute("aria-expanded", String(!collapsed));
    }, { signal });
    this.closeButton.addEventListener("click", () => this.clearFinished(), { signal });
    window.addEventListener("beforeunload", (event) => {
      if (this.busy) event.preventDefault();
    }, { signal });
  }

  get busy() {
    return this.jobs.some((job) => !FINISHED.has(job.status));
  }

  add(files) {
    const accepted = [...files].filter((file) => file.size >= 0);
    if (accepted.length === 0) return;
    for (const file of accepted) {
      const job = { id: this.nextId++, file, status: "queued", loaded: 0, message: "" };
      job.bar = h("progress", { class: "progress", max: "1", value: "0" });
      job.statusText = h("span", { class: "upload-status" });
      job.element = h(
        "li",
        { class: "upload-item", dataset: { status: job.status } },
        h("div", { class: "upload-row" },
          h("span", { class: "upload-name", text: file.name, title: file.name }),
          h("span", { class: "upload-size muted", text: formatBytes(file.size) })),
        job.bar,
        job.statusText,
      );
      this.jobs.push(job);
      this.list.append(job.element);
      this.render(job);
    }
    this.panel.hidden = false;
    this.panel.classList.remove("collapsed");
    this.toggle.textContent = "Hide";
    this.pump();
    this.renderSummary();
  }

  /** Stop everything (on sign-out): in-flight transfers are aborted, waiting files dropped. */
  cancel() {
    this.cancelled = true;
    for (const xhr of this.requests) xhr.abort();
    this.jobs = [];
  }

  pump() {
    while (this.active < CONCURRENCY && !this.cancelled) {
      const job = this.jobs.find((candidate) => candidate.status === "queued");
      if (!job) break;
      this.active += 1;
      this.run(job).finally(() => {
        this.active -= 1;
        this.pump();
        this.renderSummary();
      });
    }
  }

  async run(job) {
    try {
      await this.upload(job);
    } catch (error) {
      this.set(job, "failed", await this.describe(error, job));
    }
  }

  async upload(job) {
    const { file } = job;
    if (file.size === 0) throw new Error("This file is empty.");

    this.set(job, "hashing");
    const sha256 = await sha256Hex(file, {
      onProgress: (hashed) => {
        job.hashed = hashed;
        this.render(job);
      },
    });

    this.set(job, "requesting");
    const grant = (wantsMultipart(file) && await unfinishedGrant(this.api, sha256)) || await this.api.requestUpload({
      filename: file.name,
      content_type: contentTypeOf(file),
      size: file.size,
      sha256,
      ...(wantsMultipart(file) && { multipart: true }),
    });
    if (grant.status === "duplicate") {
      this.set(job, "duplicate");
      return;
    }

    this.set(job, "uploading");
    const onProgress = (loaded) => {
      job.loaded = loaded;
      this.render(job);
      this.renderSummary();
    };
    if (grant.method === "MULTIPART") {
      rememberUnfinished(sha256, grant);
      await sendInParts({
        api: this.api, grant, file, onProgress,
        putPart: (partUrl, blob, onLoaded) => this.put(partUrl, blob, onLoaded),
        isCancelled: () => this.cancelled,
      });
      forgetUnfinished(sha256);
    } else {
      await this.put(grant, file, onProgress);
    }
    job.loaded = file.size;

    this.set(job, "processing");
    this.storage.refresh();
    const photoId = await this.waitForFinalize(grant.upload_id);
    this.set(job, "done");
    const photo = await this.api.getPhoto(photoId);
    this.onPhotoAdded(photo);
    this.storage.refresh();
  }

  put(grant, file, onProgress) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open(grant.method || "PUT", this.api.resolve(grant.url));
      const headers = Object.entries(grant.headers ?? {});
      for (const [name, value] of headers) {
        if (!BROWSER_CONTROLLED_HEADERS.has(name.toLowerCase())) xhr.setRequestHeader(name, value);
      }
      // A Blob with a type makes the browser add a Content-Type of its own: send exactly the
      // granted headers, so only when the grant names one.
      const grantsContentType = headers.some(([name]) => name.toLowerCase() === "content-type");
      const body = grantsContentType ? file : file.slice(0, file.size, "");
      xhr.upload.addEventListener("progress", (event) => onProgress(event.loaded));
      this.requests.add(xhr);
      xhr.addEventListener("loadend", () => this.requests.delete(xhr));
      xhr.addEventListener("load", () => {
        if (xhr.status >= 200 && xhr.status < 300) resolve();
        else reject(new Error(`The storage refused the upload (HTTP ${xhr.status}). Please try again.`));
      });
      xhr.addEventListener("error", () => reject(new Error("The upload was interrupted. Check your connection and try again.")));
      xhr.addEventListener("abort", () => reject(new Error("The upload was cancelled.")));
      xhr.send(body);
    });
  }

  async waitForFinalize(uploadId) {
    const started = Date.now();
    let delay = POLL_FIRST_MS;
    while (!this.cancelled) {
      const state = await this.api.uploadStatus(uploadId);
      if (state.status === "complete") return state.photo_id || uploadId;
      if (state.status === "failed") {
        throw new Error(state.reason ? `The file was not accepted: ${state.reason}` : "The file was not accepted.");
      }
      if (Date.now() - started > POLL_GIVE_UP_MS) {
        throw new Error("Uploaded, but still processing. It will appear in your library when ready.");
      }
      await sleep(delay);
      delay = Math.min(POLL_MAX_MS, delay * 1.5);
    }
    throw new Error("The upload was cancelled.");
  }

  async describe(error, job) {
    if (!(error instanceof ApiError)) return error.message;
    if (error.code === "quota_exceeded") {
      const account = await this.storage.refresh();
      return account ? StorageMeter.quotaMessage(account, job.file.size) : error.message;
    }
    if (error.code === "unsupported_media_type") {
      return "Not a supported photo or video. PhotoSync backs up JPEG, PNG, HEIC, AVIF, WebP, GIF, camera RAW (DNG, CR2, CR3, NEF, ARW, RAF, RW2, ORF), MP4 and MOV files.";
    }
    return error.message;
  }

  set(job, status, message = "") {
    job.status = status;
    job.message = message;
    this.render(job);
    this.renderSummary();
  }

  render(job) {
    job.element.dataset.status = job.status;
    let text = STATUS_TEXT[job.status];
    if (job.status === "hashing" && job.hashed && job.file.size > 0) {
      text = `${text} ${Math.floor((job.hashed / job.file.size) * 100)}%`;
    }
    if (job.status === "uploading" && job.file.size > 0) {
      text = `Uploading ${Math.floor((job.loaded / job.file.size) * 100)}%`;
    }
    if (job.status === "failed" && job.message) text = job.message;
    job.statusText.textContent = text;
    job.bar.value = FINISHED.has(job.status) || job.status === "processing" ? 1 : job.file.size ? job.loaded / job.file.size : 0;
    job.bar.hidden = job.status === "duplicate" || job.status === "failed";
  }

  renderSummary() {
    const totalBytes = this.jobs.reduce((sum, job) => sum + job.file.size, 0);
    const doneBytes = this.jobs.reduce((sum, job) => sum + (FINISHED.has(job.status) ? job.file.size : job.loaded), 0);
    const finished = this.jobs.filter((job) => FINISHED.has(job.status));
    const count = (status) => this.jobs.filter((job) => job.status === status).length;
    this.total.value = totalBytes ? doneBytes / totalBytes : 1;
    if (this.busy) {
      this.title.textContent = `Uploading ${this.jobs.length} ${this.jobs.length === 1 ? "file" : "files"}`;
      this.subtitle.textContent =
        `${finished.length} done · ${formatBytes(doneBytes)} of ${formatBytes(totalBytes)} · ${Math.floor(this.total.value * 100)}%`;
    } else {
      this.title.textContent = "Uploads finished";
      const parts = [];
      if (count("done")) parts.push(`${count("done")} backed up`);
      if (count("duplicate")) parts.push(`${count("duplicate")} already backed up`);
      if (count("failed")) parts.push(`${count("failed")} failed`);
      this.subtitle.textContent = parts.join(" · ");
    }
    this.closeButton.hidden = this.busy;
    this.toggle.hidden = !this.busy;
  }

  clearFinished() {
    this.jobs = this.jobs.filter((job) => {
      if (FINISHED.has(job.status)) job.element.remove();
      return !FINISHED.has(job.status);
    });
    if (this.jobs.length === 0) this.panel.hidden = true;
    else this.renderSummary();
  }
}

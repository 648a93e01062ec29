// Backing up files: hash in the browser (streaming SHA-256, hashing.js), ask for upload grants up to
// 100 files at a time (POST /uploads/batch), PUT the bytes with exactly the granted headers
// (XMLHttpRequest, for upload progress; big files in resumable parts, multipart.js), then confirm
// that the server finalized them (one lookup for many uploads). The stages overlap: files are hashed
// and granted while earlier ones are sent, as the user keeps browsing.

import { ApiError } from "./api.js";
import { $, h } from "./dom.js";
import { formatBytes } from "./format.js";
import { sha256Hex } from "./hashing.js";
import { forgetUnfinished, rememberUnfinished, sendInParts, unfinishedGrant, wantsMultipart } from "./multipart.js";
import { StorageMeter } from "./storage.js";

const CONCURRENCY = 3; // files sent at once
const HASH_CONCURRENCY = 2; // files hashed at once (each through one bounded buffer)
const GRANT_BATCH = 100; // the API's limit for POST /uploads/batch
const GRANT_BATCH_BYTES = 100 * 1024 * 1024; // a batch's URLs are signed at once and expire
const LOOKUP_BATCH = 1000; // the API's limit for POST /photos/lookup
const POLL_FIRST_MS = 400;
const POLL_MAX_MS = 3000;
const STATUS_CHECK_AFTER_MS = 5000;
const POLL_GIVE_UP_MS = 10 * 60 * 1000;
// The status POST /uploads would have answered with a file's error.
const ERROR_STATUS = { invalid_request: 400, quota_exceeded: 413, file_too_large: 413, unsupported_media_type: 415 };

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
    this.hashing = 0;
    this.granting = false;
    this.sending = 0;
    this.confirming = false;
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
      const job = { id: this.nextId++, file, status: "queued", stage: "queued", loaded: 0, message: "" };
      // Settles with the final status: a later file with the same bytes follows this one.
      job.outcome = new Promise((resolve) => { job.finish = resolve; });
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
  }

  /** Stop everything (on sign-out): in-flight transfers are aborted, waiting files dropped. */
  cancel() {
    this.cancelled = true;
    for (const xhr of this.requests) xhr.abort();
    this.jobs = [];
  }

  // Each stage runs as soon as it has work, so the next files are hashed and granted while earlier
  // ones are sent, and the round trips of a folder of small files overlap instead of adding up.
  pump() {
    if (this.cancelled) return;
    while (this.hashing < HASH_CONCURRENCY) {
      const job = this.jobs.find((candidate) => candidate.stage === "queued");
      if (!job) break;
      job.stage = "hashing";
      this.hashing += 1;
      this.guard(job, () => this.hash(job)).finally(() => {
        this.hashing -= 1;
        this.pump();
      });
    }
    const granted = this.jobs.filter((job) => job.stage === "granted").length;
    if (!this.granting && granted < GRANT_BATCH) {
      const batch = this.nextGrantBatch();
      if (batch.length) {
        this.granting = true;
        this.grant(batch)
          .catch((error) => Promise.all(batch.map(async (job) => this.set(job, "failed", await this.describe(error, job)))))
          .finally(() => {
            this.granting = false;
            this.pump();
          });
      }
    }
    while (this.sending < CONCURRENCY) {
      const job = this.jobs.find((candidate) => candidate.stage === "granted");
      if (!job) break;
      job.stage = "sending";
      this.sending += 1;
      this.guard(job, () => this.send(job)).finally(() => {
        this.sending -= 1;
        this.pump();
      });
    }
    if (!this.confirming && this.jobs.some((job) => job.stage === "sent")) {
      this.confirming = true;
      this.confirm().finally(() => {
        this.confirming = false;
        this.pump();
      });
    }
    this.renderSummary();
  }

  async guard(job, work) {
    try {
      await work();
    } catch (error) {
      this.set(job, "failed", await this.describe(error, job));
    }
  }

  async hash(job) {
    const { file } = job;
    if (file.size === 0) throw new Error("This file is empty.");
    this.set(job, "hashing");
    job.sha256 = await sha256Hex(file, {
      onProgress: (hashed) => {
        job.hashed = hashed;
        this.render(job);
      },
    });
    this.set(job, "requesting");
    // A big file sent in part before (a failure, a reload) goes on with the upload it began.
    const unfinished = wantsMultipart(file) && await unfinishedGrant(this.api, job.sha256);
    if (unfinished) job.grant = unfinished;
    job.stage = unfinished ? "granted" : "hashed";
  }

  /** The hashed files, in order, up to the API's 100 per batch and a size whose URLs are used long before they expire. */
  nextGrantBatch() {
    const batch = [];
    let bytes = 0;
    for (const job of this.jobs) {
      if (job.stage !== "hashed") continue;
      if (batch.length && (batch.length === GRANT_BATCH || bytes + job.file.size > GRANT_BATCH_BYTES)) break;
      job.stage = "granting";
      batch.push(job);
      bytes += job.file.size;
    }
    return batch;
  }

  async grant(batch) {
    const { results } = await this.api.requestUploads(batch.map((job) => ({
      filename: job.file.name,
      content_type: contentTypeOf(job.file),
      size: job.file.size,
      sha256: job.sha256,
      ...(wantsMultipart(job.file) && { multipart: true }),
    })));
    batch.forEach((job, index) => {
      const result = results[index];
      if (result.error) {
        job.stage = "refused";
        const error = new ApiError(ERROR_STATUS[result.error.code] ?? 400, result.error.code, result.error.message, result);
        this.describe(error, job).then((message) => this.set(job, "failed", message));
      } else if (result.status === "duplicate") {
        this.set(job, "duplicate");
      } else if (result.duplicate_of !== undefined) {
        // The same bytes as an earlier file of the batch: sent once, through that file.
        job.stage = "following";
        const leader = batch[result.duplicate_of];
        leader.outcome.then((outcome) => {
          if (outcome === "failed") this.set(job, "failed", leader.message);
          else this.set(job, "duplicate");
        });
      } else {
        job.grant = result;
        job.stage = "granted";
      }
    });
  }

  async send(job) {
    this.set(job, "uploading");
    const onProgress = (loaded) => {
      job.loaded = loaded;
      this.render(job);
      this.renderSummary();
    };
    const { grant, file } = job;
    if (grant.method === "MULTIPART") {
      rememberUnfinished(job.sha256, grant);
      await sendInParts({
        api: this.api, grant, file, onProgress,
        putPart: (partUrl, blob, onLoaded) => this.put(partUrl, blob, onLoaded),
        isCancelled: () => this.cancelled,
      });
      forgetUnfinished(job.sha256);
    } else {
      await this.put(grant, file, onProgress);
    }
    job.loaded = file.size;
    job.stage = "sent";
    job.sentAt = Date.now();
    job.statusCheckedAt = job.sentAt;
    this.set(job, "processing");
    this.storage.refresh();
  }

  /** Finalized uploads, found with one lookup per 1000 of them; an upload lookups do not find for a while gets its own status asked (it may have been refused). */
  async confirm() {
    let delay = POLL_FIRST_MS;
    while (!this.cancelled) {
      const waiting = this.jobs.filter((job) => job.stage === "sent");
      if (waiting.length === 0) return;
      const found = {};
      try {
        for (let start = 0; start < waiting.length; start += LOOKUP_BATCH) {
          const hashes = waiting.slice(start, start + LOOKUP_BATCH).map((job) => job.sha256);
          const answer = await this.api.lookup(hashes);
          Object.assign(found, answer.found, answer.trashed);
        }
      } catch {
        // Not reachable for now: the uploads are on the server already, ask again in a moment.
        delay = Math.min(POLL_MAX_MS, delay * 1.5);
        await sleep(delay);
        continue;
      }
      let finished = 0;
      await Promise.all(waiting.map(async (job) => {
        try {
          let photoId = found[job.sha256];
          if (!photoId && Date.now() - job.statusCheckedAt > STATUS_CHECK_AFTER_MS) {
            job.statusCheckedAt = Date.now();
            const state = await this.api.uploadStatus(job.grant.upload_id);
            if (state.status === "complete") photoId = state.photo_id || job.grant.upload_id;
            if (state.status === "failed") {
              throw new Error(state.reason ? `The file was not accepted: ${state.reason}` : "The file was not accepted.");
            }
          }
          if (!photoId) {
            if (Date.now() - job.sentAt > POLL_GIVE_UP_MS) {
              throw new Error("Uploaded, but still processing. It will appear in your library when ready.");
            }
            return;
          }
          finished += 1;
          job.stage = "confirmed";
          this.set(job, "done");
          this.onPhotoAdded(await this.api.getPhoto(photoId));
        } catch (error) {
          finished += 1;
          job.stage = "confirmed";
          this.set(job, "failed", await this.describe(error, job));
        }
      }));
      if (finished) this.storage.refresh();
      delay = finished ? POLL_FIRST_MS : Math.min(POLL_MAX_MS, delay * 1.5);
      await sleep(delay);
    }
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
    if (FINISHED.has(status)) {
      job.stage = "finished";
      job.finish(status);
    }
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

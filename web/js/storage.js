// The quota bar: "2.1 GB of 15 GB used", from GET /me.

import { $ } from "./dom.js";
import { formatBytes } from "./format.js";

export class StorageMeter {
  constructor({ api, element }) {
    this.api = api;
    this.element = element;
    this.fill = $(".storage-fill", element);
    this.bar = $(".storage-bar", element);
    this.text = $(".storage-text", element);
    this.account = null;
  }

  async refresh() {
    try {
      this.show(await this.api.me());
    } catch (error) {
      if (error.status !== 401) this.text.textContent = "Storage unavailable";
    }
    return this.account;
  }

  show(account) {
    this.account = account;
    const quota = account.storage_quota;
    const used = account.storage_used;
    const pending = account.storage_pending || 0;
    const percent = quota > 0 ? Math.min(100, (used / quota) * 100) : 100;
    const pendingPercent = quota > 0 ? Math.min(100 - percent, (pending / quota) * 100) : 0;
    this.fill.style.width = `${percent}%`;
    this.bar.style.setProperty("--pending", `${pendingPercent}%`);
    this.bar.setAttribute("aria-valuenow", String(Math.round(percent)));
    this.element.classList.toggle("storage-warning", percent >= 90);
    this.text.textContent = `${formatBytes(used)} of ${formatBytes(quota)} used`;
    this.element.title = pending
      ? `${formatBytes(used)} used, ${formatBytes(pending)} uploading, ${formatBytes(Math.max(0, quota - used - pending))} free`
      : `${formatBytes(Math.max(0, quota - used))} free`;
  }

  /** The sentence shown when an upload does not fit. */
  static quotaMessage(account, size) {
    const free = Math.max(0, account.storage_quota - account.storage_used - (account.storage_pending || 0));
    return (
      `Not enough storage: ${formatBytes(account.storage_used)} used` +
      (account.storage_pending ? ` and ${formatBytes(account.storage_pending)} uploading` : "") +
      ` of ${formatBytes(account.storage_quota)}; this file needs ${formatBytes(size)} ` +
      `but ${formatBytes(free)} is free.`
    );
  }
}

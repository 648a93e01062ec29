// The owner's share dialog: people (added by email with a role, role changed, removed) and public
// links (made with an expiry, a password and the download switch; copied; revoked).

import { $, h, toast } from "./dom.js";
import { confirmDialog } from "./dialogs.js";
import { formatDateTime } from "./format.js";

export const ROLE_LABELS = { viewer: "Can view", contributor: "Can add photos" };
const DAY_MS = 24 * 60 * 60 * 1000;

function roleSelect(value, onchange, label) {
  return h("select", { class: "role-select", "aria-label": label, onchange },
    ...Object.entries(ROLE_LABELS).map(([role, text]) => h("option", { value: role, selected: role === value, text })));
}

function linkSummary(link) {
  const expires = link.expires_at ? `Expires ${formatDateTime(link.expires_at)}` : "Never expires";
  return [expires, link.has_password ? "Password" : "No password", link.allow_download ? "Downloads allowed" : "No downloads"].join(" · ");
}

/** Put `text` on the clipboard; where the page may not (no permission), leave it selected instead. */
async function copy(text, input) {
  try {
    await navigator.clipboard.writeText(text);
    toast("Link copied");
  } catch {
    input.focus();
    input.select();
    toast("Press Ctrl+C to copy the selected link");
  }
}

export class ShareDialog {
  constructor({ api, signal }) {
    this.api = api;
    this.dialog = $("#share-dialog");
    this.title = $(".modal-title", this.dialog);
    this.email = $("#share-email", this.dialog);
    this.role = $("#share-role", this.dialog);
    this.members = $(".share-members", this.dialog);
    this.links = $(".share-links", this.dialog);
    this.expiry = $("#link-expiry", this.dialog);
    this.password = $("#link-password", this.dialog);
    this.allowDownload = $("#link-download", this.dialog);
    this.error = $(".modal-error", this.dialog);
    this.album = null;
    $("[data-action=add-member]", this.dialog).addEventListener("click", () => this.addMember(), { signal });
    $("[data-action=create-link]", this.dialog).addEventListener("click", () => this.createLink(), { signal });
    // Enter in the email field adds that person rather than closing the dialog.
    $("form", this.dialog).addEventListener("submit", (event) => {
      event.preventDefault();
      this.addMember();
    }, { signal });
  }

  async open(album) {
    this.album = album;
    this.title.textContent = `Share “${album.name}”`;
    this.email.value = "";
    this.password.value = "";
    this.expiry.value = "";
    this.allowDownload.checked = true;
    this.showError("");
    this.members.replaceChildren(h("li", { class: "muted", text: "Loading…" }));
    this.links.replaceChildren();
    this.dialog.showModal();
    this.email.focus();
    await Promise.all([this.loadMembers(), this.loadLinks()]);
  }

  showError(message) {
    this.error.textContent = message;
    this.error.hidden = !message;
  }

  /** Run `work`, showing its failure in the dialog (a 401 is the sign-in screen's business). */
  async attempt(work) {
    this.showError("");
    try {
      return await work();
    } catch (error) {
      if (error.status !== 401) this.showError(error.message);
      return undefined;
    }
  }

  async loadMembers() {
    const album = this.album;
    const answer = await this.attempt(() => this.api.listMembers(album.id));
    if (!answer || album !== this.album) return;
    const people = answer.items.filter((member) => member.role !== "owner");
    this.members.replaceChildren(...people.map((member) => this.memberRow(member)));
    if (people.length === 0) this.members.replaceChildren(h("li", { class: "muted", text: "Not shared with anyone yet." }));
  }

  memberRow(member) {
    const status = member.user_id ? null : h("span", { class: "badge", text: "Invited", title: "Sees the album once they sign in" });
    return h("li", { class: "share-row", dataset: { memberId: member.id, email: member.email } },
      h("span", { class: "share-email" }, member.email, status),
      roleSelect(member.role, (event) => this.changeRole(member, event.target), `Role of ${member.email}`),
      h("button", {
        type: "button", class: "button ghost small", text: "Remove", "aria-label": `Remove ${member.email}`,
        onclick: () => this.removeMember(member),
      }));
  }

  async addMember() {
    const email = this.email.value.trim();
    if (!email || !this.email.checkValidity()) {
      this.showError("Enter the email address of the person to share with.");
      return;
    }
    const member = await this.attempt(() => this.api.addMember(this.album.id, email, this.role.value));
    if (!member) return;
    this.email.value = "";
    toast(member.user_id ? `Shared with ${member.email}` : `${member.email} will see the album once they sign in`);
    await this.loadMembers();
  }

  async changeRole(member, select) {
    const updated = await this.attempt(() => this.api.changeMemberRole(this.album.id, member.id, select.value));
    if (updated) {
      member.role = updated.role;
      toast(`${member.email}: ${ROLE_LABELS[updated.role].toLowerCase()}`);
    } else {
      select.value = member.role;
    }
  }

  async removeMember(member) {
    const done = await this.attempt(async () => {
      await this.api.removeMember(this.album.id, member.id);
      return true;
    });
    if (!done) return;
    toast(`${member.email} no longer has access`);
    await this.loadMembers();
  }

  async loadLinks() {
    const album = this.album;
    const answer = await this.attempt(() => this.api.listLinks(album.id));
    if (!answer || album !== this.album) return;
    this.links.replaceChildren(...answer.items.map((link) => this.linkRow(link)));
  }

  linkRow(link) {
    const url = h("input", { type: "text", class: "share-link-url", readonly: true, value: link.url, "aria-label": "Public link" });
    return h("li", { class: "share-link", dataset: { linkId: link.id } },
      h("div", { class: "share-link-line" },
        url,
        h("button", { type: "button", class: "button small", text: "Copy", onclick: () => copy(link.url, url) }),
        h("button", { type: "button", class: "button ghost small danger", text: "Revoke", onclick: () => this.revoke(link) })),
      h("span", { class: "muted share-link-summary", text: linkSummary(link) }));
  }

  async createLink() {
    const options = { allow_download: this.allowDownload.checked };
    const days = Number(this.expiry.value);
    if (days > 0) options.expires_at = new Date(Date.now() + days * DAY_MS).toISOString();
    if (this.password.value) options.password = this.password.value;
    const link = await this.attempt(() => this.api.createLink(this.album.id, options));
    if (!link) return;
    this.password.value = "";
    const row = this.linkRow(link);
    this.links.prepend(row);
    await copy(link.url, $(".share-link-url", row));
  }

  async revoke(link) {
    const confirmed = await confirmDialog({
      title: "Revoke this link?",
      body: "Anyone who has it will no longer see the album. A new link can be made at any time.",
      confirmLabel: "Revoke",
    });
    if (!confirmed) return;
    const done = await this.attempt(async () => {
      await this.api.deleteLink(this.album.id, link.id);
      return true;
    });
    if (!done) return;
    this.links.querySelector(`[data-link-id="${CSS.escape(link.id)}"]`)?.remove();
    toast("Link revoked");
  }
}

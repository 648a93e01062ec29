// The PhotoSync HTTP API (docs/api.md). Every call carries the bearer token. A 401 is answered once
// by renewing the token (`renewToken`) and sending the request again; a 401 after that ends the
// session through `onUnauthorized`, which sends the user back to sign-in with a message.
// API Gateway answers its own refusals (authorizer, throttling) with `{"message": ...}`: errors are
// read by status as well as by the contract's code. 429 (nothing was done) is retried for every
// request, 503 for requests that may be repeated, after the wait Retry-After asks for.

export class ApiError extends Error {
  constructor(status, code, message, body = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

const STATUS_MESSAGES = {
  401: "Your session has ended. Please sign in again.",
  403: "You are not allowed to do that.",
  404: "That item no longer exists.",
  413: "That file is too large.",
  415: "That file type is not supported.",
  429: "PhotoSync is busy right now. Please try again in a moment.",
};
const CODES_BY_STATUS = { 401: "unauthorized", 403: "forbidden", 404: "not_found", 429: "too_many_requests" };
const REPEATABLE_METHODS = new Set(["GET", "HEAD", "PUT", "PATCH", "DELETE"]);
const RETRIES = 3;
const MAX_WAIT_MS = 30_000;

/** How long to wait before retry number `retry` (0-based): Retry-After when given, else backoff. */
export function retryDelayMs(retryAfter, retry, now = Date.now()) {
  if (retryAfter) {
    const seconds = Number(retryAfter);
    const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(retryAfter) - now;
    if (Number.isFinite(ms)) return Math.min(MAX_WAIT_MS, Math.max(0, ms));
  }
  const ceiling = Math.min(MAX_WAIT_MS, 500 * 2 ** retry);
  return ceiling * (0.5 + Math.random() / 2);
}

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason ?? new DOMException("Aborted", "AbortError"));
    }, { once: true });
  });
}

export function createApi({ baseUrl, getToken, renewToken = async () => null, onUnauthorized }) {
  function url(path, query) {
    const target = new URL(baseUrl + path);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined && value !== null && value !== "") target.searchParams.set(key, value);
    }
    return target.href;
  }

  async function send(method, path, token, { json, query, signal }) {
    const headers = { Authorization: `Bearer ${token}`, Accept: "application/json" };
    if (json !== undefined) headers["Content-Type"] = "application/json";
    try {
      return await fetch(url(path, query), {
        method,
        headers,
        body: json === undefined ? undefined : JSON.stringify(json),
        signal,
        cache: "no-store",
      });
    } catch (error) {
      if (error.name === "AbortError") throw error;
      throw new ApiError(0, "network", "Could not reach PhotoSync. Check your connection and try again.");
    }
  }

  async function request(method, path, options = {}) {
    let token = await getToken();
    if (!token) {
      onUnauthorized("Please sign in.");
      throw new ApiError(401, "unauthorized", "Please sign in.");
    }
    let renewed = false;
    let response;
    for (let retry = 0; ; ) {
      response = await send(method, path, token, options);
      if (response.status === 401 && !renewed) {
        renewed = true;
        const fresh = await renewToken(token);
        if (fresh) {
          token = fresh;
          continue;
        }
      }
      const retryable = response.status === 429 || (response.status === 503 && REPEATABLE_METHODS.has(method));
      if (!retryable || retry >= RETRIES) break;
      await sleep(retryDelayMs(response.headers.get("Retry-After"), retry), options.signal);
      retry += 1;
    }
    if (response.status === 204) return null;
    let body = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    if (!response.ok) {
      const code = body?.error?.code ?? CODES_BY_STATUS[response.status] ?? `http_${response.status}`;
      const message =
        body?.error?.message || STATUS_MESSAGES[response.status] || body?.message || `Request failed (HTTP ${response.status}).`;
      if (response.status === 401) onUnauthorized(STATUS_MESSAGES[401]);
      throw new ApiError(response.status, code, message, body);
    }
    return body;
  }

  return {
    resolve: (target) => new URL(target, baseUrl + "/").href,
    me: () => request("GET", "/me"),
    listPhotos: ({ cursor, albumId, limit, signal } = {}) =>
      request("GET", "/photos", { query: { cursor, album_id: albumId, limit }, signal }),
    getPhoto: (id) => request("GET", `/photos/${encodeURIComponent(id)}`),
    downloadUrl: (id) => request("GET", `/photos/${encodeURIComponent(id)}/download`),
    deletePhoto: (id) => request("DELETE", `/photos/${encodeURIComponent(id)}`),
    requestUploads: (files) => request("POST", "/uploads/batch", { json: { files } }),
    lookup: (sha256) => request("POST", "/photos/lookup", { json: { sha256 } }),
    uploadStatus: (id) => request("GET", `/uploads/${encodeURIComponent(id)}`),
    listAlbums: () => request("GET", "/albums"),
    getAlbum: (id) => request("GET", `/albums/${encodeURIComponent(id)}`),
    createAlbum: (name) => request("POST", "/albums", { json: { name } }),
    renameAlbum: (id, name) => request("PATCH", `/albums/${encodeURIComponent(id)}`, { json: { name } }),
    deleteAlbum: (id) => request("DELETE", `/albums/${encodeURIComponent(id)}`),
    addToAlbum: (id, photoIds) =>
      request("POST", `/albums/${encodeURIComponent(id)}/photos`, { json: { photo_ids: photoIds } }),
    removeFromAlbum: (id, photoId) =>
      request("DELETE", `/albums/${encodeURIComponent(id)}/photos/${encodeURIComponent(photoId)}`),
    listTrash: ({ cursor, limit, signal } = {}) => request("GET", "/trash", { query: { cursor, limit }, signal }),
    restore: (photoIds) => request("POST", "/trash/restore", { json: { photo_ids: photoIds } }),
    deleteForever: (id) => request("DELETE", `/trash/${encodeURIComponent(id)}`),
    emptyTrash: () => request("POST", "/trash/empty"),
    sync: ({ cursor, limit, signal } = {}) => request("GET", "/sync", { query: { cursor, limit }, signal }),
    // Sharing (owner only, except listing members and a member removing themselves).
    listMembers: (id) => request("GET", `/albums/${encodeURIComponent(id)}/members`),
    addMember: (id, email, role) => request("POST", `/albums/${encodeURIComponent(id)}/members`, { json: { email, role } }),
    changeMemberRole: (id, memberId, role) =>
      request("PATCH", `/albums/${encodeURIComponent(id)}/members/${encodeURIComponent(memberId)}`, { json: { role } }),
    removeMember: (id, memberId) =>
      request("DELETE", `/albums/${encodeURIComponent(id)}/members/${encodeURIComponent(memberId)}`),
    listLinks: (id) => request("GET", `/albums/${encodeURIComponent(id)}/links`),
    createLink: (id, options) => request("POST", `/albums/${encodeURIComponent(id)}/links`, { json: options }),
    deleteLink: (id, linkId) => request("DELETE", `/albums/${encodeURIComponent(id)}/links/${encodeURIComponent(linkId)}`),
    partUrls: (uploadId, parts) => request("POST", `/uploads/${encodeURIComponent(uploadId)}/parts`, { json: { parts } }),
    storedParts: (uploadId) => request("GET", `/uploads/${encodeURIComponent(uploadId)}/parts`),
    completeUpload: (uploadId, parts) =>
      request("POST", `/uploads/${encodeURIComponent(uploadId)}/complete`, { json: { parts } }),
  };
}

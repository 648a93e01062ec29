// The PhotoSync HTTP API (docs/api.md). Every call carries the bearer token; a 401 anywhere ends the
// session through `onUnauthorized`, which sends the user back to sign-in with a message.

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
  404: "That item no longer exists.",
  413: "That file is too large.",
  415: "That file type is not supported.",
};

export function createApi({ baseUrl, getToken, onUnauthorized }) {
  function url(path, query) {
    const target = new URL(baseUrl + path);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined && value !== null && value !== "") target.searchParams.set(key, value);
    }
    return target.href;
  }

  async function request(method, path, { json, query, signal } = {}) {
    const token = getToken();
    if (!token) {
      onUnauthorized("Please sign in.");
      throw new ApiError(401, "unauthorized", "Please sign in.");
    }
    const headers = { Authorization: `Bearer ${token}`, Accept: "application/json" };
    if (json !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(url(path, query), {
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
    if (response.status === 204) return null;
    let body = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    if (!response.ok) {
      const code = body?.error?.code ?? `http_${response.status}`;
      const message = body?.error?.message || STATUS_MESSAGES[response.status] || `Request failed (HTTP ${response.status}).`;
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
    requestUpload: (grant) => request("POST", "/uploads", { json: grant }),
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
  };
}

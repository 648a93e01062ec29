// The deployment's settings live in config.json next to index.html, so the same static files run
// against `photosync serve` and against API Gateway + Cognito without a build step.

const AUTH_MODES = new Set(["local", "oauth", "cognito"]);
const DEFAULT_SYNC_INTERVAL_SECONDS = 10;

export class ConfigError extends Error {}

export async function loadConfig() {
  let response;
  try {
    response = await fetch("config.json", { cache: "no-store", credentials: "same-origin" });
  } catch {
    throw new ConfigError("Could not reach the server to read config.json.");
  }
  if (!response.ok) throw new ConfigError(`config.json could not be loaded (HTTP ${response.status}).`);
  let raw;
  try {
    raw = await response.json();
  } catch {
    throw new ConfigError("config.json is not valid JSON.");
  }
  return parseConfig(raw);
}

function absolute(url, field) {
  if (typeof url !== "string" || url.trim() === "") throw new ConfigError(`config.json: ${field} is required.`);
  return new URL(url, window.location.href).href;
}

export function parseConfig(raw) {
  const apiBaseUrl = typeof raw?.apiBaseUrl === "string" ? raw.apiBaseUrl.replace(/\/+$/, "") : "";
  const auth = raw?.auth ?? { mode: "local" };
  if (!AUTH_MODES.has(auth.mode)) {
    throw new ConfigError(`config.json: auth.mode must be one of ${[...AUTH_MODES].join(", ")}.`);
  }
  const syncSeconds = Number(raw?.syncIntervalSeconds ?? DEFAULT_SYNC_INTERVAL_SECONDS);
  if (!Number.isFinite(syncSeconds) || syncSeconds < 1) throw new ConfigError("config.json: syncIntervalSeconds must be at least 1.");
  const config = {
    apiBaseUrl: apiBaseUrl ? new URL(apiBaseUrl, window.location.href).href.replace(/\/+$/, "") : window.location.origin,
    auth: { mode: auth.mode },
    // How often the open library asks the change feed for what changed elsewhere.
    syncIntervalMs: syncSeconds * 1000,
  };
  if (auth.mode === "local") {
    config.auth.loginUrl = new URL(auth.loginUrl || `${config.apiBaseUrl}/auth/dev/login`, window.location.href).href;
  } else {
    config.auth.authorizeUrl = absolute(auth.authorizeUrl, "auth.authorizeUrl");
    config.auth.tokenUrl = absolute(auth.tokenUrl, "auth.tokenUrl");
    if (typeof auth.clientId !== "string" || !auth.clientId) throw new ConfigError("config.json: auth.clientId is required.");
    config.auth.clientId = auth.clientId;
    config.auth.redirectUri = auth.redirectUri
      ? new URL(auth.redirectUri, window.location.href).href
      : window.location.origin + window.location.pathname;
    config.auth.scope = auth.scope || "openid email";
    config.auth.logoutUrl = auth.logoutUrl ? new URL(auth.logoutUrl, window.location.href).href : null;
    config.auth.logoutRedirectUri = auth.logoutRedirectUri || config.auth.redirectUri;
  }
  return config;
}

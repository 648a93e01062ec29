// Sign-in. The tokens live only in sessionStorage (gone when the tab closes); the access token is
// sent only in the Authorization header, the refresh token only to the token endpoint: never in a
// URL, never logged. An access token is renewed before it runs out, and once after a refusal.

const TOKEN_KEY = "photosync.session";
const PKCE_KEY = "photosync.pkce";
// Treat a token as expired a little early so a request never leaves with one about to lapse.
const EXPIRY_MARGIN_MS = 30_000;

export class SignInError extends Error {}

function readSession() {
  const raw = sessionStorage.getItem(TOKEN_KEY);
  if (!raw) return null;
  try {
    const session = JSON.parse(raw);
    if (typeof session.accessToken === "string") return session;
  } catch {
    // fall through: an unreadable session is no session
  }
  sessionStorage.removeItem(TOKEN_KEY);
  return null;
}

function spent(session) {
  return Date.now() > session.expiresAt - EXPIRY_MARGIN_MS;
}

/** The signed-in session: one whose access token is still good, or that a refresh token renews. */
export function currentSession() {
  const session = readSession();
  if (session && spent(session) && !session.refreshToken) {
    sessionStorage.removeItem(TOKEN_KEY);
    return null;
  }
  return session;
}

function storeSession(tokenResponse, email, previous = null) {
  if (!tokenResponse || typeof tokenResponse.access_token !== "string") {
    throw new SignInError("The sign-in service answered without an access token.");
  }
  const expiresIn = Number(tokenResponse.expires_in) || 3600;
  const session = {
    accessToken: tokenResponse.access_token,
    expiresAt: Date.now() + expiresIn * 1000,
    email,
    // Cognito answers a renewal without a new refresh token: the one we have stays valid.
    refreshToken: tokenResponse.refresh_token ?? previous?.refreshToken ?? null,
  };
  sessionStorage.setItem(TOKEN_KEY, JSON.stringify(session));
  return session;
}

let renewal = null;

async function renew(authConfig) {
  const session = readSession();
  if (!session?.refreshToken || authConfig.mode === "local") return null;
  let response;
  try {
    response = await fetch(authConfig.tokenUrl, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "refresh_token",
        client_id: authConfig.clientId,
        refresh_token: session.refreshToken,
      }),
    });
  } catch {
    return null;
  }
  if (!response.ok) return null;
  return storeSession(await response.json(), session.email, session);
}

/**
 * Renew the access token with the refresh token. Every request that finds its token spent waits
 * for the same renewal. Resolves to the new session, or null when the session cannot be renewed.
 */
function renewSession(authConfig) {
  if (!renewal) renewal = renew(authConfig).catch(() => null).finally(() => { renewal = null; });
  return renewal;
}

/** After the server refused `refusedToken`: a newer token to try (renewed now or meanwhile), or null. */
export async function renewAfterRefusal(authConfig, refusedToken) {
  const session = currentSession();
  if (session && session.accessToken !== refusedToken && !spent(session)) return session.accessToken;
  return (await renewSession(authConfig))?.accessToken ?? null;
}

/** An access token to send now: the current one, or a renewed one when it is about to run out. */
export async function validAccessToken(authConfig) {
  const session = currentSession();
  if (!session) return null;
  if (!spent(session)) return session.accessToken;
  return (await renewSession(authConfig))?.accessToken ?? null;
}

export function endSession() {
  sessionStorage.removeItem(TOKEN_KEY);
}

async function errorMessage(response, fallback) {
  try {
    const body = await response.json();
    return body?.error?.message || body?.error_description || fallback;
  } catch {
    return fallback;
  }
}

// ---- local mode: the dev sign-in of `photosync serve` -------------------------------------------

export async function signInLocal(authConfig, email) {
  let response;
  try {
    response = await fetch(authConfig.loginUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ email }),
    });
  } catch {
    throw new SignInError("Could not reach the server. Check that PhotoSync is running.");
  }
  if (!response.ok) throw new SignInError(await errorMessage(response, `Sign-in failed (HTTP ${response.status}).`));
  return storeSession(await response.json(), email);
}

// ---- oauth / cognito mode: authorization code with PKCE (RFC 7636, S256) ------------------------

function base64Url(bytes) {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomString(byteCount) {
  return base64Url(crypto.getRandomValues(new Uint8Array(byteCount)));
}

async function s256(text) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return base64Url(new Uint8Array(digest));
}

export async function startAuthorization(authConfig) {
  if (!crypto.subtle) throw new SignInError("Sign-in needs a secure connection (https or localhost).");
  const verifier = randomString(48);
  const state = randomString(24);
  sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state, returnTo: window.location.hash }));
  const url = new URL(authConfig.authorizeUrl);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: authConfig.clientId,
    redirect_uri: authConfig.redirectUri,
    scope: authConfig.scope,
    state,
    code_challenge: await s256(verifier),
    code_challenge_method: "S256",
  }).toString();
  window.location.assign(url.href);
}

/**
 * Finish a sign-in when the identity provider has redirected back with ?code=&state= (or ?error=).
 * Returns the new session, or null when this page load is not such a redirect.
 */
export async function completeAuthorization(authConfig) {
  const params = new URLSearchParams(window.location.search);
  if (!params.has("code") && !params.has("error")) return null;
  const pending = JSON.parse(sessionStorage.getItem(PKCE_KEY) || "null");
  sessionStorage.removeItem(PKCE_KEY);
  // The code must not stay in the address bar, the history or a bookmark.
  window.history.replaceState(null, "", window.location.pathname + (pending?.returnTo || ""));

  if (params.has("error")) {
    throw new SignInError(params.get("error_description") || `Sign-in was not completed (${params.get("error")}).`);
  }
  if (!pending || pending.state !== params.get("state")) {
    throw new SignInError("This sign-in response does not match a sign-in started here. Please try again.");
  }
  let response;
  try {
    response = await fetch(authConfig.tokenUrl, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        client_id: authConfig.clientId,
        code: params.get("code"),
        redirect_uri: authConfig.redirectUri,
        code_verifier: pending.verifier,
      }),
    });
  } catch {
    throw new SignInError("Could not reach the sign-in service.");
  }
  if (!response.ok) throw new SignInError(await errorMessage(response, `Sign-in failed (HTTP ${response.status}).`));
  return storeSession(await response.json(), null);
}

/** Where to send the browser after signing out (the provider's logout page), or null to stay. */
export function logoutRedirect(authConfig) {
  if (authConfig.mode === "local" || !authConfig.logoutUrl) return null;
  const url = new URL(authConfig.logoutUrl);
  url.searchParams.set("client_id", authConfig.clientId);
  url.searchParams.set("logout_uri", authConfig.logoutRedirectUri);
  return url.href;
}

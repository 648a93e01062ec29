/**
 * The signed-in session: which server, the access token and when it expires. Pure helpers here;
 * `SessionProvider` keeps it in secure storage and signs in and out.
 */
import type { TokenResponse } from '../api/types';

export interface Session {
  server: string;
  email: string | null;
  accessToken: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
  /** Present after a Cognito code flow: used to refresh before expiry. */
  refreshToken: string | null;
  tokenEndpoint: string | null;
  clientId: string | null;
}

/** Refresh this long before the token expires, so no request is sent with an expired token. */
export const REFRESH_MARGIN_MS = 60_000;

export function sessionFromTokens(
  server: string,
  tokens: TokenResponse,
  now: number,
  extra: Partial<Pick<Session, 'email' | 'tokenEndpoint' | 'clientId' | 'refreshToken'>> = {},
): Session {
  return {
    server: normalizeServer(server),
    email: extra.email ?? null,
    accessToken: tokens.access_token,
    expiresAt: now + tokens.expires_in * 1000,
    refreshToken: tokens.refresh_token ?? extra.refreshToken ?? null,
    tokenEndpoint: extra.tokenEndpoint ?? null,
    clientId: extra.clientId ?? null,
  };
}

/** What to do about the token now: nothing yet (wait ms), refresh it, or end the session. */
export function nextTokenStep(session: Session, now: number): { action: 'wait'; ms: number } | { action: 'refresh' | 'expire' } {
  const refreshAt = session.expiresAt - REFRESH_MARGIN_MS;
  if (now < refreshAt) return { action: 'wait', ms: refreshAt - now };
  if (session.refreshToken && session.tokenEndpoint && session.clientId) return { action: 'refresh' };
  if (now < session.expiresAt) return { action: 'wait', ms: session.expiresAt - now };
  return { action: 'expire' };
}

/** The server URL as typed, made absolute and without a trailing slash; an Error says what is wrong. */
export function normalizeServer(input: string): string {
  const trimmed = input.trim().replace(/\/+$/, '');
  const withScheme = /^https?:\/\//i.test(trimmed) ? trimmed : `http://${trimmed}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new Error(`"${input}" is not a server address like http://192.168.1.20:8000`);
  }
  if (!url.hostname) throw new Error(`"${input}" is not a server address like http://192.168.1.20:8000`);
  return withScheme;
}

export function parseSession(json: string | null): Session | null {
  if (!json) return null;
  try {
    const value = JSON.parse(json) as Session;
    return typeof value.accessToken === 'string' && typeof value.server === 'string' ? value : null;
  } catch {
    return null;
  }
}

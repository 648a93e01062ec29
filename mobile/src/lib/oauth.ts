/**
 * Browser sign-in: OAuth 2 authorization code + PKCE (expo-auth-session) against the server's
 * identity provider (Cognito's hosted UI in AWS, the local identity provider on `photosync serve`),
 * discovered from `{server}/auth/.well-known/openid-configuration`.
 */
import * as AuthSession from 'expo-auth-session';

import { noConnection } from '../api/errors';
import type { TokenResponse } from '../api/types';
import { type Session, sessionFromTokens } from '../state/session';
import { redirectUri } from './redirectUri';

export const SCOPES = ['openid', 'email', 'profile'];

export async function discover(server: string): Promise<AuthSession.DiscoveryDocument> {
  try {
    return await AuthSession.fetchDiscoveryAsync(`${server}/auth`);
  } catch (cause) {
    throw noConnection(server, cause);
  }
}

export async function signInWithBrowser(server: string, clientId: string, now = Date.now): Promise<Session | null> {
  const discovery = await discover(server);
  const request = new AuthSession.AuthRequest({
    clientId,
    redirectUri: redirectUri(),
    scopes: SCOPES,
    responseType: AuthSession.ResponseType.Code,
    usePKCE: true,
  });
  const result = await request.promptAsync(discovery);
  if (result.type === 'cancel' || result.type === 'dismiss' || result.type === 'locked') return null;
  if (result.type !== 'success') {
    const detail = result.type === 'error' ? (result.error?.description ?? result.error?.message) : result.type;
    throw new Error(`Sign-in did not complete: ${detail}`);
  }
  const tokens = await AuthSession.exchangeCodeAsync(
    {
      clientId,
      code: result.params.code,
      redirectUri: request.redirectUri,
      extraParams: { code_verifier: request.codeVerifier ?? '' },
    },
    discovery,
  );
  return sessionFromTokens(server, toContract(tokens), now(), {
    tokenEndpoint: discovery.tokenEndpoint ?? null,
    clientId,
  });
}

/** Refreshes a Cognito session with its refresh token (the local provider issues none). */
export async function refreshSession(session: Session, now = Date.now): Promise<Session> {
  if (!session.refreshToken || !session.tokenEndpoint || !session.clientId) throw new Error('nothing to refresh with');
  const tokens = await AuthSession.refreshAsync(
    { clientId: session.clientId, refreshToken: session.refreshToken },
    { tokenEndpoint: session.tokenEndpoint },
  );
  return sessionFromTokens(session.server, toContract(tokens), now(), {
    email: session.email,
    tokenEndpoint: session.tokenEndpoint,
    clientId: session.clientId,
    refreshToken: session.refreshToken,
  });
}

function toContract(tokens: AuthSession.TokenResponse): TokenResponse {
  return {
    access_token: tokens.accessToken,
    token_type: 'Bearer',
    expires_in: tokens.expiresIn ?? 3600,
    refresh_token: tokens.refreshToken,
    id_token: tokens.idToken,
  };
}

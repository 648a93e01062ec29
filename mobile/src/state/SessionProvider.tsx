import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useRef, useState } from 'react';

import { ApiClient } from '../api/client';
import { ApiError } from '../api/errors';
import { refreshSession, signInWithBrowser } from '../lib/oauth';
import { secureStorage } from '../lib/secureStorage';
import { nextTokenStep, normalizeServer, parseSession, type Session, sessionFromTokens } from './session';

const SESSION_KEY = 'photosync.session';
export const DEFAULT_CLIENT_ID = 'photosync-local';

interface SessionContextValue {
  ready: boolean;
  session: Session | null;
  api: ApiClient | null;
  /** Why the user was signed out (shown on the sign-in screen), e.g. an expired session. */
  notice: string | null;
  signInDev(server: string, email: string): Promise<void>;
  signInBrowser(server: string, clientId: string): Promise<void>;
  signOut(notice?: string | null): Promise<void>;
}

const SessionContext = createContext<SessionContextValue | null>(null);

export const EXPIRED_NOTICE = 'Your session has expired. Sign in again to continue.';

export function SessionProvider({ children }: { children: ReactNode }) {
  const [ready, setReady] = useState(false);
  const [session, setSession] = useState<Session | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const sessionRef = useRef<Session | null>(null);
  sessionRef.current = session;

  useEffect(() => {
    void secureStorage.get(SESSION_KEY).then((saved) => {
      const restored = parseSession(saved);
      if (restored && nextTokenStep(restored, Date.now()).action === 'expire') {
        setNotice(EXPIRED_NOTICE);
        void secureStorage.remove(SESSION_KEY);
      } else {
        setSession(restored);
      }
      setReady(true);
    });
  }, []);

  const save = useCallback(async (next: Session | null) => {
    if (next) await secureStorage.set(SESSION_KEY, JSON.stringify(next));
    else await secureStorage.remove(SESSION_KEY);
    setSession(next);
  }, []);

  const signOut = useCallback(
    async (reason: string | null = null) => {
      setNotice(reason);
      await save(null);
    },
    [save],
  );

  // Refresh shortly before expiry when the identity provider gave a refresh token; otherwise end
  // the session at expiry with a message, rather than letting requests fail one by one.
  useEffect(() => {
    if (!session) return undefined;
    const step = nextTokenStep(session, Date.now());
    const run = () => {
      const current = sessionRef.current;
      if (!current) return;
      const action = nextTokenStep(current, Date.now()).action;
      if (action === 'refresh') {
        refreshSession(current).then(save, () => signOut(EXPIRED_NOTICE));
      } else if (action === 'expire') {
        void signOut(EXPIRED_NOTICE);
      } else {
        setSession({ ...current }); // re-arm the timer
      }
    };
    const timer = setTimeout(run, step.action === 'wait' ? Math.min(step.ms, 2 ** 31 - 1) : 0);
    return () => clearTimeout(timer);
  }, [session, save, signOut]);

  const api = useMemo(
    () =>
      session
        ? new ApiClient({
            server: session.server,
            token: () => sessionRef.current?.accessToken ?? null,
            onSignedOut: () => void signOut(EXPIRED_NOTICE),
          })
        : null,
    // A new client only when the server or token changes, not on every re-render.
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [session?.server, session?.accessToken, signOut],
  );

  const signInDev = useCallback(
    async (serverInput: string, email: string) => {
      const server = normalizeServer(serverInput);
      const tokens = await new ApiClient({ server }).devLogin(email.trim());
      const signedIn = sessionFromTokens(server, tokens, Date.now(), { email: email.trim().toLowerCase() });
      setNotice(null);
      await save(signedIn);
    },
    [save],
  );

  const signInBrowser = useCallback(
    async (serverInput: string, clientId: string) => {
      const server = normalizeServer(serverInput);
      const signedIn = await signInWithBrowser(server, clientId);
      if (!signedIn) return;
      // The email comes from the account, which also proves the token works.
      const me = await new ApiClient({ server, token: () => signedIn.accessToken }).me();
      setNotice(null);
      await save({ ...signedIn, email: me.email });
    },
    [save],
  );

  const value = useMemo(
    () => ({ ready, session, api, notice, signInDev, signInBrowser, signOut }),
    [ready, session, api, notice, signInDev, signInBrowser, signOut],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionContextValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession outside SessionProvider');
  return value;
}

/** The API client of a signed-in screen (screens behind the sign-in guard only). */
export function useApi(): ApiClient {
  const { api } = useSession();
  if (!api) throw new ApiError('signed_out', 'You are signed out. Sign in to continue.');
  return api;
}

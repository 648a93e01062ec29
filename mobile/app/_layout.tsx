import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { Stack } from 'expo-router';
import * as WebBrowser from 'expo-web-browser';
import { useState } from 'react';

import { ApiError } from '../src/api/errors';
import { Loading } from '../src/components/ui';
import { BackupProvider } from '../src/state/BackupProvider';
import { SessionProvider, useSession } from '../src/state/SessionProvider';

// In a browser the sign-in page returns into a popup: this hands the result to the app and closes it.
WebBrowser.maybeCompleteAuthSession();

function retry(failureCount: number, error: unknown): boolean {
  // Retrying cannot fix a signed-out session, a missing photo or a full quota.
  if (error instanceof ApiError && error.kind !== 'no_connection' && error.kind !== 'server_error') return false;
  return failureCount < 2;
}

function Routes() {
  const { ready, session } = useSession();
  if (!ready) return <Loading />;
  return (
    <Stack>
      <Stack.Protected guard={session !== null}>
        <Stack.Screen name="(tabs)" options={{ headerShown: false, title: 'PhotoSync' }} />
        <Stack.Screen name="photo/[id]" options={{ title: 'Photo' }} />
        <Stack.Screen name="album/[id]" options={{ title: 'Album' }} />
      </Stack.Protected>
      <Stack.Protected guard={session === null}>
        <Stack.Screen name="signin" options={{ title: 'Sign in' }} />
      </Stack.Protected>
    </Stack>
  );
}

export default function RootLayout() {
  const [queryClient] = useState(() => new QueryClient({ defaultOptions: { queries: { retry, staleTime: 10_000 } } }));
  return (
    <QueryClientProvider client={queryClient}>
      <SessionProvider>
        <BackupProvider>
          <Routes />
        </BackupProvider>
      </SessionProvider>
    </QueryClientProvider>
  );
}

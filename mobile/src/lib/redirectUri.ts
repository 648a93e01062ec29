import { makeRedirectUri } from 'expo-auth-session';

/** Where the identity provider sends the browser back: the app's own scheme on a phone. */
export function redirectUri(): string {
  return makeRedirectUri({ scheme: 'photosync', path: 'signin' });
}

/** In a browser: the app's sign-in route on this origin (the local identity provider accepts only
 * loopback or same-origin redirects). EXPO_BASE_URL is the export's base path, e.g. /app. */
export function redirectUri(): string {
  return `${window.location.origin}${process.env.EXPO_BASE_URL ?? ''}/signin`;
}

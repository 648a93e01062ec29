/** The web build is served by the PhotoSync server itself (`photosync serve --mobile-web-dir`). */
export function defaultServer(): string {
  return window.location.origin;
}

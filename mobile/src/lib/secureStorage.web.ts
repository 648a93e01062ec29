/** Tokens in a browser: sessionStorage, so they end with the tab (never shared with other tabs). */
export const secureStorage = {
  get: async (key: string) => window.sessionStorage.getItem(key),
  set: async (key: string, value: string) => window.sessionStorage.setItem(key, value),
  remove: async (key: string) => window.sessionStorage.removeItem(key),
};

/**
 * The browser's stand-in for the app database: the hash cache lives in memory (picked files are
 * only known for the tab's life anyway) and settings in localStorage.
 */
import { MemoryHashCache } from '../backup/hashCache.types';
import { settingsProgressStore } from '../backup/progressStore';

export const hashCache = new MemoryHashCache();

export async function getSetting(key: string): Promise<string | null> {
  return window.localStorage.getItem(`photosync:${key}`);
}

export async function setSetting(key: string, value: string): Promise<void> {
  window.localStorage.setItem(`photosync:${key}`, value);
}

export const progressStore = settingsProgressStore({ getSetting, setSetting });

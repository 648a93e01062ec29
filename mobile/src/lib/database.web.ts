/**
 * The browser's stand-in for the app database: the hash cache lives in memory (picked files are
 * only known for the tab's life anyway) and settings in localStorage.
 */
import { MemoryHashCache, type ProgressStore } from '../backup/hashCache.types';
import { type BackupProgressState, EMPTY_PROGRESS } from '../backup/plan';

export const hashCache = new MemoryHashCache();

export async function getSetting(key: string): Promise<string | null> {
  return window.localStorage.getItem(`photosync:${key}`);
}

export async function setSetting(key: string, value: string): Promise<void> {
  window.localStorage.setItem(`photosync:${key}`, value);
}

/** Progress belongs to one account on one server: another user's uploads must never count. */
export const progressStore = (account: string): ProgressStore => ({
  async load(): Promise<BackupProgressState> {
    const saved = await getSetting(`backup-progress:${account}`);
    return saved ? (JSON.parse(saved) as BackupProgressState) : { ...EMPTY_PROGRESS, completed: {}, inFlight: {} };
  },
  async save(state) {
    await setSetting(`backup-progress:${account}`, JSON.stringify(state));
  },
});

import type { ProgressStore } from './hashCache.types';
import type { BackupProgressState } from './plan';

interface Settings {
  getSetting(key: string): Promise<string | null>;
  setSetting(key: string, value: string): Promise<void>;
}

/** Backup progress kept in the platform's settings. It belongs to one account on one server:
 * another user's uploads must never count as done. */
export function settingsProgressStore(settings: Settings) {
  return (account: string): ProgressStore => ({
    async load(): Promise<BackupProgressState> {
      const saved = await settings.getSetting(`backup-progress:${account}`);
      return saved ? (JSON.parse(saved) as BackupProgressState) : { completed: {}, inFlight: {} };
    },
    async save(state) {
      await settings.setSetting(`backup-progress:${account}`, JSON.stringify(state));
    },
  });
}

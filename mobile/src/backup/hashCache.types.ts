import type { CachedHash } from './plan';

/** Hashes by asset id + modification time, so an unchanged asset is read once in its life. */
export interface HashCache {
  getMany(assetIds: readonly string[]): Promise<Map<string, CachedHash>>;
  put(entry: CachedHash): Promise<void>;
}

/** Where a backup's progress is kept between runs (and app restarts). */
export interface ProgressStore {
  load(): Promise<import('./plan').BackupProgressState>;
  save(state: import('./plan').BackupProgressState): Promise<void>;
}

export class MemoryHashCache implements HashCache {
  private readonly entries = new Map<string, CachedHash>();

  async getMany(assetIds: readonly string[]): Promise<Map<string, CachedHash>> {
    const found = new Map<string, CachedHash>();
    for (const id of assetIds) {
      const entry = this.entries.get(id);
      if (entry) found.set(id, entry);
    }
    return found;
  }

  async put(entry: CachedHash): Promise<void> {
    this.entries.set(entry.assetId, { ...entry });
  }
}

/**
 * Free up space (F1.8): which local copies may be deleted because the server holds them safely.
 * Only content the server confirms in `found` (finalized, not in the trash) is ever offered, and the
 * selection is confirmed again immediately before the delete.
 */
import type { CachedHash, LookupAnswer } from '../backup/plan';
import type { DeviceAsset } from '../media/types';

export const DAY_MS = 24 * 60 * 60 * 1000;

export interface FreeUpOptions {
  /** Only assets created more than this many days ago; null for any age. */
  olderThanDays: number | null;
  keepFavorites: boolean;
  now: number;
}

export interface FreeUpCandidate {
  asset: DeviceAsset;
  sha256: string;
  photoId: string;
  size: number;
}

export interface FreeUpPlan {
  candidates: FreeUpCandidate[];
  totalBytes: number;
}

export function planFreeUp(
  assets: readonly DeviceAsset[],
  hashes: ReadonlyMap<string, CachedHash>,
  server: LookupAnswer,
  options: FreeUpOptions,
): FreeUpPlan {
  const cutoff = options.olderThanDays === null ? Infinity : options.now - options.olderThanDays * DAY_MS;
  const candidates: FreeUpCandidate[] = [];
  for (const asset of assets) {
    const hash = hashes.get(asset.id);
    // A hash made before the asset last changed says nothing about today's bytes.
    if (!hash || hash.modificationTime !== asset.modificationTime) continue;
    const photoId = server.found[hash.sha256];
    if (photoId === undefined) continue;
    if (options.keepFavorites && asset.isFavorite) continue;
    if (!(asset.creationTime < cutoff)) continue;
    candidates.push({ asset, sha256: hash.sha256, photoId, size: hash.size });
  }
  return { candidates, totalBytes: sum(candidates) };
}

export interface Reconfirmed {
  /** Still confirmed by the server at this moment: the only assets that may be deleted. */
  toDelete: FreeUpCandidate[];
  /** Trashed, deleted or otherwise no longer confirmed since the list was made. */
  dropped: FreeUpCandidate[];
  totalBytes: number;
}

/** The selection checked against a lookup made just now (the seed's re-confirm step). */
export function reconfirm(selected: readonly FreeUpCandidate[], now: LookupAnswer): Reconfirmed {
  const toDelete: FreeUpCandidate[] = [];
  const dropped: FreeUpCandidate[] = [];
  for (const candidate of selected) {
    if (now.found[candidate.sha256] !== undefined) toDelete.push(candidate);
    else dropped.push(candidate);
  }
  return { toDelete, dropped, totalBytes: sum(toDelete) };
}

function sum(candidates: readonly FreeUpCandidate[]): number {
  return candidates.reduce((total, candidate) => total + candidate.size, 0);
}

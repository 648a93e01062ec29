/**
 * Backup planning: pure functions from device assets, cached hashes and the server's answers to
 * what must be hashed and what must be uploaded. No I/O, so every rule is tested without a device.
 */
import type { DeviceAsset } from '../media/types';

export interface CachedHash {
  assetId: string;
  modificationTime: number;
  sha256: string;
  size: number;
}

/** What the server said about a set of hashes (POST /photos/lookup, batches merged). */
export interface LookupAnswer {
  found: Record<string, string>;
  trashed?: Record<string, string>;
  deleted?: string[];
}

/** What a backup run has already achieved, persisted so a new run resumes where it stopped. */
export interface BackupProgressState {
  /** sha256 -> photo id of content this device uploaded and saw complete. */
  completed: Record<string, string>;
  /** sha256 -> upload id granted but not yet seen complete: the engine settles these (GET, or
   * DELETE when still pending) before it plans, so no content is ever granted twice. */
  inFlight: Record<string, string>;
}

export const EMPTY_PROGRESS: BackupProgressState = { completed: {}, inFlight: {} };

export interface HashingPlan {
  /** Assets whose cached hash still describes them (same id and modification time). */
  known: Map<string, CachedHash>;
  /** Assets to hash: new, or modified since they were hashed. */
  toHash: DeviceAsset[];
}

export function planHashing(assets: readonly DeviceAsset[], cache: ReadonlyMap<string, CachedHash>): HashingPlan {
  const known = new Map<string, CachedHash>();
  const toHash: DeviceAsset[] = [];
  for (const asset of assets) {
    if (asset.contentType === null) continue; // the server would refuse it: never read it
    const cached = cache.get(asset.id);
    if (cached && cached.modificationTime === asset.modificationTime) known.set(asset.id, cached);
    else toHash.push(asset);
  }
  return { known, toHash };
}

export type SkipReason =
  | 'on_server' // lookup `found`
  | 'in_trash' // lookup `trashed`: the user threw it away on the server
  | 'deleted' // lookup `deleted`: the user deleted it for good
  | 'same_content' // another asset with the same bytes is uploaded in this plan
  | 'already_uploaded' // this device uploaded it in an earlier (interrupted) run
  | 'unsupported'; // a type the server does not accept

export interface UploadItem {
  asset: DeviceAsset;
  sha256: string;
  size: number;
  contentType: string;
}

export interface BackupPlan {
  uploads: UploadItem[];
  skipped: { assetId: string; sha256: string | null; reason: SkipReason }[];
  totalBytes: number;
}

export interface BackupOptions {
  /** Upload again what the user trashed or deleted on the server (off by default, per api.md). */
  includeTrashedAndDeleted?: boolean;
}

export function planUploads(
  assets: readonly DeviceAsset[],
  hashes: ReadonlyMap<string, CachedHash>,
  server: LookupAnswer,
  progress: BackupProgressState = EMPTY_PROGRESS,
  options: BackupOptions = {},
): BackupPlan {
  const trashed = server.trashed ?? {};
  const deleted = new Set(server.deleted ?? []);
  const planned = new Set<string>();
  const plan: BackupPlan = { uploads: [], skipped: [], totalBytes: 0 };
  const skip = (assetId: string, sha256: string | null, reason: SkipReason) =>
    plan.skipped.push({ assetId, sha256, reason });

  for (const asset of assets) {
    const hash = hashes.get(asset.id);
    if (asset.contentType === null) {
      skip(asset.id, null, 'unsupported');
      continue;
    }
    if (!hash) continue; // not hashed yet: it is planned in a later pass, never guessed
    const { sha256 } = hash;
    if (sha256 in server.found) skip(asset.id, sha256, 'on_server');
    else if (!options.includeTrashedAndDeleted && sha256 in trashed) skip(asset.id, sha256, 'in_trash');
    else if (!options.includeTrashedAndDeleted && deleted.has(sha256)) skip(asset.id, sha256, 'deleted');
    else if (sha256 in progress.completed) skip(asset.id, sha256, 'already_uploaded');
    else if (planned.has(sha256)) skip(asset.id, sha256, 'same_content');
    else {
      planned.add(sha256);
      plan.uploads.push({ asset, sha256, size: hash.size, contentType: asset.contentType });
      plan.totalBytes += hash.size;
    }
  }
  return plan;
}

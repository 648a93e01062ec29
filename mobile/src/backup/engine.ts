/**
 * The backup engine: scans the chosen device albums, hashes what is new (streaming, cached), asks
 * the server what it already holds, uploads the rest to the pre-signed URLs and waits for each to be
 * `complete`. Its progress is saved after every file so a run that stops (pause, app closed, no
 * connection) resumes without sending anything twice.
 */
import type { ApiClient } from '../api/client';
import { ApiError } from '../api/errors';
import { HashAborted, sha256OfReader } from '../hashing/sha256';
import type { DeviceAsset, MediaSource } from '../media/types';
import type { HashCache, ProgressStore } from './hashCache.types';
import { type BackupOptions, type BackupProgressState, type CachedHash, planHashing, planUploads } from './plan';

export type BackupPhase = 'scanning' | 'hashing' | 'checking' | 'uploading' | 'done' | 'paused' | 'stopped';

export interface BackupProgress {
  phase: BackupPhase;
  filesDone: number;
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
  currentFile: string | null;
}

export interface FileProblem {
  filename: string;
  message: string;
}

export interface BackupReport {
  phase: 'done' | 'paused' | 'stopped';
  uploaded: number;
  alreadyBackedUp: number;
  skippedTrashedOrDeleted: number;
  problems: FileProblem[];
  /** Why the run stopped early (no connection, signed out, quota): what the user must fix. */
  error: ApiError | null;
}

export interface EngineDeps {
  api: ApiClient;
  media: MediaSource;
  hashCache: HashCache;
  progressStore: ProgressStore;
  chunkSize?: number;
  pageSize?: number;
  pollIntervalMs?: number;
  /** How long an upload may stay pending after its bytes were sent before it counts as failed. */
  completeTimeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** Errors that stop the whole run: nothing else can succeed until the user acts. */
const STOPPING: ReadonlySet<string> = new Set(['no_connection', 'signed_out', 'quota_exceeded', 'rate_limited']);

export class BackupEngine {
  private readonly deps: Required<Omit<EngineDeps, 'api' | 'media' | 'hashCache' | 'progressStore'>> & EngineDeps;

  constructor(deps: EngineDeps) {
    this.deps = {
      chunkSize: 1024 * 1024,
      pageSize: 200,
      pollIntervalMs: 500,
      completeTimeoutMs: 120_000,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      ...deps,
    };
  }

  async run(
    albumIds: string[],
    onProgress: (progress: BackupProgress) => void,
    signal?: AbortSignal,
    options: BackupOptions = {},
  ): Promise<BackupReport> {
    const report: BackupReport = {
      phase: 'done',
      uploaded: 0,
      alreadyBackedUp: 0,
      skippedTrashedOrDeleted: 0,
      problems: [],
      error: null,
    };
    const progress: BackupProgress = {
      phase: 'scanning',
      filesDone: 0,
      filesTotal: 0,
      bytesDone: 0,
      bytesTotal: 0,
      currentFile: null,
    };
    const emit = () => onProgress({ ...progress });
    try {
      emit();
      const assets = await this.scan(albumIds);
      const hashes = await this.hashAll(assets, progress, emit, report, signal);
      progress.phase = 'checking';
      progress.currentFile = null;
      emit();
      const state = await this.settleInFlight(await this.deps.progressStore.load());
      const server = await this.deps.api.lookup([...new Set([...hashes.values()].map((h) => h.sha256))]);
      const plan = planUploads(assets, hashes, server, state, options);
      for (const skipped of plan.skipped) {
        if (skipped.reason === 'on_server' || skipped.reason === 'already_uploaded' || skipped.reason === 'same_content') {
          report.alreadyBackedUp += 1;
        } else if (skipped.reason === 'in_trash' || skipped.reason === 'deleted') {
          report.skippedTrashedOrDeleted += 1;
        }
      }
      Object.assign(progress, {
        phase: 'uploading',
        filesDone: 0,
        filesTotal: plan.uploads.length,
        bytesDone: 0,
        bytesTotal: plan.totalBytes,
      });
      emit();
      for (const item of plan.uploads) {
        if (signal?.aborted) throw new HashAborted();
        progress.currentFile = item.asset.filename;
        emit();
        const startBytes = progress.bytesDone;
        try {
          const photoId = await this.uploadOne(item.asset, item.sha256, item.size, item.contentType, state, (sent) => {
            progress.bytesDone = startBytes + Math.min(sent, item.size);
            emit();
          });
          state.completed[item.sha256] = photoId;
          await this.deps.progressStore.save(state);
          report.uploaded += 1;
        } catch (error) {
          if (error instanceof ApiError && STOPPING.has(error.kind)) throw error;
          report.problems.push({ filename: item.asset.filename, message: messageOf(error) });
        }
        progress.filesDone += 1;
        progress.bytesDone = startBytes + item.size;
        emit();
      }
      progress.phase = 'done';
      progress.currentFile = null;
      emit();
      return report;
    } catch (error) {
      if (error instanceof HashAborted) {
        progress.phase = report.phase = 'paused';
      } else if (error instanceof ApiError) {
        progress.phase = report.phase = 'stopped';
        report.error = error;
      } else {
        throw error;
      }
      emit();
      return report;
    }
  }

  private async scan(albumIds: string[]): Promise<DeviceAsset[]> {
    const assets: DeviceAsset[] = [];
    let after: string | null = null;
    for (;;) {
      const page = await this.deps.media.assets({ albumIds, after, first: this.deps.pageSize });
      assets.push(...page.assets);
      if (!page.hasNextPage || page.endCursor === null) return assets;
      after = page.endCursor;
    }
  }

  private async hashAll(
    assets: DeviceAsset[],
    progress: BackupProgress,
    emit: () => void,
    report: BackupReport,
    signal?: AbortSignal,
  ): Promise<Map<string, CachedHash>> {
    const cached = await this.deps.hashCache.getMany(assets.map((a) => a.id));
    const { known, toHash } = planHashing(assets, cached);
    Object.assign(progress, { phase: 'hashing', filesDone: 0, filesTotal: toHash.length, bytesDone: 0, bytesTotal: 0 });
    emit();
    for (const asset of toHash) {
      progress.currentFile = asset.filename;
      emit();
      try {
        const reader = await this.deps.media.openReader(asset);
        const sha256 = await sha256OfReader(reader, { chunkSize: this.deps.chunkSize, signal });
        const entry: CachedHash = { assetId: asset.id, modificationTime: asset.modificationTime, sha256, size: reader.size };
        await this.deps.hashCache.put(entry);
        known.set(asset.id, entry);
        progress.bytesDone += reader.size;
      } catch (error) {
        if (error instanceof HashAborted) throw error;
        report.problems.push({ filename: asset.filename, message: `could not be read: ${messageOf(error)}` });
      }
      progress.filesDone += 1;
      emit();
    }
    return known;
  }

  /** Uploads granted by an earlier run: complete ones count as done, pending ones are cancelled
   * (their reservation released) so that the plan grants them afresh exactly once. */
  private async settleInFlight(state: BackupProgressState): Promise<BackupProgressState> {
    const settled: BackupProgressState = { completed: { ...state.completed }, inFlight: {} };
    for (const [sha256, uploadId] of Object.entries(state.inFlight)) {
      try {
        const status = await this.deps.api.upload(uploadId);
        if (status.status === 'complete' && status.photo_id) settled.completed[sha256] = status.photo_id;
        else if (status.status === 'pending') await this.deps.api.cancelUpload(uploadId);
      } catch (error) {
        // Gone, or finished meanwhile (409: it became a photo, which the next lookup finds).
        if (!(error instanceof ApiError && (error.kind === 'not_found' || error.kind === 'conflict'))) throw error;
      }
    }
    await this.deps.progressStore.save(settled);
    return settled;
  }

  private async uploadOne(
    asset: DeviceAsset,
    sha256: string,
    size: number,
    contentType: string,
    state: BackupProgressState,
    onSent: (bytes: number) => void,
  ): Promise<string> {
    const answer = await this.deps.api.createUpload({ filename: asset.filename, content_type: contentType, size, sha256 });
    if (answer.status === 'duplicate') return answer.photo_id;
    state.inFlight[sha256] = answer.upload_id;
    await this.deps.progressStore.save(state);
    await this.deps.media.upload(asset, { method: answer.method, url: answer.url, headers: answer.headers }, onSent);
    const photoId = await this.waitUntilComplete(answer.upload_id);
    delete state.inFlight[sha256];
    return photoId;
  }

  private async waitUntilComplete(uploadId: string): Promise<string> {
    const deadline = Date.now() + this.deps.completeTimeoutMs;
    for (;;) {
      const status = await this.deps.api.upload(uploadId);
      if (status.status === 'complete' && status.photo_id) return status.photo_id;
      if (status.status === 'failed') throw new Error(status.reason ?? 'the server refused the file');
      if (Date.now() > deadline) throw new Error('the server did not finish storing the file; it is retried next time');
      await this.deps.sleep(this.deps.pollIntervalMs);
    }
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

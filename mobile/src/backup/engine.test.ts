/**
 * The backup engine end to end over the native media source (expo-media-library and
 * expo-file-system replaced by Jest mocks over a paged camera roll) and an in-memory server.
 */
import { ApiClient } from '../api/client';
import { media } from '../media';
import { bytesFor, cameraRoll, library } from '../testing/deviceLibrary';
import { FakeServer, sha256Hex } from '../testing/fakeServer';
import { storage } from '../testing/mocks/fileSystem';
import { BackupEngine, type BackupProgress } from './engine';
import { MemoryHashCache } from './hashCache.types';
import { type BackupProgressState, EMPTY_PROGRESS } from './plan';

jest.mock('expo-media-library/legacy', () => require('../testing/mocks/mediaLibrary'));
jest.mock('expo-file-system', () => require('../testing/mocks/fileSystem'));

const CHUNK = 1024;

class MemoryProgress {
  state: BackupProgressState = { ...EMPTY_PROGRESS, completed: {}, inFlight: {} };
  async load() {
    return JSON.parse(JSON.stringify(this.state)) as BackupProgressState;
  }
  async save(state: BackupProgressState) {
    this.state = JSON.parse(JSON.stringify(state));
  }
}

function setup(server = new FakeServer()) {
  storage.server = server;
  const hashCache = new MemoryHashCache();
  const progressStore = new MemoryProgress();
  const api = new ApiClient({ server: server.base, token: () => 'token', fetch: server.fetch, sleep: async () => undefined });
  const engine = () =>
    new BackupEngine({ api, media, hashCache, progressStore, chunkSize: CHUNK, pageSize: 100, sleep: async () => undefined });
  return { server, hashCache, progressStore, engine };
}

// 450 assets in pages of 100; assets 10 and 20 hold the same bytes as 0 (copies, or a burst).
const contentOf = (i: number) => (i === 10 || i === 20 ? 'photo-0' : `photo-${i}`);

beforeEach(() => library.reset(cameraRoll(450, contentOf)));

test('uploads each new content once, skipping what the server has, trashed or deleted', async () => {
  const { server, engine } = setup();
  const shaOf = (i: number) => sha256Hex(library.assets[i].bytes);
  for (const i of [1, 2, 3]) server.photos.set(shaOf(i), { id: `p${i}`, sha256: shaOf(i), size: 1, filename: 'x' });
  server.trashed.set(shaOf(4), 'p4');
  server.deleted.add(shaOf(5));
  const seen: BackupProgress[] = [];

  const report = await engine().run([], (p) => seen.push(p));

  expect(report.error).toBeNull();
  expect(report.phase).toBe('done');
  const unique = new Set(library.assets.map((a) => sha256Hex(a.bytes)));
  expect(unique.size).toBe(448);
  expect(report.uploaded).toBe(448 - 5);
  expect(report.alreadyBackedUp).toBe(3 + 2); // on the server, and the two copies of photo 0
  expect(report.skippedTrashedOrDeleted).toBe(2);
  expect(server.puts).toHaveLength(443);
  expect(new Set(server.puts).size).toBe(443);
  expect(server.reserved()).toBe(0);
  // Never more than one chunk read at a time, whatever the file size.
  expect(library.largestRead).toBeLessThanOrEqual(CHUNK);
  // Progress counts up to "443 of 443" with the bytes of the plan.
  const uploading = seen.filter((p) => p.phase === 'uploading');
  const last = uploading[uploading.length - 1];
  expect([last.filesDone, last.filesTotal]).toEqual([443, 443]);
  expect(last.bytesDone).toBe(last.bytesTotal);
  expect(seen[seen.length - 1].phase).toBe('done');
});

test('a second run reads nothing (hash cache) and sends nothing (lookup)', async () => {
  const { server, engine } = setup();
  await engine().run([], () => undefined);
  const reads = library.reads;
  const puts = server.puts.length;

  const again = await engine().run([], () => undefined);

  expect(library.reads).toBe(reads);
  expect(server.puts.length).toBe(puts);
  expect(again.uploaded).toBe(0);
  expect(again.alreadyBackedUp).toBe(450);
});

test('an asset modified since it was hashed is hashed again and its new content uploaded', async () => {
  const { server, engine } = setup();
  await engine().run([], () => undefined);
  library.assets[7] = { ...library.assets[7], modificationTime: Date.now(), bytes: bytesFor('edited', 3000) };

  const report = await engine().run([], () => undefined);

  expect(report.uploaded).toBe(1);
  expect(server.puts[server.puts.length - 1]).toBe(sha256Hex(bytesFor('edited', 3000)));
});

test('after the connection drops mid-upload, the next run resumes without sending anything twice', async () => {
  const { server, engine, progressStore } = setup();
  server.failPutNumber = 50;

  const first = await engine().run([], () => undefined);
  expect(first.phase).toBe('stopped');
  expect(first.error?.kind).toBe('no_connection');
  expect(first.error?.message).toMatch(/^No connection to http:\/\/192.168.1.20:8000 \(The network connection was lost.\)/);
  expect(first.uploaded).toBe(49);
  // The grant of the file whose upload broke is remembered, so the next run settles it first.
  expect(Object.keys(progressStore.state.inFlight)).toHaveLength(1);

  const second = await engine().run([], () => undefined);

  expect(second.phase).toBe('done');
  expect(new Set(server.puts).size).toBe(server.puts.length);
  expect(server.photos.size).toBe(448);
  expect(server.reserved()).toBe(0);
  expect(progressStore.state.inFlight).toEqual({});
});

test('an upload granted and sent before the app was killed counts as done, not sent again', async () => {
  const { server, progressStore } = setup();
  library.reset(cameraRoll(3));
  const asset = library.assets[0];
  const sha = sha256Hex(asset.bytes);
  // The previous run got its grant and the bytes arrived, but the app died before it saw `complete`.
  server.photos.set(sha, { id: 'upload-from-last-run', sha256: sha, size: asset.bytes.byteLength, filename: asset.filename });
  progressStore.state.inFlight[sha] = 'upload-from-last-run';
  server.fetch = ((original) => async (url: string, init?: RequestInit) => {
    // The finalized photo is not yet listed by lookup (finalize runs late): only the upload knows.
    if (url.endsWith('/photos/lookup')) {
      const response = await original(url, init);
      const body = await response.json();
      delete body.found[sha];
      return new Response(JSON.stringify(body), { status: 200 });
    }
    return original(url, init);
  })(server.fetch);
  const api = new ApiClient({ server: server.base, token: () => 't', fetch: server.fetch, sleep: async () => undefined });
  const run = new BackupEngine({ api, media, hashCache: new MemoryHashCache(), progressStore, chunkSize: CHUNK });

  const report = await run.run([], () => undefined);

  expect(report.uploaded).toBe(2);
  expect(server.puts).not.toContain(sha);
  expect(progressStore.state.completed[sha]).toBe('upload-from-last-run');
});

test('pause stops between files and resume finishes the rest', async () => {
  const { server, engine } = setup();
  const controller = new AbortController();
  const paused = await engine().run([], (p) => {
    if (p.phase === 'uploading' && p.filesDone === 10) controller.abort();
  }, controller.signal);
  expect(paused.phase).toBe('paused');
  expect(server.puts.length).toBeGreaterThanOrEqual(10);
  expect(server.puts.length).toBeLessThan(448);

  const resumed = await engine().run([], () => undefined);
  expect(resumed.phase).toBe('done');
  expect(server.puts).toHaveLength(448);
  expect(new Set(server.puts).size).toBe(448);
});

test('a full quota stops the backup with the numbers and what to do', async () => {
  const server = new FakeServer();
  server.quota = 20_000;
  const { engine } = setup(server);

  const report = await engine().run([], () => undefined);

  expect(report.phase).toBe('stopped');
  expect(report.error?.kind).toBe('quota_exceeded');
  expect(report.error?.message).toMatch(/^Your storage is full: .* used and 0 B reserved of 20 KB; this file needs .*Free up space/);
  expect(server.used()).toBeLessThanOrEqual(20_000);
});

test('backs up only the chosen device albums', async () => {
  const { server, engine } = setup();
  library.reset(cameraRoll(40));
  const report = await engine().run(['screenshots'], () => undefined);
  expect(report.uploaded).toBe(20);
  const names = [...server.photos.values()].map((p) => p.filename);
  expect(names.every((n) => library.assets.find((a) => a.filename === n)?.albumId === 'screenshots')).toBe(true);
});

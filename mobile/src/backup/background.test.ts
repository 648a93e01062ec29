/**
 * Background backup: the task the OS wakes runs the same engine with the saved session, albums and
 * progress; turning it on registers the task once with expo-background-task.
 */
import { cameraRoll, library } from '../testing/deviceLibrary';
import { FakeServer } from '../testing/fakeServer';
import { storage } from '../testing/mocks/fileSystem';

const mockTasks = new Map<string, () => Promise<unknown>>();
const mockRegistered = new Set<string>();
const mockSettings = new Map<string, string>();
const mockSecure = new Map<string, string>();

jest.mock('expo-media-library/legacy', () => require('../testing/mocks/mediaLibrary'));
jest.mock('expo-file-system', () => require('../testing/mocks/fileSystem'));
jest.mock('expo-task-manager', () => ({
  defineTask: (name: string, task: () => Promise<unknown>) => mockTasks.set(name, task),
  isTaskRegisteredAsync: async (name: string) => mockRegistered.has(name),
}));
jest.mock('expo-background-task', () => ({
  BackgroundTaskStatus: { Restricted: 1, Available: 2 },
  BackgroundTaskResult: { Success: 1, Failed: 2 },
  getStatusAsync: async () => 2,
  registerTaskAsync: jest.fn(async (name: string) => void mockRegistered.add(name)),
  unregisterTaskAsync: jest.fn(async (name: string) => void mockRegistered.delete(name)),
}));
jest.mock('../lib/secureStorage', () => ({
  secureStorage: { get: async (key: string) => mockSecure.get(key) ?? null },
}));
jest.mock('../lib/database', () => {
  const { MemoryHashCache } = require('../backup/hashCache.types');
  const { settingsProgressStore } = require('../backup/progressStore');
  const getSetting = async (key: string) => mockSettings.get(key) ?? null;
  const setSetting = async (key: string, value: string) => void mockSettings.set(key, value);
  return { hashCache: new MemoryHashCache(), getSetting, setSetting, progressStore: settingsProgressStore({ getSetting, setSetting }) };
});

import * as BackgroundTask from 'expo-background-task';

// Required, not imported: the module defines its task on load, after the mocks above exist.
const { BACKGROUND_BACKUP_TASK, setBackgroundBackup } = require('./background') as typeof import('./background');

test('turning background backup on registers the task once, off unregisters it', async () => {
  expect(await setBackgroundBackup(true, ['camera-roll'])).toBe(true);
  expect(await setBackgroundBackup(true, ['camera-roll'])).toBe(true);
  expect(BackgroundTask.registerTaskAsync).toHaveBeenCalledTimes(1);
  expect(BackgroundTask.registerTaskAsync).toHaveBeenCalledWith(BACKGROUND_BACKUP_TASK, { minimumInterval: 60 });
  expect(await setBackgroundBackup(false, [])).toBe(true);
  expect(mockRegistered.has(BACKGROUND_BACKUP_TASK)).toBe(false);
});

test('the background task backs up the chosen albums with the saved session', async () => {
  const server = new FakeServer();
  storage.server = server;
  global.fetch = server.fetch as typeof fetch;
  library.reset(cameraRoll(30));
  mockSecure.set(
    'photosync.session',
    JSON.stringify({ server: server.base, email: 'me@example.com', accessToken: 't', expiresAt: Date.now() + 3_600_000 }),
  );
  await setBackgroundBackup(true, ['camera-roll']);

  const result = await mockTasks.get(BACKGROUND_BACKUP_TASK)!();

  expect(result).toBe(BackgroundTask.BackgroundTaskResult.Success);
  expect(server.photos.size).toBe(15);
  const names = new Set([...server.photos.values()].map((p) => p.filename));
  expect(library.assets.filter((a) => a.albumId === 'camera-roll').every((a) => names.has(a.filename))).toBe(true);
  // The progress saved under this account lets the screen's next run skip all of it.
  const saved = JSON.parse(mockSettings.get(`backup-progress:${server.base}|me@example.com`)!);
  expect(Object.keys(saved.completed)).toHaveLength(15);
});

test('the background task does nothing once the session has expired', async () => {
  const server = new FakeServer();
  global.fetch = server.fetch as typeof fetch;
  mockSecure.set('photosync.session', JSON.stringify({ server: server.base, email: null, accessToken: 't', expiresAt: Date.now() - 1 }));
  const result = await mockTasks.get(BACKGROUND_BACKUP_TASK)!();
  expect(result).toBe(BackgroundTask.BackgroundTaskResult.Success);
  expect(server.grants).toBe(0);
});

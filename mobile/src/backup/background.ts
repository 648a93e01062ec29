/**
 * Backup in the background (expo-background-task: WorkManager on Android, BGTaskScheduler on iOS).
 * The OS decides when it runs (at most every few hours, usually on Wi-Fi and power); each run
 * backs up what is new with the same engine and saved progress as the Backup screen.
 */
import * as BackgroundTask from 'expo-background-task';
import * as TaskManager from 'expo-task-manager';

import { ApiClient } from '../api/client';
import { getSetting, hashCache, progressStore, setSetting } from '../lib/database';
import { secureStorage } from '../lib/secureStorage';
import { media } from '../media';
import { nextTokenStep, parseSession } from '../state/session';
import { BackupEngine } from './engine';

export const BACKGROUND_BACKUP_TASK = 'photosync-background-backup';
const ALBUMS_SETTING = 'backup-album-ids';
const MINIMUM_INTERVAL_MINUTES = 60;

TaskManager.defineTask(BACKGROUND_BACKUP_TASK, async () => {
  const session = parseSession(await secureStorage.get('photosync.session'));
  if (!session || nextTokenStep(session, Date.now()).action === 'expire') return BackgroundTask.BackgroundTaskResult.Success;
  const api = new ApiClient({ server: session.server, token: () => session.accessToken });
  const albumIds = JSON.parse((await getSetting(ALBUMS_SETTING)) ?? '[]') as string[];
  const engine = new BackupEngine({
    api,
    media,
    hashCache,
    progressStore: progressStore(`${session.server}|${session.email ?? ''}`),
  });
  const report = await engine.run(albumIds, () => undefined);
  return report.error ? BackgroundTask.BackgroundTaskResult.Failed : BackgroundTask.BackgroundTaskResult.Success;
});

/** Turns background backup on (with the albums to back up) or off; false where the OS refuses. */
export async function setBackgroundBackup(enabled: boolean, albumIds: string[]): Promise<boolean> {
  await setSetting(ALBUMS_SETTING, JSON.stringify(albumIds));
  const status = await BackgroundTask.getStatusAsync();
  if (status !== BackgroundTask.BackgroundTaskStatus.Available) return false;
  const registered = await TaskManager.isTaskRegisteredAsync(BACKGROUND_BACKUP_TASK);
  if (enabled && !registered) {
    await BackgroundTask.registerTaskAsync(BACKGROUND_BACKUP_TASK, { minimumInterval: MINIMUM_INTERVAL_MINUTES });
  } else if (!enabled && registered) {
    await BackgroundTask.unregisterTaskAsync(BACKGROUND_BACKUP_TASK);
  }
  return true;
}

export const backgroundBackupAvailable = true;

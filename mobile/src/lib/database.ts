/**
 * The app's own database on the phone (expo-sqlite): the hash cache and small settings such as the
 * saved backup progress, so both survive the app being closed.
 */
import * as SQLite from 'expo-sqlite';

import type { HashCache } from '../backup/hashCache.types';
import type { CachedHash } from '../backup/plan';
import { settingsProgressStore } from '../backup/progressStore';

let opened: Promise<SQLite.SQLiteDatabase> | null = null;

function database(): Promise<SQLite.SQLiteDatabase> {
  opened ??= (async () => {
    const db = await SQLite.openDatabaseAsync('photosync.db');
    await db.execAsync(`
      PRAGMA journal_mode = WAL;
      CREATE TABLE IF NOT EXISTS asset_hashes (
        asset_id TEXT PRIMARY KEY NOT NULL,
        modification_time INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        size INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
    `);
    return db;
  })();
  return opened;
}

interface HashRow {
  asset_id: string;
  modification_time: number;
  sha256: string;
  size: number;
}

const QUERY_BATCH = 500;

export const hashCache: HashCache = {
  async getMany(assetIds) {
    const db = await database();
    const found = new Map<string, CachedHash>();
    for (let start = 0; start < assetIds.length; start += QUERY_BATCH) {
      const batch = assetIds.slice(start, start + QUERY_BATCH);
      const rows = await db.getAllAsync<HashRow>(
        `SELECT * FROM asset_hashes WHERE asset_id IN (${batch.map(() => '?').join(',')})`,
        batch as string[],
      );
      for (const row of rows) {
        found.set(row.asset_id, {
          assetId: row.asset_id,
          modificationTime: row.modification_time,
          sha256: row.sha256,
          size: row.size,
        });
      }
    }
    return found;
  },
  async put(entry) {
    const db = await database();
    await db.runAsync(
      'INSERT OR REPLACE INTO asset_hashes (asset_id, modification_time, sha256, size) VALUES (?, ?, ?, ?)',
      [entry.assetId, entry.modificationTime, entry.sha256, entry.size],
    );
  },
};

export async function getSetting(key: string): Promise<string | null> {
  const row = await (await database()).getFirstAsync<{ value: string }>('SELECT value FROM settings WHERE key = ?', [key]);
  return row?.value ?? null;
}

export async function setSetting(key: string, value: string): Promise<void> {
  await (await database()).runAsync('INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)', [key, value]);
}

export const progressStore = settingsProgressStore({ getSetting, setSetting });

/**
 * The running backup, kept above the screens so it goes on while the user looks at photos, with
 * pause (stops between files; the saved progress makes resume skip what is done) and resume.
 */
import { createContext, type ReactNode, useCallback, useContext, useMemo, useRef, useState } from 'react';

import { BackupEngine, type BackupProgress, type BackupReport } from '../backup/engine';
import { hashCache, progressStore } from '../lib/database';
import { media } from '../media';
import { useRefreshLibrary } from './queries';
import { useSession } from './SessionProvider';

interface BackupContextValue {
  running: boolean;
  progress: BackupProgress | null;
  report: BackupReport | null;
  albumIds: string[];
  setAlbumIds(ids: string[]): void;
  start(): void;
  pause(): void;
}

const BackupContext = createContext<BackupContextValue | null>(null);

export function accountKey(server: string, email: string | null): string {
  return `${server}|${email ?? ''}`;
}

export function BackupProvider({ children }: { children: ReactNode }) {
  const { api, session } = useSession();
  const refresh = useRefreshLibrary();
  const [running, setRunning] = useState(false);
  const [progress, setProgress] = useState<BackupProgress | null>(null);
  const [report, setReport] = useState<BackupReport | null>(null);
  const [albumIds, setAlbumIds] = useState<string[]>([]);
  const controller = useRef<AbortController | null>(null);

  const start = useCallback(() => {
    if (!api || !session || controller.current) return;
    const abort = new AbortController();
    controller.current = abort;
    setRunning(true);
    setReport(null);
    const engine = new BackupEngine({
      api,
      media,
      hashCache,
      progressStore: progressStore(accountKey(session.server, session.email)),
    });
    void (async () => {
      try {
        if (!(await media.requestPermission())) {
          setReport({
            phase: 'stopped',
            uploaded: 0,
            alreadyBackedUp: 0,
            skippedTrashedOrDeleted: 0,
            problems: [{ filename: 'Photos', message: 'PhotoSync may not read your photos: allow it in Settings.' }],
            error: null,
          });
          return;
        }
        setReport(await engine.run(albumIds, setProgress, abort.signal));
      } catch (error) {
        setReport({
          phase: 'stopped',
          uploaded: 0,
          alreadyBackedUp: 0,
          skippedTrashedOrDeleted: 0,
          problems: [{ filename: '', message: error instanceof Error ? error.message : String(error) }],
          error: null,
        });
      } finally {
        controller.current = null;
        setRunning(false);
        refresh();
      }
    })();
  }, [api, session, albumIds, refresh]);

  const pause = useCallback(() => controller.current?.abort(), []);

  const value = useMemo(
    () => ({ running, progress, report, albumIds, setAlbumIds, start, pause }),
    [running, progress, report, albumIds, start, pause],
  );
  return <BackupContext.Provider value={value}>{children}</BackupContext.Provider>;
}

export function useBackup(): BackupContextValue {
  const value = useContext(BackupContext);
  if (!value) throw new Error('useBackup outside BackupProvider');
  return value;
}

import { useEffect, useState } from 'react';
import { Pressable, ScrollView, Switch, Text, View } from 'react-native';

import { formatBytes } from '../api/errors';
import { backgroundBackupAvailable, setBackgroundBackup } from '../backup/background';
import { FilePicker } from '../components/FilePicker';
import { Button, ErrorMessage, Notice, ProgressBar, Section, colors, styles } from '../components/ui';
import { media } from '../media';
import type { DeviceAlbum } from '../media/types';
import { useBackup } from '../state/BackupProvider';
import { useSession } from '../state/SessionProvider';

const PHASES: Record<string, string> = {
  scanning: 'Looking for photos…',
  hashing: 'Checking photos',
  checking: 'Asking the server what it already has…',
  uploading: 'Uploading',
  done: 'Backup complete',
  paused: 'Paused',
  stopped: 'Stopped',
};

export function BackupScreen() {
  const backup = useBackup();
  const { signOut } = useSession();
  const [albums, setAlbums] = useState<DeviceAlbum[] | null>(null);
  const [albumError, setAlbumError] = useState<unknown>(null);
  const [background, setBackground] = useState(false);

  useEffect(() => {
    const load = () =>
      void media
        .requestPermission()
        .then((granted) => (granted ? media.albums() : Promise.reject(new Error('Allow PhotoSync to read your photos in Settings.'))))
        .then(setAlbums, setAlbumError);
    load();
    return media.onChange(load);
  }, []);

  const toggleAlbum = (id: string) =>
    backup.setAlbumIds(backup.albumIds.includes(id) ? backup.albumIds.filter((a) => a !== id) : [...backup.albumIds, id]);
  const { progress, report } = backup;

  return (
    <ScrollView style={styles.screen} contentContainerStyle={styles.scroll} testID="backup-screen">
      <FilePicker />
      <Section title="What to back up">
        <Text style={styles.muted}>
          {backup.albumIds.length ? `${backup.albumIds.length} album(s) chosen` : 'Everything (the whole camera roll)'}
        </Text>
        {(albums ?? []).map((album) => (
          <Pressable
            key={album.id}
            accessibilityRole="checkbox"
            accessibilityState={{ checked: backup.albumIds.includes(album.id) }}
            onPress={() => toggleAlbum(album.id)}
            style={[styles.row, { paddingVertical: 6 }]}
            testID={`device-album-${album.title}`}
          >
            <Text style={{ color: colors.accent, width: 24 }}>{backup.albumIds.includes(album.id) ? '☑' : '☐'}</Text>
            <Text style={styles.text}>
              {album.title} ({album.assetCount})
            </Text>
          </Pressable>
        ))}
        <ErrorMessage error={albumError} />
      </Section>
      {backgroundBackupAvailable ? (
        <View style={styles.row}>
          <Switch
            value={background}
            onValueChange={(enabled) =>
              void setBackgroundBackup(enabled, backup.albumIds).then((ok) => setBackground(ok && enabled))
            }
          />
          <Text style={styles.text}>Back up in the background</Text>
        </View>
      ) : null}
      {backup.running ? (
        <Button title="Pause" kind="secondary" onPress={backup.pause} testID="backup-pause" />
      ) : (
        <Button
          title={report?.phase === 'paused' || report?.phase === 'stopped' ? 'Resume backup' : 'Back up now'}
          onPress={backup.start}
          testID="backup-start"
        />
      )}
      {progress ? (
        <Section title={PHASES[progress.phase]}>
          {progress.phase === 'hashing' || progress.phase === 'uploading' ? (
            <>
              <ProgressBar
                parts={[{ fraction: progress.filesTotal ? progress.filesDone / progress.filesTotal : 1, color: colors.accent }]}
              />
              <Text style={styles.text} testID="backup-progress">
                {progress.filesDone} of {progress.filesTotal}
                {progress.phase === 'uploading' ? ` · ${formatBytes(progress.bytesDone)} of ${formatBytes(progress.bytesTotal)}` : ''}
              </Text>
              {progress.currentFile ? <Text style={styles.muted}>{progress.currentFile}</Text> : null}
            </>
          ) : null}
        </Section>
      ) : null}
      {report ? (
        <Section>
          <Text style={styles.text} testID="backup-report">
            {report.uploaded} uploaded · {report.alreadyBackedUp} already backed up
            {report.skippedTrashedOrDeleted ? ` · ${report.skippedTrashedOrDeleted} skipped (in the server's trash or deleted)` : ''}
          </Text>
          {report.phase === 'paused' ? <Notice>Paused. Resume goes on where it stopped.</Notice> : null}
          {report.problems.map((problem, index) => (
            <Text key={index} style={[styles.text, { color: colors.danger }]}>
              {problem.filename ? `${problem.filename}: ` : ''}
              {problem.message}
            </Text>
          ))}
          <ErrorMessage error={report.error} testID="backup-error" />
          {report.error?.kind === 'signed_out' ? <Button title="Sign in again" onPress={() => void signOut()} /> : null}
        </Section>
      ) : null}
    </ScrollView>
  );
}

import { useRouter } from 'expo-router';
import { useState } from 'react';
import { Image, Pressable, ScrollView, Text, TextInput, useWindowDimensions, View } from 'react-native';

import { formatBytes } from '../api/errors';
import { Button, ErrorMessage, Loading, Notice, Section, colors, styles } from '../components/ui';
import { saveOriginal } from '../lib/download';
import { useAddToAlbum, useAlbums, useCreateAlbum, useMoveToTrash, usePhoto } from '../state/queries';
import { useApi } from '../state/SessionProvider';

export function ViewerScreen({ id }: { id: string }) {
  const api = useApi();
  const router = useRouter();
  const photo = usePhoto(id);
  const albums = useAlbums();
  const addToAlbum = useAddToAlbum();
  const createAlbum = useCreateAlbum();
  const moveToTrash = useMoveToTrash();
  const { width } = useWindowDimensions();
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [newAlbum, setNewAlbum] = useState('');

  if (photo.isPending) return <Loading />;
  if (photo.error || !photo.data) return <ErrorMessage error={photo.error} />;
  const p = photo.data;
  const aspect = p.width && p.height ? p.width / p.height : 4 / 3;
  const previewWidth = Math.min(width, 900);

  const run = async (action: () => Promise<string>) => {
    setError(null);
    setMessage(null);
    try {
      setMessage(await action());
    } catch (caught) {
      setError(caught);
    }
  };

  return (
    <ScrollView style={styles.screen} contentContainerStyle={styles.scroll} testID="viewer-screen">
      {p.preview_url ?? p.thumbnail_url ? (
        <Image
          source={{ uri: p.preview_url ?? p.thumbnail_url ?? undefined }}
          style={{ width: previewWidth - 32, height: (previewWidth - 32) / aspect, backgroundColor: colors.surface }}
          resizeMode="contain"
          testID="viewer-preview"
        />
      ) : (
        <Notice>The preview is still being made.</Notice>
      )}
      <Section title={p.filename}>
        <Text style={styles.text} testID="viewer-details">
          {[
            p.taken_at ? `Taken ${new Date(p.taken_at).toLocaleString()}` : `Uploaded ${new Date(p.uploaded_at).toLocaleString()}`,
            p.width && p.height ? `${p.width} × ${p.height}` : null,
            formatBytes(p.size),
            [p.camera_make, p.camera_model].filter(Boolean).join(' ') || null,
          ]
            .filter(Boolean)
            .join(' · ')}
        </Text>
      </Section>
      <Button
        title="Download"
        kind="secondary"
        onPress={() => run(async () => saveOriginal((await api.download(p.id)).url, p.filename))}
        testID="viewer-download"
      />
      <Section title="Add to album">
        {(albums.data?.items ?? [])
          .filter((album) => album.role !== 'viewer')
          .map((album) => (
            <Pressable
              key={album.id}
              accessibilityRole="button"
              onPress={() =>
                run(async () => {
                  const { added } = await addToAlbum.mutateAsync({ albumId: album.id, photoIds: [p.id] });
                  return added ? `Added to ${album.name}.` : `Already in ${album.name}.`;
                })
              }
              testID={`add-to-${album.name}`}
              style={{ paddingVertical: 8 }}
            >
              <Text style={[styles.text, { color: colors.accent }]}>+ {album.name}</Text>
            </Pressable>
          ))}
        <View style={styles.row}>
          <TextInput
            style={[styles.input, { flex: 1 }]}
            value={newAlbum}
            onChangeText={setNewAlbum}
            placeholder="New album name"
            accessibilityLabel="New album name"
            testID="viewer-new-album"
          />
          <Button
            title="Create and add"
            disabled={!newAlbum.trim()}
            onPress={() =>
              run(async () => {
                const album = await createAlbum.mutateAsync(newAlbum.trim());
                await addToAlbum.mutateAsync({ albumId: album.id, photoIds: [p.id] });
                setNewAlbum('');
                return `Added to ${album.name}.`;
              })
            }
            testID="viewer-create-album"
          />
        </View>
      </Section>
      {confirmDelete ? (
        <Section>
          <Text style={styles.text}>Move {p.filename} to the trash? You can restore it from the trash on the web.</Text>
          <View style={styles.row}>
            <Button
              title="Move to trash"
              kind="danger"
              onPress={() =>
                run(async () => {
                  await moveToTrash.mutateAsync(p.id);
                  router.back();
                  return 'Moved to the trash.';
                })
              }
              testID="viewer-confirm-delete"
            />
            <Button title="Cancel" kind="secondary" onPress={() => setConfirmDelete(false)} />
          </View>
        </Section>
      ) : (
        <Button title="Delete" kind="danger" onPress={() => setConfirmDelete(true)} testID="viewer-delete" />
      )}
      {message ? <Notice testID="viewer-message">{message}</Notice> : null}
      <ErrorMessage error={error} />
    </ScrollView>
  );
}

import { useRouter } from 'expo-router';
import { useState } from 'react';
import { FlatList, Image, Pressable, Text, TextInput, View } from 'react-native';

import { Button, ErrorMessage, Loading, Notice, colors, styles } from '../components/ui';
import { useAlbums, useCreateAlbum } from '../state/queries';

export function AlbumsScreen() {
  const albums = useAlbums();
  const create = useCreateAlbum();
  const router = useRouter();
  const [name, setName] = useState('');

  if (albums.isPending) return <Loading />;
  return (
    <View style={styles.screen} testID="albums-screen">
      <FlatList
        data={albums.data?.items ?? []}
        keyExtractor={(album) => album.id}
        contentContainerStyle={styles.scroll}
        refreshing={albums.isRefetching}
        onRefresh={() => void albums.refetch()}
        ListHeaderComponent={
          <View style={{ gap: 8 }}>
            <View style={styles.row}>
              <TextInput
                style={[styles.input, { flex: 1 }]}
                value={name}
                onChangeText={setName}
                placeholder="New album name"
                accessibilityLabel="New album name"
                testID="new-album-name"
              />
              <Button
                title="Create"
                disabled={!name.trim() || create.isPending}
                onPress={() => create.mutate(name.trim(), { onSuccess: () => setName('') })}
                testID="create-album"
              />
            </View>
            <ErrorMessage error={create.error ?? albums.error} />
          </View>
        }
        ListEmptyComponent={<Notice>No albums yet.</Notice>}
        renderItem={({ item }) => (
          <Pressable
            accessibilityRole="button"
            onPress={() => router.push(`/album/${item.id}`)}
            style={[styles.row, { paddingVertical: 8 }]}
            testID={`album-${item.name}`}
          >
            {item.cover_thumbnail_url ? (
              <Image source={{ uri: item.cover_thumbnail_url }} style={{ width: 56, height: 56, borderRadius: 6 }} />
            ) : (
              <View style={{ width: 56, height: 56, borderRadius: 6, backgroundColor: colors.surface }} />
            )}
            <View>
              <Text style={styles.text}>{item.name}</Text>
              <Text style={styles.muted}>
                {item.photo_count} {item.photo_count === 1 ? 'photo' : 'photos'}
                {/* Servers before sharing (api.md 1.1) send neither role nor owner. */}
                {item.role && item.role !== 'owner' && item.owner ? ` · shared by ${item.owner.email}` : ''}
              </Text>
            </View>
          </Pressable>
        )}
      />
    </View>
  );
}

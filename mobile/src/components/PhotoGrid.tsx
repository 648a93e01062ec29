/** A virtualized, month/day-grouped grid of thumbnails: only the visible rows are rendered. */
import { useRouter } from 'expo-router';
import { useMemo } from 'react';
import { FlatList, Image, Pressable, RefreshControl, StyleSheet, Text, useWindowDimensions, View } from 'react-native';

import type { Photo } from '../api/types';
import { type TimelineRow, timelineRows } from '../lib/timeline';
import { colors } from './ui';

const GAP = 2;
const HEADER_HEIGHT = { month: 44, day: 32 };

export function PhotoGrid({
  photos,
  onEndReached,
  refreshing,
  onRefresh,
  header,
  empty,
}: {
  photos: Photo[];
  onEndReached: () => void;
  refreshing: boolean;
  onRefresh: () => void;
  header?: React.ReactElement;
  empty?: React.ReactElement;
}) {
  const { width } = useWindowDimensions();
  const columns = Math.max(3, Math.floor(width / 130));
  const size = Math.floor((width - GAP * (columns - 1)) / columns);
  const rows = useMemo(() => timelineRows(photos, columns), [photos, columns]);
  const router = useRouter();

  const height = (row: TimelineRow) => (row.kind === 'photos' ? size + GAP : HEADER_HEIGHT[row.kind]);
  const offsets = useMemo(() => {
    const result: number[] = [];
    let offset = 0;
    for (const row of rows) {
      result.push(offset);
      offset += height(row);
    }
    return result;
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [rows, size]);

  return (
    <FlatList
      data={rows}
      keyExtractor={(row) => row.key}
      getItemLayout={(_, index) => ({ length: height(rows[index]), offset: offsets[index], index })}
      onEndReached={onEndReached}
      onEndReachedThreshold={1.5}
      windowSize={7}
      initialNumToRender={12}
      maxToRenderPerBatch={12}
      removeClippedSubviews
      refreshControl={<RefreshControl refreshing={refreshing} onRefresh={onRefresh} />}
      ListHeaderComponent={header}
      ListEmptyComponent={empty}
      renderItem={({ item }) => {
        if (item.kind === 'month') return <Text style={[local.month, { height: HEADER_HEIGHT.month }]}>{item.label}</Text>;
        if (item.kind === 'day') return <Text style={[local.day, { height: HEADER_HEIGHT.day }]}>{item.label}</Text>;
        return (
          <View style={[local.row, { height: size + GAP }]}>
            {item.photos.map((photo) => (
              <Pressable
                key={photo.id}
                accessibilityRole="button"
                accessibilityLabel={photo.filename}
                onPress={() => router.push(`/photo/${photo.id}`)}
                testID={`photo-${photo.filename}`}
              >
                {photo.thumbnail_url ? (
                  <Image
                    source={{ uri: photo.thumbnail_url }}
                    style={{ width: size, height: size }}
                    resizeMode="cover"
                    testID={`thumb-${photo.filename}`}
                  />
                ) : (
                  <View style={[local.placeholder, { width: size, height: size }]}>
                    <Text style={local.placeholderText} numberOfLines={2}>
                      {photo.content_type.startsWith('video/') ? 'Video' : 'Preparing…'}
                    </Text>
                  </View>
                )}
              </Pressable>
            ))}
          </View>
        );
      }}
    />
  );
}

const local = StyleSheet.create({
  month: { fontSize: 20, fontWeight: '700', paddingHorizontal: 12, paddingTop: 12, color: colors.text },
  day: { fontSize: 14, fontWeight: '600', paddingHorizontal: 12, paddingTop: 8, color: colors.muted },
  row: { flexDirection: 'row', gap: GAP },
  placeholder: { backgroundColor: colors.surface, alignItems: 'center', justifyContent: 'center' },
  placeholderText: { color: colors.muted, fontSize: 12 },
});

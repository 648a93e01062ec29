import { Text, View } from 'react-native';

import { Loading, styles } from '../components/ui';
import { useAlbum } from '../state/queries';
import { PhotosScreen } from './PhotosScreen';

/** An album's photos; photos are added from the viewer ("Add to album"). */
export function AlbumScreen({ id }: { id: string }) {
  const album = useAlbum(id);
  if (album.isPending) return <Loading />;
  return (
    <PhotosScreen
      albumId={id}
      header={
        <View style={{ padding: 12 }}>
          <Text style={styles.title} testID="album-title">
            {album.data?.name}
          </Text>
          <Text style={styles.muted}>
            {album.data?.photo_count} photos · open a photo in the timeline and choose "Add to album" to add more
          </Text>
        </View>
      }
    />
  );
}

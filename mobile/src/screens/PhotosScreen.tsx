import { View } from 'react-native';

import { PhotoGrid } from '../components/PhotoGrid';
import { ErrorMessage, Loading, Notice, styles } from '../components/ui';
import { usePhotos } from '../state/queries';

export function PhotosScreen({ albumId = null, header }: { albumId?: string | null; header?: React.ReactElement }) {
  const query = usePhotos(albumId);
  if (query.isPending) return <Loading />;
  const photos = query.data?.pages.flatMap((page) => page.items) ?? [];
  return (
    <View style={styles.screen} testID={albumId ? 'album-photos' : 'photos-screen'}>
      {query.error ? <ErrorMessage error={query.error} /> : null}
      <PhotoGrid
        photos={photos}
        header={header}
        empty={
          <View style={styles.scroll}>
            <Notice>{albumId ? 'No photos in this album yet.' : 'No photos yet: back up your camera roll from the Backup tab.'}</Notice>
          </View>
        }
        refreshing={query.isRefetching && !query.isFetchingNextPage}
        onRefresh={() => void query.refetch()}
        onEndReached={() => {
          if (query.hasNextPage && !query.isFetchingNextPage) void query.fetchNextPage();
        }}
      />
    </View>
  );
}

import { useLocalSearchParams } from 'expo-router';

import { AlbumScreen } from '../../src/screens/AlbumScreen';

export default function AlbumRoute() {
  const { id } = useLocalSearchParams<{ id: string }>();
  return <AlbumScreen id={id} />;
}

import { PhotosScreen } from '../../src/screens/PhotosScreen';

export default function PhotosRoute() {
  return <PhotosScreen />;
}

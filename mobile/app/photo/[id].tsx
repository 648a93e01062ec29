import { useLocalSearchParams } from 'expo-router';

import { ViewerScreen } from '../../src/screens/ViewerScreen';

export default function PhotoRoute() {
  const { id } = useLocalSearchParams<{ id: string }>();
  return <ViewerScreen id={id} />;
}

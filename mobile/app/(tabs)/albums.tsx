import { AlbumsScreen } from '../../src/screens/AlbumsScreen';

export default AlbumsScreen;

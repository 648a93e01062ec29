/** Saves a photo's original into the phone's library (downloaded to the cache first). */
import { Directory, File, Paths } from 'expo-file-system';
import * as MediaLibrary from 'expo-media-library/legacy';

export async function saveOriginal(url: string, filename: string): Promise<string> {
  const permission = await MediaLibrary.requestPermissionsAsync(true);
  if (!permission.granted) throw new Error('Allow PhotoSync to add photos to your library to download them.');
  const folder = new Directory(Paths.cache, 'downloads');
  folder.create({ idempotent: true, intermediates: true });
  const target = new File(folder, filename);
  if (target.exists) target.delete();
  const file = await File.downloadFileAsync(url, target);
  await MediaLibrary.saveToLibraryAsync(file.uri);
  file.delete();
  return 'Saved to your photo library.';
}

/** Jest stand-in for expo-media-library/legacy over `library`, paging like the native module. */
import { library } from '../deviceLibrary';

export const MediaType = { photo: 'photo', video: 'video', audio: 'audio', unknown: 'unknown' } as const;
export const SortBy = { creationTime: 'creationTime', modificationTime: 'modificationTime' } as const;

export async function getPermissionsAsync() {
  return { granted: true, canAskAgain: true, status: 'granted' };
}

export async function requestPermissionsAsync() {
  return { granted: true, canAskAgain: true, status: 'granted' };
}

export async function getAlbumsAsync() {
  const ids = [...new Set(library.assets.map((a) => a.albumId))];
  return ids.map((id) => ({ id, title: id, assetCount: library.assets.filter((a) => a.albumId === id).length }));
}

export async function getAssetsAsync(options: { first?: number; after?: string; album?: string }) {
  const all = library.assets.filter((a) => !options.album || a.albumId === options.album);
  const start = options.after ? all.findIndex((a) => a.id === options.after) + 1 : 0;
  const page = all.slice(start, start + (options.first ?? 20));
  const last = page[page.length - 1];
  return {
    assets: page.map(({ bytes: _bytes, isFavorite: _favourite, ...asset }) => ({
      ...asset,
      uri: `ph://${asset.id}`,
      width: 4032,
      height: 3024,
      duration: asset.mediaType === 'video' ? 12.5 : 0,
    })),
    endCursor: last ? last.id : options.after,
    hasNextPage: start + page.length < all.length,
    totalCount: all.length,
  };
}

export async function getAssetInfoAsync(id: string) {
  const asset = library.assets.find((a) => a.id === id);
  if (!asset) throw new Error(`no asset ${id}`);
  return { ...asset, localUri: `file:///var/mobile/Media/DCIM/100APPLE/${asset.filename}`, isFavorite: asset.isFavorite };
}

export async function deleteAssetsAsync(ids: string[]) {
  library.deleted.push(...ids);
  library.assets = library.assets.filter((a) => !ids.includes(a.id));
  return true;
}

export function addListener() {
  return { remove() {} };
}

/**
 * The phone's library: expo-media-library lists the assets, expo-file-system reads the originals
 * in chunks through a file handle and uploads them with a native upload task (which iOS carries on
 * in the background).
 */
import { File, UploadType } from 'expo-file-system';
import * as MediaLibrary from 'expo-media-library/legacy';

import { noConnection } from '../api/errors';
import { type AssetPage, type ChunkReader, contentTypeFor, type DeviceAlbum, type DeviceAsset, type MediaSource } from './types';

interface Cursor {
  album: number;
  after: string | null;
}

function toDeviceAsset(asset: MediaLibrary.Asset): DeviceAsset {
  return {
    id: asset.id,
    filename: asset.filename,
    mediaType: asset.mediaType === MediaLibrary.MediaType.video ? 'video' : 'photo',
    contentType: contentTypeFor(asset.filename),
    creationTime: asset.creationTime,
    modificationTime: asset.modificationTime,
    isFavorite: false,
    size: null,
  };
}

async function originalFile(assetId: string): Promise<File> {
  const info = await MediaLibrary.getAssetInfoAsync(assetId, { shouldDownloadFromNetwork: true });
  if (!info.localUri) throw new Error(`${info.filename} is not on this device (still in the cloud?)`);
  return new File(info.localUri);
}

export const media: MediaSource = {
  async requestPermission() {
    const current = await MediaLibrary.getPermissionsAsync();
    if (current.granted) return true;
    if (!current.canAskAgain) return false;
    return (await MediaLibrary.requestPermissionsAsync()).granted;
  },

  async albums(): Promise<DeviceAlbum[]> {
    const albums = await MediaLibrary.getAlbumsAsync({ includeSmartAlbums: true });
    return albums.map((album) => ({ id: album.id, title: album.title, assetCount: album.assetCount }));
  },

  /** Pages through each chosen album in turn (the whole library when none is chosen). */
  async assets({ albumIds, after, first }): Promise<AssetPage> {
    const cursor: Cursor = after ? (JSON.parse(after) as Cursor) : { album: 0, after: null };
    const album = albumIds.length ? albumIds[cursor.album] : undefined;
    const page = await MediaLibrary.getAssetsAsync({
      first,
      after: cursor.after ?? undefined,
      album,
      mediaType: [MediaLibrary.MediaType.photo, MediaLibrary.MediaType.video],
      sortBy: [[MediaLibrary.SortBy.creationTime, false]],
    });
    let next: Cursor | null = null;
    if (page.hasNextPage) next = { album: cursor.album, after: page.endCursor };
    else if (cursor.album + 1 < albumIds.length) next = { album: cursor.album + 1, after: null };
    return {
      assets: page.assets.map(toDeviceAsset),
      endCursor: next ? JSON.stringify(next) : null,
      hasNextPage: next !== null,
    };
  },

  async openReader(asset): Promise<ChunkReader> {
    const handle = (await originalFile(asset.id)).open();
    const size = handle.size ?? 0;
    let offset = 0;
    return {
      size,
      async read(maxBytes) {
        if (offset >= size) return null;
        const bytes = handle.readBytes(Math.min(maxBytes, size - offset));
        offset += bytes.byteLength;
        return bytes.byteLength ? bytes : null;
      },
      async close() {
        handle.close();
      },
    };
  },

  async upload(asset, target, onProgress) {
    if (target.method !== 'PUT') throw new Error(`unsupported upload method ${target.method}`);
    const file = await originalFile(asset.id);
    let result: Awaited<ReturnType<File['upload']>>;
    try {
      result = await file.upload(target.url, {
        httpMethod: 'PUT',
        uploadType: UploadType.BINARY_CONTENT,
        headers: target.headers,
        sessionType: 'background',
        onProgress: ({ bytesSent }) => onProgress(bytesSent),
      });
    } catch (cause) {
      // An HTTP refusal resolves with its status; a rejection means the request never completed.
      throw noConnection(new URL(target.url).origin, cause);
    }
    if (result.status < 200 || result.status >= 300) {
      throw new Error(`storage refused ${asset.filename} (${result.status}): ${result.body.slice(0, 200)}`);
    }
  },

  onChange(listener) {
    const subscription = MediaLibrary.addListener(() => listener());
    return () => subscription.remove();
  },

  async favorites(assetIds) {
    const favourites = new Set<string>();
    for (const id of assetIds) {
      const info = await MediaLibrary.getAssetInfoAsync(id, { shouldDownloadFromNetwork: false });
      if (info.isFavorite) favourites.add(id);
    }
    return favourites;
  },

  async deleteAssets(assetIds) {
    return MediaLibrary.deleteAssetsAsync(assetIds);
  },
};

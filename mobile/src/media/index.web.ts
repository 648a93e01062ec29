/**
 * The browser's stand-in for the phone's library: the files the user picked with a file input,
 * read with File.stream() (never whole in memory) and uploaded with XMLHttpRequest (for progress).
 * A browser cannot delete the user's files, so "deleting" a local copy forgets the picked file.
 */
import { noConnection } from '../api/errors';
import { type AssetPage, type ChunkReader, contentTypeFor, type DeviceAsset, type MediaSource } from './types';

export const PICKED_ALBUM_ID = 'picked-files';

const picked = new Map<string, { asset: DeviceAsset; file: File }>();
const listeners = new Set<() => void>();

function assetId(file: File): string {
  return `${file.name}:${file.size}:${file.lastModified}`;
}

/** Adds files from a file input to the library; returns how many were new. */
export function addPickedFiles(files: Iterable<File>): number {
  let added = 0;
  for (const file of files) {
    const id = assetId(file);
    if (picked.has(id)) continue;
    picked.set(id, {
      file,
      asset: {
        id,
        filename: file.name,
        mediaType: file.type.startsWith('video/') ? 'video' : 'photo',
        contentType: contentTypeFor(file.name),
        creationTime: file.lastModified,
        modificationTime: file.lastModified,
        isFavorite: false,
        size: file.size,
      },
    });
    added += 1;
  }
  listeners.forEach((listener) => listener());
  return added;
}

export function pickedCount(): number {
  return picked.size;
}

export function onPickedChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => void listeners.delete(listener);
}

function fileOf(asset: DeviceAsset): File {
  const entry = picked.get(asset.id);
  if (!entry) throw new Error(`${asset.filename} is no longer chosen`);
  return entry.file;
}

/** A reader over File.stream() that re-cuts the stream's chunks to at most `maxBytes`. */
export function streamReader(file: Blob): ChunkReader {
  const reader = file.stream().getReader();
  let pending: Uint8Array | null = null;
  return {
    size: file.size,
    async read(maxBytes) {
      while (pending === null || pending.byteLength === 0) {
        const { done, value } = await reader.read();
        if (done) return null;
        pending = value;
      }
      const chunk: Uint8Array = pending.subarray(0, maxBytes);
      pending = pending.byteLength > maxBytes ? pending.subarray(maxBytes) : null;
      return chunk;
    },
    async close() {
      reader.releaseLock();
    },
  };
}

export const media: MediaSource = {
  async requestPermission() {
    return true;
  },

  async albums() {
    return [{ id: PICKED_ALBUM_ID, title: 'Chosen files', assetCount: picked.size }];
  },

  async assets({ after, first }): Promise<AssetPage> {
    const all = [...picked.values()].map((entry) => entry.asset).sort((a, b) => b.creationTime - a.creationTime);
    const start = after ? Number(after) : 0;
    const end = Math.min(start + first, all.length);
    return { assets: all.slice(start, end), endCursor: end < all.length ? String(end) : null, hasNextPage: end < all.length };
  },

  async openReader(asset) {
    return streamReader(fileOf(asset));
  },

  upload(asset, target, onProgress) {
    const file = fileOf(asset);
    return new Promise<void>((resolve, reject) => {
      const request = new XMLHttpRequest();
      request.open(target.method, target.url);
      for (const [name, value] of Object.entries(target.headers)) request.setRequestHeader(name, value);
      request.upload.onprogress = (event) => onProgress(event.loaded);
      request.onload = () =>
        request.status >= 200 && request.status < 300
          ? resolve()
          : reject(new Error(`storage refused ${asset.filename} (${request.status}): ${request.responseText.slice(0, 200)}`));
      request.onerror = () =>
        reject(noConnection(new URL(target.url).origin, new Error(`the connection broke while sending ${asset.filename}`)));
      request.send(file);
    });
  },

  onChange: onPickedChange,

  async favorites() {
    return new Set<string>();
  },

  async deleteAssets(assetIds) {
    for (const id of assetIds) picked.delete(id);
    listeners.forEach((listener) => listener());
    return true;
  },
};

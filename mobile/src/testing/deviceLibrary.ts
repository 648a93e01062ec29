/**
 * A camera roll as expo-media-library and expo-file-system show it, for the Jest mocks of both:
 * assets in pages (newest first, `endCursor` = last id), each with bytes on "disk".
 */
export interface LibraryAsset {
  id: string;
  filename: string;
  mediaType: 'photo' | 'video';
  creationTime: number;
  modificationTime: number;
  isFavorite: boolean;
  albumId: string;
  bytes: Uint8Array;
}

export const library = {
  assets: [] as LibraryAsset[],
  reads: 0,
  largestRead: 0,
  deleted: [] as string[],
  reset(assets: LibraryAsset[]) {
    this.assets = assets;
    this.reads = 0;
    this.largestRead = 0;
    this.deleted = [];
  },
};

/** Deterministic pseudo-random bytes: `content` names the bytes, so equal names are equal files. */
export function bytesFor(content: string, size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  let seed = 0;
  for (const ch of content) seed = (seed * 31 + ch.charCodeAt(0)) >>> 0;
  for (let i = 0; i < size; i += 1) {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    bytes[i] = seed >>> 24;
  }
  return bytes;
}

/** 1.5-4 KB, fixed per content so that equal contents are equal files. */
function sizeOf(content: string): number {
  let h = 7;
  for (const ch of content) h = (h * 37 + ch.charCodeAt(0)) % 2500;
  return 1500 + h;
}

export function cameraRoll(count: number, contentOf: (index: number) => string = (i) => `photo-${i}`): LibraryAsset[] {
  const start = Date.UTC(2024, 6, 1);
  return Array.from({ length: count }, (_, i) => {
    const extension = i % 10 === 9 ? 'MOV' : i % 7 === 3 ? 'PNG' : 'HEIC';
    return {
      id: `${(1000 + i).toString(16).toUpperCase()}-4C1E-4A5B-B5D2-${String(i).padStart(12, '0')}/L0/001`,
      filename: `IMG_${String(4000 + i)}.${extension}`,
      mediaType: extension === 'MOV' ? 'video' : 'photo',
      creationTime: start - i * 3_600_000,
      modificationTime: start - i * 3_600_000 + 500,
      isFavorite: i % 11 === 0,
      albumId: i % 2 ? 'camera-roll' : 'screenshots',
      bytes: bytesFor(contentOf(i), sizeOf(contentOf(i))),
    };
  });
}

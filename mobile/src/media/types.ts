/**
 * The device's photo library, as the app sees it on every platform. `index.ts` implements it on
 * expo-media-library + expo-file-system, `index.web.ts` on the browser's file input + File.stream().
 */

export interface DeviceAsset {
  /** Stable for the asset's lifetime on this device (MediaLibrary's asset id). */
  id: string;
  filename: string;
  mediaType: 'photo' | 'video';
  /** The original's content type as the server accepts it, or null when the server would not. */
  contentType: string | null;
  /** Milliseconds since the epoch. */
  creationTime: number;
  modificationTime: number;
  isFavorite: boolean;
  /** Bytes of the original, when known without reading it (the web's File.size). */
  size: number | null;
}

export interface DeviceAlbum {
  id: string;
  title: string;
  assetCount: number;
}

export interface AssetPage {
  assets: DeviceAsset[];
  endCursor: string | null;
  hasNextPage: boolean;
}

/** Reads the original bytes in order, never more than `maxBytes` per call; null at the end. */
export interface ChunkReader {
  readonly size: number;
  read(maxBytes: number): Promise<Uint8Array | null>;
  close(): Promise<void>;
}

export interface UploadTarget {
  method: string;
  url: string;
  headers: Record<string, string>;
}

export interface MediaSource {
  /** Asks for (or confirms) access to the library; false when the user refused. */
  requestPermission(): Promise<boolean>;
  albums(): Promise<DeviceAlbum[]>;
  /** One page of assets, newest first; `albumIds` empty means the whole camera roll. */
  assets(options: { albumIds: string[]; after: string | null; first: number }): Promise<AssetPage>;
  /** A reader over the asset's original bytes (never an edited rendition). */
  openReader(asset: DeviceAsset): Promise<ChunkReader>;
  /** Sends the original with exactly the granted method and headers. */
  upload(asset: DeviceAsset, target: UploadTarget, onProgress: (sentBytes: number) => void): Promise<void>;
  /** Which of these assets the user marked as favourites (free up space can keep them). */
  favorites(assetIds: string[]): Promise<Set<string>>;
  /** Calls back when the library changes (new photos, deletions); returns the unsubscribe. */
  onChange(listener: () => void): () => void;
  /** Deletes local copies; the OS asks the user once more. False when the user declined. */
  deleteAssets(assetIds: string[]): Promise<boolean>;
}

const CONTENT_TYPES: Record<string, string> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  heic: 'image/heic',
  heif: 'image/heif',
  avif: 'image/avif',
  webp: 'image/webp',
  gif: 'image/gif',
  dng: 'image/x-adobe-dng',
  cr2: 'image/x-canon-cr2',
  cr3: 'image/x-canon-cr3',
  nef: 'image/x-nikon-nef',
  arw: 'image/x-sony-arw',
  raf: 'image/x-fuji-raf',
  rw2: 'image/x-panasonic-rw2',
  orf: 'image/x-olympus-orf',
  mp4: 'video/mp4',
  mov: 'video/quicktime',
};

/** The content type the contract accepts for this file name (api.md, POST /uploads). */
export function contentTypeFor(filename: string): string | null {
  const dot = filename.lastIndexOf('.');
  if (dot < 0) return null;
  return CONTENT_TYPES[filename.slice(dot + 1).toLowerCase()] ?? null;
}

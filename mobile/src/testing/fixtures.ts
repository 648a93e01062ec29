/** Test data shaped like what expo-media-library returns for a real camera roll. */
import type { CachedHash } from '../backup/plan';
import { contentTypeFor, type DeviceAsset } from '../media/types';

const BASE_TIME = Date.UTC(2024, 5, 1, 12, 0, 0);
export const DAY = 24 * 60 * 60 * 1000;

export function asset(index: number, overrides: Partial<DeviceAsset> = {}): DeviceAsset {
  const filename = overrides.filename ?? `IMG_${String(1000 + index).padStart(4, '0')}.HEIC`;
  return {
    id: `ph://${String(index).padStart(8, '0')}-7A1C-4D5E-9F00-${String(index).padStart(12, '0')}/L0/001`,
    filename,
    mediaType: 'photo',
    contentType: contentTypeFor(filename),
    creationTime: BASE_TIME - index * DAY,
    modificationTime: BASE_TIME - index * DAY + 1000,
    isFavorite: false,
    size: null,
    ...overrides,
  };
}

/** A fake, deterministic 64-hex sha256 for a content label. */
export function sha(label: string): string {
  let hex = '';
  for (let i = 0; hex.length < 64; i += 1) {
    const code = (label.charCodeAt(i % label.length) * 31 + i * 7) % 256;
    hex += code.toString(16).padStart(2, '0');
  }
  return hex.slice(0, 64);
}

export function hashed(a: DeviceAsset, content: string, size = 2_000_000): CachedHash {
  return { assetId: a.id, modificationTime: a.modificationTime, sha256: sha(content), size };
}

export function hashMap(entries: CachedHash[]): Map<string, CachedHash> {
  return new Map(entries.map((e) => [e.assetId, e]));
}

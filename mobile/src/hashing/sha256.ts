/**
 * Streaming SHA-256 of an asset's original bytes: the reader hands over at most `chunkSize` bytes at
 * a time and each chunk is fed to the hasher and dropped, so memory stays at one chunk whatever the
 * file's size (a 4 GB video hashes in 1 MiB of buffer).
 */
import { sha256 } from '@noble/hashes/sha256';
import { bytesToHex } from '@noble/hashes/utils';

import type { ChunkReader } from '../media/types';

export const DEFAULT_CHUNK_SIZE = 1024 * 1024;

export interface IncrementalHash {
  update(chunk: Uint8Array): unknown;
  digest(): Uint8Array;
}

export interface HashOptions {
  chunkSize?: number;
  onProgress?: (hashedBytes: number) => void;
  /** Stops between chunks (pause, sign-out); the hash is then abandoned. */
  signal?: AbortSignal;
  createHash?: () => IncrementalHash;
}

export class HashAborted extends Error {
  constructor() {
    super('hashing stopped');
    this.name = 'HashAborted';
  }
}

export async function sha256OfReader(reader: ChunkReader, options: HashOptions = {}): Promise<string> {
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const hash = (options.createHash ?? (() => sha256.create()))();
  let hashed = 0;
  try {
    for (;;) {
      if (options.signal?.aborted) throw new HashAborted();
      const chunk = await reader.read(chunkSize);
      if (chunk === null) break;
      if (chunk.byteLength > chunkSize) {
        throw new Error(`reader returned ${chunk.byteLength} bytes for a ${chunkSize}-byte read`);
      }
      hash.update(chunk);
      hashed += chunk.byteLength;
      options.onProgress?.(hashed);
    }
  } finally {
    await reader.close();
  }
  if (hashed !== reader.size) {
    throw new Error(`read ${hashed} bytes of a ${reader.size}-byte file: it changed while it was read`);
  }
  return bytesToHex(hash.digest());
}

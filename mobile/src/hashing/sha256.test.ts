import { createHash, randomBytes } from 'node:crypto';

import type { ChunkReader } from '../media/types';
import { sha256OfReader } from './sha256';

/** A reader over a buffer that records the largest chunk it ever handed over. */
function bufferReader(data: Uint8Array) {
  let offset = 0;
  const reader: ChunkReader & { largestChunk: number; closed: boolean } = {
    size: data.byteLength,
    largestChunk: 0,
    closed: false,
    async read(maxBytes) {
      if (offset >= data.byteLength) return null;
      // A fresh copy per read, as a file handle gives: the reader keeps nothing it handed over.
      const chunk = data.slice(offset, Math.min(offset + maxBytes, data.byteLength));
      offset += chunk.byteLength;
      reader.largestChunk = Math.max(reader.largestChunk, chunk.byteLength);
      return chunk;
    },
    async close() {
      reader.closed = true;
    },
  };
  return reader;
}

describe('sha256OfReader', () => {
  const CHUNK = 256 * 1024;
  const data = new Uint8Array(randomBytes(5 * 1024 * 1024 + 12345));

  it("equals Node's crypto for a multi-megabyte asset, fed chunk by chunk", async () => {
    const reader = bufferReader(data);
    const fed: number[] = [];
    const progress: number[] = [];
    const hash = await sha256OfReader(reader, {
      chunkSize: CHUNK,
      onProgress: (n) => progress.push(n),
      createHash: () => {
        const inner = createHash('sha256');
        return {
          update: (chunk: Uint8Array) => {
            fed.push(chunk.byteLength);
            inner.update(chunk);
          },
          digest: () => new Uint8Array(inner.digest()),
        };
      },
    });

    expect(hash).toBe(createHash('sha256').update(data).digest('hex'));
    expect(reader.largestChunk).toBeLessThanOrEqual(CHUNK);
    expect(Math.max(...fed)).toBeLessThanOrEqual(CHUNK);
    expect(fed.length).toBe(Math.ceil(data.byteLength / CHUNK));
    expect(progress[progress.length - 1]).toBe(data.byteLength);
    expect(reader.closed).toBe(true);
  });

  it('gives the same hash with the shipped (noble) hasher', async () => {
    const hash = await sha256OfReader(bufferReader(data), { chunkSize: CHUNK });
    expect(hash).toBe(createHash('sha256').update(data).digest('hex'));
  });

  it('hashes an empty file', async () => {
    expect(await sha256OfReader(bufferReader(new Uint8Array(0)))).toBe(createHash('sha256').digest('hex'));
  });

  it('refuses a reader that hands over more than it was asked for', async () => {
    const greedy: ChunkReader = {
      size: 10,
      read: async () => new Uint8Array(10),
      close: async () => undefined,
    };
    await expect(sha256OfReader(greedy, { chunkSize: 4 })).rejects.toThrow('10 bytes for a 4-byte read');
  });

  it('notices a file that changed size while it was read', async () => {
    const reader = { ...bufferReader(data.slice(0, 100)), size: 200 };
    await expect(sha256OfReader(reader)).rejects.toThrow('changed while it was read');
  });

  it('stops between chunks when aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(sha256OfReader(bufferReader(data), { signal: controller.signal })).rejects.toThrow('hashing stopped');
  });
});

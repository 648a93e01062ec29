// SHA-256 of files of any size in bounded memory. Web Crypto has no streaming digest (it wants the
// whole file in one buffer: 4 GB of memory for a 4 GB video), so the hashing is hash-wasm's
// WebAssembly SHA-256 (vendor/hash-wasm, MIT), fed the file as a stream read into one reused
// buffer: memory stays at that buffer's size, whatever the file's.

// The vendored file is hash-wasm's UMD build: loaded as a module, it defines `globalThis.hashwasm`.
import "./vendor/hash-wasm/sha256.umd.min.js";

/** The buffer the file is read into, reused from read to read. */
export const HASH_BUFFER_BYTES = 4 * 1024 * 1024;

const { createSHA256 } = globalThis.hashwasm;

/**
 * SHA-256 of `blob` (a File, or a slice of one) as 64 lowercase hex characters.
 * `onProgress(bytesHashed)` is called as the bytes go through; `signal` aborts.
 */
export async function sha256Hex(blob, { onProgress, signal } = {}) {
  const hasher = await createSHA256();
  hasher.init();
  let hashed = 0;
  for await (const bytes of chunksOf(blob)) {
    signal?.throwIfAborted();
    hasher.update(bytes);
    hashed += bytes.byteLength;
    onProgress?.(hashed);
  }
  return hasher.digest("hex");
}

async function* chunksOf(blob) {
  let reader;
  try {
    reader = blob.stream().getReader({ mode: "byob" });
  } catch {
    reader = null; // a browser whose Blob streams are not byte streams
  }
  if (!reader) {
    // Each slice is a new buffer, freed when the garbage collector runs: bounded, less tightly.
    for (let start = 0; start < blob.size; start += HASH_BUFFER_BYTES) {
      yield new Uint8Array(await blob.slice(start, start + HASH_BUFFER_BYTES).arrayBuffer());
    }
    return;
  }
  // A BYOB read hands the buffer back (transferred) with the bytes it filled; the next read reuses it.
  let buffer = new ArrayBuffer(HASH_BUFFER_BYTES);
  try {
    while (true) {
      const { done, value } = await reader.read(new Uint8Array(buffer));
      if (done) return;
      yield value;
      buffer = value.buffer;
    }
  } finally {
    reader.releaseLock();
  }
}

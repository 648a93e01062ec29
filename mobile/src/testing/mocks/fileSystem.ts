/** Jest stand-in for expo-file-system's File over `library`: handles read by range, uploads PUT. */
import { library } from '../deviceLibrary';
import type { FakeServer } from '../fakeServer';

export const UploadType = { BINARY_CONTENT: 0, MULTIPART: 1 } as const;

export const storage: { server: FakeServer | null } = { server: null };

function bytesAt(uri: string): Uint8Array {
  const name = uri.split('/').pop();
  const asset = library.assets.find((a) => a.filename === name);
  if (!asset) throw new Error(`no file at ${uri}`);
  return asset.bytes;
}

export class File {
  constructor(readonly uri: string) {}

  open() {
    const bytes = bytesAt(this.uri);
    let offset = 0;
    return {
      size: bytes.byteLength,
      get offset() {
        return offset;
      },
      readBytes(length: number) {
        library.reads += 1;
        library.largestRead = Math.max(library.largestRead, length);
        const chunk = bytes.slice(offset, offset + length);
        offset += chunk.byteLength;
        return chunk;
      },
      close() {},
    };
  }

  async upload(url: string, options: { httpMethod: string; headers: Record<string, string>; onProgress?: (p: { bytesSent: number; totalBytes: number }) => void }) {
    if (!storage.server) throw new Error('no server');
    if (options.httpMethod !== 'PUT') return { status: 405, body: '', headers: {} };
    const bytes = bytesAt(this.uri);
    const result = storage.server.put(url, options.headers, bytes);
    options.onProgress?.({ bytesSent: bytes.byteLength, totalBytes: bytes.byteLength });
    return { ...result, headers: {} };
  }
}

/**
 * An in-memory PhotoSync server speaking the api.md 1.1 routes the backup uses, behind a fetch
 * function, plus the storage side of the pre-signed PUT (which checks the granted headers, the size
 * and the SHA-256 exactly as the real store does).
 */
import { createHash } from 'node:crypto';

export interface StoredPhoto {
  id: string;
  sha256: string;
  size: number;
  filename: string;
}

interface Pending {
  id: string;
  sha256: string;
  size: number;
  filename: string;
  headers: Record<string, string>;
  completeAfterPolls: number;
}

export class FakeServer {
  readonly base = 'http://192.168.1.20:8000';
  photos = new Map<string, StoredPhoto>(); // by sha256
  trashed = new Map<string, string>();
  deleted = new Set<string>();
  pending = new Map<string, Pending>();
  quota = 10 ** 12;
  puts: string[] = []; // sha256 of every accepted PUT
  grants = 0;
  failPutNumber: number | null = null;
  private putAttempts = 0;
  private nextId = 1;

  used(): number {
    return [...this.photos.values()].reduce((n, p) => n + p.size, 0);
  }

  reserved(): number {
    return [...this.pending.values()].reduce((n, p) => n + p.size, 0);
  }

  fetch = async (url: string, init: RequestInit = {}): Promise<Response> => {
    const path = url.slice(this.base.length);
    const method = init.method ?? 'GET';
    const body = init.body ? JSON.parse(String(init.body)) : null;
    if (method === 'POST' && path === '/photos/lookup') {
      const found: Record<string, string> = {};
      const trashed: Record<string, string> = {};
      const deleted: string[] = [];
      for (const sha of body.sha256 as string[]) {
        if (this.photos.has(sha)) found[sha] = this.photos.get(sha)!.id;
        else if (this.trashed.has(sha)) trashed[sha] = this.trashed.get(sha)!;
        else if (this.deleted.has(sha)) deleted.push(sha);
      }
      return json(200, { found, trashed, deleted });
    }
    if (method === 'POST' && path === '/uploads') {
      const existing = this.photos.get(body.sha256);
      if (existing) return json(200, { status: 'duplicate', photo_id: existing.id });
      if (this.used() + this.reserved() + body.size > this.quota) {
        return json(413, {
          error: {
            code: 'quota_exceeded',
            message: 'not enough storage',
            storage_quota: this.quota,
            storage_used: this.used(),
            storage_pending: this.reserved(),
            size: body.size,
          },
        });
      }
      const id = `00000000-0000-4000-8000-${String(this.nextId++).padStart(12, '0')}`;
      const headers = { 'Content-Type': body.content_type, 'x-amz-checksum-sha256': `${body.sha256.slice(0, 8)}` };
      this.pending.set(id, { id, sha256: body.sha256, size: body.size, filename: body.filename, headers, completeAfterPolls: 1 });
      this.grants += 1;
      return json(201, { upload_id: id, status: 'pending', method: 'PUT', url: `${this.base}/store/${id}?sig=x`, headers, expires_at: '2030-01-01T00:00:00Z' });
    }
    const status = path.match(/^\/uploads\/([^/]+)$/);
    if (status && method === 'GET') {
      const id = status[1];
      const done = [...this.photos.values()].find((p) => p.id === id);
      if (done) return json(200, { upload_id: id, status: 'complete', photo_id: id });
      if (this.pending.has(id)) return json(200, { upload_id: id, status: 'pending' });
      return json(404, { error: { code: 'not_found', message: 'upload not found' } });
    }
    if (status && method === 'DELETE') {
      this.pending.delete(status[1]);
      return new Response(null, { status: 204 });
    }
    return json(404, { error: { code: 'not_found', message: `${method} ${path}` } });
  };

  /** The store's side of PUT url: exactly the granted headers, size and hash, or refused. */
  put(url: string, headers: Record<string, string>, bytes: Uint8Array): { status: number; body: string } {
    this.putAttempts += 1;
    if (this.failPutNumber === this.putAttempts) throw new Error('The network connection was lost.');
    const id = url.split('/store/')[1]?.split('?')[0];
    const pending = id ? this.pending.get(id) : undefined;
    if (!pending) return { status: 403, body: 'unknown or expired URL' };
    if (JSON.stringify(headers) !== JSON.stringify(pending.headers)) return { status: 403, body: 'headers differ' };
    const sha = createHash('sha256').update(bytes).digest('hex');
    if (bytes.byteLength !== pending.size || sha !== pending.sha256) return { status: 400, body: 'body differs' };
    this.pending.delete(pending.id);
    this.puts.push(sha);
    // Finalize: the same content arriving twice ends as one photo (the contract's race rule).
    if (!this.photos.has(sha)) this.photos.set(sha, { id: pending.id, sha256: sha, size: pending.size, filename: pending.filename });
    return { status: 200, body: '' };
  }
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

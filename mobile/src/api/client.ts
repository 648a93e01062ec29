import { ApiError, errorFromResponse, noConnection } from './errors';
import type {
  AddAlbumPhotosResponse,
  Album,
  AlbumList,
  DownloadLink,
  LookupResponse,
  Me,
  OpenIdConfiguration,
  Photo,
  PhotoPage,
  TokenResponse,
  UploadRequest,
  UploadResponse,
  UploadStatus,
} from './types';

export type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

export interface ClientOptions {
  /** The server's base URL, e.g. http://192.168.1.20:8000 or an API Gateway URL. */
  server: string;
  /** The current access token, or null when signed out. */
  token?: () => string | null;
  fetch?: Fetch;
  /** How a 429 waits before retrying; injectable so tests need not wait. */
  sleep?: (ms: number) => Promise<void>;
  /** Called once a request proves the session is over (any 401). */
  onSignedOut?: () => void;
}

/** How many times a request answered 429 is sent before the error reaches the user. */
export const MAX_ATTEMPTS = 4;
const DEFAULT_RETRY_MS = 1000;
const MAX_RETRY_MS = 30_000;
export const LOOKUP_BATCH = 1000;

/** Retry-After as milliseconds: delay-seconds or an HTTP date (RFC 9110 section 10.2.3). */
export function retryAfterMs(header: string | null, now: number = Date.now()): number {
  if (header === null || header.trim() === '') return DEFAULT_RETRY_MS;
  const seconds = Number(header.trim());
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - now;
  if (!Number.isFinite(ms)) return DEFAULT_RETRY_MS;
  return Math.min(Math.max(ms, 0), MAX_RETRY_MS);
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class ApiClient {
  readonly server: string;
  private readonly options: ClientOptions;
  private readonly fetchImpl: Fetch;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(options: ClientOptions) {
    this.server = options.server.replace(/\/+$/, '');
    this.options = options;
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
    this.sleep = options.sleep ?? defaultSleep;
  }

  /** One JSON request: the parsed body on 2xx (undefined on 204), else an ApiError. */
  async request<T>(method: string, path: string, body?: unknown, auth = true): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (auth) {
      const token = this.options.token?.();
      if (!token) throw this.signedOut(401, null);
      headers.Authorization = `Bearer ${token}`;
    }
    const url = path.startsWith('http') ? path : `${this.server}${path}`;
    for (let attempt = 1; ; attempt += 1) {
      let response: Response;
      try {
        response = await this.fetchImpl(url, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      } catch (cause) {
        throw noConnection(this.server, cause);
      }
      if (response.status === 429 && attempt < MAX_ATTEMPTS) {
        await this.sleep(retryAfterMs(response.headers.get('Retry-After')));
        continue;
      }
      if (response.status === 204) return undefined as T;
      const parsed = await parseJson(response);
      if (response.ok) return parsed as T;
      const error = errorFromResponse(response.status, parsed);
      if (error.kind === 'signed_out' && auth) this.options.onSignedOut?.();
      throw error;
    }
  }

  private signedOut(status: number, code: string | null): ApiError {
    this.options.onSignedOut?.();
    return new ApiError('signed_out', 'You are signed out. Sign in to continue.', { status, code });
  }

  devLogin(email: string): Promise<TokenResponse> {
    return this.request('POST', '/auth/dev/login', { email }, false);
  }

  openIdConfiguration(): Promise<OpenIdConfiguration> {
    return this.request('GET', '/auth/.well-known/openid-configuration', undefined, false);
  }

  me(): Promise<Me> {
    return this.request('GET', '/me');
  }

  photos(params: { limit?: number; cursor?: string | null; albumId?: string | null } = {}): Promise<PhotoPage> {
    const query = new URLSearchParams();
    if (params.limit) query.set('limit', String(params.limit));
    if (params.cursor) query.set('cursor', params.cursor);
    if (params.albumId) query.set('album_id', params.albumId);
    const suffix = query.toString();
    return this.request('GET', `/photos${suffix ? `?${suffix}` : ''}`);
  }

  photo(id: string): Promise<Photo> {
    return this.request('GET', `/photos/${encodeURIComponent(id)}`);
  }

  download(id: string): Promise<DownloadLink> {
    return this.request('GET', `/photos/${encodeURIComponent(id)}/download`);
  }

  /** Moves the photo to the trash (api.md 1.1). */
  deletePhoto(id: string): Promise<void> {
    return this.request('DELETE', `/photos/${encodeURIComponent(id)}`);
  }

  /** One lookup call per 1000 hashes; the answers merged, missing 1.1 keys read as empty. */
  async lookup(hashes: readonly string[]): Promise<Required<LookupResponse>> {
    const merged: Required<LookupResponse> = { found: {}, trashed: {}, deleted: [] };
    const unique = [...new Set(hashes)];
    for (let start = 0; start < unique.length; start += LOOKUP_BATCH) {
      const batch = unique.slice(start, start + LOOKUP_BATCH);
      const answer = await this.request<LookupResponse>('POST', '/photos/lookup', { sha256: batch });
      Object.assign(merged.found, answer.found ?? {});
      Object.assign(merged.trashed, answer.trashed ?? {});
      merged.deleted.push(...(answer.deleted ?? []));
    }
    return merged;
  }

  createUpload(request: UploadRequest): Promise<UploadResponse> {
    return this.request('POST', '/uploads', request);
  }

  upload(id: string): Promise<UploadStatus> {
    return this.request('GET', `/uploads/${encodeURIComponent(id)}`);
  }

  cancelUpload(id: string): Promise<void> {
    return this.request('DELETE', `/uploads/${encodeURIComponent(id)}`);
  }

  albums(): Promise<AlbumList> {
    return this.request('GET', '/albums');
  }

  album(id: string): Promise<Album> {
    return this.request('GET', `/albums/${encodeURIComponent(id)}`);
  }

  createAlbum(name: string): Promise<Album> {
    return this.request('POST', '/albums', { name });
  }

  addToAlbum(albumId: string, photoIds: string[]): Promise<AddAlbumPhotosResponse> {
    return this.request('POST', `/albums/${encodeURIComponent(albumId)}/photos`, { photo_ids: photoIds });
  }
}

async function parseJson(response: Response): Promise<unknown> {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

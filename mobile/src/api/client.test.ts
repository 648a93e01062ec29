import { ApiClient, MAX_ATTEMPTS, retryAfterMs } from './client';
import { ApiError } from './errors';

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });
}

function client(fetch: jest.Mock, extra: Partial<ConstructorParameters<typeof ApiClient>[0]> = {}) {
  return new ApiClient({ server: 'http://192.168.1.20:8000/', token: () => 'token-1', fetch, sleep: async () => undefined, ...extra });
}

describe('ApiClient', () => {
  it('sends the bearer token and JSON to the server URL without a doubled slash', async () => {
    const fetch = jest.fn().mockResolvedValue(json(200, { found: {} }));
    await client(fetch).lookup(['a'.repeat(64)]);
    const [url, init] = fetch.mock.calls[0];
    expect(url).toBe('http://192.168.1.20:8000/photos/lookup');
    expect(init.method).toBe('POST');
    expect(init.headers.Authorization).toBe('Bearer token-1');
    expect(JSON.parse(init.body)).toEqual({ sha256: ['a'.repeat(64)] });
  });

  it('looks up in batches of 1000 and merges the answers, reading missing 1.1 keys as empty', async () => {
    const hashes = Array.from({ length: 2500 }, (_, i) => i.toString(16).padStart(64, '0'));
    const fetch = jest
      .fn()
      .mockResolvedValueOnce(json(200, { found: { [hashes[0]]: 'p0' } }))
      .mockResolvedValueOnce(json(200, { found: {}, trashed: { [hashes[1500]]: 'p1' }, deleted: [hashes[1600]] }))
      .mockResolvedValueOnce(json(200, { found: { [hashes[2499]]: 'p2' }, trashed: {}, deleted: [] }));
    const answer = await client(fetch).lookup(hashes);
    expect(fetch.mock.calls.map(([, init]) => JSON.parse(init.body).sha256.length)).toEqual([1000, 1000, 500]);
    expect(answer).toEqual({
      found: { [hashes[0]]: 'p0', [hashes[2499]]: 'p2' },
      trashed: { [hashes[1500]]: 'p1' },
      deleted: [hashes[1600]],
    });
  });

  it('says "no connection" with what to do when the server cannot be reached', async () => {
    const fetch = jest.fn().mockRejectedValue(new TypeError('Network request failed'));
    const error = await client(fetch).me().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).kind).toBe('no_connection');
    expect((error as ApiError).message).toBe(
      'No connection to http://192.168.1.20:8000 (Network request failed). Check that the phone is online and the server is running, then try again.',
    );
  });

  it('turns a 401 into "signed out" and tells the session', async () => {
    const onSignedOut = jest.fn();
    const fetch = jest.fn().mockResolvedValue(json(401, { error: { code: 'unauthorized', message: 'token expired' } }));
    const error = (await client(fetch, { onSignedOut }).photos().catch((e: unknown) => e)) as ApiError;
    expect(error.kind).toBe('signed_out');
    expect(error.message).toBe('Your session has expired. Sign in again to continue.');
    expect(onSignedOut).toHaveBeenCalledTimes(1);
  });

  it('does not send a request without a token', async () => {
    const fetch = jest.fn();
    const onSignedOut = jest.fn();
    const error = (await client(fetch, { token: () => null, onSignedOut }).me().catch((e: unknown) => e)) as ApiError;
    expect(error.kind).toBe('signed_out');
    expect(fetch).not.toHaveBeenCalled();
    expect(onSignedOut).toHaveBeenCalled();
  });

  it('explains quota_exceeded with the numbers the server sent', async () => {
    const fetch = jest.fn().mockResolvedValue(
      json(413, {
        error: {
          code: 'quota_exceeded',
          message: 'not enough storage',
          storage_quota: 1024 * 1024 * 1024,
          storage_used: 1000 * 1024 * 1024,
          storage_pending: 20 * 1024 * 1024,
          size: 8 * 1024 * 1024,
        },
      }),
    );
    const error = (await client(fetch)
      .createUpload({ filename: 'a.jpg', content_type: 'image/jpeg', size: 8 * 1024 * 1024, sha256: 'a'.repeat(64) })
      .catch((e: unknown) => e)) as ApiError;
    expect(error.kind).toBe('quota_exceeded');
    expect(error.quota).toEqual({
      storageQuota: 1024 ** 3,
      storageUsed: 1000 * 1024 ** 2,
      storagePending: 20 * 1024 ** 2,
      size: 8 * 1024 ** 2,
    });
    expect(error.message).toBe(
      'Your storage is full: 1000 MB used and 20 MB reserved of 1.0 GB; this file needs 8.0 MB. ' +
        'Free up space on the server (empty the trash or delete photos), then resume the backup.',
    );
  });

  it('tells file_too_large from quota_exceeded, both 413', async () => {
    const fetch = jest.fn().mockResolvedValue(json(413, { error: { code: 'file_too_large', message: 'over 20 GiB' } }));
    const error = (await client(fetch).me().catch((e: unknown) => e)) as ApiError;
    expect(error.kind).toBe('file_too_large');
    expect(error.message).toBe('over 20 GiB');
  });

  it('retries a 429 after the Retry-After the server asked for, then succeeds', async () => {
    const sleep = jest.fn().mockResolvedValue(undefined);
    const fetch = jest
      .fn()
      .mockResolvedValueOnce(json(429, { error: { code: 'too_many_requests', message: 'slow down' } }, { 'Retry-After': '3' }))
      .mockResolvedValueOnce(json(200, { id: 'u' }));
    await expect(client(fetch, { sleep }).me()).resolves.toEqual({ id: 'u' });
    expect(sleep).toHaveBeenCalledWith(3000);
    expect(fetch).toHaveBeenCalledTimes(2);
  });

  it('gives up after a bounded number of 429s with a clear message', async () => {
    const fetch = jest.fn().mockImplementation(async () => json(429, { error: { code: 'too_many_requests', message: 'x' } }));
    const error = (await client(fetch).me().catch((e: unknown) => e)) as ApiError;
    expect(fetch).toHaveBeenCalledTimes(MAX_ATTEMPTS);
    expect(error.kind).toBe('rate_limited');
    expect(error.message).toBe('The server is busy. Wait a moment and try again.');
  });

  it('maps a non-contract 5xx body to a server error', async () => {
    const fetch = jest.fn().mockResolvedValue(new Response('Bad gateway', { status: 502 }));
    const error = (await client(fetch).me().catch((e: unknown) => e)) as ApiError;
    expect(error.kind).toBe('server_error');
  });
});

describe('retryAfterMs', () => {
  it('reads seconds and HTTP dates, bounded', () => {
    expect(retryAfterMs('2')).toBe(2000);
    expect(retryAfterMs(null)).toBe(1000);
    expect(retryAfterMs('Wed, 21 Oct 2015 07:28:10 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'))).toBe(10_000);
    expect(retryAfterMs('86400')).toBe(30_000);
    expect(retryAfterMs('soon')).toBe(1000);
  });
});

import type { ErrorBody } from './types';

/**
 * What went wrong, in the terms a screen acts on: each kind has one thing the user can do next.
 */
export type ApiErrorKind =
  | 'no_connection' // the server could not be reached: check the network or the server URL
  | 'signed_out' // 401: the session is over, sign in again
  | 'quota_exceeded' // 413 quota_exceeded: free up space on the server
  | 'file_too_large'
  | 'unsupported_media_type'
  | 'not_found'
  | 'forbidden'
  | 'rate_limited'
  | 'invalid_request'
  | 'conflict'
  | 'server_error';

export interface QuotaNumbers {
  storageQuota: number;
  storageUsed: number;
  storagePending: number;
  size: number;
}

export class ApiError extends Error {
  readonly kind: ApiErrorKind;
  readonly status: number | null;
  readonly code: string | null;
  readonly quota: QuotaNumbers | null;

  constructor(
    kind: ApiErrorKind,
    message: string,
    options: { status?: number | null; code?: string | null; quota?: QuotaNumbers | null } = {},
  ) {
    super(message);
    this.name = 'ApiError';
    this.kind = kind;
    this.status = options.status ?? null;
    this.code = options.code ?? null;
    this.quota = options.quota ?? null;
  }
}

const KIND_BY_CODE: Record<string, ApiErrorKind> = {
  unauthorized: 'signed_out',
  password_required: 'signed_out',
  quota_exceeded: 'quota_exceeded',
  file_too_large: 'file_too_large',
  unsupported_media_type: 'unsupported_media_type',
  not_found: 'not_found',
  forbidden: 'forbidden',
  too_many_requests: 'rate_limited',
  invalid_request: 'invalid_request',
  conflict: 'conflict',
};

function kindByStatus(status: number): ApiErrorKind {
  if (status === 401) return 'signed_out';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 409) return 'conflict';
  if (status === 413) return 'file_too_large';
  if (status === 415) return 'unsupported_media_type';
  if (status === 429) return 'rate_limited';
  if (status >= 500) return 'server_error';
  return 'invalid_request';
}

function isErrorBody(body: unknown): body is ErrorBody {
  if (typeof body !== 'object' || body === null || !('error' in body)) return false;
  const error = (body as { error: unknown }).error;
  return typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string';
}

/** The error for a non-2xx answer: the contract's code when the body has one, else the status. */
export function errorFromResponse(status: number, body: unknown): ApiError {
  if (!isErrorBody(body)) {
    const kind = kindByStatus(status);
    return new ApiError(kind, describe(kind, `the server answered ${status}`), { status });
  }
  const { code, message } = body.error;
  // A 401 is "signed out" whatever its code says: the token is the only thing a client can fix.
  const kind = status === 401 ? 'signed_out' : (KIND_BY_CODE[code] ?? kindByStatus(status));
  const e = body.error;
  const quota =
    kind === 'quota_exceeded' && typeof e.storage_quota === 'number'
      ? {
          storageQuota: e.storage_quota,
          storageUsed: e.storage_used ?? 0,
          storagePending: e.storage_pending ?? 0,
          size: e.size ?? 0,
        }
      : null;
  return new ApiError(kind, describe(kind, message, quota), { status, code, quota });
}

export function noConnection(server: string, cause: unknown): ApiError {
  const detail = cause instanceof Error && cause.message ? ` (${cause.message})` : '';
  return new ApiError(
    'no_connection',
    `No connection to ${server}${detail}. Check that the phone is online and the server is running, then try again.`,
  );
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

function describe(kind: ApiErrorKind, message: string, quota: QuotaNumbers | null = null): string {
  switch (kind) {
    case 'signed_out':
      return 'Your session has expired. Sign in again to continue.';
    case 'quota_exceeded':
      if (quota) {
        return (
          `Your storage is full: ${formatBytes(quota.storageUsed)} used and ${formatBytes(quota.storagePending)} ` +
          `reserved of ${formatBytes(quota.storageQuota)}; this file needs ${formatBytes(quota.size)}. ` +
          'Free up space on the server (empty the trash or delete photos), then resume the backup.'
        );
      }
      return `Your storage is full: ${message}`;
    case 'rate_limited':
      return 'The server is busy. Wait a moment and try again.';
    case 'server_error':
      return `The server had a problem (${message}). Try again later.`;
    default:
      return message;
  }
}

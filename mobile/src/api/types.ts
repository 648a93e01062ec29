/**
 * The HTTP contract, version 1.1 (`../shared/docs/api.md`), as TypeScript types.
 *
 * Every field name here is the contract's, spelled exactly as on the wire, and they all live in this
 * one file so that a check against the server's OpenAPI document has one place to look.
 */

export type ErrorCode =
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'invalid_request'
  | 'quota_exceeded'
  | 'file_too_large'
  | 'unsupported_media_type'
  | 'conflict'
  | 'password_required'
  | 'too_many_requests';

export interface ErrorBody {
  error: {
    code: ErrorCode | string;
    message: string;
    /** quota_exceeded carries the account's numbers and the refused file's size. */
    storage_quota?: number;
    storage_used?: number;
    storage_pending?: number;
    size?: number;
  };
}

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  /** Cognito's code flow also returns these; the local identity provider does not. */
  refresh_token?: string;
  id_token?: string;
  scope?: string;
}

export interface DevLoginRequest {
  email: string;
}

export interface Me {
  id: string;
  email: string;
  storage_quota: number;
  storage_used: number;
  storage_pending: number;
  /** Part of storage_used held by photos in the trash (absent on servers without a trash). */
  storage_trash?: number;
}

export interface UploadRequest {
  filename: string;
  content_type: string;
  size: number;
  sha256: string;
}

export interface UploadGranted {
  upload_id: string;
  status: 'pending';
  method: 'PUT';
  url: string;
  headers: Record<string, string>;
  expires_at: string;
}

export interface UploadDuplicate {
  status: 'duplicate';
  photo_id: string;
  in_trash?: boolean;
}

export type UploadResponse = UploadGranted | UploadDuplicate;

export interface UploadStatus {
  upload_id: string;
  status: 'pending' | 'complete' | 'failed';
  photo_id?: string;
  reason?: string;
}

/** Fields marked optional are ones the OpenAPI document does not require (added in 1.1). */
export interface Photo {
  id: string;
  owner_id?: string;
  filename: string;
  content_type: string;
  size: number;
  sha256: string;
  uploaded_at: string;
  taken_at: string | null;
  width: number | null;
  height: number | null;
  duration_ms: number | null;
  camera_make: string | null;
  camera_model: string | null;
  thumbnail_url: string | null;
  preview_url: string | null;
  playback_url: string | null;
  trashed_at?: string | null;
}

export interface PhotoPage {
  items: Photo[];
  next_cursor: string | null;
}

export interface DownloadLink {
  url: string;
  expires_at: string;
}

export interface LookupRequest {
  sha256: string[];
}

/** `trashed` and `deleted` are 1.1 additions: a server that omits them has none. */
export interface LookupResponse {
  found: Record<string, string>;
  trashed?: Record<string, string>;
  deleted?: string[];
}

export type AlbumRole = 'owner' | 'contributor' | 'viewer';

export interface Album {
  id: string;
  name: string;
  created_at: string;
  photo_count: number;
  owner: { id: string; email: string };
  role: AlbumRole;
  cover_thumbnail_url?: string | null;
}

export interface AlbumList {
  items: Album[];
}

export interface CreateAlbumRequest {
  name: string;
}

export interface AddAlbumPhotosRequest {
  photo_ids: string[];
}

export interface AddAlbumPhotosResponse {
  added: number;
}

export interface OpenIdConfiguration {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
  code_challenge_methods_supported?: string[];
}

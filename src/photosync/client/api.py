"""Typed client for every route of the PhotoSync HTTP API (docs/api.md, version 1.1).

Retries: a request that never reached the server (connection refused, connect timeout) or that
was refused before any work (429, API Gateway's throttling included) is always retried; a request
that may have reached it (read timeout, dropped connection, 5xx) is retried only when repeating it
cannot change the outcome: reads, PUT/PATCH/DELETE, `POST /photos/lookup`, `POST /auth/dev/login`,
`POST /albums/{id}/photos` (the API makes adding twice a no-op), `POST /trash/restore` and
`POST /trash/empty` (not `POST /albums/{id}/members` or `/links`: a repeat would conflict or make a
second link). A `Retry-After` header sets the wait. With a RefreshingSession the access token
is renewed before it expires, and a request refused with 401 is sent again once with a renewed token.

A retry that follows an attempt which may have been carried out can meet that attempt's effect: a
repeated DELETE answers 404 because the first one deleted it. Such a 404 means the asked-for end
state holds, so it counts as done (for a restore, after checking that the photos are restored).
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx

from photosync.client.auth import RefreshingSession
from photosync.client.multipart import (
    MULTIPART_THRESHOLD,
    MultipartGrant,
    MultipartState,
    MultipartUpload,
    PartUrl,
    StoredPart,
)
from photosync.client.errors import (
    ERRORS_BY_CODE,
    ERRORS_BY_STATUS,
    ApiError,
    IntegrityError,
    NotFound,
    QuotaExceeded,
    ServerError,
    ServerUnreachable,
    UploadFailed,
)
from photosync.client.models import (
    Album,
    DownloadLink,
    Link,
    Member,
    PublicAlbumPage,
    PublicPhoto,
    DuplicateUpload,
    EmptiedTrash,
    FileToUpload,
    Lookup,
    Me,
    Photo,
    PhotoPage,
    SyncPage,
    Token,
    TrashedPhoto,
    TrashPage,
    UploadGrant,
    UploadResult,
    UploadStatus,
)
from photosync.domain.media_types import SNIFF_BYTES, sniff_content_type

CHUNK_BYTES = 1024 * 1024
LOOKUP_BATCH = 1000  # the API's limit for `POST /photos/lookup`
GRANT_BATCH = 100  # the API's limit for `POST /uploads/batch`
_UPLOAD_ERROR_STATUS = {"invalid_request": 400, "quota_exceeded": 413, "file_too_large": 413, "unsupported_media_type": 415}
RESTORE_BATCH = 1000  # the API's limit for `POST /trash/restore`
SYNC_PAGE = 1000  # the API's largest `GET /sync` page

ProgressCallback = Callable[[int], None]  # called with the number of bytes just transferred


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter: retry n waits a random time in [(1-jitter)*d, d], d = base*2^n."""

    attempts: int = 4  # tries in total, the first one included
    base_delay: float = 0.25
    max_delay: float = 8.0
    jitter: float = 0.5
    # The longest server-requested wait (Retry-After) honoured; a longer one is cut to this.
    max_retry_after: float = 60.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def delay(self, retry: int) -> float:
        ceiling = min(self.max_delay, self.base_delay * (2**retry))
        return ceiling * (1 - self.jitter * self.rng.random())

    def wait_before(self, retry: int, response: httpx.Response | None) -> float:
        """The server's Retry-After (seconds or an HTTP date) when it gave one, else the backoff."""
        requested = _retry_after_seconds(response.headers.get("retry-after")) if response is not None else None
        if requested is None:
            return self.delay(retry)
        return min(self.max_retry_after, requested)


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


@dataclass(frozen=True)
class Timeouts:
    connect: float = 5.0
    read: float = 60.0
    write: float = 60.0
    pool: float = 30.0

    def to_httpx(self) -> httpx.Timeout:
        return httpx.Timeout(connect=self.connect, read=self.read, write=self.write, pool=self.pool)


def hash_file(path: Path, on_bytes: ProgressCallback | None = None) -> str:
    """SHA-256 of a file as 64 lowercase hex characters, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(CHUNK_BYTES):
            digest.update(chunk)
            if on_bytes:
                on_bytes(len(chunk))
    return digest.hexdigest()


def sniff_file(path: Path) -> str | None:
    with open(path, "rb") as file:
        return sniff_content_type(file.read(SNIFF_BYTES))


_UNSAFE_NAME_CHARS = re.compile(r'[\x00-\x1f<>:"/\\|?*]')


def safe_filename(name: str, fallback: str) -> str:
    """A photo's filename made safe to create in a local folder: never a path, never hidden or empty."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = _UNSAFE_NAME_CHARS.sub("_", base).strip().lstrip(".")
    return base[:200] or fallback


class PhotoSyncClient:
    """One signed-in session with a PhotoSync server. Thread-safe: share one instance between threads."""

    def __init__(
        self,
        base_url: str,
        access_token: str | None = None,
        *,
        timeouts: Timeouts = Timeouts(),
        retry: RetryPolicy = RetryPolicy(),
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        session: RefreshingSession | None = None,
    ) -> None:
        """`session` (a stored sign-in with its refresh token) takes the place of `access_token`."""
        self.base_url = base_url.rstrip("/")
        self.access_token = access_token
        self.session = session
        self.retry = retry
        self._sleep = sleep
        self._http = httpx.Client(timeout=timeouts.to_httpx(), transport=transport, follow_redirects=False)
        # Where multipart uploads are remembered so an interrupted one resumes (the CLI sets it).
        self.multipart_state: MultipartState | None = None

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> PhotoSyncClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- plumbing -------------------------------------------------------------------------------

    def _send(
        self,
        build: Callable[[], httpx.Request],
        *,
        idempotent: bool,
        stream: bool = False,
        done_if_missing: Callable[[], bool] | None = None,
    ) -> httpx.Response:
        """Send the request `build` makes, retrying per the policy; returns any non-5xx answer.

        `done_if_missing`: for a retry answering 404 after an attempt that may have been carried
        out, says whether the request's end state holds; then the answer is a 204 instead.
        """
        last_problem = ""
        maybe_carried_out = False
        refused: httpx.Response | None = None
        for attempt in range(self.retry.attempts):
            if attempt:
                self._sleep(self.retry.wait_before(attempt - 1, refused))
            refused = None
            request = build()
            try:
                response = self._http.send(request, stream=stream)
            except (httpx.ConnectError, httpx.ConnectTimeout) as error:
                last_problem = str(error) or type(error).__name__
                continue
            except httpx.TransportError as error:
                last_problem = str(error) or type(error).__name__
                if idempotent:
                    maybe_carried_out = True
                    continue
                raise ServerUnreachable(self.base_url, last_problem) from error
            # 429 was refused before any work, so even a non-idempotent request may go again.
            retryable = response.status_code == 429 or (response.status_code >= 500 and idempotent)
            if retryable and attempt + 1 < self.retry.attempts:
                if stream:
                    response.read()
                    response.close()
                last_problem, refused = f"HTTP {response.status_code}", response
                # A 5xx may come after the work was done; a 429 comes before any.
                maybe_carried_out = maybe_carried_out or response.status_code >= 500
                continue
            if response.status_code >= 500:
                if stream:
                    response.read()
                    response.close()
                raise self._error_from(response)
            if response.status_code == 404 and maybe_carried_out and done_if_missing is not None and done_if_missing():
                return httpx.Response(204, request=request)
            return response
        raise ServerUnreachable(self.base_url, last_problem)

    def _api(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        idempotent: bool,
        authenticated: bool = True,
        headers: dict[str, str] | None = None,
        done_if_missing: Callable[[], bool] | None = None,
    ) -> httpx.Response:
        url = self.base_url + path
        renewed = False
        extra_headers = headers or {}
        while True:
            headers = {"Accept": "application/json", **extra_headers}
            token = self.current_access_token() if authenticated else None
            if token:
                headers["Authorization"] = f"Bearer {token}"
            response = self._send(
                lambda: self._http.build_request(method, url, json=json, params=params, headers=headers),
                idempotent=idempotent,
                done_if_missing=done_if_missing,
            )
            # A 401 did nothing on the server, so the request may go again with a renewed token.
            if response.status_code == 401 and token and self.session and not renewed:
                renewed = self.session.renew_after_refusal(token)
                if renewed:
                    continue
            if response.status_code >= 400:
                raise self._error_from(response)
            return response

    def current_access_token(self) -> str | None:
        """The token requests carry now: the session's (renewed as it runs out), else the one given."""
        return self.session.access_token() if self.session is not None else self.access_token

    def _error_from(self, response: httpx.Response) -> ApiError:
        code, message = None, ""
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            code = body["error"].get("code")
            message = str(body["error"].get("message") or "")
        elif isinstance(body, dict) and isinstance(body.get("message"), str):
            message = body["message"]  # API Gateway's own answers (its authorizer, its throttling)
        else:
            message = response.text[:200].strip()
        message = message or f"HTTP {response.status_code} from {response.request.url}"
        if response.status_code >= 500:
            return ServerError(f"The server failed ({response.status_code}): {message}", status=response.status_code)
        error_class = ERRORS_BY_CODE.get(code or "") or ERRORS_BY_STATUS.get(response.status_code)
        if error_class is QuotaExceeded:
            return self._quota_error(message)
        if error_class is None:
            return ApiError(message, status=response.status_code, code=code)
        return error_class(message, status=response.status_code)

    def _quota_error(self, message: str) -> QuotaExceeded:
        try:
            me = self.me()
        except ApiError:
            return QuotaExceeded(message)
        except ServerUnreachable:
            return QuotaExceeded(message)
        return QuotaExceeded(
            message,
            storage_quota=me.storage_quota,
            storage_used=me.storage_used,
            storage_pending=me.storage_pending,
        )

    # --- health and sign-in ---------------------------------------------------------------------

    def healthz(self) -> bool:
        return self._api("GET", "/healthz", idempotent=True, authenticated=False).status_code == 200

    def dev_login(self, email: str) -> Token:
        """Local mode's dev sign-in; the same email always maps to the same user, so a retry is safe."""
        response = self._api("POST", "/auth/dev/login", json={"email": email}, idempotent=True, authenticated=False)
        return Token.from_json(response.json())

    def openid_configuration(self) -> dict[str, Any]:
        return self._api("GET", "/auth/.well-known/openid-configuration", idempotent=True, authenticated=False).json()

    def jwks(self) -> dict[str, Any]:
        return self._api("GET", "/auth/.well-known/jwks.json", idempotent=True, authenticated=False).json()

    # --- account --------------------------------------------------------------------------------

    def me(self) -> Me:
        return Me.from_json(self._api("GET", "/me", idempotent=True).json())

    # --- uploads --------------------------------------------------------------------------------

    def request_upload(self, *, filename: str, content_type: str, size: int, sha256: str) -> UploadGrant | DuplicateUpload:
        """`POST /uploads`. Not retried once sent: a repeat would reserve the quota twice until expiry."""
        body = {"filename": filename, "content_type": content_type, "size": size, "sha256": sha256}
        try:
            response = self._api("POST", "/uploads", json=body, idempotent=False)
        except QuotaExceeded as error:
            raise QuotaExceeded(
                error.message,
                storage_quota=error.storage_quota,
                storage_used=error.storage_used,
                storage_pending=error.storage_pending,
                requested=size,
            ) from None
        data = response.json()
        if data.get("status") == "duplicate":
            return DuplicateUpload(photo_id=data["photo_id"], in_trash=bool(data.get("in_trash")))
        return UploadGrant.from_json(data)

    def request_uploads(self, files: list[FileToUpload]) -> list[UploadGrant | DuplicateUpload | ApiError]:
        """`POST /uploads/batch` (1 to `GRANT_BATCH` files): each file's answer in order, as
        `request_upload` would give it, except that a file's refusal is returned, not raised.

        Granted in order: when the quota runs out, the later files that no longer fit are refused and
        the earlier grants kept. Not retried once sent, as for `request_upload`."""
        body = {"files": [
            {"filename": f.filename, "content_type": f.content_type, "size": f.size, "sha256": f.sha256} for f in files
        ]}
        results = self._api("POST", "/uploads/batch", json=body, idempotent=False).json()["results"]
        if len(results) != len(files):
            raise ServerError(f"POST /uploads/batch answered {len(results)} results for {len(files)} files", status=200)
        return [self._batch_result(result, file) for result, file in zip(results, files)]

    def _batch_result(self, result: dict[str, Any], file: FileToUpload) -> UploadGrant | DuplicateUpload | ApiError:
        if "error" in result:
            error = result["error"]
            code, message = str(error.get("code") or ""), str(error.get("message") or "the server refused this file")
            if code == QuotaExceeded.code:
                return QuotaExceeded(
                    message, storage_quota=error.get("storage_quota"), storage_used=error.get("storage_used"),
                    storage_pending=error.get("storage_pending"), requested=file.size,
                )
            error_class = ERRORS_BY_CODE.get(code, ApiError)
            # The status POST /uploads would have answered for this file alone.
            return error_class(message, status=_UPLOAD_ERROR_STATUS.get(code, 400), code=code or None)
        if result.get("status") == "duplicate":
            return DuplicateUpload(photo_id=result["photo_id"], in_trash=bool(result.get("in_trash")))
        return UploadGrant.from_json(result)

    def send_upload(self, grant: UploadGrant, path: Path, size: int, on_progress: ProgressCallback | None = None) -> None:
        """Send the file's bytes as the grant says, streamed from disk; a retry re-reads the file."""
        headers = dict(grant.headers)
        if not any(name.lower() == "content-length" for name in headers):
            # Without it httpx would stream chunked, which signed upload URLs refuse.
            headers["Content-Length"] = str(size)

        def body() -> Iterator[bytes]:
            sent = 0
            with open(path, "rb") as file:
                while sent < size and (chunk := file.read(min(CHUNK_BYTES, size - sent))):
                    sent += len(chunk)
                    if on_progress:
                        on_progress(len(chunk))
                    yield chunk
            if sent != size:
                raise UploadFailed(f"{path} changed while it was being uploaded", upload_id=grant.upload_id)

        response = self._send(
            lambda: self._http.build_request(grant.method, grant.url, headers=headers, content=body()),
            idempotent=True,
        )
        if response.status_code >= 400:
            raise self._error_from(response)

    def cancel_upload(self, upload_id: str) -> None:
        """Give a pending upload's reservation back and drop the bytes sent so far."""
        self._delete(f"/uploads/{upload_id}")

    def upload_status(self, upload_id: str) -> UploadStatus:
        return UploadStatus.from_json(self._api("GET", f"/uploads/{upload_id}", idempotent=True).json())

    def wait_for_upload(self, upload_id: str, *, timeout: float = 120.0, first_delay: float = 0.05, max_delay: float = 2.0) -> UploadStatus:
        """Poll `GET /uploads/{id}` with a growing delay until it is complete or failed, or raise at the deadline."""
        deadline = time.monotonic() + timeout
        delay = first_delay
        while True:
            status = self.upload_status(upload_id)
            if status.finished:
                return status
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise UploadFailed(
                    f"The server did not finish upload {upload_id} within {timeout:.0f} s", upload_id=upload_id, reason="timeout"
                )
            self._sleep(min(delay, remaining))
            delay = min(max_delay, delay * 2)

    def upload_file(
        self,
        path: Path,
        *,
        filename: str | None = None,
        content_type: str | None = None,
        sha256: str | None = None,
        on_progress: ProgressCallback | None = None,
        finalize_timeout: float = 120.0,
    ) -> UploadResult:
        """Upload one file (grant, PUT, wait for finalize). A file the server already has is not sent again."""
        path = Path(path)
        size = path.stat().st_size
        content_type = content_type or sniff_file(path)
        if content_type is None:
            raise UploadFailed(f"{path} is not a photo or video PhotoSync accepts", reason="unsupported")
        sha256 = sha256 or hash_file(path)
        if size >= MULTIPART_THRESHOLD:
            return MultipartUpload(
                self, path, filename=filename or path.name, content_type=content_type, sha256=sha256,
                state=self.multipart_state, on_progress=on_progress,
            ).run()
        answer = self.request_upload(filename=filename or path.name, content_type=content_type, size=size, sha256=sha256)
        if isinstance(answer, DuplicateUpload):
            return UploadResult(photo_id=answer.photo_id, duplicate=True, in_trash=answer.in_trash)
        self.send_upload(answer, path, size, on_progress)
        status = self.wait_for_upload(answer.upload_id, timeout=finalize_timeout)
        if status.status != "complete":
            raise UploadFailed(
                f"The server rejected {path.name}: {status.reason or 'no reason given'}",
                upload_id=answer.upload_id,
                reason=status.reason,
            )
        return UploadResult(photo_id=status.photo_id or answer.upload_id, duplicate=False)

    # --- multipart uploads (client/multipart.py drives them) ------------------------------------

    def request_multipart_upload(self, *, filename: str, content_type: str, size: int, sha256: str) -> MultipartGrant | DuplicateUpload:
        """`POST /uploads` with `"multipart": true`; not retried once sent, like `request_upload`."""
        body = {"filename": filename, "content_type": content_type, "size": size, "sha256": sha256, "multipart": True}
        try:
            response = self._api("POST", "/uploads", json=body, idempotent=False)
        except QuotaExceeded as error:
            raise QuotaExceeded(
                error.message, storage_quota=error.storage_quota, storage_used=error.storage_used,
                storage_pending=error.storage_pending, requested=size,
            ) from None
        data = response.json()
        if data.get("status") == "duplicate":
            return DuplicateUpload(photo_id=data["photo_id"], in_trash=bool(data.get("in_trash")))
        return MultipartGrant.from_json(data)

    def part_urls(self, upload_id: str, sha256_by_part: dict[int, str]) -> list[PartUrl]:
        """`POST /uploads/{id}/parts`: fresh signed URLs, so asking again is harmless."""
        body = {"parts": [{"number": number, "sha256": digest} for number, digest in sha256_by_part.items()]}
        response = self._api("POST", f"/uploads/{upload_id}/parts", json=body, idempotent=True)
        return [PartUrl.from_json(part) for part in response.json()["parts"]]

    def stored_parts(self, upload_id: str) -> list[StoredPart]:
        response = self._api("GET", f"/uploads/{upload_id}/parts", idempotent=True)
        return [StoredPart.from_json(part) for part in response.json()["parts"]]

    def send_part(self, url: PartUrl, chunks: Callable[[], Iterator[bytes]], size: int) -> str:
        """Send one part's bytes (a fresh iterator of `chunks()` per attempt); its ETag."""
        headers = dict(url.headers)
        if not any(name.lower() == "content-length" for name in headers):
            headers["Content-Length"] = str(size)
        response = self._send(
            lambda: self._http.build_request(url.method, url.url, headers=headers, content=chunks()), idempotent=True
        )
        if response.status_code >= 400:
            raise self._error_from(response)
        return response.headers.get("ETag", "")

    def complete_upload(self, upload_id: str, parts: list[StoredPart]) -> None:
        """`POST /uploads/{id}/complete`: a repeat after the parts were assembled answers 202 too."""
        body = {"parts": [{"number": part.number, "etag": part.etag} for part in parts]}
        self._api("POST", f"/uploads/{upload_id}/complete", json=body, idempotent=True)

    # --- photos ---------------------------------------------------------------------------------

    def list_photos(self, *, limit: int | None = None, cursor: str | None = None, album_id: str | None = None) -> PhotoPage:
        params = {name: value for name, value in (("limit", limit), ("cursor", cursor), ("album_id", album_id)) if value is not None}
        return PhotoPage.from_json(self._api("GET", "/photos", params=params, idempotent=True).json())

    def iter_photos(self, *, album_id: str | None = None, page_size: int = 500) -> Iterator[Photo]:
        """Every photo (of an album), newest first, walking the pages."""
        cursor = None
        while True:
            page = self.list_photos(limit=page_size, cursor=cursor, album_id=album_id)
            yield from page.items
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    def get_photo(self, photo_id: str) -> Photo:
        return Photo.from_json(self._api("GET", f"/photos/{photo_id}", idempotent=True).json())

    def download_link(self, photo_id: str) -> DownloadLink:
        return DownloadLink.from_json(self._api("GET", f"/photos/{photo_id}/download", idempotent=True).json())

    def delete_photo(self, photo_id: str) -> None:
        """Move a photo to the trash (a photo already there stays there: also success)."""
        self._delete(f"/photos/{photo_id}")

    def _delete(self, path: str) -> None:
        # The resource being gone is what a DELETE asks for, also when an earlier attempt did it.
        self._api("DELETE", path, idempotent=True, done_if_missing=lambda: True)

    def lookup(self, sha256s: list[str]) -> Lookup:
        """Where the caller stands with each SHA-256 value: found, in the trash, or deleted for good.

        Any number of values; they are sent in batches of the API's limit.
        """
        result = Lookup()
        unique = list(dict.fromkeys(sha256s))
        for start in range(0, len(unique), LOOKUP_BATCH):
            batch = unique[start : start + LOOKUP_BATCH]
            response = self._api("POST", "/photos/lookup", json={"sha256": batch}, idempotent=True)
            result.merge(Lookup.from_json(response.json()))
        return result

    # --- trash ----------------------------------------------------------------------------------

    def list_trash(self, *, limit: int | None = None, cursor: str | None = None) -> TrashPage:
        params = {name: value for name, value in (("limit", limit), ("cursor", cursor)) if value is not None}
        return TrashPage.from_json(self._api("GET", "/trash", params=params, idempotent=True).json())

    def iter_trash(self, *, page_size: int = 500) -> Iterator[TrashedPhoto]:
        """Every photo in the trash, most recently trashed first."""
        cursor = None
        while True:
            page = self.list_trash(limit=page_size, cursor=cursor)
            yield from page.items
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    def restore(self, photo_ids: list[str]) -> int:
        """Bring photos back from the trash to the timeline and their albums; returns how many.

        All or nothing per batch of the API's limit: an id not in the trash raises `NotFound`.
        """
        restored = 0
        unique = list(dict.fromkeys(photo_ids))
        for start in range(0, len(unique), RESTORE_BATCH):
            batch = unique[start : start + RESTORE_BATCH]
            response = self._api(
                "POST", "/trash/restore", json={"photo_ids": batch}, idempotent=True,
                done_if_missing=lambda batch=batch: self._all_restored(batch),
            )
            restored += len(batch) if response.status_code == 204 else int(response.json()["restored"])
        return restored

    def _all_restored(self, photo_ids: list[str]) -> bool:
        try:
            return all(not self.get_photo(photo_id).in_trash for photo_id in photo_ids)
        except ApiError:
            return False

    def delete_from_trash(self, photo_id: str) -> None:
        """Delete a photo in the trash for good: its bytes are removed and its size leaves the quota."""
        self._delete(f"/trash/{photo_id}")

    def empty_trash(self) -> EmptiedTrash:
        """Delete everything in the trash for good. A retry after a lost answer reports 0 (already empty)."""
        return EmptiedTrash.from_json(self._api("POST", "/trash/empty", idempotent=True).json())

    # --- change feed ----------------------------------------------------------------------------

    def sync(self, *, cursor: str | None = None, limit: int = SYNC_PAGE) -> SyncPage:
        """One page of `GET /sync`: the changes after `cursor` (from the start without one)."""
        params: dict[str, Any] = {"limit": limit}
        if cursor is not None:
            params["cursor"] = cursor
        return SyncPage.from_json(self._api("GET", "/sync", params=params, idempotent=True).json())

    def download(self, photo: Photo, destination: Path, on_progress: ProgressCallback | None = None) -> Path:
        """Write the photo's original bytes to `destination`, replacing it atomically.

        The bytes go to a temporary file beside it and are renamed into place only once their SHA-256
        matches the photo's; a failed download leaves no partial file behind.
        """
        destination = Path(destination)
        link = self.download_link(photo.id)
        problem: Exception | None = None
        for attempt in range(self.retry.attempts):
            if attempt:
                self._sleep(self.retry.delay(attempt - 1))
            try:
                self._download_once(link.url, photo, destination, on_progress)
                return destination
            except (httpx.TransportError, IntegrityError) as error:
                problem = error
        if isinstance(problem, IntegrityError):
            raise problem
        raise ServerUnreachable(self.base_url, str(problem))

    def _download_once(self, url: str, photo: Photo, destination: Path, on_progress: ProgressCallback | None) -> None:
        response = self._send(lambda: self._http.build_request("GET", url), idempotent=True, stream=True)
        try:
            if response.status_code >= 400:
                response.read()
                raise self._error_from(response)
            temporary = destination.parent / f".{destination.name}.{secrets.token_hex(6)}.part"
            # Mode 0666 minus the umask, like any file the user creates (mkstemp would force 0600).
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            try:
                digest = hashlib.sha256()
                with os.fdopen(descriptor, "wb") as file:
                    for chunk in response.iter_bytes(CHUNK_BYTES):
                        file.write(chunk)
                        digest.update(chunk)
                        if on_progress:
                            on_progress(len(chunk))
                    file.flush()
                    os.fsync(file.fileno())
                if digest.hexdigest() != photo.sha256:
                    raise IntegrityError(f"The download of {photo.filename} ({photo.id}) is corrupt: its SHA-256 does not match")
                os.replace(temporary, destination)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        finally:
            response.close()

    # --- albums ---------------------------------------------------------------------------------

    def create_album(self, name: str) -> Album:
        return Album.from_json(self._api("POST", "/albums", json={"name": name}, idempotent=False).json())

    def list_albums(self) -> list[Album]:
        return [Album.from_json(item) for item in self._api("GET", "/albums", idempotent=True).json()["items"]]

    def get_album(self, album_id: str) -> Album:
        return Album.from_json(self._api("GET", f"/albums/{album_id}", idempotent=True).json())

    def rename_album(self, album_id: str, name: str) -> Album:
        return Album.from_json(self._api("PATCH", f"/albums/{album_id}", json={"name": name}, idempotent=True).json())

    def delete_album(self, album_id: str) -> None:
        self._delete(f"/albums/{album_id}")

    def add_to_album(self, album_id: str, photo_ids: list[str]) -> int:
        response = self._api("POST", f"/albums/{album_id}/photos", json={"photo_ids": photo_ids}, idempotent=True)
        return int(response.json()["added"])

    def remove_from_album(self, album_id: str, photo_id: str) -> None:
        self._delete(f"/albums/{album_id}/photos/{photo_id}")

    # --- sharing: members -----------------------------------------------------------------------

    def add_member(self, album_id: str, email: str, role: str) -> Member:
        """Share an album with `email` as "viewer" or "contributor" (owner only). Someone without an
        account yet becomes a member when they first sign in."""
        body = {"email": email, "role": role}
        return Member.from_json(self._api("POST", f"/albums/{album_id}/members", json=body, idempotent=False).json())

    def list_members(self, album_id: str) -> list[Member]:
        response = self._api("GET", f"/albums/{album_id}/members", idempotent=True)
        return [Member.from_json(item) for item in response.json()["items"]]

    def change_member_role(self, album_id: str, member_id: str, role: str) -> Member:
        response = self._api("PATCH", f"/albums/{album_id}/members/{member_id}", json={"role": role}, idempotent=True)
        return Member.from_json(response.json())

    def remove_member(self, album_id: str, member_id: str) -> None:
        """The owner removes anyone; a member removes themselves (see `leave_album`). Access ends at once."""
        self._delete(f"/albums/{album_id}/members/{member_id}")

    def leave_album(self, album_id: str) -> None:
        """Stop being a member of an album shared with the caller."""
        me = self.me()
        mine = [member for member in self.list_members(album_id) if member.user_id == me.id and member.role != "owner"]
        if not mine:
            raise NotFound(f"You are not a member of album {album_id}", status=404)
        self.remove_member(album_id, mine[0].id)

    # --- sharing: public links ------------------------------------------------------------------

    def create_link(
        self,
        album_id: str,
        *,
        expires_at: datetime | None = None,
        password: str | None = None,
        allow_download: bool = True,
    ) -> Link:
        """A public link to the album (owner only). Not retried once sent: a repeat would make a second link."""
        body: dict[str, Any] = {"allow_download": allow_download}
        if expires_at is not None:
            body["expires_at"] = _rfc3339(expires_at)
        if password is not None:
            body["password"] = password
        return Link.from_json(self._api("POST", f"/albums/{album_id}/links", json=body, idempotent=False).json())

    def list_links(self, album_id: str) -> list[Link]:
        response = self._api("GET", f"/albums/{album_id}/links", idempotent=True)
        return [Link.from_json(item) for item in response.json()["items"]]

    def delete_link(self, album_id: str, link_id: str) -> None:
        """Revoke a public link: it answers 404 from now on."""
        self._delete(f"/albums/{album_id}/links/{link_id}")

    # --- public access (no sign-in) -------------------------------------------------------------

    @staticmethod
    def _link_headers(password: str | None) -> dict[str, str]:
        return {"X-Link-Password": password} if password is not None else {}

    def public_album(
        self, token: str, *, password: str | None = None, limit: int | None = None, cursor: str | None = None
    ) -> PublicAlbumPage:
        """One page of the album behind a public link; `PasswordRequired` when it needs a (right) password."""
        params = {name: value for name, value in (("limit", limit), ("cursor", cursor)) if value is not None}
        response = self._api(
            "GET", f"/public/{token}", params=params, idempotent=True, authenticated=False,
            headers=self._link_headers(password),
        )
        return PublicAlbumPage.from_json(response.json())

    def iter_public_photos(self, token: str, *, password: str | None = None, page_size: int = 100) -> Iterator[PublicPhoto]:
        cursor = None
        while True:
            page = self.public_album(token, password=password, limit=page_size, cursor=cursor)
            yield from page.items
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    def public_download_link(self, token: str, photo_id: str, *, password: str | None = None) -> DownloadLink:
        """Where to fetch a photo's original through a public link that allows downloads."""
        response = self._api(
            "GET", f"/public/{token}/photos/{photo_id}/download", idempotent=True, authenticated=False,
            headers=self._link_headers(password),
        )
        return DownloadLink.from_json(response.json())


def _rfc3339(moment: datetime) -> str:
    """UTC with a Z, as the API writes times; a naive time is taken as local time."""
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")

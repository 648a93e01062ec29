"""Large files in resumable parts (api.md "Large files: multipart, resumable").

A file from `MULTIPART_THRESHOLD` bytes on is granted as a multipart upload; its parts are hashed and
sent straight from disk in 1 MiB chunks, several at once, so memory stays a few MiB whatever the
file's size. The upload's id is kept in a small SQLite file beside the hash cache (`MultipartState`),
keyed by the file's path, size, modification time and hash: a run that was interrupted (a crash,
`kill -9`, a lost connection) asks the server which parts it holds (`GET /uploads/{id}/parts`) and
sends only the others. A file that changed meanwhile starts a new upload; the old reservation lapses
and the server's sweep drops its parts.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from photosync.client.errors import Conflict, Forbidden, NotFound, UploadFailed
from photosync.client.models import DuplicateUpload, UploadResult

if TYPE_CHECKING:
    from photosync.client.api import PhotoSyncClient, ProgressCallback

# From here on a file goes in parts: a dropped connection then costs one part, not the file. The
# API allows parts from 5 MiB and requires them above 5 GiB.
MULTIPART_THRESHOLD = 64 * 1024 * 1024
MULTIPART_STATE_FILE = "multipart-uploads.sqlite3"
CHUNK_BYTES = 1024 * 1024
# Parts one worker hashes and asks URLs for in one request (the API takes up to 100).
PARTS_PER_REQUEST = 8
DEFAULT_PARALLEL_PARTS = 4
# Finalize hashes the assembled file on the server: give it time in proportion to the size.
FINALIZE_SECONDS_PER_GIB = 60.0


@dataclass(frozen=True)
class MultipartGrant:
    """`201` answer of `POST /uploads` with `"multipart": true`."""

    upload_id: str
    part_size: int
    part_count: int
    expires_at: datetime

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MultipartGrant:
        return cls(
            upload_id=data["upload_id"], part_size=int(data["part_size"]), part_count=int(data["part_count"]),
            expires_at=datetime.fromisoformat(data["expires_at"]),
        )

    def part_range(self, number: int, size: int) -> tuple[int, int]:
        """(offset, length) of part `number` (1-based) in a file of `size` bytes."""
        offset = (number - 1) * self.part_size
        return offset, min(self.part_size, size - offset)


@dataclass(frozen=True)
class PartUrl:
    number: int
    method: str
    url: str
    headers: dict[str, str]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PartUrl:
        return cls(
            number=int(data["number"]), method=data.get("method", "PUT"), url=data["url"],
            headers={str(k): str(v) for k, v in (data.get("headers") or {}).items()},
        )


@dataclass(frozen=True)
class StoredPart:
    number: int
    size: int
    etag: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StoredPart:
        return cls(number=int(data["number"]), size=int(data["size"]), etag=str(data["etag"]))


@dataclass(frozen=True)
class _Resumable:
    upload_id: str
    part_size: int
    part_count: int


class MultipartState:
    """Which multipart upload each file is in, so an interrupted run resumes it. Thread-safe."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS multipart_upload ("
            " server TEXT NOT NULL, path TEXT NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,"
            " sha256 TEXT NOT NULL, upload_id TEXT NOT NULL, part_size INTEGER NOT NULL, part_count INTEGER NOT NULL,"
            " PRIMARY KEY (server, path))"
        )

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> MultipartState:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def find(self, server: str, path: Path, *, size: int, mtime_ns: int, sha256: str) -> _Resumable | None:
        with self._lock:
            row = self._db.execute(
                "SELECT upload_id, part_size, part_count FROM multipart_upload"
                " WHERE server = ? AND path = ? AND size = ? AND mtime_ns = ? AND sha256 = ?",
                (server, str(path), size, mtime_ns, sha256),
            ).fetchone()
        return _Resumable(*row) if row else None

    def remember(self, server: str, path: Path, *, size: int, mtime_ns: int, sha256: str, grant: MultipartGrant) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO multipart_upload VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (server, path) DO UPDATE SET"
                " size = excluded.size, mtime_ns = excluded.mtime_ns, sha256 = excluded.sha256,"
                " upload_id = excluded.upload_id, part_size = excluded.part_size, part_count = excluded.part_count",
                (server, str(path), size, mtime_ns, sha256, grant.upload_id, grant.part_size, grant.part_count),
            )

    def forget(self, server: str, path: Path) -> None:
        with self._lock:
            self._db.execute("DELETE FROM multipart_upload WHERE server = ? AND path = ?", (server, str(path)))


class MultipartUpload:
    """One file through `POST /uploads` (multipart), its parts, `complete`, and finalize."""

    def __init__(
        self,
        client: PhotoSyncClient,
        path: Path,
        *,
        filename: str,
        content_type: str,
        sha256: str,
        state: MultipartState | None = None,
        parallel_parts: int = DEFAULT_PARALLEL_PARTS,
        on_progress: ProgressCallback | None = None,
    ) -> None:
        self._client = client
        self._path = path
        self._filename = filename
        self._content_type = content_type
        self._sha256 = sha256
        self._state = state
        self._parallel = max(1, parallel_parts)
        self._on_progress = on_progress or (lambda _: None)
        stat = path.stat()
        self._size, self._mtime_ns = stat.st_size, stat.st_mtime_ns

    def run(self) -> UploadResult:
        grant = self._resume() or self._start()
        if isinstance(grant, UploadResult):
            return grant
        try:
            stored = self._client.stored_parts(grant.upload_id)
        except Conflict:
            return self._finish(grant.upload_id)  # assembled by the interrupted run already
        done = {part.number for part in stored if part.size == grant.part_range(part.number, self._size)[1]}
        self._on_progress(sum(grant.part_range(number, self._size)[1] for number in done))
        missing = [number for number in range(1, grant.part_count + 1) if number not in done]
        self._send_parts(grant, missing)
        stored = {part.number: part for part in self._client.stored_parts(grant.upload_id)}
        absent = [number for number in range(1, grant.part_count + 1) if number not in stored]
        if absent:
            raise UploadFailed(f"the server does not hold parts {absent[:10]} of {self._path.name}", upload_id=grant.upload_id)
        self._client.complete_upload(grant.upload_id, [stored[number] for number in range(1, grant.part_count + 1)])
        return self._finish(grant.upload_id)

    # --- steps ------------------------------------------------------------------------------------

    def _resume(self) -> MultipartGrant | UploadResult | None:
        if self._state is None:
            return None
        known = self._state.find(
            self._client.base_url, self._path, size=self._size, mtime_ns=self._mtime_ns, sha256=self._sha256
        )
        if known is None:
            return None
        try:
            status = self._client.upload_status(known.upload_id)
        except NotFound:
            status = None
        if status is not None and status.status == "complete":
            self._forget()
            self._on_progress(self._size)
            return UploadResult(photo_id=status.photo_id or known.upload_id, duplicate=False)
        if status is None or status.status != "pending":
            self._forget()  # expired, cancelled or rejected: start over
            return None
        return MultipartGrant(known.upload_id, known.part_size, known.part_count, datetime.now().astimezone())

    def _start(self) -> MultipartGrant | UploadResult:
        answer = self._client.request_multipart_upload(
            filename=self._filename, content_type=self._content_type, size=self._size, sha256=self._sha256
        )
        if isinstance(answer, DuplicateUpload):
            return UploadResult(photo_id=answer.photo_id, duplicate=True, in_trash=answer.in_trash)
        if self._state is not None:
            self._state.remember(
                self._client.base_url, self._path, size=self._size, mtime_ns=self._mtime_ns, sha256=self._sha256,
                grant=answer,
            )
        return answer

    def _send_parts(self, grant: MultipartGrant, missing: list[int]) -> None:
        groups = [missing[i : i + PARTS_PER_REQUEST] for i in range(0, len(missing), PARTS_PER_REQUEST)]
        stop = threading.Event()

        def send_group(numbers: list[int]) -> None:
            if stop.is_set():
                return
            try:
                hashes = {number: self._part_sha256(grant, number) for number in numbers}
                for url in self._client.part_urls(grant.upload_id, hashes):
                    self._put_part(grant, url, hashes)
            except BaseException:
                stop.set()
                raise

        with ThreadPoolExecutor(max_workers=self._parallel, thread_name_prefix="photosync-part") as pool:
            for future in [pool.submit(send_group, group) for group in groups]:
                future.result()

    def _put_part(self, grant: MultipartGrant, url: PartUrl, hashes: dict[int, str]) -> None:
        offset, length = grant.part_range(url.number, self._size)
        try:
            self._client.send_part(url, self._read(offset, length, self._on_progress), length)
        except Forbidden:
            # Its URL expired while the group waited (a slow link): a fresh one, once.
            (fresh,) = self._client.part_urls(grant.upload_id, {url.number: hashes[url.number]})
            self._client.send_part(fresh, self._read(offset, length, self._on_progress), length)

    def _part_sha256(self, grant: MultipartGrant, number: int) -> str:
        digest = hashlib.sha256()
        offset, length = grant.part_range(number, self._size)
        for chunk in self._read(offset, length)():
            digest.update(chunk)
        return digest.hexdigest()

    def _read(self, offset: int, length: int, on_bytes: ProgressCallback | None = None):  # noqa: ANN202
        """A factory of the part's bytes in chunks, from disk each time (a retry reads again)."""
        path = self._path

        def chunks() -> Iterator[bytes]:
            left = length
            with open(path, "rb") as file:
                file.seek(offset)
                while left > 0 and (chunk := file.read(min(CHUNK_BYTES, left))):
                    left -= len(chunk)
                    if on_bytes:
                        on_bytes(len(chunk))
                    yield chunk
            if left:
                raise UploadFailed(f"{path} changed while it was being uploaded")

        return chunks

    def _finish(self, upload_id: str) -> UploadResult:
        timeout = 120.0 + FINALIZE_SECONDS_PER_GIB * self._size / 1024**3
        status = self._client.wait_for_upload(upload_id, timeout=timeout)
        self._forget()
        if status.status != "complete":
            raise UploadFailed(
                f"The server rejected {self._path.name}: {status.reason or 'no reason given'}",
                upload_id=upload_id, reason=status.reason,
            )
        return UploadResult(photo_id=status.photo_id or upload_id, duplicate=False)

    def _forget(self) -> None:
        if self._state is not None:
            self._state.forget(self._client.base_url, self._path)

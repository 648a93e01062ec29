"""Back up folders: find media, hash it (cached), skip what the server has, upload the rest concurrently.

Resumable by construction: nothing is remembered between runs except hashes. A re-run asks the server
which contents it already has (`POST /photos/lookup`, or the local library index when it is fresh,
see `index.py`), and an upload of content that got finalized in the meantime is answered `duplicate`
by the server, so an interrupted run never leaves duplicates.

Content the user threw away is not brought back behind their back: photos in the server's trash and
photos deleted for good are skipped (and counted in the report), unless `include_deleted` asks for
them: then trashed ones are restored and deleted ones uploaded again.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from threading import Event, Lock
from typing import Protocol

from photosync.client.api import PhotoSyncClient
from photosync.client.errors import NotFound, PhotoSyncError, ServerUnreachable, Unauthorized
from photosync.client.index import LibraryIndex
from photosync.client.library import HashCache, LocalFile, scan
from photosync.client.models import Lookup


class BackupObserver(Protocol):
    """Receives progress; the CLI draws it with Rich. Methods may be called from worker threads."""

    def start_phase(self, name: str, files: int, size: int) -> None: ...

    def advance(self, *, files: int = 0, size: int = 0) -> None: ...


class SilentObserver:
    def start_phase(self, name: str, files: int, size: int) -> None:
        return

    def advance(self, *, files: int = 0, size: int = 0) -> None:
        return


@dataclass
class BackupReport:
    uploaded: list[Path] = field(default_factory=list)
    already_backed_up: list[Path] = field(default_factory=list)
    # Same bytes as another file of this run: uploaded (or found) once, through that other file.
    same_as_another_file: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    # On the server, but in its trash / deleted there for good: not uploaded unless asked.
    in_trash: list[Path] = field(default_factory=list)
    deleted_on_server: list[Path] = field(default_factory=list)
    restored: list[Path] = field(default_factory=list)  # taken out of the trash (include_deleted)
    failed: list[tuple[Path, str]] = field(default_factory=list)
    uploaded_bytes: int = 0

    @property
    def ok(self) -> bool:
        return not self.failed


def backup(
    client: PhotoSyncClient,
    roots: list[Path],
    cache: HashCache,
    *,
    jobs: int = 4,
    observer: BackupObserver | None = None,
    include_deleted: bool = False,
    index: LibraryIndex | None = None,
) -> BackupReport:
    """Back up every accepted media file under `roots`. Per-file failures are reported, not raised.

    `index`: a fresh local library index to answer for the content it knows (the server is asked
    about the rest).

    Raises `Unauthorized` and `ServerUnreachable`: they would fail every remaining file the same way.
    """
    observer = observer or SilentObserver()
    report = BackupReport()
    found = scan(roots)
    report.skipped.extend(found.skipped)

    observer.start_phase("Hashing", len(found.media), sum(f.size for f in found.media))
    by_hash: dict[str, LocalFile] = {}
    for file in found.media:
        try:
            digest = cache.sha256(file, on_bytes=lambda n: observer.advance(size=n))
        except OSError as error:
            report.failed.append((file.path, f"cannot read: {error.strerror or error}"))
            continue
        finally:
            observer.advance(files=1)
        if digest in by_hash:
            report.same_as_another_file.append(file.path)
        else:
            by_hash[digest] = file

    on_server = _where_on_server(client, index, list(by_hash))
    to_upload: list[tuple[str, LocalFile]] = []
    to_restore: dict[str, tuple[str, LocalFile]] = {}  # photo id -> (sha256, file)
    for digest, file in by_hash.items():
        if digest in on_server.found:
            report.already_backed_up.append(file.path)
        elif digest in on_server.trashed:
            if include_deleted:
                to_restore[on_server.trashed[digest]] = (digest, file)
            else:
                report.in_trash.append(file.path)
        elif digest in on_server.deleted and not include_deleted:
            report.deleted_on_server.append(file.path)
        else:
            to_upload.append((digest, file))
    if to_restore:
        try:
            client.restore(list(to_restore))
        except NotFound:
            # Some left the trash meanwhile (emptied, purged): uploading sorts each one out.
            to_upload.extend(to_restore.values())
        else:
            report.restored.extend(file.path for _, file in to_restore.values())

    observer.start_phase("Uploading", len(to_upload), sum(file.size for _, file in to_upload))
    _upload_all(client, to_upload, jobs, observer, report)
    return report


def _where_on_server(client: PhotoSyncClient, index: LibraryIndex | None, sha256s: list[str]) -> Lookup:
    if index is None:
        return client.lookup(sha256s)
    known, unknown = index.lookup(sha256s)
    if unknown:
        known.merge(client.lookup(unknown))
    return known


def _upload_all(
    client: PhotoSyncClient,
    to_upload: list[tuple[str, LocalFile]],
    jobs: int,
    observer: BackupObserver,
    report: BackupReport,
) -> None:
    stop = Event()
    report_lock = Lock()

    def upload_one(digest: str, file: LocalFile) -> None:
        if stop.is_set():
            return
        sent = 0

        def on_progress(count: int) -> None:
            nonlocal sent
            sent += count
            observer.advance(size=count)

        try:
            result = client.upload_file(
                file.path, content_type=file.content_type, sha256=digest, on_progress=on_progress
            )
        except (Unauthorized, ServerUnreachable):
            stop.set()
            raise
        except PhotoSyncError as error:
            with report_lock:
                report.failed.append((file.path, str(error)))
        except OSError as error:
            with report_lock:
                report.failed.append((file.path, f"cannot read: {error.strerror or error}"))
        else:
            with report_lock:
                if result.in_trash:
                    report.in_trash.append(file.path)
                elif result.duplicate:
                    report.already_backed_up.append(file.path)
                else:
                    report.uploaded.append(file.path)
                    report.uploaded_bytes += file.size
        finally:
            # Keep the byte count exact when a file was not (fully) sent: a retry or a duplicate.
            if sent != file.size:
                observer.advance(size=file.size - sent)
            observer.advance(files=1)

    with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="photosync-upload") as pool:
        futures = [pool.submit(upload_one, digest, file) for digest, file in to_upload]
        # A worker that fails for good sets `stop` first, so the queued ones return at once.
        for future in futures:
            future.result()

"""Back up folders: find media, hash it (cached), skip what the server has, upload the rest concurrently.

Resumable by construction: nothing is remembered between runs except hashes. A re-run asks the server
which contents it already has (`POST /photos/lookup`, or the local library index when it is fresh,
see `index.py`), and an upload of content that got finalized in the meantime is answered `duplicate`
by the server, so an interrupted run never leaves duplicates.

Content the user threw away is not brought back behind their back: photos in the server's trash and
photos deleted for good are skipped (and counted in the report), unless `include_deleted` asks for
them: then trashed ones are restored and deleted ones uploaded again.

A folder of small files is bound by round trips unless they overlap, so the work is pipelined: files
are hashed by a few threads while each 1000 new hashes are looked up; uploads are granted 100 per
`POST /uploads/batch` while `jobs` workers send the files of the batch before; and finalization is
confirmed with one lookup per 1000 sent uploads instead of a status poll per file.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from queue import Full, Queue
from threading import Condition, Event, Lock, Thread
from typing import Protocol

from photosync.client.api import GRANT_BATCH, LOOKUP_BATCH, PhotoSyncClient
from photosync.client.errors import ApiError, NotFound, PhotoSyncError, ServerUnreachable, Unauthorized
from photosync.client.index import LibraryIndex
from photosync.client.library import HashCache, LocalFile, scan
from photosync.client.models import FileToUpload, Lookup, UploadGrant
from photosync.client.multipart import MULTIPART_THRESHOLD

HASH_WORKERS = min(4, os.cpu_count() or 1)
# A batch's URLs are all signed at once and expire 15 minutes later (by default): a batch holds no
# more bytes than a slow connection sends in a few minutes.
GRANT_BATCH_BYTES = 100 * 1024 * 1024
FIRST_CONFIRM_DELAY = 0.05  # seconds between lookups of sent uploads, growing while none finish
MAX_CONFIRM_DELAY = 2.0
STATUS_CHECK_AFTER = 5.0  # an upload lookups have not seen finished this long gets its status asked
FINALIZE_TIMEOUT = 120.0  # no upload finishing for this long: the server is not finalizing them
MAX_UNCONFIRMED = 2 * GRANT_BATCH  # uploads sent and not yet seen finalized, before sending waits


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
    by_hash, on_server = _hash_and_look_up(client, index, found.media, cache, observer, report)
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
    _UploadPipeline(client, jobs, observer, report).run(to_upload)
    return report




def _hash_and_look_up(
    client: PhotoSyncClient,
    index: LibraryIndex | None,
    media: list[LocalFile],
    cache: HashCache,
    observer: BackupObserver,
    report: BackupReport,
) -> tuple[dict[str, LocalFile], Lookup]:
    """Each distinct content once (the first file with it, in scan order), and where the server has
    it. Files are hashed by a few threads; every `LOOKUP_BATCH` new hashes are looked up (the local
    index first, then the server, in the background) while the rest are hashed."""
    by_hash: dict[str, LocalFile] = {}
    on_server = Lookup()
    asked: list[Future[Lookup]] = []

    def digest_of(file: LocalFile) -> str | OSError:
        try:
            return cache.sha256(file, on_bytes=lambda n: observer.advance(size=n))
        except OSError as error:
            return error
        finally:
            observer.advance(files=1)

    def look_up(sha256s: list[str]) -> None:
        if index is not None:  # read here: the index is used from this thread only
            known, sha256s = index.lookup(sha256s)
            on_server.merge(known)
        if sha256s:
            asked.append(server_lookups.submit(client.lookup, sha256s))

    with ThreadPoolExecutor(HASH_WORKERS, thread_name_prefix="photosync-hash") as hashers, \
            ThreadPoolExecutor(1, thread_name_prefix="photosync-lookup") as server_lookups:
        try:
            unasked: list[str] = []
            for file, digest in zip(media, hashers.map(digest_of, media)):
                if isinstance(digest, OSError):
                    report.failed.append((file.path, f"cannot read: {digest.strerror or digest}"))
                elif digest in by_hash:
                    report.same_as_another_file.append(file.path)
                else:
                    by_hash[digest] = file
                    unasked.append(digest)
                    if len(unasked) == LOOKUP_BATCH:
                        look_up(unasked)
                        unasked = []
            if unasked:
                look_up(unasked)
            for answer in asked:
                on_server.merge(answer.result())
        except BaseException:
            # Unauthorized, unreachable or interrupted: the files still queued would be hashed for nothing.
            hashers.shutdown(cancel_futures=True)
            raise
    return by_hash, on_server


def _grant_batches(to_upload: list[tuple[str, LocalFile]]) -> Iterator[list[tuple[str, LocalFile]]]:
    """Files in order, `GRANT_BATCH` at a time, and no more than `GRANT_BATCH_BYTES` in a batch
    (beyond its first file), so that a batch is sent well before its URLs expire."""
    batch: list[tuple[str, LocalFile]] = []
    size = 0
    for digest, file in to_upload:
        if batch and (len(batch) == GRANT_BATCH or size + file.size > GRANT_BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append((digest, file))
        size += file.size
    if batch:
        yield batch


@dataclass
class _Sent:
    digest: str
    file: LocalFile
    upload_id: str
    sent_at: float
    status_checked_at: float


class _UploadPipeline:
    """Grants a batch (`POST /uploads/batch`) while `jobs` workers send the files of the one before,
    and confirms finalized uploads with one lookup per `LOOKUP_BATCH` of them, asking an upload's own
    status only when lookups have not seen it for a while (it may have been rejected)."""

    def __init__(self, client: PhotoSyncClient, jobs: int, observer: BackupObserver, report: BackupReport) -> None:
        self.client = client
        self.jobs = max(1, jobs)
        self.observer = observer
        self.report = report
        self.lock = Lock()
        self.stop = Event()
        self.fatal: BaseException | None = None
        # At most a batch granted and not yet sent, so URLs are used soon after they are signed.
        # A grant of None: a big file, sent in parts by the worker itself.
        self.to_send: Queue[tuple[str, LocalFile, UploadGrant | None] | None] = Queue(maxsize=GRANT_BATCH)
        self.unconfirmed: dict[str, _Sent] = {}  # upload id -> what was sent
        self.sending_done = Event()
        self.progress = Condition(self.lock)  # an upload was sent, or the sending is over

    def run(self, to_upload: list[tuple[str, LocalFile]]) -> None:
        # Daemons: an interrupted backup (Ctrl+C) must not wait for the files still queued.
        senders = [Thread(target=self._send_granted, name=f"photosync-upload-{n}", daemon=True) for n in range(self.jobs)]
        confirmer = Thread(target=self._guarded, args=(self._confirm,), name="photosync-confirm", daemon=True)
        for thread in (*senders, confirmer):
            thread.start()
        try:
            self._guarded(self._grant, to_upload)
        finally:
            for _ in senders:
                self._put(None)  # one end mark per worker
            for thread in senders:
                thread.join()
            with self.lock:
                self.sending_done.set()
                self.progress.notify_all()
            confirmer.join()
        if self.fatal is not None:
            raise self.fatal

    def _guarded(self, work: Callable[..., None], *args: object) -> None:
        try:
            work(*args)
        except BaseException as error:  # noqa: BLE001 - handed to run(), which raises it
            self._fail_all(error)

    def _fail_all(self, error: BaseException) -> None:
        """What fails every remaining file the same way (signed out, server gone): stop everything."""
        with self.lock:
            self.fatal = self.fatal or error
            self.stop.set()
            self.progress.notify_all()

    def _put(self, item: tuple[str, LocalFile, UploadGrant | None] | None) -> None:
        while True:
            try:
                self.to_send.put(item, timeout=0.1)
                return
            except Full:
                if self.stop.is_set() and item is not None:
                    return

    def _finish(self, file: LocalFile, *, sent: int = 0) -> None:
        """Count a file done; bytes not (fully) sent are counted too, so the byte total stays exact."""
        if sent != file.size:
            self.observer.advance(size=file.size - sent)
        self.observer.advance(files=1)

    def _grant(self, to_upload: list[tuple[str, LocalFile]]) -> None:
        # Big files go in resumable parts, each through its own multipart upload (no grant here).
        for digest, file in to_upload:
            if file.size >= MULTIPART_THRESHOLD and not self.stop.is_set():
                self._put((digest, file, None))
        small = [(digest, file) for digest, file in to_upload if file.size < MULTIPART_THRESHOLD]
        for batch in _grant_batches(small):
            if self.stop.is_set():
                return
            answers = self.client.request_uploads(
                [FileToUpload(file.path.name, file.content_type, file.size, digest) for digest, file in batch]
            )
            for (digest, file), answer in zip(batch, answers):
                if isinstance(answer, UploadGrant):
                    self._put((digest, file, answer))
                    continue
                with self.lock:
                    if isinstance(answer, ApiError):
                        self.report.failed.append((file.path, str(answer)))
                    elif answer.in_trash:
                        self.report.in_trash.append(file.path)
                    else:
                        self.report.already_backed_up.append(file.path)
                self._finish(file)

    def _send_granted(self) -> None:
        """Until its end mark, also after a stop (the queue is drained so the granter never blocks)."""
        while (item := self.to_send.get()) is not None:
            if self.stop.is_set():
                continue
            try:
                self._send(*item)
            except BaseException as error:  # noqa: BLE001 - handed to run(), which raises it
                self._fail_all(error)

    def _send(self, digest: str, file: LocalFile, grant: UploadGrant | None) -> None:
        if grant is None:
            self._send_in_parts(digest, file)
            return
        with self.lock:
            # Sent but not yet finalized uploads are bounded: the server finalizes at its own pace.
            while len(self.unconfirmed) >= MAX_UNCONFIRMED and not self.stop.is_set():
                self.progress.wait()
        sent = 0

        def on_progress(count: int) -> None:
            nonlocal sent
            sent += count
            self.observer.advance(size=count)

        try:
            self.client.send_upload(grant, file.path, file.size, on_progress)
        except (Unauthorized, ServerUnreachable):
            raise
        except (PhotoSyncError, OSError) as error:
            reason = f"cannot read: {error.strerror or error}" if isinstance(error, OSError) else str(error)
            with self.lock:
                self.report.failed.append((file.path, reason))
            self._finish(file, sent=sent)
            return
        if sent != file.size:  # a retry re-read the file: its bytes count once
            self.observer.advance(size=file.size - sent)
        now = time.monotonic()
        with self.lock:
            self.unconfirmed[grant.upload_id] = _Sent(digest, file, grant.upload_id, now, now)
            self.progress.notify_all()

    def _send_in_parts(self, digest: str, file: LocalFile) -> None:
        """A big file through `upload_file` (multipart, resumed from the parts the server holds),
        which also waits for its finalize."""
        sent = 0

        def on_progress(count: int) -> None:
            nonlocal sent
            sent += count
            self.observer.advance(size=count)

        try:
            result = self.client.upload_file(file.path, content_type=file.content_type, sha256=digest, on_progress=on_progress)
        except (Unauthorized, ServerUnreachable):
            raise
        except (PhotoSyncError, OSError) as error:
            reason = f"cannot read: {error.strerror or error}" if isinstance(error, OSError) else str(error)
            with self.lock:
                self.report.failed.append((file.path, reason))
            self._finish(file, sent=sent)
            return
        with self.lock:
            if result.in_trash:
                self.report.in_trash.append(file.path)
            elif result.duplicate:
                self.report.already_backed_up.append(file.path)
            else:
                self.report.uploaded.append(file.path)
                self.report.uploaded_bytes += file.size
        self._finish(file, sent=min(sent, file.size))

    def _confirm(self) -> None:
        delay = FIRST_CONFIRM_DELAY
        last_progress = time.monotonic()
        while True:
            with self.lock:
                while not self.unconfirmed and not self.sending_done.is_set() and not self.stop.is_set():
                    self.progress.wait()
                if self.stop.is_set() or (not self.unconfirmed and self.sending_done.is_set()):
                    return
                waiting = list(self.unconfirmed.values())
            finished = self._check(waiting)
            now = time.monotonic()
            if finished:
                last_progress = now
            elif now - last_progress > FINALIZE_TIMEOUT:
                # Nothing finished for this long: the server is not finalizing what it was sent.
                with self.lock:
                    for sent in [s for s in self.unconfirmed.values() if now - s.sent_at > FINALIZE_TIMEOUT]:
                        del self.unconfirmed[sent.upload_id]
                        self.report.failed.append((sent.file.path, f"The server did not finish upload {sent.upload_id} "
                                                   f"within {FINALIZE_TIMEOUT:.0f} s"))
                        self._finish(sent.file, sent=sent.file.size)
                    self.progress.notify_all()
            delay = FIRST_CONFIRM_DELAY if finished else min(MAX_CONFIRM_DELAY, delay * 2)
            self.stop.wait(delay)

    def _check(self, waiting: list[_Sent]) -> int:
        """Settle the uploads that are finished; how many were."""
        lookup = self.client.lookup([sent.digest for sent in waiting])
        outcomes: dict[str, str | None] = {}  # upload id -> None when complete, else why it failed
        for sent in waiting:
            if sent.digest in lookup.found or sent.digest in lookup.trashed:
                outcomes[sent.upload_id] = None
            elif time.monotonic() - sent.status_checked_at > STATUS_CHECK_AFTER:
                status = self.client.upload_status(sent.upload_id)
                sent.status_checked_at = time.monotonic()
                if status.status == "complete":
                    outcomes[sent.upload_id] = None
                elif status.status == "failed":
                    outcomes[sent.upload_id] = f"The server rejected {sent.file.path.name}: {status.reason or 'no reason given'}"
        with self.lock:
            for upload_id, failure in outcomes.items():
                sent = self.unconfirmed.pop(upload_id)
                if failure is None:
                    self.report.uploaded.append(sent.file.path)
                    self.report.uploaded_bytes += sent.file.size
                else:
                    self.report.failed.append((sent.file.path, failure))
                self._finish(sent.file, sent=sent.file.size)
            self.progress.notify_all()
        return len(outcomes)


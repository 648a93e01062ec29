"""F1.2 and F1.7: granting an upload inside the quota, and reporting how it went."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from photosync.adapters.objectstore import (
    NoSuchMultipartUpload,
    ObjectStore,
    ObjectStoreError,
    PartsRefused,
    PresignedUpload,
    StoredPart,
)
from photosync.adapters.postgres.unit_of_work import UnitOfWork
from photosync.domain import keys
from photosync.domain.errors import Conflict, DomainError, InvalidRequest, NotFound, QuotaExceeded
from photosync.domain.model import PendingUpload, StorageUse
from photosync.domain.units import human_bytes
from photosync.domain.validation import MAX_PARTS, CompletedPart, PartRequest, UploadRequest
from photosync.log import logger
from photosync.services import deletions, finalize

# Parts are at least this big (S3's floor is 5 MiB), and grow in whole MiB for files that would
# otherwise need more than 10,000 parts.
MIN_PART_BYTES = 8 * 1024 * 1024
_MIB = 1024 * 1024


@dataclass(frozen=True)
class UploadGranted:
    upload_id: uuid.UUID
    request: PresignedUpload


@dataclass(frozen=True)
class MultipartGranted:
    upload_id: uuid.UUID
    part_size: int
    part_count: int
    expires_at: datetime


@dataclass(frozen=True)
class PartUrl:
    number: int
    request: PresignedUpload


@dataclass(frozen=True)
class AlreadyBackedUp:
    photo_id: uuid.UUID
    in_trash: bool  # the content is in the caller's trash: restore it rather than upload it again


@dataclass(frozen=True)
class UploadStatus:
    upload_id: uuid.UUID
    status: str  # "pending", "complete" or "failed"
    photo_id: uuid.UUID | None = None
    reason: str | None = None


def request_upload(
    uow: UnitOfWork,
    store: ObjectStore,
    *,
    owner_id: uuid.UUID,
    request: UploadRequest,
    url_ttl_seconds: int,
    multipart_ttl_seconds: int = 86400,
    now: datetime | None = None,
) -> UploadGranted | MultipartGranted | AlreadyBackedUp:
    existing = uow.photos.by_sha256([request.sha256], owner_id=owner_id).get(request.sha256)
    if existing is not None:
        return AlreadyBackedUp(existing.id, in_trash=existing.trashed_at is not None)
    now = now or datetime.now(timezone.utc)
    upload_id = uuid.uuid4()
    key = keys.original_key(owner_id, upload_id)
    if request.multipart:
        return _request_multipart(uow, store, owner_id=owner_id, upload_id=upload_id, key=key, request=request,
                                  multipart_ttl_seconds=multipart_ttl_seconds, now=now)
    # Signed before anything is reserved: a signing failure must not strand a reservation until the
    # sweep. An unused URL is harmless: finalize accepts no object without its reservation.
    presigned = store.presign_upload(
        key, size=request.size, sha256=request.sha256, content_type=request.content_type,
        expires_in=url_ttl_seconds,
    )
    with uow.transaction():
        _reserve(uow, owner_id, request.size)
        uow.uploads.add(_pending_upload(owner_id, upload_id, key, request, now, now + timedelta(seconds=url_ttl_seconds)))
    return UploadGranted(upload_id, presigned)


@dataclass(frozen=True)
class SameAsEarlierFile:
    """A file of a batch with the content of an earlier file of that batch, which was granted: the
    one upload serves both (its bytes are sent once), and nothing more is reserved."""

    index: int  # the earlier file's position in the requests
    granted: UploadGranted | MultipartGranted


BatchOutcome = UploadGranted | MultipartGranted | AlreadyBackedUp | SameAsEarlierFile | DomainError


@dataclass(frozen=True)
class _BatchCandidate:
    index: int
    pending: PendingUpload
    presigned: PresignedUpload | None  # None for a multipart upload: its parts are signed later

    def granted(self) -> UploadGranted | MultipartGranted:
        if self.presigned is not None:
            return UploadGranted(self.pending.id, self.presigned)
        assert self.pending.part_size is not None and self.pending.part_count is not None
        return MultipartGranted(self.pending.id, self.pending.part_size, self.pending.part_count, self.pending.url_expires_at)


def request_uploads(
    uow: UnitOfWork,
    store: ObjectStore,
    *,
    owner_id: uuid.UUID,
    requests: list[UploadRequest],
    url_ttl_seconds: int,
    multipart_ttl_seconds: int = 86400,
    now: datetime | None = None,
) -> list[BatchOutcome]:
    """`POST /uploads/batch`: one outcome per request, each the one `request_upload` would give if
    called for the files in order, except that content twice in the batch is granted once.

    The whole batch is reserved in one transaction of three statements (lock the user's row, add up
    the reservations, insert the uploads): bench/bench_batch_grants.py measured that against one
    transaction per file."""
    if not requests:
        return []
    now = now or datetime.now(timezone.utc)
    existing = uow.photos.by_sha256(list({request.sha256 for request in requests}), owner_id=owner_id)
    outcomes: list[BatchOutcome | None] = [None] * len(requests)
    first_with_content: dict[str, int] = {}
    candidates: list[_BatchCandidate] = []
    try:
        for index, request in enumerate(requests):
            photo = existing.get(request.sha256)
            if photo is not None:
                outcomes[index] = AlreadyBackedUp(photo.id, in_trash=photo.trashed_at is not None)
            elif request.sha256 not in first_with_content:
                first_with_content[request.sha256] = index
                candidates.append(_batch_candidate(store, owner_id, index, request, now, url_ttl_seconds, multipart_ttl_seconds))
        if candidates:
            with uow.transaction():
                refusals = uow.users.reserve_in_order(owner_id, [candidate.pending.size for candidate in candidates])
                granted = []
                for candidate, refusal in zip(candidates, refusals):
                    if refusal is None:
                        outcomes[candidate.index] = candidate.granted()
                        granted.append(candidate.pending)
                    else:
                        outcomes[candidate.index] = _quota_refusal(refusal, candidate.pending.size)
                if granted:
                    uow.uploads.add_many(granted)
    except BaseException:
        _abort_unused(store, candidates)
        raise
    # Multipart uploads created for files the quota refused are not needed.
    _abort_unused(store, [candidate for candidate in candidates if isinstance(outcomes[candidate.index], DomainError)])
    results: list[BatchOutcome] = []
    for request, outcome in zip(requests, outcomes):
        if outcome is None:
            # Content an earlier file of the batch has: decided by that file's outcome.
            first = first_with_content[request.sha256]
            earlier = outcomes[first]
            if requests[first].size != request.size:
                outcome = InvalidRequest(
                    f"this file has the SHA-256 of file {first} of the batch but another size", field="size"
                )
            elif isinstance(earlier, (UploadGranted, MultipartGranted)):
                outcome = SameAsEarlierFile(first, earlier)
            else:
                # Refused for want of space: the same bytes need the same space.
                assert isinstance(earlier, QuotaExceeded)
                outcome = earlier
        results.append(outcome)
    return results


def _batch_candidate(
    store: ObjectStore, owner_id: uuid.UUID, index: int, request: UploadRequest, now: datetime,
    url_ttl_seconds: int, multipart_ttl_seconds: int,
) -> _BatchCandidate:
    """A file of a batch made ready to be granted: signed (or its multipart upload created) before
    anything is reserved, as for a single file."""
    upload_id = uuid.uuid4()
    key = keys.original_key(owner_id, upload_id)
    if request.multipart:
        part_size, part_count = part_layout(request.size)
        multipart_id = store.create_multipart(key, content_type=request.content_type)
        pending = _pending_upload(
            owner_id, upload_id, key, request, now, now + timedelta(seconds=multipart_ttl_seconds),
            multipart_id=multipart_id, part_size=part_size, part_count=part_count,
        )
        return _BatchCandidate(index, pending, None)
    presigned = store.presign_upload(
        key, size=request.size, sha256=request.sha256, content_type=request.content_type, expires_in=url_ttl_seconds,
    )
    return _BatchCandidate(index, _pending_upload(owner_id, upload_id, key, request, now, now + timedelta(seconds=url_ttl_seconds)), presigned)


def _abort_unused(store: ObjectStore, candidates: list[_BatchCandidate]) -> None:
    for candidate in candidates:
        if candidate.pending.multipart_id is not None:
            _abort_quietly(store, candidate.pending.object_key, candidate.pending.multipart_id)


def _pending_upload(
    owner_id: uuid.UUID, upload_id: uuid.UUID, key: str, request: UploadRequest, now: datetime, expires_at: datetime,
    *, multipart_id: str | None = None, part_size: int | None = None, part_count: int | None = None,
) -> PendingUpload:
    return PendingUpload(
        id=upload_id, owner_id=owner_id, object_key=key, filename=request.filename,
        content_type=request.content_type, size=request.size, sha256=request.sha256,
        status="pending", reason=None, created_at=now, url_expires_at=expires_at,
        multipart_id=multipart_id, part_size=part_size, part_count=part_count,
    )


def _reserve(uow: UnitOfWork, owner_id: uuid.UUID, size: int) -> None:
    if not uow.users.reserve(owner_id, size):
        account = uow.users.get(owner_id)
        assert account is not None, "the caller is provisioned before any use case runs"
        raise _quota_refusal(StorageUse(account.storage_quota, account.storage_used, account.storage_pending), size)


def _quota_refusal(use: StorageUse, size: int) -> QuotaExceeded:
    return QuotaExceeded(
        f"not enough storage: {human_bytes(use.storage_used)} used and "
        f"{human_bytes(use.storage_pending)} reserved by uploads in progress, of "
        f"{human_bytes(use.storage_quota)}; this file needs {human_bytes(size)}. "
        "Free up space by deleting photos.",
        storage_quota=use.storage_quota,
        storage_used=use.storage_used,
        storage_pending=use.storage_pending,
        size=size,
    )


def part_layout(size: int) -> tuple[int, int]:
    """(part size, part count) for a file of `size` bytes: parts of MIN_PART_BYTES, bigger (in whole
    MiB) when that would take more than MAX_PARTS parts."""
    part_size = max(MIN_PART_BYTES, -(-size // MAX_PARTS // _MIB) * _MIB)
    while -(-size // part_size) > MAX_PARTS:
        part_size += _MIB
    return part_size, -(-size // part_size)


def _request_multipart(
    uow: UnitOfWork,
    store: ObjectStore,
    *,
    owner_id: uuid.UUID,
    upload_id: uuid.UUID,
    key: str,
    request: UploadRequest,
    multipart_ttl_seconds: int,
    now: datetime,
) -> MultipartGranted:
    part_size, part_count = part_layout(request.size)
    expires_at = now + timedelta(seconds=multipart_ttl_seconds)
    # Created before anything is reserved, as a single upload's URL is signed first; a refusal
    # below aborts it again (and the bucket's lifecycle rule would, were that abort to fail).
    multipart_id = store.create_multipart(key, content_type=request.content_type)
    try:
        with uow.transaction():
            _reserve(uow, owner_id, request.size)
            uow.uploads.add(_pending_upload(
                owner_id, upload_id, key, request, now, expires_at,
                multipart_id=multipart_id, part_size=part_size, part_count=part_count,
            ))
    except BaseException:
        _abort_quietly(store, key, multipart_id)
        raise
    return MultipartGranted(upload_id, part_size, part_count, expires_at)


def _pending_multipart(uow: UnitOfWork, *, owner_id: uuid.UUID, upload_id: uuid.UUID) -> PendingUpload:
    """The caller's multipart upload that still takes parts: 404 if there is none, 409 if it is over."""
    upload = uow.uploads.get(upload_id, owner_id=owner_id)
    if upload is None:
        if uow.photos.exists(upload_id, owner_id=owner_id):
            raise Conflict("this upload is complete")
        raise NotFound("upload")
    if not upload.is_multipart:
        raise Conflict("this is a single upload: it takes one PUT, not parts")
    if upload.status != "pending":
        raise Conflict(f"this upload is over: {upload.reason}")
    return upload


def request_part_urls(
    uow: UnitOfWork,
    store: ObjectStore,
    *,
    owner_id: uuid.UUID,
    upload_id: uuid.UUID,
    parts: list[PartRequest],
    url_ttl_seconds: int,
    multipart_ttl_seconds: int,
    now: datetime | None = None,
) -> list[PartUrl]:
    """`POST /uploads/{id}/parts`: a fresh signed URL per part, each bound to that part's exact size
    and SHA-256. Every request keeps the reservation alive for the multipart TTL."""
    now = now or datetime.now(timezone.utc)
    upload = _pending_multipart(uow, owner_id=owner_id, upload_id=upload_id)
    assert upload.multipart_id is not None and upload.part_count is not None
    for part in parts:
        if part.number > upload.part_count:
            raise InvalidRequest(f"this upload has {upload.part_count} parts: there is no part {part.number}", field="parts")
    with uow.transaction():
        uow.uploads.extend(upload_id, until=now + timedelta(seconds=multipart_ttl_seconds))
    return [
        PartUrl(part.number, store.presign_part(
            upload.object_key, upload.multipart_id, number=part.number, size=upload.part_length(part.number),
            sha256=part.sha256, expires_in=url_ttl_seconds,
        ))
        for part in parts
    ]


def stored_parts(uow: UnitOfWork, store: ObjectStore, *, owner_id: uuid.UUID, upload_id: uuid.UUID) -> list[StoredPart]:
    """`GET /uploads/{id}/parts`: what the store holds now, so a client resumes with what is missing."""
    upload = _pending_multipart(uow, owner_id=owner_id, upload_id=upload_id)
    assert upload.multipart_id is not None
    try:
        return store.list_parts(upload.object_key, upload.multipart_id)
    except NoSuchMultipartUpload:
        raise Conflict("the parts were assembled already: the upload is being finalized") from None


def complete_multipart(
    uow: UnitOfWork,
    store: ObjectStore,
    *,
    owner_id: uuid.UUID,
    upload_id: uuid.UUID,
    parts: list[CompletedPart],
    multipart_ttl_seconds: int,
    now: datetime | None = None,
) -> None:
    """`POST /uploads/{id}/complete`: every part, in order, as stored; then the store assembles the
    file and its ObjectCreated event finalizes it (size, whole-file SHA-256, type). A refusal
    changes nothing: the parts stay, and the client may complete again."""
    now = now or datetime.now(timezone.utc)
    upload = _pending_multipart(uow, owner_id=owner_id, upload_id=upload_id)
    assert upload.multipart_id is not None and upload.part_count is not None
    numbers = [part.number for part in parts]
    if numbers != list(range(1, upload.part_count + 1)):
        missing = sorted(set(range(1, upload.part_count + 1)) - set(numbers))
        problem = f"parts {_ranges(missing)} are missing" if missing else "the parts are not in order, or one is listed twice"
        raise InvalidRequest(f"'parts' must list every part, 1 to {upload.part_count}, in order: {problem}", field="parts")
    try:
        held = {part.number: part for part in store.list_parts(upload.object_key, upload.multipart_id)}
    except NoSuchMultipartUpload:
        if store.head(upload.object_key) is not None:
            return  # assembled already: an earlier complete whose answer was lost
        raise Conflict("this upload's parts are gone: start the upload again") from None
    not_stored = [part.number for part in parts if part.number not in held]
    if not_stored:
        raise InvalidRequest(f"parts {_ranges(not_stored)} are not uploaded yet", field="parts")
    for part in parts:
        stored = held[part.number]
        if _unquoted(stored.etag) != _unquoted(part.etag):
            raise InvalidRequest(f"part {part.number}'s ETag is not that of the part stored", field="parts")
        if stored.size != upload.part_length(part.number):
            raise InvalidRequest(
                f"part {part.number} is {stored.size} bytes, not {upload.part_length(part.number)}", field="parts"
            )
    with uow.transaction():
        # Assembling a big file takes a while: the sweep must not take the upload for abandoned.
        uow.uploads.extend(upload_id, until=now + timedelta(seconds=multipart_ttl_seconds))
    try:
        store.complete_multipart(upload.object_key, upload.multipart_id, [held[number] for number in numbers])
    except NoSuchMultipartUpload:
        if store.head(upload.object_key) is None:
            raise Conflict("this upload's parts are gone: start the upload again") from None
    except PartsRefused as refusal:
        raise InvalidRequest(f"the store refused the parts: {refusal}", field="parts") from None


def _ranges(numbers: list[int]) -> str:
    """1, 2, 3, 7 -> "1-3, 7" (a message must stay short for 10,000 parts)."""
    spans: list[list[int]] = []
    for number in numbers:
        if spans and number == spans[-1][1] + 1:
            spans[-1][1] = number
        else:
            spans.append([number, number])
    text = ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans[:10])
    return text + (", ..." if len(spans) > 10 else "")


def _unquoted(etag: str) -> str:
    return etag.strip().strip('"')


def abort_parts(uow: UnitOfWork, store: ObjectStore, upload: PendingUpload) -> bool:
    """Drop the store's parts of an upload whose reservation ended; True once they are gone. A
    failure leaves the abort due, for the sweep."""
    assert upload.multipart_id is not None
    try:
        store.abort_multipart(upload.object_key, upload.multipart_id)
    except ObjectStoreError:
        logger.exception("aborting a multipart upload failed; the sweep retries", extra={"upload_id": str(upload.id)})
        return False
    with uow.transaction():
        uow.uploads.parts_aborted(upload.id)
    return True


def _abort_quietly(store: ObjectStore, key: str, multipart_id: str) -> None:
    try:
        store.abort_multipart(key, multipart_id)
    except ObjectStoreError:
        logger.exception("aborting an unused multipart upload failed; the bucket's lifecycle rule removes it")


def upload_status(uow: UnitOfWork, *, owner_id: uuid.UUID, upload_id: uuid.UUID) -> UploadStatus:
    # The pending row is read before the photo: finalize swaps one for the other atomically, so one
    # of the two reads always sees the upload.
    pending = uow.uploads.get(upload_id, owner_id=owner_id)
    if pending is not None and pending.reason == finalize.LOST_RACE_REASON:
        # The same content arrived concurrently through another upload: that photo is the outcome.
        winner = uow.photos.by_sha256([pending.sha256], owner_id=owner_id).get(pending.sha256)
        if winner is not None:
            return UploadStatus(upload_id, "complete", photo_id=winner.id)
    if pending is not None:
        return UploadStatus(upload_id, pending.status, reason=pending.reason)
    if uow.photos.exists(upload_id, owner_id=owner_id):
        return UploadStatus(upload_id, "complete", photo_id=upload_id)
    raise NotFound("upload")


CANCELLED_REASON = "cancelled: the upload was cancelled before it finished"


def cancel_upload(uow: UnitOfWork, store: ObjectStore, *, owner_id: uuid.UUID, upload_id: uuid.UUID) -> None:
    """`DELETE /uploads/{id}`: give the reservation back now and remove any bytes already sent.

    Cancelling twice is fine; an upload that already became a photo cannot be cancelled (the photo is
    deleted instead). Bytes that arrive later through a still-valid link find no pending upload, so
    finalize removes them as an orphan: nothing is charged and nothing is kept."""
    with uow.transaction():
        locked = uow.uploads.lock(upload_id, owner_id=owner_id)
        if locked is None:
            if uow.photos.exists(upload_id, owner_id=owner_id):
                raise Conflict("this upload is complete: delete the photo instead")
            raise NotFound("upload")
        if locked.status != "pending":
            return
        uow.uploads.mark_failed(upload_id, CANCELLED_REASON)
        uow.users.release(owner_id, locked.size)
        uow.uploads.owe_parts_abort(upload_id)
        queued = uow.deletions.add([locked.object_key])
    # After commit: the reservation is free whatever happens next; a failed removal stays queued,
    # and a failed abort of the parts stays due for the sweep.
    if locked.is_multipart:
        abort_parts(uow, store, locked)
    deletions.drain(uow, store, queued)

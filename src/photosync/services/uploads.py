"""F1.2 and F1.7: granting an upload inside the quota, and reporting how it went."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from photosync.adapters.objectstore import ObjectStore, PresignedUpload
from photosync.adapters.postgres.unit_of_work import UnitOfWork
from photosync.domain import keys
from photosync.domain.errors import Conflict, DomainError, InvalidRequest, NotFound, QuotaExceeded
from photosync.domain.model import PendingUpload, StorageUse
from photosync.domain.units import human_bytes
from photosync.domain.validation import UploadRequest
from photosync.services import deletions, finalize


@dataclass(frozen=True)
class UploadGranted:
    upload_id: uuid.UUID
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
    now: datetime | None = None,
) -> UploadGranted | AlreadyBackedUp:
    existing = uow.photos.by_sha256([request.sha256], owner_id=owner_id).get(request.sha256)
    if existing is not None:
        return AlreadyBackedUp(existing.id, in_trash=existing.trashed_at is not None)
    now = now or datetime.now(timezone.utc)
    upload_id = uuid.uuid4()
    key = keys.original_key(owner_id, upload_id)
    # Signed before anything is reserved: a signing failure must not strand a reservation until the
    # sweep. An unused URL is harmless: finalize accepts no object without its reservation.
    presigned = store.presign_upload(
        key, size=request.size, sha256=request.sha256, content_type=request.content_type,
        expires_in=url_ttl_seconds,
    )
    with uow.transaction():
        if not uow.users.reserve(owner_id, request.size):
            account = uow.users.get(owner_id)
            assert account is not None, "the caller is provisioned before any use case runs"
            raise _quota_refusal(
                StorageUse(account.storage_quota, account.storage_used, account.storage_pending), request.size
            )
        uow.uploads.add(_pending_upload(owner_id, upload_id, key, request, now, url_ttl_seconds))
    return UploadGranted(upload_id, presigned)


@dataclass(frozen=True)
class SameAsEarlierFile:
    """A file of a batch with the content of an earlier file of that batch, which was granted: the
    one upload serves both (its bytes are sent once), and nothing more is reserved."""

    index: int  # the earlier file's position in the requests
    granted: UploadGranted


BatchOutcome = UploadGranted | AlreadyBackedUp | SameAsEarlierFile | DomainError


def request_uploads(
    uow: UnitOfWork,
    store: ObjectStore,
    *,
    owner_id: uuid.UUID,
    requests: list[UploadRequest],
    url_ttl_seconds: int,
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
    candidates: list[tuple[int, PendingUpload, PresignedUpload]] = []
    for index, request in enumerate(requests):
        photo = existing.get(request.sha256)
        if photo is not None:
            outcomes[index] = AlreadyBackedUp(photo.id, in_trash=photo.trashed_at is not None)
        elif request.sha256 not in first_with_content:
            first_with_content[request.sha256] = index
            upload_id = uuid.uuid4()
            key = keys.original_key(owner_id, upload_id)
            # Signed before anything is reserved, as for a single upload.
            presigned = store.presign_upload(
                key, size=request.size, sha256=request.sha256, content_type=request.content_type,
                expires_in=url_ttl_seconds,
            )
            candidates.append((index, _pending_upload(owner_id, upload_id, key, request, now, url_ttl_seconds), presigned))
    if candidates:
        with uow.transaction():
            refusals = uow.users.reserve_in_order(owner_id, [pending.size for _, pending, _ in candidates])
            granted = []
            for (index, pending, presigned), refusal in zip(candidates, refusals):
                if refusal is None:
                    outcomes[index] = UploadGranted(pending.id, presigned)
                    granted.append(pending)
                else:
                    outcomes[index] = _quota_refusal(refusal, pending.size)
            if granted:
                uow.uploads.add_many(granted)
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
            elif isinstance(earlier, UploadGranted):
                outcome = SameAsEarlierFile(first, earlier)
            else:
                # Refused for want of space: the same bytes need the same space.
                assert isinstance(earlier, QuotaExceeded)
                outcome = earlier
        results.append(outcome)
    return results


def _pending_upload(
    owner_id: uuid.UUID, upload_id: uuid.UUID, key: str, request: UploadRequest, now: datetime, url_ttl_seconds: int
) -> PendingUpload:
    return PendingUpload(
        id=upload_id, owner_id=owner_id, object_key=key, filename=request.filename,
        content_type=request.content_type, size=request.size, sha256=request.sha256,
        status="pending", reason=None, created_at=now,
        url_expires_at=now + timedelta(seconds=url_ttl_seconds),
    )


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
        queued = uow.deletions.add([locked.object_key])
    # After commit: the reservation is free whatever happens next; a failed removal stays queued.
    deletions.drain(uow, store, queued)

"""F1.2 and F1.7: granting an upload inside the quota, and reporting how it went."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from photosync.adapters.objectstore import ObjectStore, PresignedUpload
from photosync.adapters.postgres.unit_of_work import UnitOfWork
from photosync.domain import keys
from photosync.domain.errors import Conflict, NotFound, QuotaExceeded
from photosync.domain.model import PendingUpload
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
            raise QuotaExceeded(
                f"not enough storage: {human_bytes(account.storage_used)} used and "
                f"{human_bytes(account.storage_pending)} reserved by uploads in progress, of "
                f"{human_bytes(account.storage_quota)}; this file needs {human_bytes(request.size)}. "
                "Free up space by deleting photos.",
                storage_quota=account.storage_quota,
                storage_used=account.storage_used,
                storage_pending=account.storage_pending,
                size=request.size,
            )
        uow.uploads.add(
            PendingUpload(
                id=upload_id, owner_id=owner_id, object_key=key, filename=request.filename,
                content_type=request.content_type, size=request.size, sha256=request.sha256,
                status="pending", reason=None, created_at=now,
                url_expires_at=now + timedelta(seconds=url_ttl_seconds),
            )
        )
    return UploadGranted(upload_id, presigned)


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

"""F1.2 step 3: turning what the store received into a photo, and giving back reservations whose
file never came. Every path here is safe under S3's at-least-once, possibly late, delivery."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from photosync.adapters.objectstore import ObjectStore
from photosync.adapters.postgres.unit_of_work import UnitOfWork
from photosync.adapters.queues import RenditionQueue
from photosync.domain import keys
from photosync.domain.media_types import ACCEPTED_FORMATS_TEXT, SNIFF_BYTES, sniff_content_type
from photosync.domain.model import PendingUpload, Rendered
from photosync.log import logger
from photosync.services import changes, deletions, renditions


HASH_CHUNK_BYTES = 8 * 1024 * 1024


# The reason kept for an upload whose content arrived concurrently through another upload, which
# won: its status reports that other photo as the outcome (api.md), not a failure.
LOST_RACE_REASON = "duplicate: this content is already backed up"


@dataclass(frozen=True)
class FinalizeResult:
    outcome: str  # finalized, already_finalized, rejected, duplicate_content, orphan, missing, ignored
    detail: str | None = None
    # For a finalized photo: "queued" (the renditions function makes them), "pending" (not queued:
    # the sweep makes them) or "none" (nothing to render); else None.
    renditions: str | None = None


def finalize_object(
    uow: UnitOfWork, store: ObjectStore, key: str, *, queue: RenditionQueue | None = None
) -> FinalizeResult:
    """Turn a stored original into a photo, and ask `queue` for its renditions. Safe to call any
    number of times for the same key, concurrently, and late: every outcome after the first changes
    nothing. Without a queue (or when sending fails) the renditions wait for the sweep."""
    parsed = keys.parse_original_key(key)
    if parsed is None:
        logger.warning("ignoring object outside the originals layout", extra={"key": key})
        return FinalizeResult("ignored")
    owner_id, upload_id = parsed

    upload = uow.uploads.get(upload_id, owner_id=owner_id)
    if upload is None or upload.status != "pending":
        if upload is None and uow.photos.exists(upload_id, owner_id=owner_id):
            return FinalizeResult("already_finalized")
        # No reservation (never granted, released by the sweep, or failed): nothing may be charged,
        # and the bytes have no owner record to justify keeping them.
        _remove_objects(uow, store, [key])
        return FinalizeResult("orphan")

    stored = store.head(key)
    if stored is None:
        return FinalizeResult("missing")
    problem = None
    if stored.size != upload.size:
        problem = f"the stored file is {stored.size} bytes, not the {upload.size} bytes declared"
    elif (stored.sha256 or _hash_object(store, key, stored.size)) != upload.sha256:
        problem = "the stored file's SHA-256 differs from the one declared"
    detected = None
    if problem is None:
        detected = sniff_content_type(store.read_range(key, 0, SNIFF_BYTES))
        if detected is None:
            problem = f"the content is not one of the accepted formats: {ACCEPTED_FORMATS_TEXT}"
    if problem is not None:
        return _reject(uow, store, upload, problem)

    assert detected is not None
    # Only the header is read (ranged reads), before the transaction, which stays short; the
    # renditions are made later, by the renditions function, from the queue.
    renderable, metadata = renditions.inspect_original(store, key, detected, size=upload.size)

    with uow.transaction():
        locked = uow.uploads.lock(upload_id, owner_id=owner_id)
        uow.users.lock(owner_id)
        if locked is None or locked.status != "pending":
            # Another delivery of this event won, or the reservation was released meanwhile.
            finalized = locked is None and uow.photos.exists(upload_id, owner_id=owner_id)
            outcome = "already_finalized" if finalized else "orphan"
        elif uow.photos.add_from_upload(locked, metadata, Rendered("pending" if renderable else "none")):
            uow.uploads.remove(upload_id)
            uow.users.charge_reserved(owner_id, locked.size)
            # Content deleted before and uploaded again is no longer "deleted" for lookups.
            uow.deleted_content.clear(locked.sha256, owner_id=owner_id)
            changes.photos_changed(uow, owner_id=owner_id, photo_ids=[upload_id], counted=False)
            outcome = "finalized"
        else:
            uow.uploads.mark_failed(upload_id, LOST_RACE_REASON)
            uow.users.release(owner_id, locked.size)
            outcome = "duplicate_content"
    if outcome in ("orphan", "duplicate_content"):
        # No photo owns these bytes.
        _remove_objects(uow, store, [key])
    if outcome != "finalized":
        return FinalizeResult(outcome)
    # After the commit, so the renditions function always finds the photo it is asked about.
    if not renderable:
        return FinalizeResult(outcome, renditions="none")
    queued = renditions.enqueue(queue, upload)
    return FinalizeResult(outcome, renditions="queued" if queued else "pending")


def release_expired(uow: UnitOfWork, upload: PendingUpload) -> bool:
    """Give back an expired reservation whose file never arrived. False if it changed meanwhile."""
    with uow.transaction():
        locked = uow.uploads.lock(upload.id, owner_id=upload.owner_id)
        if locked is None or locked.status != "pending":
            return False
        uow.uploads.mark_failed(upload.id, "expired: the file was not uploaded before the link expired")
        uow.users.release(upload.owner_id, locked.size)
        # A multipart upload's parts go with its reservation (the caller aborts them).
        uow.uploads.owe_parts_abort(upload.id)
    return True


def _hash_object(store: ObjectStore, key: str, size: int) -> str:
    """SHA-256 of a stored object, for stores that do not keep a checksum themselves."""
    digest = hashlib.sha256()
    for start in range(0, size, HASH_CHUNK_BYTES):
        digest.update(store.read_range(key, start, HASH_CHUNK_BYTES))
    return digest.hexdigest()


def _reject(uow: UnitOfWork, store: ObjectStore, upload: PendingUpload, reason: str) -> FinalizeResult:
    with uow.transaction():
        locked = uow.uploads.lock(upload.id, owner_id=upload.owner_id)
        if locked is not None and locked.status == "pending":
            uow.uploads.mark_failed(upload.id, f"rejected: {reason}")
            uow.users.release(upload.owner_id, locked.size)
    if not uow.photos.exists(upload.id, owner_id=upload.owner_id):
        _remove_objects(uow, store, [upload.object_key])
    logger.info("upload rejected", extra={"upload_id": str(upload.id), "reason": reason})
    return FinalizeResult("rejected", reason)


def _remove_objects(uow: UnitOfWork, store: ObjectStore, object_keys: list[str]) -> None:
    """Delete through the outbox, so a store failure now is retried by the sweep."""
    with uow.transaction():
        queued = uow.deletions.add(object_keys)
    deletions.drain(uow, store, queued)

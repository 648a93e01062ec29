"""Reading what an original holds (type, dimensions, date taken) and making its renditions.

Finalize reads the header (`inspect_original`) and queues the rest (`enqueue`); the renditions
function makes them from the queue (`make_queued`, which calls `render`), and the sweep retries
what is still pending (`retry_pending`). All of it runs outside any database transaction; results
are written in short ones. Rendition keys are derived from the photo id, so making them again (a
duplicate message, a retry) overwrites the same objects with the same content.
"""

from __future__ import annotations

import uuid
from typing import Any

from photosync.adapters import media
from photosync.adapters.objectstore import ObjectStore
from photosync.adapters.objectstore.ranged import open_stored
from photosync.adapters.queues import RenditionQueue
from photosync.adapters.postgres.unit_of_work import UnitOfWork
from photosync.domain import keys
from photosync.domain.media_types import IMAGE_TYPES
from photosync.domain.model import PendingUpload, Photo, PhotoMetadata, Rendered
from photosync.log import logger
from photosync.services import changes, deletions


# Larger originals are stored and served, but not decoded here: that would not fit a Lambda's memory.
MAX_DECODE_BYTES = 200 * 1024 * 1024
# A rendition that keeps failing for reasons other than the content is given up after this many tries.
MAX_RENDITION_ATTEMPTS = 5


def inspect_original(store: ObjectStore, key: str, content_type: str, *, size: int) -> tuple[bool, PhotoMetadata]:
    """(whether there is anything to render, metadata), from the original's header alone, read in
    ranged reads. Undecodable content keeps the photo, without extras: a backup must never drop a
    file because it cannot draw it."""
    if content_type not in IMAGE_TYPES or size > MAX_DECODE_BYTES:
        return False, PhotoMetadata(content_type=content_type)
    with open_stored(store, key, size) as original:
        try:
            info = media.inspect_media(original, content_type)
        except media.MediaError as error:
            logger.info("original cannot be decoded", extra={"key": key, "error": str(error)})
            return False, PhotoMetadata(content_type=content_type)
    return True, PhotoMetadata(
        content_type=info.content_type, width=info.width, height=info.height,
        taken_at=info.taken_at, camera_make=info.camera_make, camera_model=info.camera_model,
        gps_latitude=info.gps_latitude, gps_longitude=info.gps_longitude,
    )


def rendition_message(photo: Photo | PendingUpload) -> dict[str, str]:
    """What the queue carries to the renditions function: which photo, nothing else (its state is
    read when the message is handled, so a late or repeated message does no harm)."""
    return {"photo_id": str(photo.id), "owner_id": str(photo.owner_id)}


def enqueue(queue: RenditionQueue | None, upload: PendingUpload) -> bool:
    """Ask for the renditions of a photo just recorded. A failure here loses nothing: the photo is
    complete, and the sweep makes the renditions of photos still pending."""
    if queue is None:
        return False
    try:
        queue.send(rendition_message(upload))
    except Exception as error:  # noqa: BLE001 - the sweep is the fallback
        logger.warning("queueing renditions failed; the sweep will make them", extra={"photo_id": str(upload.id), "error": str(error)})
        return False
    return True


class RenditionsNotStored(RuntimeError):
    """The renditions could not be made for a reason other than the content (the store failed): the
    message is to be delivered again."""


def make_queued(uow: UnitOfWork, store: ObjectStore, message: dict[str, Any]) -> str:
    """Handle one queued message: the photo's rendition state afterwards. A deleted photo, or one
    whose renditions exist already (a repeated message), is left as it is. Raises
    RenditionsNotStored when this try failed and another is due."""
    try:
        photo_id, owner_id = uuid.UUID(str(message["photo_id"])), uuid.UUID(str(message["owner_id"]))
    except (KeyError, ValueError, TypeError):
        logger.warning("dropping a rendition message that names no photo", extra={"rendition_message": message})
        return "ignored"
    photo = uow.photos.get(photo_id, owner_id=owner_id)
    if photo is None or photo.renditions != "pending":
        return photo.renditions if photo is not None else "deleted"
    state = make_for(uow, store, photo)
    if state == "pending":
        raise RenditionsNotStored(f"the renditions of photo {photo_id} were not stored")
    return state


def render(
    store: ObjectStore, *, owner_id: uuid.UUID, photo_id: uuid.UUID, content: bytes | None, content_type: str
) -> Rendered:
    """Make and store the thumbnail and preview of `content`."""
    if content is None:
        return Rendered("none")
    try:
        made = media.make_renditions(content, content_type)
    except media.MediaError as error:
        logger.info("no renditions for this content", extra={"photo_id": str(photo_id), "error": str(error)})
        return Rendered("failed")
    if made is None:
        return Rendered("none")
    rendered = Rendered(
        "ready",
        keys.thumbnail_key(owner_id, photo_id, made.thumbnail.content_type),
        keys.preview_key(owner_id, photo_id, made.preview.content_type),
    )
    stored: list[str] = []
    try:
        for key, rendition in ((rendered.thumbnail_key, made.thumbnail), (rendered.preview_key, made.preview)):
            store.put(key, rendition.data, content_type=rendition.content_type)
            stored.append(key)
    except Exception as error:  # noqa: BLE001 - the sweep retries; the photo itself is safe
        logger.warning("storing renditions failed", extra={"photo_id": str(photo_id), "error": str(error)})
        # What was stored is recorded with the photo (so its deletion removes it), never left behind.
        return Rendered("pending", thumbnail_key=stored[0] if stored else None)
    return rendered


def retry_pending(uow: UnitOfWork, store: ObjectStore, photo: Photo) -> bool:
    """The sweep's second chance for a photo whose renditions were not stored; True when stored."""
    return make_for(uow, store, photo) == "ready"


def make_for(uow: UnitOfWork, store: ObjectStore, photo: Photo) -> str:
    """Make, store and record a photo's renditions: the state recorded ("pending" when this try
    failed and counted, until MAX_RENDITION_ATTEMPTS gives up)."""
    try:
        content = store.read(photo.object_key)
    except Exception as error:  # noqa: BLE001 - counted, and retried up to the limit
        logger.warning("reading original for renditions failed", extra={"photo_id": str(photo.id), "error": str(error)})
        content = None
        rendered = Rendered("pending")
    else:
        rendered = render(store, owner_id=photo.owner_id, photo_id=photo.id, content=content, content_type=photo.content_type)
    orphaned = []
    with uow.transaction():
        uow.users.lock(photo.owner_id)
        if rendered.state == "pending":
            recorded = uow.photos.count_rendition_attempt(
                photo.id, give_up_after=MAX_RENDITION_ATTEMPTS, thumbnail_key=rendered.thumbnail_key
            )
        else:
            recorded = uow.photos.set_renditions(
                photo.id, thumbnail_key=rendered.thumbnail_key, preview_key=rendered.preview_key, state=rendered.state
            )
        if not recorded:
            # Deleted while its renditions were being made: they must not outlive it.
            orphaned = uow.deletions.add(rendered.keys)
        else:
            # Its thumbnail and preview URLs are new: clients learn them through /sync.
            changes.photos_changed(uow, owner_id=photo.owner_id, photo_ids=[photo.id], counted=False)
    deletions.drain(uow, store, orphaned)
    return rendered.state

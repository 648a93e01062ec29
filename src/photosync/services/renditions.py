"""Reading what an original holds (type, dimensions, date taken) and making its renditions.

Both run outside any database transaction; their results are written in short ones. Rendition keys
are derived from the photo id, so making them again (a duplicate event, a retry) overwrites the same
objects with the same content.
"""

from __future__ import annotations

import uuid

from photosync.adapters import media
from photosync.adapters.objectstore import ObjectStore
from photosync.adapters.postgres.unit_of_work import UnitOfWork
from photosync.domain import keys
from photosync.domain.media_types import IMAGE_TYPES
from photosync.domain.model import Photo, PhotoMetadata, Rendered
from photosync.log import logger
from photosync.services import changes, deletions


# Larger originals are stored and served, but not decoded here: that would not fit a Lambda's memory.
MAX_DECODE_BYTES = 200 * 1024 * 1024
# A rendition that keeps failing for reasons other than the content is given up after this many tries.
MAX_RENDITION_ATTEMPTS = 5


def inspect_original(
    store: ObjectStore, key: str, content_type: str, *, size: int
) -> tuple[bytes | None, PhotoMetadata]:
    """(content to render or None, metadata). Undecodable content keeps the photo, without extras:
    a backup must never drop a file because it cannot draw it."""
    if content_type not in IMAGE_TYPES or size > MAX_DECODE_BYTES:
        return None, PhotoMetadata(content_type=content_type)
    content = store.read(key)
    try:
        info = media.inspect_media(content, content_type)
    except media.MediaError as error:
        logger.info("original cannot be decoded", extra={"key": key, "error": str(error)})
        return None, PhotoMetadata(content_type=content_type)
    return content, PhotoMetadata(
        content_type=info.content_type, width=info.width, height=info.height,
        taken_at=info.taken_at, camera_make=info.camera_make, camera_model=info.camera_model,
        gps_latitude=info.gps_latitude, gps_longitude=info.gps_longitude,
    )


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
    rendered = Rendered("ready", keys.thumbnail_key(owner_id, photo_id), keys.preview_key(owner_id, photo_id))
    try:
        store.put(rendered.thumbnail_key, made.thumbnail, content_type=made.content_type)
        store.put(rendered.preview_key, made.preview, content_type=made.content_type)
    except Exception as error:  # noqa: BLE001 - the sweep retries; the photo itself is safe
        logger.warning("storing renditions failed", extra={"photo_id": str(photo_id), "error": str(error)})
        return Rendered("pending")
    return rendered


def retry_pending(uow: UnitOfWork, store: ObjectStore, photo: Photo) -> bool:
    """The sweep's second chance for a photo whose renditions were not stored; True when stored."""
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
            uow.photos.count_rendition_attempt(photo.id, give_up_after=MAX_RENDITION_ATTEMPTS)
        elif not uow.photos.set_renditions(
            photo.id, thumbnail_key=rendered.thumbnail_key, preview_key=rendered.preview_key, state=rendered.state
        ):
            # Deleted while its renditions were being made: they must not outlive it.
            orphaned = uow.deletions.add(rendered.keys)
        else:
            # Its thumbnail and preview URLs are new: clients learn them through /sync.
            changes.photos_changed(uow, owner_id=photo.owner_id, photo_ids=[photo.id], counted=False)
    deletions.drain(uow, store, orphaned)
    return rendered.state == "ready"

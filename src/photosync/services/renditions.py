"""Reading what an original holds (type, dimensions, date taken) and making its renditions.

Finalize reads the header (`inspect_original`) and queues the rest (`enqueue`); the renditions
function makes them from the queue (`make_queued`, which calls `render`), and the sweep retries
what is still pending (`retry_pending`). All of it runs outside any database transaction; results
are written in short ones. Rendition keys are derived from the photo id, so making them again (a
duplicate message, a retry) overwrites the same objects with the same content.
"""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path
from typing import Any

from photosync import config
from photosync.adapters import media
from photosync.adapters.objectstore import ObjectStore, ObjectStoreError
from photosync.adapters.objectstore.ranged import open_stored
from photosync.adapters.queues import RenditionQueue
from photosync.adapters.postgres.unit_of_work import UnitOfWork
from photosync.domain import keys
from photosync.domain.media_types import IMAGE_TYPES, VIDEO_TYPES
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
    if content_type in VIDEO_TYPES:
        return _inspect_video(store, key, content_type, size=size)
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


def _inspect_video(store: ObjectStore, key: str, content_type: str, *, size: int) -> tuple[bool, PhotoMetadata]:
    from photosync.adapters import video  # FFmpeg's libraries: loaded for videos only

    try:
        info = video.inspect_video(_stored_video(store, key, size))
    except video.VideoError as error:
        logger.info("video cannot be read", extra={"key": key, "error": str(error)})
        return False, PhotoMetadata(content_type=content_type)
    return True, PhotoMetadata(
        content_type=content_type, width=info.width, height=info.height, duration_ms=info.duration_ms,
        taken_at=info.taken_at, camera_make=info.camera_make, camera_model=info.camera_model,
        gps_latitude=info.gps_latitude, gps_longitude=info.gps_longitude,
    )


def _stored_video(store: ObjectStore, key: str, size: int):  # -> video.RangeReader
    from photosync.adapters import video

    return video.RangeReader(lambda start, length: store.read_range(key, start, length), size)


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


def render_video(store: ObjectStore, *, owner_id: uuid.UUID, photo_id: uuid.UUID, key: str, size: int) -> Rendered:
    """Make and store a video's poster renditions (thumbnail and preview, as a photo's) and, when
    browsers cannot play the original and it is at most PHOTOSYNC_MAX_TRANSCODE_SECONDS long, its
    playback copy. The original is read in ranges; the copy is written to a temporary file."""
    from photosync.adapters import video

    try:
        info = video.inspect_video(_stored_video(store, key, size))
        made = media.renditions_of(video.poster_frame(_stored_video(store, key, size)), None)
    except video.VideoError as error:
        logger.info("no renditions for this video", extra={"photo_id": str(photo_id), "error": str(error)})
        return Rendered("failed")
    except ObjectStoreError as error:  # counted, and retried up to the limit
        logger.warning("reading original for renditions failed", extra={"photo_id": str(photo_id), "error": str(error)})
        return Rendered("pending")
    with tempfile.TemporaryDirectory(prefix="photosync-playback-") as scratch:
        playback = _playback_copy(store, key, size, info, Path(scratch) / "playback.mp4", photo_id=photo_id)
        rendered = Rendered(
            "ready",
            keys.thumbnail_key(owner_id, photo_id, made.thumbnail.content_type),
            keys.preview_key(owner_id, photo_id, made.preview.content_type),
            keys.playback_key(owner_id, photo_id) if playback is not None else None,
        )
        return _store_renditions(store, photo_id, rendered, made, playback)


def _playback_copy(store: ObjectStore, key: str, size: int, info, destination: Path, *, photo_id: uuid.UUID) -> Path | None:
    """The playback copy written to `destination`, or None when none is needed or allowed."""
    from photosync.adapters import video

    if info.browser_playable:
        return None
    limit = config.settings().max_transcode_seconds
    if info.duration_ms is None or info.duration_ms > limit * 1000:
        logger.info(
            "video too long for a playback copy", extra={"photo_id": str(photo_id), "duration_ms": info.duration_ms, "limit_seconds": limit}
        )
        return None
    try:
        video.make_playback_copy(_stored_video(store, key, size), destination)
    except video.VideoError as error:
        # The poster still shows and the original still downloads: no copy is no failure.
        logger.info("no playback copy for this video", extra={"photo_id": str(photo_id), "error": str(error)})
        return None
    return destination


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
    rendered = Rendered(
        "ready",
        keys.thumbnail_key(owner_id, photo_id, made.thumbnail.content_type),
        keys.preview_key(owner_id, photo_id, made.preview.content_type),
    )
    return _store_renditions(store, photo_id, rendered, made, None)


def _store_renditions(
    store: ObjectStore, photo_id: uuid.UUID, rendered: Rendered, made: media.Renditions, playback: Path | None
) -> Rendered:
    stored: dict[str, str] = {}
    try:
        for field, rendition in (("thumbnail_key", made.thumbnail), ("preview_key", made.preview)):
            key = getattr(rendered, field)
            store.put(key, rendition.data, content_type=rendition.content_type)
            stored[field] = key
        if playback is not None and rendered.playback_key is not None:
            store.put_file(rendered.playback_key, playback, content_type="video/mp4")
    except Exception as error:  # noqa: BLE001 - the sweep retries; the photo itself is safe
        logger.warning("storing renditions failed", extra={"photo_id": str(photo_id), "error": str(error)})
        # What was stored is recorded with the photo (so its deletion removes it), never left behind.
        return Rendered("pending", **stored)
    return rendered


def retry_pending(uow: UnitOfWork, store: ObjectStore, photo: Photo) -> bool:
    """The sweep's second chance for a photo whose renditions were not stored; True when stored."""
    return make_for(uow, store, photo) == "ready"


def make_for(uow: UnitOfWork, store: ObjectStore, photo: Photo) -> str:
    """Make, store and record a photo's renditions: the state recorded ("pending" when this try
    failed and counted, until MAX_RENDITION_ATTEMPTS gives up)."""
    if photo.content_type in VIDEO_TYPES:
        rendered = render_video(store, owner_id=photo.owner_id, photo_id=photo.id, key=photo.object_key, size=photo.size)
    else:
        try:
            content = store.read(photo.object_key)
        except Exception as error:  # noqa: BLE001 - counted, and retried up to the limit
            logger.warning("reading original for renditions failed", extra={"photo_id": str(photo.id), "error": str(error)})
            rendered = Rendered("pending")
        else:
            rendered = render(store, owner_id=photo.owner_id, photo_id=photo.id, content=content, content_type=photo.content_type)
    orphaned = []
    with uow.transaction():
        uow.users.lock(photo.owner_id)
        if rendered.state == "pending":
            recorded = uow.photos.count_rendition_attempt(photo.id, rendered, give_up_after=MAX_RENDITION_ATTEMPTS)
        else:
            recorded = uow.photos.set_renditions(photo.id, rendered)
        if not recorded:
            # Deleted while its renditions were being made: they must not outlive it.
            orphaned = uow.deletions.add(rendered.keys)
        else:
            # Its thumbnail and preview URLs are new: clients learn them through /sync.
            changes.photos_changed(uow, owner_id=photo.owner_id, photo_ids=[photo.id], counted=False)
    deletions.drain(uow, store, orphaned)
    return rendered.state

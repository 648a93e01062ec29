"""The records the services work with. Plain data: the adapters fill them, the handlers shape them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Account:
    id: uuid.UUID
    email: str
    storage_quota: int
    storage_used: int
    storage_pending: int
    storage_trash: int  # the part of storage_used held by photos in the trash


@dataclass(frozen=True)
class PendingUpload:
    id: uuid.UUID
    owner_id: uuid.UUID
    object_key: str
    filename: str
    content_type: str
    size: int
    sha256: str
    status: str  # "pending" or "failed"
    reason: str | None
    created_at: datetime
    url_expires_at: datetime


@dataclass(frozen=True)
class Photo:
    id: uuid.UUID
    owner_id: uuid.UUID
    object_key: str
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: datetime
    taken_at: datetime | None
    sort_at: datetime
    width: int | None
    height: int | None
    duration_ms: int | None  # videos only
    camera_make: str | None
    camera_model: str | None
    thumbnail_key: str | None
    preview_key: str | None
    playback_key: str | None  # a video's browser-playable copy, when its original is not
    renditions: str
    trashed_at: datetime | None


@dataclass(frozen=True)
class PhotoMetadata:
    """What finalize learned from the content itself."""

    content_type: str
    width: int | None = None
    height: int | None = None
    duration_ms: int | None = None
    taken_at: datetime | None = None
    camera_make: str | None = None
    camera_model: str | None = None
    gps_latitude: float | None = None
    gps_longitude: float | None = None


@dataclass(frozen=True)
class Album:
    id: uuid.UUID
    owner_id: uuid.UUID
    name: str
    created_at: datetime
    photo_count: int


@dataclass(frozen=True)
class PhotoRef:
    """A photo's identity and content, as lookups and uploads need it."""

    id: uuid.UUID
    sha256: str
    trashed_at: datetime | None


@dataclass(frozen=True)
class ChangeRow:
    """One entry of the change log: which photo, album or membership changed (its state is read
    when the entry is served)."""

    seq: int
    kind: str  # "photo", "album" or "album_photo"
    photo_id: uuid.UUID | None
    album_id: uuid.UUID | None


@dataclass(frozen=True)
class ObjectDeletion:
    id: int
    object_key: str
    attempts: int


@dataclass(frozen=True)
class Rendered:
    """The renditions made for a photo, and how that went."""

    state: str  # "ready", "none" (nothing to render), "failed" (content cannot be drawn), "pending" (retry)
    thumbnail_key: str | None = None
    preview_key: str | None = None
    playback_key: str | None = None

    @property
    def keys(self) -> list[str]:
        return [k for k in (self.thumbnail_key, self.preview_key, self.playback_key) if k is not None]

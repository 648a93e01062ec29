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
class StorageUse:
    """An account's quota figures at one moment: what a quota refusal reports."""

    storage_quota: int
    storage_used: int
    storage_pending: int


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
    # A multipart upload's reservation lapses at url_expires_at, moved on by every part request.
    url_expires_at: datetime
    # Multipart uploads only (all None for a single PUT): the store's handle and the layout.
    multipart_id: str | None = None
    part_size: int | None = None
    part_count: int | None = None

    @property
    def is_multipart(self) -> bool:
        return self.multipart_id is not None

    def part_length(self, number: int) -> int:
        """Bytes in part `number` (1-based): `part_size`, but the last part holds the rest."""
        assert self.part_size is not None and self.part_count is not None
        return self.size - (self.part_count - 1) * self.part_size if number == self.part_count else self.part_size


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
    """An album as one caller sees it: `role` is theirs ("owner", "contributor" or "viewer")."""

    id: uuid.UUID
    owner_id: uuid.UUID
    owner_email: str
    name: str
    created_at: datetime
    photo_count: int  # photos outside the trash
    cover_thumbnail_key: str | None  # the thumbnail of its newest photo outside the trash, once made
    role: str


@dataclass(frozen=True)
class Member:
    """Someone an album is shared with; `user_id` is None until that email has an account."""

    id: uuid.UUID
    album_id: uuid.UUID
    email: str
    role: str  # "viewer" or "contributor"
    user_id: uuid.UUID | None
    added_at: datetime


@dataclass(frozen=True)
class Link:
    """A public link to an album: whoever holds the token sees the album's page."""

    id: uuid.UUID
    album_id: uuid.UUID
    token: str
    password_hash: str | None
    allow_download: bool
    expires_at: datetime | None
    created_at: datetime


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

"""Typed views of the API's JSON objects. Unknown fields are ignored: the contract may add fields."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _optional_time(value: str | None) -> datetime | None:
    return None if value is None else _time(value)


@dataclass(frozen=True)
class Token:
    access_token: str
    token_type: str
    expires_in: int | None
    refresh_token: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Token:
        expires_in = data.get("expires_in")
        return cls(
            access_token=data["access_token"],
            token_type=data.get("token_type", "Bearer"),
            expires_in=int(expires_in) if expires_in is not None else None,
            refresh_token=data.get("refresh_token"),
        )


@dataclass(frozen=True)
class Me:
    id: str
    email: str
    storage_quota: int
    storage_used: int
    storage_pending: int
    storage_trash: int = 0  # the part of storage_used held by photos in the trash

    @property
    def storage_free(self) -> int:
        return max(0, self.storage_quota - self.storage_used - self.storage_pending)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Me:
        return cls(
            id=data["id"],
            email=data["email"],
            storage_quota=int(data["storage_quota"]),
            storage_used=int(data["storage_used"]),
            storage_pending=int(data["storage_pending"]),
            storage_trash=int(data.get("storage_trash") or 0),
        )


@dataclass(frozen=True)
class Photo:
    id: str
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: datetime
    taken_at: datetime | None
    width: int | None
    height: int | None
    thumbnail_url: str | None
    trashed_at: datetime | None = None
    owner_id: str | None = None  # another user's id for their photos in an album shared with the caller

    @property
    def in_trash(self) -> bool:
        return self.trashed_at is not None

    @property
    def sort_time(self) -> datetime:
        """What the timeline sorts by: when it was taken, else when it was backed up."""
        return self.taken_at or self.uploaded_at

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Photo:
        uploaded_at = _time(data["uploaded_at"])
        return cls(
            id=data["id"],
            filename=data["filename"],
            content_type=data["content_type"],
            size=int(data["size"]),
            sha256=data["sha256"],
            uploaded_at=uploaded_at,
            taken_at=_optional_time(data.get("taken_at")),
            width=data.get("width"),
            height=data.get("height"),
            thumbnail_url=data.get("thumbnail_url"),
            trashed_at=_optional_time(data.get("trashed_at")),
            owner_id=data.get("owner_id"),
        )


@dataclass(frozen=True)
class TrashedPhoto(Photo):
    """A photo of `GET /trash`, with when the sweep deletes it for good."""

    purge_at: datetime | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrashedPhoto:
        photo = Photo.from_json(data)
        purge_at = _time(data["purge_at"])
        return cls(**{name: getattr(photo, name) for name in Photo.__dataclass_fields__}, purge_at=purge_at)


@dataclass(frozen=True)
class TrashPage:
    items: list[TrashedPhoto]
    next_cursor: str | None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrashPage:
        return cls(items=[TrashedPhoto.from_json(item) for item in data["items"]], next_cursor=data.get("next_cursor"))


@dataclass(frozen=True)
class PhotoPage:
    items: list[Photo]
    next_cursor: str | None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PhotoPage:
        return cls(items=[Photo.from_json(item) for item in data["items"]], next_cursor=data.get("next_cursor"))


@dataclass(frozen=True)
class AlbumOwner:
    id: str
    email: str


@dataclass(frozen=True)
class Album:
    id: str
    name: str
    created_at: datetime
    photo_count: int
    role: str = "owner"  # "owner" | "contributor" | "viewer"
    owner: AlbumOwner | None = None
    cover_thumbnail_url: str | None = None

    @property
    def shared_with_me(self) -> bool:
        return self.role != "owner"

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Album:
        created_at = _time(data["created_at"])
        owner = data.get("owner")
        return cls(
            id=data["id"],
            name=data["name"],
            created_at=created_at,
            photo_count=int(data["photo_count"]),
            role=data.get("role") or "owner",
            owner=AlbumOwner(id=owner["id"], email=owner["email"]) if isinstance(owner, dict) else None,
            cover_thumbnail_url=data.get("cover_thumbnail_url"),
        )


@dataclass(frozen=True)
class Member:
    """Someone an album is shared with; `user_id` is None until that email first signs in."""

    id: str
    email: str
    role: str  # "viewer" | "contributor" (the list of `GET /albums/{id}/members` may show the owner too)
    user_id: str | None
    added_at: datetime | None

    @property
    def joined(self) -> bool:
        return self.user_id is not None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Member:
        return cls(
            id=data["id"],
            email=data["email"],
            role=data["role"],
            user_id=data.get("user_id"),
            added_at=_optional_time(data.get("added_at")),
        )


@dataclass(frozen=True)
class Link:
    """A public link to an album: anyone with its URL (and password, if it has one) sees the album."""

    id: str
    url: str
    token: str
    expires_at: datetime | None
    has_password: bool
    allow_download: bool
    created_at: datetime

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Link:
        return cls(
            id=data["id"],
            url=data["url"],
            token=data["token"],
            expires_at=_optional_time(data.get("expires_at")),
            has_password=bool(data.get("has_password")),
            allow_download=bool(data.get("allow_download")),
            created_at=_time(data["created_at"]),
        )


@dataclass(frozen=True)
class PublicPhoto:
    """A photo as a public link shows it: no filename, hash, owner or place."""

    id: str
    content_type: str
    taken_at: datetime | None
    width: int | None
    height: int | None
    duration_ms: int | None
    thumbnail_url: str | None
    preview_url: str | None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PublicPhoto:
        return cls(
            id=data["id"],
            content_type=data["content_type"],
            taken_at=_optional_time(data.get("taken_at")),
            width=data.get("width"),
            height=data.get("height"),
            duration_ms=data.get("duration_ms"),
            thumbnail_url=data.get("thumbnail_url"),
            preview_url=data.get("preview_url"),
        )


@dataclass(frozen=True)
class PublicAlbumPage:
    """One page of `GET /public/{token}`: the album's name and count, and some of its photos."""

    name: str
    photo_count: int
    items: list[PublicPhoto]
    next_cursor: str | None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PublicAlbumPage:
        album = data["album"]
        return cls(
            name=album["name"],
            photo_count=int(album["photo_count"]),
            items=[PublicPhoto.from_json(item) for item in data["items"]],
            next_cursor=data.get("next_cursor"),
        )


@dataclass(frozen=True)
class UploadGrant:
    """`201` answer of `POST /uploads`: where and how to send the bytes."""

    upload_id: str
    method: str
    url: str
    headers: dict[str, str]
    expires_at: datetime
    # In a batch answer: the position of an earlier file of the batch with the same content, whose
    # grant this is. Its bytes are sent once, through that file.
    duplicate_of: int | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> UploadGrant:
        expires_at = _time(data["expires_at"])
        return cls(
            upload_id=data["upload_id"],
            method=data.get("method", "PUT"),
            url=data["url"],
            headers={str(k): str(v) for k, v in (data.get("headers") or {}).items()},
            expires_at=expires_at,
            duplicate_of=data.get("duplicate_of"),
        )


@dataclass(frozen=True)
class FileToUpload:
    """One file of `PhotoSyncClient.request_uploads`: the body of `POST /uploads`."""

    filename: str
    content_type: str
    size: int
    sha256: str


@dataclass(frozen=True)
class DuplicateUpload:
    """`200 {"status": "duplicate"}` answer of `POST /uploads`: the caller already has these bytes."""

    photo_id: str
    in_trash: bool = False  # the caller has them, but in the trash


@dataclass(frozen=True)
class UploadStatus:
    upload_id: str
    status: str  # "pending" | "complete" | "failed"
    photo_id: str | None
    reason: str | None

    @property
    def finished(self) -> bool:
        return self.status in ("complete", "failed")

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> UploadStatus:
        return cls(
            upload_id=data["upload_id"],
            status=data["status"],
            photo_id=data.get("photo_id"),
            reason=data.get("reason"),
        )


@dataclass(frozen=True)
class DownloadLink:
    url: str
    expires_at: datetime

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DownloadLink:
        expires_at = _time(data["expires_at"])
        return cls(url=data["url"], expires_at=expires_at)


@dataclass(frozen=True)
class UploadResult:
    """What became of one file sent with `PhotoSyncClient.upload_file`."""

    photo_id: str
    duplicate: bool
    in_trash: bool = False  # a duplicate of a photo in the trash: nothing was uploaded


@dataclass(frozen=True)
class Lookup:
    """`POST /photos/lookup`: where each content hash stands. A hash is in at most one of the three.

    Only `found` is a safe backup; `trashed` will be deleted when its retention ends; `deleted` was
    deleted for good by the user (clients do not upload it again unless asked).
    """

    found: dict[str, str] = field(default_factory=dict)  # sha256 -> photo id
    trashed: dict[str, str] = field(default_factory=dict)  # sha256 -> photo id
    deleted: set[str] = field(default_factory=set)

    def merge(self, other: Lookup) -> None:
        self.found.update(other.found)
        self.trashed.update(other.trashed)
        self.deleted.update(other.deleted)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Lookup:
        return cls(found=dict(data.get("found") or {}), trashed=dict(data.get("trashed") or {}), deleted=set(data.get("deleted") or []))


@dataclass(frozen=True)
class Change:
    """One entry of `GET /sync`: `kind` is "photo", "album" or "album_photo"; `op` "upsert", "delete",
    "add" or "remove". Upserts carry the object; deletes the id; memberships both ids."""

    kind: str
    op: str
    photo: Photo | None = None
    album: Album | None = None
    id: str | None = None
    album_id: str | None = None
    photo_id: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Change:
        photo = data.get("photo")
        album = data.get("album")
        return cls(
            kind=data["type"],
            op=data["op"],
            photo=Photo.from_json(photo) if photo else None,
            album=Album.from_json(album) if album else None,
            id=data.get("id"),
            album_id=data.get("album_id"),
            photo_id=data.get("photo_id"),
            raw=data,
        )


@dataclass(frozen=True)
class SyncPage:
    """`GET /sync`: changes in order; `reset` means drop the local copy and start without a cursor."""

    changes: list[Change]
    next_cursor: str | None
    has_more: bool
    reset: bool

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SyncPage:
        return cls(
            changes=[Change.from_json(item) for item in data.get("changes") or []],
            next_cursor=data.get("next_cursor"),
            has_more=bool(data.get("has_more")),
            reset=bool(data.get("reset")),
        )


@dataclass(frozen=True)
class EmptiedTrash:
    deleted: int
    freed_bytes: int

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EmptiedTrash:
        return cls(deleted=int(data["deleted"]), freed_bytes=int(data["freed_bytes"]))

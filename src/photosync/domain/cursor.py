"""The gallery's opaque keyset cursor: the sort key and id of the last photo of a page."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from photosync.domain.errors import InvalidRequest


@dataclass(frozen=True)
class TimelinePosition:
    sort_at: datetime
    photo_id: uuid.UUID


def encode_cursor(position: TimelinePosition) -> str:
    payload = json.dumps([position.sort_at.isoformat(), str(position.photo_id)], separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> TimelinePosition:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        sort_at_text, photo_id_text = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        sort_at = datetime.fromisoformat(sort_at_text)
        if sort_at.tzinfo is None:
            raise ValueError("naive time")
        return TimelinePosition(sort_at, uuid.UUID(photo_id_text))
    except (ValueError, TypeError, UnicodeError, binascii.Error):
        raise InvalidRequest("cursor is not valid: use the next_cursor of a previous page") from None


# The phases of a first sync (no cursor), in order: the library's current state, read page by page
# in key order, before the change log is followed from where that pass began.
SNAPSHOT_PHASES = ("photos", "albums", "album_photos")


@dataclass(frozen=True)
class SyncPosition:
    """Where a client's copy of the library stands. `seq`: the change number its copy is complete
    through (during a first sync: the number when that pass began). `phase` and `after`: how far
    a first sync's pass over the current state has come (`phase` None once it is done)."""

    seq: int
    phase: str | None = None
    after: tuple[str, ...] = ()


def encode_sync_cursor(position: SyncPosition) -> str:
    payload = json.dumps(["s1", position.seq, position.phase, *position.after], separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_sync_cursor(cursor: str) -> SyncPosition:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        version, seq, phase, *after = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        expected_keys = {None: 0, "photos": 1, "albums": 1, "album_photos": 2}
        if (
            version != "s1" or type(seq) is not int or seq < 0 or phase not in expected_keys
            or len(after) not in (0, expected_keys[phase]) or not all(isinstance(k, str) for k in after)
        ):
            raise ValueError("not a sync cursor")
        if phase in ("albums", "album_photos"):
            for key in after:
                uuid.UUID(key)
        return SyncPosition(seq, phase, tuple(after))
    except (ValueError, TypeError, UnicodeError, binascii.Error):
        raise InvalidRequest("cursor is not valid: use the next_cursor of a previous /sync answer") from None

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

"""The pure rules of the trash and the change feed: the sync cursor and the retention settings."""

from __future__ import annotations

import base64
import json

import pytest

from photosync.config import ConfigError, load_settings
from photosync.domain.cursor import SyncPosition, decode_sync_cursor, encode_sync_cursor
from photosync.domain.errors import InvalidRequest
from photosync.domain.validation import parse_limit
from tests.unit.test_domain_rules import LOCAL


def forged(*payload) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(payload)).encode()).decode().rstrip("=")


# Fixed ids, not uuid4(): test ids must be the same in every pytest-xdist worker.
@pytest.mark.parametrize("position", [
    SyncPosition(0, "photos"),
    SyncPosition(41, "photos", ("ab" * 32,)),
    SyncPosition(41, "albums", ("0b6f3c1e-8a51-4f43-9a4f-2d1c6f0e7a11",)),
    SyncPosition(7, "album_photos", ("5d0e2c9a-3b7f-4e61-8c2d-9f4a1b6e3c22", "e2a7d4b1-6c93-4f08-b5e1-7a3c9d2f4b33")),
    SyncPosition(123_456_789),
])
def test_sync_cursors_round_trip(position):
    assert decode_sync_cursor(encode_sync_cursor(position)) == position


@pytest.mark.parametrize("cursor", [
    "", "%%%", "bm9wZQ",
    forged("s2", 1, None), forged("s1", -1, None), forged("s1", "1", None), forged("s1", True, None),
    forged("s1", 1, "videos"), forged("s1", 1, None, "x"), forged("s1", 1, "albums", "not-a-uuid"),
    forged("s1", 1, "album_photos", "5d0e2c9a-3b7f-4e61-8c2d-9f4a1b6e3c22"), forged("s1", 1, "photos", 5),
    forged("2024-01-02T03:04:05+00:00", "e2a7d4b1-6c93-4f08-b5e1-7a3c9d2f4b33"),  # a timeline cursor is not a sync cursor
])
def test_anything_else_is_not_a_sync_cursor(cursor):
    with pytest.raises(InvalidRequest):
        decode_sync_cursor(cursor)


def test_sync_pages_take_up_to_1000_changes_500_by_default():
    assert parse_limit(None, maximum=1000, default=500) == 500
    assert parse_limit("1000", maximum=1000, default=500) == 1000
    with pytest.raises(InvalidRequest):
        parse_limit("1001", maximum=1000, default=500)


def test_retention_defaults_and_a_trash_retention_of_zero():
    settings = load_settings(LOCAL)
    assert (settings.trash_retention_days, settings.change_log_retention_days) == (30, 90)
    assert load_settings({**LOCAL, "PHOTOSYNC_TRASH_RETENTION_DAYS": "0"}).trash_retention_days == 0


@pytest.mark.parametrize("env", [
    {"PHOTOSYNC_TRASH_RETENTION_DAYS": "-1"}, {"PHOTOSYNC_TRASH_RETENTION_DAYS": "a month"},
    {"PHOTOSYNC_CHANGE_LOG_RETENTION_DAYS": "0"},
])
def test_bad_retention_settings_refuse_to_start(env):
    with pytest.raises(ConfigError):
        load_settings({**LOCAL, **env})

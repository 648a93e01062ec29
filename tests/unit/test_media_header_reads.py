"""Finalize reads an original's metadata from its header, in ranged reads of the store, never the
whole file when the header suffices (issue 12)."""

from __future__ import annotations

import pytest

from photosync.adapters import media
from photosync.adapters.objectstore.local_disk import LocalDiskStore
from photosync.adapters.objectstore.ranged import READ_AHEAD_BYTES, open_stored


@pytest.fixture
def stored(tmp_path):
    store = LocalDiskStore(tmp_path / "data", public_url="http://127.0.0.1:9")

    def put(data: bytes, content_type: str) -> tuple[LocalDiskStore, str]:
        store.put("originals/u/p", data, content_type=content_type)
        return store, "originals/u/p"

    return put


@pytest.mark.parametrize(
    "name, content_type, at_most",
    [
        ("DSCN0010-gps.jpg", "image/jpeg", READ_AHEAD_BYTES),
        ("orientation/portrait_6.jpg", "image/jpeg", READ_AHEAD_BYTES),
        ("iphone_13_pro_max.HEIC", "image/heic", media.HEIF_HEADER_BYTES),
    ],
)
def test_metadata_from_the_header_is_what_the_whole_file_gives(real_photos, stored, name, content_type, at_most):
    data = (real_photos / name).read_bytes()
    store, key = stored(data, content_type)
    with open_stored(store, key, len(data)) as original:
        from_header = media.inspect_media(original, content_type)
        fetched = original.raw.bytes_fetched
    assert from_header == media.inspect_media(data, content_type)
    assert fetched <= at_most < len(data)


def test_a_heif_whose_metadata_is_past_the_first_bytes_is_read_whole(real_photos, stored, monkeypatch):
    # The iPhone's metadata items end at 27 KiB: a shorter first read cannot parse, so all is read.
    monkeypatch.setattr(media, "HEIF_HEADER_BYTES", 16 * 1024)
    data = (real_photos / "iphone_13_pro_max.HEIC").read_bytes()
    store, key = stored(data, "image/heic")
    with open_stored(store, key, len(data)) as original:
        info = media.inspect_media(original, "image/heic")
        assert original.raw.bytes_fetched == len(data)
    assert info == media.inspect_media(data, "image/heic")
    assert info.camera_model == "iPhone 13 Pro Max" and (info.width, info.height) == (3024, 4032)

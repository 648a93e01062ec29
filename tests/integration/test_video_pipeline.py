"""Videos through finalize and their renditions, on a real database and store: length, displayed size
and capture time on the photo, a poster thumbnail and preview, and a playback copy for what browsers
cannot play."""

from __future__ import annotations

import io
from datetime import datetime, timezone

import av
import pytest
from PIL import Image

from photosync import config
from photosync.adapters.objectstore import ObjectStoreError
from photosync.handlers.http.common import photo_json
from photosync.services import photos, renditions, trash
from tests.conftest import new_user
from tests.integration.test_media_pipeline import finalize_upload, stored_rendition
from tests.support.videos import make_video
from tests.unit.test_video import assert_upright

UTC = timezone.utc
CREATED = datetime(2024, 5, 1, 10, 20, 30, tzinfo=UTC)



@pytest.fixture(autouse=True)
def settings_of_a_function(lambda_env):
    """The renditions read PHOTOSYNC_MAX_TRANSCODE_SECONDS from the function's settings."""


# (make_video options, sniffed type, displayed size, gets a playback copy)
CLIPS = {
    "h264-mp4": (dict(codec="libx264", container="mp4"), "video/mp4", (160, 96), False),
    "h264-mov-index-at-end": (dict(codec="libx264", container="mov", moov_at_end=True), "video/quicktime", (160, 96), False),
    "hevc-mov-portrait": (dict(codec="libx265", container="mov", width=96, height=160, rotation=90), "video/quicktime", (96, 160), True),
    "mpeg4-mp4": (dict(codec="mpeg4", container="mp4"), "video/mp4", (160, 96), True),
    "vp9-mp4": (dict(codec="libvpx-vp9", container="mp4", audio=False), "video/mp4", (160, 96), True),
}


@pytest.mark.parametrize("name", sorted(CLIPS))
def test_a_video_finalizes_with_its_metadata_poster_and_playback_copy(uow, store, name):
    options, content_type, size, needs_copy = CLIPS[name]
    owner = new_user(uow)
    data = make_video(**options, seconds=1.5, created=CREATED)

    result, photo = finalize_upload(uow, store, owner, data, content_type)

    assert result.outcome == "finalized"
    assert (photo.content_type, (photo.width, photo.height), photo.taken_at) == (content_type, size, CREATED)
    assert photo.duration_ms == pytest.approx(1500, abs=90)
    assert photo.renditions == "ready"
    # The poster is made into the same renditions as a photo's: a WebP thumbnail, a JPEG preview.
    assert stored_rendition(store, photo.thumbnail_key) == ("image/webp", "WEBP", size)
    assert stored_rendition(store, photo.preview_key) == ("image/jpeg", "JPEG", size)
    assert_upright(Image.open(io.BytesIO(store.read(photo.preview_key))).convert("RGB"))
    assert (photo.playback_key is not None) == needs_copy
    view = photos.get_photo(uow, store, owner_id=owner, photo_id=photo.id, url_ttl_seconds=900)
    body = photo_json(view)
    assert body["duration_ms"] == photo.duration_ms
    assert (body["playback_url"] is not None) == needs_copy
    if needs_copy:
        assert store.head(photo.playback_key).content_type == "video/mp4"
        with av.open(io.BytesIO(store.read(photo.playback_key))) as copy:
            stream = copy.streams.video[0]
            assert stream.codec_context.name == "h264"
            frame = next(copy.decode(video=0))
            assert ((frame.width, frame.height) if frame.rotation % 180 == 0 else (frame.height, frame.width)) == size
    # The original is untouched.
    assert store.read(photo.object_key) == data


def test_iphone_keys_give_the_local_time_camera_and_place(uow, store):
    owner = new_user(uow)
    data = make_video(
        codec="libx265", container="mov", quicktime_creationdate="2024-05-01T12:20:30+0200",
        make="Apple", model="iPhone 15 Pro", location="+48.8584+002.2945+035.000/",
    )
    _, photo = finalize_upload(uow, store, owner, data, "video/quicktime")
    assert photo.taken_at == CREATED
    assert (photo.camera_make, photo.camera_model) == ("Apple", "iPhone 15 Pro")


def test_a_video_longer_than_the_transcode_limit_keeps_its_poster_but_gets_no_copy(uow, store, monkeypatch):
    monkeypatch.setenv("PHOTOSYNC_MAX_TRANSCODE_SECONDS", "1")
    config.settings.cache_clear()  # lambda_env clears it again afterwards
    _, photo = finalize_upload(uow, store, new_user(uow), make_video(codec="mpeg4", seconds=2), "video/mp4")
    assert photo.renditions == "ready" and photo.thumbnail_key and photo.preview_key
    assert photo.playback_key is None


class PlaybackCopiesFail:
    """The real store, except that storing a playback copy fails."""

    def __init__(self, store) -> None:
        self._store = store

    def __getattr__(self, name):
        return getattr(self._store, name)

    def put_file(self, key, path, *, content_type):
        raise ObjectStoreError("injected failure of the playback copy's write")


def test_a_copy_that_could_not_be_stored_is_retried_and_nothing_is_left_behind(uow, store):
    owner = new_user(uow)
    _, photo = finalize_upload(uow, PlaybackCopiesFail(store), owner, make_video(codec="mpeg4"), "video/mp4")
    # The poster renditions that were stored are recorded, so deleting the photo would remove them.
    assert photo.renditions == "pending" and photo.thumbnail_key and photo.preview_key and photo.playback_key is None

    assert renditions.retry_pending(uow, store, photo)

    photo = uow.photos.get(photo.id, owner_id=owner)
    assert photo.renditions == "ready" and store.head(photo.playback_key) is not None
    trash.move_to_trash(uow, owner_id=owner, photo_id=photo.id)
    trash.delete_forever(uow, store, owner_id=owner, photo_id=photo.id)
    for key in (photo.object_key, photo.thumbnail_key, photo.preview_key, photo.playback_key):
        assert store.head(key) is None, key


def test_a_file_that_only_looks_like_a_video_is_kept_without_renditions(uow, store):
    # The right magic bytes and a movie header, but no frames at all.
    data = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(200)
    result, photo = finalize_upload(uow, store, new_user(uow), data, "video/mp4")
    assert result.outcome == "finalized"
    assert (photo.content_type, photo.width, photo.duration_ms, photo.thumbnail_key, photo.playback_key) == (
        "video/mp4", None, None, None, None
    )
    assert photo.renditions == "failed"

"""The media pipeline inside finalize, on a real database and store: type by content, EXIF
timeline and dimensions, renditions, and files that cannot be decoded."""

from __future__ import annotations

import io
from urllib.parse import parse_qs, urlsplit

import pytest
from PIL import Image

from photosync.services import photos
from tests.conftest import new_user
from tests.integration.test_uploads import grant, object_key
from tests.support.renditions import finalize_and_render
from tests.support.images import make_bomb_png, make_gif, make_heic, make_png, make_truncated_jpeg, make_webp


def finalize_upload(uow, store, owner, data: bytes, content_type: str):
    granted = grant(uow, store, owner, data, content_type=content_type)
    store.put(object_key(owner, granted.upload_id), data, content_type=content_type)
    result = finalize_and_render(uow, store, object_key(owner, granted.upload_id))
    return result, uow.photos.get(granted.upload_id, owner_id=owner)


def thumbnail(store, photo) -> Image.Image:
    return Image.open(io.BytesIO(store.read(photo.thumbnail_key)))


def stored_rendition(store, key: str) -> tuple[str | None, str | None, tuple[int, int]]:
    """(content type the store serves, format of the bytes, size) of a stored rendition."""
    image = Image.open(io.BytesIO(store.read(key)))
    return store.head(key).content_type, image.format, image.size


@pytest.mark.parametrize("orientation", range(1, 9))
def test_real_camera_files_in_every_orientation_get_displayed_size_and_an_upright_thumbnail(uow, store, real_photos, orientation):
    owner = new_user(uow)
    for kind, size in (("landscape", (600, 450)), ("portrait", (450, 600))):
        data = (real_photos / "orientation" / f"{kind}_{orientation}.jpg").read_bytes()
        result, photo = finalize_upload(uow, store, owner, data, "image/jpeg")
        assert result.outcome == "finalized"
        assert (photo.width, photo.height) == size
        assert (thumbnail(store, photo).size[0] > thumbnail(store, photo).size[1]) == (kind == "landscape")


def test_real_iphone_heic_gets_its_date_dimensions_and_a_thumbnail(uow, store, real_photos):
    owner = new_user(uow)
    data = (real_photos / "iphone_13_pro_max.HEIC").read_bytes()
    result, photo = finalize_upload(uow, store, owner, data, "image/heic")
    assert result.outcome == "finalized"
    assert (photo.content_type, photo.width, photo.height) == ("image/heic", 3024, 4032)
    assert photo.taken_at is not None and photo.taken_at.date().isoformat() == "2022-02-16"
    assert photo.camera_make == "Apple"
    # The grid thumbnail is the file's own embedded one (240 x 320); the preview is a JPEG.
    assert photo.thumbnail_key.endswith(".webp") and photo.preview_key.endswith(".jpg")
    assert stored_rendition(store, photo.thumbnail_key) == ("image/webp", "WEBP", (240, 320))
    assert stored_rendition(store, photo.preview_key) == ("image/jpeg", "JPEG", (1512, 2016))


@pytest.mark.parametrize(
    ("data", "preview_type", "preview_format"),
    [
        pytest.param(make_png(800, 600), "image/jpeg", "JPEG", id="opaque"),
        pytest.param(make_png(800, 600, alpha=True), "image/webp", "WEBP", id="transparent"),
    ],
)
def test_each_rendition_is_stored_and_served_with_its_own_type(uow, store, data, preview_type, preview_format):
    owner = new_user(uow)
    _, photo = finalize_upload(uow, store, owner, data, "image/png")
    assert stored_rendition(store, photo.thumbnail_key) == ("image/webp", "WEBP", (320, 240))
    assert stored_rendition(store, photo.preview_key) == (preview_type, preview_format, (800, 600))

    view = photos.get_photo(uow, store, caller=owner, photo_id=photo.id, url_ttl_seconds=900)

    for url, key in ((view.thumbnail_url, photo.thumbnail_key), (view.preview_url, photo.preview_key)):
        # The signed link declares the type the browser is sent (the local store serves it).
        assert parse_qs(urlsplit(url).query)["type"] == [store.head(key).content_type]


@pytest.mark.parametrize(
    ("data", "declared", "detected"),
    [
        pytest.param(make_heic(800, 600), "image/heic", "image/heic", id="heic"),
        pytest.param(make_webp(800, 600), "image/webp", "image/webp", id="webp"),
        pytest.param(make_gif(400, 300), "image/gif", "image/gif", id="gif"),
    ],
)
def test_other_image_formats_get_thumbnails_and_dimensions(uow, store, data, declared, detected):
    owner = new_user(uow)
    result, photo = finalize_upload(uow, store, owner, data, declared)
    assert result.outcome == "finalized" and photo.content_type == detected
    assert photo.renditions == "ready" and thumbnail(store, photo).format == "WEBP"
    assert (photo.width, photo.height) == Image.open(io.BytesIO(data)).size


@pytest.mark.parametrize(
    "data", [pytest.param(make_truncated_jpeg(), id="truncated-jpeg"), pytest.param(make_bomb_png(), id="bomb-png")]
)
def test_undecodable_images_are_kept_safely_without_renditions(uow, store, data):
    """A backup never drops the user's bytes because it cannot draw them; the process survives."""
    owner = new_user(uow)
    declared = "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"
    result, photo = finalize_upload(uow, store, owner, data, declared)
    assert result.outcome == "finalized"
    assert photo.thumbnail_key is None and photo.renditions in ("failed", "none")
    assert store.read(photo.object_key) == data
    assert uow.users.get(owner).storage_used == len(data)

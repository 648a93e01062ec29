"""AVIF and camera RAW files: metadata and renditions, from files the tests write (Pillow's AVIF
encoder, a DNG through tifffile) and from real camera files (tests/fixtures/raw, ExifTool's)."""

from __future__ import annotations

import io
from datetime import datetime, timezone
from pathlib import Path

import pytest
from PIL import Image

from photosync.adapters.media import MediaError, inspect_media, make_renditions
from photosync.domain.media_types import SNIFF_BYTES, sniff_content_type
from tests.support.formats import make_avif, make_dng
from tests.support.images import camera_scene
from tests.unit.test_media import SAME_PICTURE, _difference, _renditions

REAL_RAW_FILES = Path(__file__).resolve().parents[1] / "fixtures" / "raw"
TAKEN = datetime(2024, 5, 6, 7, 8, 9)


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_avif_is_dated_sized_as_displayed_and_thumbnailed_upright(orientation: int) -> None:
    data = make_avif(640, 480, orientation=orientation, taken_at=TAKEN, make="Google", model="Pixel 9")

    info = inspect_media(data, "image/avif")
    thumbnail, preview = _renditions(data, "image/avif")

    assert info.taken_at == TAKEN.replace(tzinfo=timezone.utc)
    assert (info.camera_make, info.camera_model) == ("Google", "Pixel 9")
    assert (info.width, info.height) == (640, 480)
    assert thumbnail.size == (320, 240) and preview.size == (640, 480)
    assert _difference(thumbnail, camera_scene(640, 480)) < SAME_PICTURE


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_dng_is_dated_sized_and_thumbnailed_upright_from_its_embedded_preview(orientation: int) -> None:
    data = make_dng(640, 480, orientation=orientation, taken_at=TAKEN, offset="+02:00", model="DNG One")
    content_type = sniff_content_type(data[:SNIFF_BYTES])

    info = inspect_media(data, content_type)
    thumbnail, preview = _renditions(data, content_type)

    assert content_type == "image/x-adobe-dng"
    assert info.taken_at == datetime(2024, 5, 6, 5, 8, 9, tzinfo=timezone.utc)
    assert (info.camera_make, info.camera_model) == ("PhotoSync", "DNG One")
    assert (info.width, info.height) == (640, 480)
    assert thumbnail.size == (320, 240) and preview.size == (640, 480)
    assert _difference(thumbnail, camera_scene(640, 480)) < SAME_PICTURE
    assert _difference(preview, camera_scene(640, 480)) < SAME_PICTURE


def test_dng_renditions_come_from_the_embedded_preview_not_the_sensor_data() -> None:
    # A 1/8 preview: the renditions are as small as the preview, never upscaled, never developed.
    thumbnail, preview = _renditions(make_dng(640, 480, preview=False), "image/x-adobe-dng")
    assert thumbnail.size == preview.size == (80, 60)


@pytest.mark.parametrize(
    ("name", "make", "model", "taken_at", "size"),
    [
        ("CanonRaw.cr2", "Canon", "Canon EOS 350D DIGITAL", datetime(2005, 8, 3, 18, 59, 18), None),
        ("CanonRaw.cr3", "Canon", "Canon EOS M50", datetime(2018, 2, 21, 12, 8, 56, 210000), (6024, 4020)),
        ("DNG.dng", "Canon", "Canon EOS 350D DIGITAL", datetime(2005, 8, 3, 18, 59, 18), (3474, 2314)),
        ("FujiFilm.raf", "FUJIFILM", "FinePix S5Pro", datetime(2007, 5, 22, 13, 58, 30), (3552, 3551)),
        ("Nikon.nef", "NIKON CORPORATION", "NIKON D70", datetime(2004, 6, 9, 16, 2, 35), (3039, 2014)),
        ("Panasonic.rw2", "Panasonic", "DMC-LX3", datetime(2008, 8, 6, 15, 21, 56), (3664, 2754)),
    ],
)
def test_real_camera_raw_files_are_dated_and_named(
    name: str, make: str, model: str, taken_at: datetime, size: tuple[int, int] | None
) -> None:
    data = (REAL_RAW_FILES / name).read_bytes()
    info = inspect_media(data, sniff_content_type(data[:SNIFF_BYTES]))
    assert (info.camera_make, info.camera_model) == (make, model)
    assert info.taken_at == taken_at.replace(tzinfo=timezone.utc)
    # LibRaw's size of the developed picture; None where it cannot read the (trimmed) CR2.
    assert (None if info.width is None else (info.width, info.height)) == size


def test_real_raf_is_thumbnailed_from_the_jpeg_the_camera_embedded() -> None:
    data = (REAL_RAW_FILES / "FujiFilm.raf").read_bytes()
    thumbnail, preview = _renditions(data, "image/x-fuji-raf")
    assert thumbnail.size == preview.size == (160, 120)
    assert max(Image.open(io.BytesIO(make_renditions(data, "image/x-fuji-raf").preview.data)).getextrema())[1] > 0


@pytest.mark.parametrize("name", ["CanonRaw.cr3", "Nikon.nef", "DNG.dng"])
def test_raw_without_an_embedded_preview_gets_no_renditions(name: str) -> None:
    data = (REAL_RAW_FILES / name).read_bytes()
    with pytest.raises(MediaError, match="no embedded preview"):
        make_renditions(data, sniff_content_type(data[:SNIFF_BYTES]))


def test_damaged_raw_is_described_as_far_as_it_can_be_and_not_drawn() -> None:
    data = make_dng(640, 480, taken_at=TAKEN)[:2000]  # IFD0 intact, pixel data gone
    info = inspect_media(data, "image/x-adobe-dng")
    assert info.camera_make == "PhotoSync"
    with pytest.raises(MediaError):
        make_renditions(data, "image/x-adobe-dng")

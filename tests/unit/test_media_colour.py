"""Renditions of CMYK and greyscale photos with their ICC profiles: converted to sRGB through the
profile, never an RGB WebP labelled with a CMYK or grey profile (which viewers draw wrongly)."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageCms

from photosync.adapters import media
from tests.support.icc import cmyk_profile, gray_profile


def photo(mode: str, colour, profile: bytes) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (640, 480), colour).save(buffer, "JPEG", quality=95, icc_profile=profile)
    return buffer.getvalue()


def rendition_profile_space(rendition: bytes) -> str | None:
    profile = Image.open(io.BytesIO(rendition)).info.get("icc_profile")
    if not profile:
        return None
    return ImageCms.ImageCmsProfile(io.BytesIO(profile)).profile.xcolor_space.strip()


@pytest.mark.parametrize(
    ("mode", "colour", "profile", "expected_rgb"),
    [
        pytest.param("CMYK", (255, 0, 0, 0), cmyk_profile(), (0, 255, 255), id="cmyk-cyan"),
        pytest.param("CMYK", (0, 0, 0, 0), cmyk_profile(), (255, 255, 255), id="cmyk-paper-white"),
        pytest.param("L", 128, gray_profile(), (129, 129, 129), id="grey"),
    ],
)
def test_cmyk_and_grey_photos_are_converted_to_srgb_through_their_profile(mode, colour, profile, expected_rgb):
    made = media.make_renditions(photo(mode, colour, profile), "image/jpeg")

    for rendition in (made.thumbnail.data, made.preview.data):
        image = Image.open(io.BytesIO(rendition))
        assert image.mode == "RGB"
        assert rendition_profile_space(rendition) is None  # plain sRGB, not a profile for other pixels
        pixel = image.convert("RGB").getpixel((10, 10))
        assert all(abs(got - want) <= 6 for got, want in zip(pixel, expected_rgb)), pixel


def test_an_rgb_profile_is_kept():
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    made = media.make_renditions(photo("RGB", (200, 30, 40), srgb), "image/jpeg")
    assert rendition_profile_space(made.thumbnail.data) == rendition_profile_space(made.preview.data) == "RGB"


def test_an_unreadable_profile_is_dropped_not_embedded():
    made = media.make_renditions(photo("RGB", (200, 30, 40), b"not an icc profile" * 10), "image/jpeg")
    assert Image.open(io.BytesIO(made.preview.data)).info.get("icc_profile") is None

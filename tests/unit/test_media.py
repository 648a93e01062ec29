"""The media adapter: metadata of camera files and their renditions, with generated and real files."""

from __future__ import annotations

import io
import resource
from datetime import datetime, timezone
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat

from photosync.adapters.media import (
    MAX_IMAGE_PIXELS,
    THUMBNAIL_LONGEST_SIDE,
    MediaError,
    MediaInfo,
    Renditions,
    inspect_media,
    make_renditions,
)
from tests.support.icc import PRESS_INKS_SRGB, gray_profile
from tests.support.images import (
    camera_scene,
    make_bomb_png,
    make_cmyk_jpeg,
    make_exif,
    make_gif,
    make_heic,
    make_jpeg,
    make_png,
    make_truncated_jpeg,
    make_webp,
)

REAL_PHOTOS = Path(__file__).resolve().parents[2].parent / "shared" / "testdata" / "real-photos"
UTC = timezone.utc

# Mean absolute difference per channel (0-255) between 12 x 12 downscales of two pictures, each
# taken relative to its own mean colour (the real `*_1.jpg` files are exported brighter than their
# siblings). The same scene after JPEG/HEIC/WebP round trips stays well under it; every wrong
# rotation or mirroring of the test scenes lands at more than twice it.
SAME_PICTURE = 10.0


def _image(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def _centred_pixels(image: Image.Image) -> list[float]:
    small = image.convert("RGB").resize((12, 12), Image.Resampling.BOX)
    means = ImageStat.Stat(small).mean
    return [value - means[index % 3] for index, value in enumerate(small.tobytes())]


def _difference(first: Image.Image, second: Image.Image) -> float:
    pixels = [_centred_pixels(image) for image in (first, second)]
    return sum(abs(a - b) for a, b in zip(*pixels)) / len(pixels[0])


def _renditions(data: bytes, content_type: str) -> tuple[Image.Image, Image.Image]:
    """Thumbnail and preview, checked to be what their content types say: a WebP thumbnail, and a
    JPEG preview unless the picture is transparent (JPEG has no alpha channel)."""
    renditions = make_renditions(data, content_type)
    assert isinstance(renditions, Renditions)
    thumbnail, preview = _image(renditions.thumbnail.data), _image(renditions.preview.data)
    assert (renditions.thumbnail.content_type, thumbnail.format) == ("image/webp", "WEBP")
    expected_preview = ("image/webp", "WEBP") if preview.mode == "RGBA" else ("image/jpeg", "JPEG")
    assert (renditions.preview.content_type, preview.format) == expected_preview
    return thumbnail, preview


# --- orientation ----------------------------------------------------------------------------------


def test_scene_comparison_tells_orientations_apart() -> None:
    scene = camera_scene(400, 300)
    assert _difference(scene, scene.transpose(Image.Transpose.FLIP_LEFT_RIGHT)) > 2 * SAME_PICTURE
    assert _difference(scene, scene.transpose(Image.Transpose.FLIP_TOP_BOTTOM)) > 2 * SAME_PICTURE
    square = camera_scene(300, 300)
    assert _difference(square, square.transpose(Image.Transpose.TRANSPOSE)) > 2 * SAME_PICTURE


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize(("width", "height"), [(800, 600), (600, 800)])
def test_generated_jpeg_is_displayed_upright(orientation: int, width: int, height: int) -> None:
    data = make_jpeg(width, height, orientation=orientation)

    info = inspect_media(data, "image/jpeg")
    thumbnail, preview = _renditions(data, "image/jpeg")

    assert (info.width, info.height) == (width, height)
    assert thumbnail.size == ((320, 240) if width > height else (240, 320))
    assert preview.size == (width, height)  # smaller than a preview: kept, never upscaled
    assert _difference(thumbnail, camera_scene(width, height)) < SAME_PICTURE
    assert _difference(preview, camera_scene(width, height)) < SAME_PICTURE


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize(("scene", "displayed"), [("landscape", (600, 450)), ("portrait", (450, 600))])
def test_real_orientation_files_look_like_orientation_1(orientation: int, scene: str, displayed: tuple[int, int]) -> None:
    data = (REAL_PHOTOS / "orientation" / f"{scene}_{orientation}.jpg").read_bytes()
    reference_thumbnail, reference_preview = _renditions(
        (REAL_PHOTOS / "orientation" / f"{scene}_1.jpg").read_bytes(), "image/jpeg"
    )

    info = inspect_media(data, "image/jpeg")
    thumbnail, preview = _renditions(data, "image/jpeg")

    assert (info.width, info.height) == displayed
    assert thumbnail.size == reference_thumbnail.size == ((320, 240) if scene == "landscape" else (240, 320))
    assert preview.size == reference_preview.size == displayed
    assert _difference(thumbnail, reference_thumbnail) < SAME_PICTURE
    assert _difference(preview, reference_preview) < SAME_PICTURE


def test_real_orientation_comparison_can_fail() -> None:
    landscape_1 = _image((REAL_PHOTOS / "orientation" / "landscape_1.jpg").read_bytes())
    landscape_3 = _image((REAL_PHOTOS / "orientation" / "landscape_3.jpg").read_bytes())  # stored upside down
    assert _difference(landscape_1, landscape_3) > 2 * SAME_PICTURE


@pytest.mark.parametrize("orientation", [3, 6])
def test_generated_heic_with_orientation_is_displayed_upright(orientation: int) -> None:
    data = make_heic(320, 240, orientation=orientation)

    info = inspect_media(data, "image/heic")
    thumbnail, _ = _renditions(data, "image/heic")

    assert (info.width, info.height) == (320, 240)
    assert thumbnail.size == (320, 240)
    assert _difference(thumbnail, camera_scene(320, 240)) < SAME_PICTURE


def test_heic_is_not_turned_twice_when_pillow_heif_keeps_the_exif_tag(monkeypatch: pytest.MonkeyPatch) -> None:
    # Simulates a pillow-heif that applies the HEIF transform but leaves EXIF orientation 6 in place.
    from pillow_heif import as_plugin

    monkeypatch.setattr(as_plugin, "set_orientation", lambda info: None)
    data = make_heic(320, 240, orientation=6)
    assert _image(data).getexif()[0x0112] == 6

    info = inspect_media(data, "image/heic")
    thumbnail, _ = _renditions(data, "image/heic")

    assert (info.width, info.height) == (320, 240)
    assert _difference(thumbnail, camera_scene(320, 240)) < SAME_PICTURE


# --- real camera files ----------------------------------------------------------------------------


def test_canon_40d() -> None:
    data = (REAL_PHOTOS / "Canon_40D.jpg").read_bytes()

    info = inspect_media(data, "image/jpeg")
    thumbnail, preview = _renditions(data, "image/jpeg")

    assert info == MediaInfo(
        content_type="image/jpeg",
        width=100,
        height=68,
        taken_at=datetime(2008, 5, 30, 15, 56, 1, tzinfo=UTC),
        camera_make="Canon",
        camera_model="Canon EOS 40D",
        gps_latitude=None,
        gps_longitude=None,
    )
    # Small originals keep their size.
    assert thumbnail.size == preview.size == (100, 68)


def test_nikon_with_gps() -> None:
    data = (REAL_PHOTOS / "DSCN0010-gps.jpg").read_bytes()

    info = inspect_media(data, "image/jpeg")
    thumbnail, preview = _renditions(data, "image/jpeg")

    assert (info.width, info.height) == (640, 480)
    assert info.taken_at == datetime(2008, 10, 22, 16, 28, 39, tzinfo=UTC)
    assert (info.camera_make, info.camera_model) == ("NIKON", "COOLPIX P6000")
    # 43° 28' 2.814" N, 11° 53' 6.456" E
    assert info.gps_latitude == pytest.approx(43.4674483, abs=1e-6)
    assert info.gps_longitude == pytest.approx(11.8851267, abs=1e-6)
    assert thumbnail.size == (320, 240)
    assert preview.size == (640, 480)


@pytest.mark.parametrize(
    ("name", "content_type"), [("DSCN0010-gps.jpg", "image/jpeg"), ("iphone_13_pro_max.HEIC", "image/heic")]
)
def test_renditions_carry_no_exif_so_no_position(name: str, content_type: str) -> None:
    data = (REAL_PHOTOS / name).read_bytes()
    assert b"Exif" in data
    renditions = make_renditions(data, content_type)
    assert renditions is not None
    for rendition in (renditions.thumbnail.data, renditions.preview.data):
        assert "exif" not in _image(rendition).info and "xmp" not in _image(rendition).info
        assert b"Exif" not in rendition and b"EXIF" not in rendition


@pytest.fixture(scope="module")
def iphone_heic() -> bytes:
    return (REAL_PHOTOS / "iphone_13_pro_max.HEIC").read_bytes()


def test_iphone_heic_metadata(iphone_heic: bytes) -> None:
    info = inspect_media(iphone_heic, "image/heic")

    assert (info.width, info.height) == (3024, 4032)
    # DateTimeOriginal 12:55:41 with OffsetTimeOriginal +01:00 and SubSecTimeOriginal 762.
    assert info.taken_at == datetime(2022, 2, 16, 11, 55, 41, 762000, tzinfo=UTC)
    assert (info.camera_make, info.camera_model) == ("Apple", "iPhone 13 Pro Max")
    assert (info.gps_latitude, info.gps_longitude) == (None, None)


def test_iphone_heic_renditions(iphone_heic: bytes) -> None:
    thumbnail, preview = _renditions(iphone_heic, "image/heic")

    assert thumbnail.size == (240, 320)
    # Reduced by two, 2016 px is within the preview range (1920-2048): no further resize.
    assert preview.size == (1512, 2016)
    assert _difference(thumbnail, preview) < SAME_PICTURE
    # The phone's Display P3 profile travels with the renditions, so their colours stay right.
    original_profile = Image.open(io.BytesIO(iphone_heic)).info["icc_profile"]
    assert thumbnail.info["icc_profile"] == preview.info["icc_profile"] == original_profile


def _mean_pixel_difference(first: Image.Image, second: Image.Image) -> float:
    return sum(ImageStat.Stat(ImageChops.difference(first.convert("RGB"), second.convert("RGB"))).mean) / 3


def test_iphone_heic_thumbnail_is_its_embedded_thumbnail_upright(iphone_heic: bytes) -> None:
    import pillow_heif

    thumbnail, preview = _renditions(iphone_heic, "image/heic")
    heif = pillow_heif.open_heif(iphone_heic)[0]
    embedded = heif.get_thumbnail(0).to_pillow()
    scaled = heif.to_pillow().resize(embedded.size, Image.Resampling.LANCZOS)

    # The phone stores its 320 px thumbnail with the image's rotation box, so it decodes upright.
    assert embedded.size == thumbnail.size == (240, 320)
    assert _difference(thumbnail, preview) < SAME_PICTURE
    # Apple's thumbnail is softer than a downscale of the full image: pixel by pixel the rendition
    # is that thumbnail re-encoded (about 4 of 255 apart), not the full image scaled (about 11).
    assert _mean_pixel_difference(thumbnail, embedded) < _mean_pixel_difference(thumbnail, scaled) / 2


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_heic_thumbnail_from_an_embedded_thumbnail_is_upright(orientation: int) -> None:
    data = make_heic(800, 600, orientation=orientation, thumbnail_sides=(THUMBNAIL_LONGEST_SIDE,))

    thumbnail, preview = _renditions(data, "image/heic")

    assert thumbnail.size == (320, 240)
    assert preview.size == (800, 600)
    assert _difference(thumbnail, camera_scene(800, 600)) < SAME_PICTURE


def test_heic_with_a_too_small_embedded_thumbnail_is_scaled_from_the_image() -> None:
    data = make_heic(800, 600, orientation=6, thumbnail_sides=(128,))

    thumbnail, _ = _renditions(data, "image/heic")

    assert thumbnail.size == (320, 240)
    assert _difference(thumbnail, camera_scene(800, 600)) < SAME_PICTURE


# --- other formats and sizes ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "data"),
    [
        ("image/png", make_png(800, 600)),
        ("image/webp", make_webp(800, 600)),
        ("image/heic", make_heic(800, 600)),
        ("image/gif", make_gif(800, 600)),
    ],
    ids=["png", "webp", "heic", "gif"],
)
def test_other_formats_get_dimensions_and_renditions(content_type: str, data: bytes) -> None:
    info = inspect_media(data, content_type)
    thumbnail, preview = _renditions(data, content_type)

    assert (info.content_type, info.width, info.height) == (content_type, 800, 600)
    assert info.taken_at is None
    assert thumbnail.size == (320, 240)
    assert preview.size == (800, 600)
    # For the animated GIF this is its first frame: the later ones are inverted.
    assert _difference(thumbnail, camera_scene(800, 600)) < SAME_PICTURE


@pytest.mark.parametrize(("content_type", "data"), [("image/png", make_png(500, 400, alpha=True)), ("image/webp", make_webp(500, 400, alpha=True))])
def test_transparency_is_kept(content_type: str, data: bytes) -> None:
    thumbnail, preview = _renditions(data, content_type)
    for rendition in (thumbnail, preview):
        assert rendition.mode == "RGBA" and rendition.format == "WEBP"
        assert rendition.getextrema()[3][0] < 200


def _patch_colours(image: Image.Image) -> list[tuple[int, ...]]:
    """The colour in the middle of each of make_cmyk_jpeg's four ink patches."""
    width, height = image.size
    return [image.convert("RGB").getpixel((width * (2 * index + 1) // 8, height // 2)) for index in range(4)]


def _close(first: tuple[int, ...], second: tuple[int, ...], tolerance: int = 8) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(first, second))


def test_cmyk_jpeg_is_converted_through_its_profile_to_srgb() -> None:
    renditions = make_renditions(make_cmyk_jpeg(400, 300), "image/jpeg")
    assert renditions is not None

    for rendition in (renditions.thumbnail, renditions.preview):
        image = _image(rendition.data)
        assert image.mode == "RGB"
        # sRGB, which browsers assume without a profile; the CMYK profile would not fit RGB pixels.
        assert "icc_profile" not in image.info
        assert all(_close(found, ink) for found, ink in zip(_patch_colours(image), PRESS_INKS_SRGB)), _patch_colours(image)


def test_cmyk_conversion_can_fail() -> None:
    # Without its profile the same file gets Pillow's plain conversion: pure primaries, far from the
    # press inks the profile describes.
    renditions = make_renditions(make_cmyk_jpeg(400, 300, profile=False), "image/jpeg")
    assert renditions is not None
    colours = _patch_colours(_image(renditions.preview.data))
    assert all(_close(found, pure) for found, pure in zip(colours, [(0, 255, 255), (255, 0, 255), (255, 255, 0), (0, 0, 0)]))
    assert not _close(colours[0], PRESS_INKS_SRGB[0])


@pytest.mark.parametrize(("profile", "expected"), [(True, 188), (False, 128)], ids=["linear-grey-profile", "no-profile"])
def test_grey_jpeg_is_converted_through_its_profile_to_srgb(profile: bool, expected: int) -> None:
    buffer = io.BytesIO()
    options = {"icc_profile": gray_profile(1.0)} if profile else {}
    Image.new("L", (640, 480), 128).save(buffer, "JPEG", quality=95, **options)

    renditions = make_renditions(buffer.getvalue(), "image/jpeg")

    assert renditions is not None
    for rendition in (renditions.thumbnail, renditions.preview):
        image = _image(rendition.data)
        assert image.mode == "RGB" and "icc_profile" not in image.info
        assert _close(image.getpixel((100, 100)), (expected,) * 3, tolerance=3)


def test_sixteen_bit_greyscale_png_is_scaled_not_clipped() -> None:
    buffer = io.BytesIO()
    Image.linear_gradient("L").resize((400, 300)).convert("I").point(lambda value: value * 257).convert("I;16").save(buffer, "PNG")

    thumbnail, _ = _renditions(buffer.getvalue(), "image/png")

    darkest, brightest = thumbnail.convert("L").getextrema()
    assert darkest < 10 and brightest > 245


@pytest.mark.parametrize(
    ("width", "height", "preview_size"),
    [
        # Decoded at half scale (draft), 1950 x 1300 is within the preview range and kept.
        (3900, 2600, (1950, 1300)),
        # Half scale would be smaller than a preview: decoded in full and scaled to 1920.
        (3000, 2000, (1920, 1280)),
        # Half scale (2100 px) is beyond the preview range: scaled from there to 1920.
        (2800, 4200, (1280, 1920)),
    ],
)
def test_large_photo_gets_bounded_renditions(width: int, height: int, preview_size: tuple[int, int]) -> None:
    data = make_jpeg(width, height, orientation=6, taken_at=datetime(2024, 1, 2, 3, 4, 5))

    thumbnail, preview = _renditions(data, "image/jpeg")

    # The contract's ranges (api.md): thumbnail 200-512 px, preview 1280-2048 px on the longest side.
    assert 200 <= max(thumbnail.size) <= 512
    assert 1280 <= max(preview.size) <= 2048
    assert max(thumbnail.size) == 320
    assert preview.size == preview_size
    assert _difference(preview, camera_scene(width, height)) < SAME_PICTURE


# --- EXIF values ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (None, datetime(2020, 7, 1, 9, 30, 15, tzinfo=UTC)),  # no zone recorded: read as UTC
        ("+02:00", datetime(2020, 7, 1, 7, 30, 15, tzinfo=UTC)),
        ("-05:30", datetime(2020, 7, 1, 15, 0, 15, tzinfo=UTC)),
        ("+25:00", datetime(2020, 7, 1, 9, 30, 15, tzinfo=UTC)),  # impossible offset: ignored
        ("garbage", datetime(2020, 7, 1, 9, 30, 15, tzinfo=UTC)),
    ],
)
def test_taken_at_uses_the_recorded_offset(offset: str | None, expected: datetime) -> None:
    data = make_jpeg(64, 48, taken_at=datetime(2020, 7, 1, 9, 30, 15), offset=offset)
    taken_at = inspect_media(data, "image/jpeg").taken_at
    assert taken_at == expected
    assert taken_at is not None and taken_at.utcoffset() == timezone.utc.utcoffset(None)


@pytest.mark.parametrize(
    "raw",
    ["0000:00:00 00:00:00", "garbage", "2020:13:45 99:99:99", "    :  :     :  :  ", "", "2020:02:30 10:00:00"],
)
def test_garbage_dates_become_none(raw: str) -> None:
    assert inspect_media(make_jpeg(64, 48, taken_at=raw), "image/jpeg").taken_at is None


def test_date_that_overflows_in_utc_becomes_none() -> None:
    data = make_jpeg(64, 48, taken_at="9999:12:31 23:59:59", offset="-14:00")
    assert inspect_media(data, "image/jpeg").taken_at is None


def test_camera_and_position_values() -> None:
    data = make_jpeg(64, 48, make="Canon\x00\x00  ", model=" EOS\x00 R5 ", gps=(-33.8568, -151.2153))

    info = inspect_media(data, "image/jpeg")

    assert (info.camera_make, info.camera_model) == ("Canon", "EOS R5")
    assert info.gps_latitude == pytest.approx(-33.8568, abs=1e-5)
    assert info.gps_longitude == pytest.approx(-151.2153, abs=1e-5)


def test_impossible_position_becomes_none() -> None:
    exif = make_exif(gps=(10.0, 20.0))
    exif.get_ifd(0x8825)[2] = (91.0, 0.0, 0.0)
    buffer = io.BytesIO()
    camera_scene(64, 48).save(buffer, "JPEG", exif=exif)

    info = inspect_media(buffer.getvalue(), "image/jpeg")

    assert (info.gps_latitude, info.gps_longitude) == (None, None)


# --- damaged and hostile files --------------------------------------------------------------------


def test_truncated_jpeg_is_inspected_from_its_header_but_has_no_renditions() -> None:
    data = make_truncated_jpeg(1200, 900)

    info = inspect_media(data, "image/jpeg")
    assert (info.width, info.height) == (1200, 900)
    assert info.taken_at == datetime(2021, 6, 1, 10, 0, 0, tzinfo=UTC)

    with pytest.raises(MediaError, match="truncated or corrupt"):
        make_renditions(data, "image/jpeg")


def test_truncated_png_is_inspected_from_its_header_but_has_no_renditions() -> None:
    data = make_png(640, 480)[:20_000]

    info = inspect_media(data, "image/png")
    assert (info.width, info.height) == (640, 480)

    with pytest.raises(MediaError, match="truncated or corrupt"):
        make_renditions(data, "image/png")


def test_truncated_heic_has_no_renditions() -> None:
    data = make_heic(640, 480)
    with pytest.raises(MediaError):
        make_renditions(data[: len(data) // 2], "image/heic")


@pytest.mark.parametrize(("width", "height"), [(20_000, 15_000), (30_000, 20_000), (100_000, 100_000)])
def test_decompression_bomb_is_refused_without_decoding(width: int, height: int) -> None:
    data = make_bomb_png(width, height)
    assert len(data) < 4096 and width * height > MAX_IMAGE_PIXELS
    peak_before_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    with pytest.raises(MediaError, match="too large"):
        inspect_media(data, "image/png")
    with pytest.raises(MediaError, match="too large"):
        make_renditions(data, "image/png")

    # Decoding would allocate 4 bytes per declared pixel (1.2 GB and more); the refusal costs nothing.
    growth_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before_kib
    assert growth_kib < 32 * 1024 < width * height * 4 // 1024


def test_bomb_is_refused_even_with_pillows_own_guard_disabled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    with pytest.raises(MediaError, match="20000 x 15000"):
        make_renditions(make_bomb_png(20_000, 15_000), "image/png")


@pytest.mark.parametrize(
    ("content_type", "data"),
    [
        ("image/jpeg", b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8),
        ("image/png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100),
        ("image/heic", b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64),
        ("image/gif", b"GIF89a\x00"),
        ("image/webp", b"RIFF\x10\x00\x00\x00WEBPVP8 \x00\x00"),
        ("image/png", make_jpeg(64, 48)),  # a decoder never reads another format
    ],
)
def test_corrupt_content_raises_media_error(content_type: str, data: bytes) -> None:
    with pytest.raises(MediaError) as raised:
        inspect_media(data, content_type)
    assert str(raised.value)
    with pytest.raises(MediaError):
        make_renditions(data, content_type)


def test_unknown_type_raises_media_error() -> None:
    with pytest.raises(MediaError, match="image/tiff"):
        inspect_media(b"II*\x00", "image/tiff")

"""What finalize learns from an uploaded file, and the small renditions the clients display.

Decisions this module makes (the ones users notice belong in the README too):
- `inspect_media` reads headers and metadata only; it never decodes pixel data. A file whose header
  is intact but whose image data is cut short (an interrupted copy) is therefore still inspected,
  with its dimensions and EXIF; `make_renditions`, which decodes, reports it as `MediaError`.
- A header that declares more than `MAX_IMAGE_PIXELS` is refused by both before anything is
  decoded, so a decompression bomb costs a few kilobytes of memory, not gigabytes.
- Sizes are as displayed: EXIF orientations 5-8 swap width and height. HEIF is different: libheif
  applies the file's own transform boxes (`irot`/`imir`) while decoding, and the HEIF standard makes
  those, not the EXIF tag, authoritative. So a HEIF image is never turned by its EXIF orientation,
  whatever pillow-heif does with the tag (current versions reset it to 1).
- Renditions keep small originals at their own size: nothing is ever upscaled.
- The thumbnail is WebP; the preview is JPEG, or WebP when the picture is transparent. A HEIF's
  thumbnail comes from the thumbnail the camera embedded when that covers the thumbnail's size.
- Renditions carry no EXIF (no GPS position leaks through a thumbnail); they keep the original's ICC
  profile when it is an RGB one, so wide-gamut phone photos keep their colours. A CMYK or greyscale
  profile cannot describe RGB pixels: such images are converted to sRGB through their profile
  (LittleCMS, via Pillow's ImageCms) and the renditions carry no profile (sRGB is what that means).
- AVIF: Pillow's decoder does not apply the file's `irot`/`imir` boxes; it reports them as the EXIF
  orientation instead, so AVIF is turned like JPEG.
- Camera RAW files: metadata and renditions come from adapters/raw.py (the embedded preview).
- Videos are read by `photosync.adapters.video`; their poster frame gets its renditions here
  (`renditions_of`), the same sizes and formats as a photo's.
"""

from __future__ import annotations

import io
import math
import re
import struct
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cache
from typing import Any, BinaryIO, Mapping

from PIL import Image

from photosync.domain.media_types import RAW_TYPES

# A 200 MP image needs about 800 MB decoded; every real camera and phone stays far below.
MAX_IMAGE_PIXELS = 200_000_000
Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS

# Sizes and encoders, chosen by measuring (bench/bench_renditions.py, bench/RESULTS.md):
# - The thumbnail fills a grid cell: 320 px on the longest side (Immich: 250 px on the shortest, 333
#   px for a 4:3 photo), WebP, which keeps transparency and is a quarter smaller than JPEG quality 80
#   at this size (13 kB against 19 kB for the iPhone photo), for about 15 ms of CPU. 320 px is also what iPhones embed in every HEIC, so the
#   grid needs no HEVC decode of the full picture.
# - The preview fills a screen: longest side PREVIEW_LONGEST_SIDE, or anything up to
#   PREVIEW_MAX_LONGEST_SIDE that costs no resize (a 12 MP JPEG decoded at half scale, 2000 x 1500; a
#   12 MP HEIC reduced by two, 1512 x 2016). JPEG quality 80 as Immich does: at this size libjpeg-turbo
#   encodes in a twentieth of libwebp's time (35 ms against 0.6 s for the iPhone photo's preview).
#   Only a preview with transparency is WebP, which JPEG cannot carry.
THUMBNAIL_LONGEST_SIDE = 320
THUMBNAIL_QUALITY = 75
THUMBNAIL_WEBP_METHOD = 4  # libwebp's effort 0-6: the default, cheap at 320 px
PREVIEW_LONGEST_SIDE = 1920
PREVIEW_MAX_LONGEST_SIDE = 2048
PREVIEW_QUALITY = 80
# For transparent previews only: effort 2 encodes in less than half the time of the default 4, for
# files about 3% larger.
PREVIEW_WEBP_METHOD = 2

# Each sniffed type is opened only by its own decoder: a file never reaches a parser it was not
# recognised as.
_PILLOW_FORMATS = {
    "image/jpeg": ("JPEG",),
    "image/png": ("PNG",),
    "image/gif": ("GIF",),
    "image/webp": ("WEBP",),
    "image/heic": ("HEIF",),
    "image/heif": ("HEIF",),
    "image/avif": ("AVIF",),
}
_HEIF_TYPES = frozenset({"image/heic", "image/heif"})
_FORMAT_NAMES = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/gif": "GIF",
    "image/webp": "WebP",
    "image/heic": "HEIC",
    "image/heif": "HEIF",
    "image/avif": "AVIF",
}

# What Pillow raises for content it cannot parse (the family its own fuzzing tests accept), plus
# RuntimeError, which pillow-heif passes through from libheif when decoding fails. Anything else is a
# bug and is left to surface.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, RuntimeError, struct.error)

_EXIF_IFD = 0x8769
_GPS_IFD = 0x8825
_TAG_ORIENTATION = 0x0112
_TAG_MAKE = 0x010F
_TAG_MODEL = 0x0110
_TAG_DATETIME_ORIGINAL = 0x9003
_TAG_OFFSET_TIME_ORIGINAL = 0x9011
_TAG_SUBSEC_TIME_ORIGINAL = 0x9291
_GPS_LATITUDE_REF, _GPS_LATITUDE, _GPS_LONGITUDE_REF, _GPS_LONGITUDE = 1, 2, 3, 4
_SWAPPING_ORIENTATIONS = frozenset({5, 6, 7, 8})
# What turns pixels stored with EXIF orientation N upright (the same table as ImageOps.exif_transpose,
# which also rewrites the EXIF block of its copy: renditions carry none, so that is work saved).
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_MAX_TEXT_LENGTH = 128

_EXIF_DATETIME = re.compile(r"(\d{4})[:-](\d{2})[:-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_EXIF_OFFSET = re.compile(r"([+-])(\d{2}):(\d{2})")


class MediaError(Exception):
    """The content cannot be decoded (truncated, too large, corrupt); the message is for the user."""


@dataclass(frozen=True)
class MediaInfo:
    content_type: str
    width: int | None  # as displayed, after EXIF orientation
    height: int | None
    taken_at: datetime | None  # tz-aware, UTC
    camera_make: str | None
    camera_model: str | None
    gps_latitude: float | None
    gps_longitude: float | None


@dataclass(frozen=True)
class Rendition:
    data: bytes
    content_type: str  # "image/webp" or "image/jpeg": each rendition has its own


@dataclass(frozen=True)
class Renditions:
    thumbnail: Rendition  # longest side THUMBNAIL_LONGEST_SIDE, or the original's if smaller
    preview: Rendition  # longest side at most PREVIEW_MAX_LONGEST_SIDE, never larger than the original


def inspect_media(data: bytes | BinaryIO, content_type: str) -> MediaInfo:
    """Type, displayed size, capture time, camera and position of an accepted file.

    `content_type` is the type sniffed from the file's magic bytes. `data` may be a seekable file:
    Pillow then reads only the header it needs (libheif still reads a HEIF whole). Raises MediaError
    when an image's header cannot be read or declares too many pixels.
    """
    if content_type in RAW_TYPES:
        from photosync.adapters import raw  # LibRaw is loaded for RAW files only

        return raw.inspect_raw(data if isinstance(data, bytes) else data.read(), content_type)
    with _open_image(data, content_type) as image:
        width, height = image.size
        exif = _read_exif(image)
        exif_ifd = _sub_ifd(exif, _EXIF_IFD)
        gps_ifd = _sub_ifd(exif, _GPS_IFD)
    if content_type not in _HEIF_TYPES and orientation(exif) in _SWAPPING_ORIENTATIONS:
        width, height = height, width
    return info_from_tags(content_type, (width, height), exif, exif_ifd, gps_ifd)


def info_from_tags(
    content_type: str,
    displayed_size: tuple[int, int] | None,
    ifd0: Mapping[int, Any],
    exif_ifd: Mapping[int, Any],
    gps_ifd: Mapping[int, Any],
) -> MediaInfo:
    """MediaInfo from a picture's displayed size and its EXIF directories.

    The capture time is the EXIF directory's DateTimeOriginal, or the same tag in IFD0, where
    TIFF/EP files (some camera RAW formats) keep it.
    """
    width, height = displayed_size or (None, None)
    latitude, longitude = _gps_position(gps_ifd)
    return MediaInfo(
        content_type=content_type,
        width=width,
        height=height,
        taken_at=_taken_at(exif_ifd) or _taken_at(ifd0),
        camera_make=_text(ifd0.get(_TAG_MAKE)),
        camera_model=_text(ifd0.get(_TAG_MODEL)),
        gps_latitude=latitude,
        gps_longitude=longitude,
    )


def make_renditions(data: bytes, content_type: str) -> Renditions:
    """An upright WebP thumbnail and an upright JPEG (WebP if transparent) preview.

    The original is decoded once, at the smallest scale that still covers the preview; the thumbnail
    is scaled from the preview, or for HEIF taken from the file's embedded thumbnail when that is
    large enough. Raises MediaError when the image cannot be decoded completely (truncated, corrupt,
    too large).
    """
    if content_type in RAW_TYPES:
        from photosync.adapters import raw

        return renditions_of(*raw.embedded_preview(data, content_type))
    with _open_image(data, content_type) as image:
        full_size = image.size
        decoded, icc_profile = _decode_upright(image, content_type)
    embedded = _embedded_heif_thumbnail(data, full_size) if content_type in _HEIF_TYPES else None
    return renditions_of(decoded, icc_profile, embedded_thumbnail=embedded)


def renditions_of(
    picture: Image.Image, icc_profile: bytes | None, *, embedded_thumbnail: Image.Image | None = None
) -> Renditions:
    """The thumbnail and preview of an upright RGB(A) picture whose pixels are in `icc_profile`
    (None: sRGB); the thumbnail is scaled from `embedded_thumbnail` when one is given."""
    preview = _fit(picture, PREVIEW_LONGEST_SIDE, PREVIEW_MAX_LONGEST_SIDE)
    thumbnail = _fit(embedded_thumbnail or preview, THUMBNAIL_LONGEST_SIDE, THUMBNAIL_LONGEST_SIDE)
    return Renditions(
        thumbnail=_encode_webp(thumbnail, THUMBNAIL_QUALITY, THUMBNAIL_WEBP_METHOD, icc_profile),
        preview=(
            _encode_webp(preview, PREVIEW_QUALITY, PREVIEW_WEBP_METHOD, icc_profile)
            if preview.mode == "RGBA"
            else _encode_jpeg(preview, PREVIEW_QUALITY, icc_profile)
        ),
    )


@cache
def _register_heif_opener() -> None:
    # Imported on the first HEIF file only: its native library adds about 0.3 s to a cold start that
    # JPEG-only invocations should not pay. Embedded thumbnails are read (the grid's thumbnail comes
    # from one); depth and auxiliary images are never used, so they are not parsed.
    import pillow_heif

    pillow_heif.register_heif_opener(thumbnails=True, depth_images=False, aux_images=False)


def _embedded_heif_thumbnail(data: bytes, full_size: tuple[int, int]) -> Image.Image | None:
    """The HEIF's own thumbnail if one covers THUMBNAIL_LONGEST_SIDE, decoded upright; else None.

    pillow-heif's `draft` picks only a thumbnail that is a scaled copy of the image (same aspect
    ratio, crop, rotation, mirroring and colour profile), and libheif applies its transform boxes
    while decoding it, as for the image itself. A thumbnail that cannot be decoded is no loss: the
    caller scales the preview instead.
    """
    with _open_image(data, "image/heif") as image:
        if image.draft(None, _fitted_size(full_size, THUMBNAIL_LONGEST_SIDE)) is None:
            return None
        try:
            image.load()
        except _DECODE_ERRORS:
            return None
        return to_display_colours(image, image.info.get("icc_profile"))[0]


def _open_image(data: bytes | BinaryIO, content_type: str) -> Image.Image:
    formats = _PILLOW_FORMATS.get(content_type)
    if formats is None:
        raise MediaError(f"PhotoSync cannot read {content_type} files.")
    if content_type in _HEIF_TYPES:
        _register_heif_opener()
    name = _FORMAT_NAMES[content_type]
    try:
        # Pillow only warns between MAX_IMAGE_PIXELS and twice that; here both are refusals. The
        # explicit size check below holds even when another thread has changed the warning filters.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data) if isinstance(data, bytes) else data, formats=formats)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise MediaError(_too_large_message(name)) from None
    except _DECODE_ERRORS:
        raise MediaError(f"The file is not a readable {name} image.") from None
    width, height = image.size
    if width * height > MAX_IMAGE_PIXELS:
        image.close()
        raise MediaError(f"{_too_large_message(name)} This one declares {width} x {height} pixels.")
    return image


def _too_large_message(name: str) -> str:
    return f"The {name} image is too large to process: the limit is {MAX_IMAGE_PIXELS // 1_000_000} megapixels."


def _decode_upright(image: Image.Image, content_type: str) -> tuple[Image.Image, bytes | None]:
    """The image decoded (first frame of an animation), turned upright, in RGB or RGBA, with the ICC
    profile its pixels are in now (None: sRGB)."""
    if content_type == "image/jpeg":
        # Decode at the smallest DCT scale (1/2, 1/4, 1/8) that still covers the preview: a 12 MP
        # photo is decoded at 3 MP, which is four times less memory and work.
        target = _fitted_size(image.size, PREVIEW_LONGEST_SIDE)
        if target != image.size:
            image.draft("RGB", target)
    try:
        image.load()
    except _DECODE_ERRORS:
        raise MediaError(
            f"The {_FORMAT_NAMES[content_type]} image is truncated or corrupt and cannot be decoded."
        ) from None
    turned = image if content_type in _HEIF_TYPES else upright(image, orientation(_read_exif(image)))
    return to_display_colours(turned, image.info.get("icc_profile"))


def upright(image: Image.Image, exif_orientation: int) -> Image.Image:
    """`image`, stored with EXIF orientation `exif_orientation` (1-8), turned as it is displayed."""
    turn = _UPRIGHT.get(exif_orientation)
    return image.transpose(turn) if turn is not None else image


def to_display_colours(image: Image.Image, icc_profile: bytes | None) -> tuple[Image.Image, bytes | None]:
    """RGB(A) pixels and the ICC profile that describes them now (None: sRGB).

    An RGB profile (Display P3, Adobe RGB) describes the RGB renditions too and travels with them. A
    CMYK or grey profile cannot describe RGB pixels (viewers ignore it or draw wrong colours): the
    pixels are converted through it to sRGB, which viewers assume for an image without a profile.
    """
    if not icc_profile:
        return _to_display_mode(image), None
    colour_space = _profile_colour_space(icc_profile)
    if colour_space == "RGB":
        return _to_display_mode(image), icc_profile
    if colour_space is not None:
        converted = _to_srgb(image, icc_profile)
        if converted is not None:
            return converted, None
    # A profile that cannot be read, or does not fit the pixels, is dropped rather than embedded.
    return _to_display_mode(image), None


def _profile_colour_space(icc_profile: bytes) -> str | None:
    from PIL import ImageCms  # LittleCMS: loaded only for images that carry a profile

    try:
        return ImageCms.ImageCmsProfile(io.BytesIO(icc_profile)).profile.xcolor_space.strip()
    except (OSError, ImageCms.PyCMSError):
        return None


def _to_srgb(image: Image.Image, icc_profile: bytes) -> Image.Image | None:
    from PIL import ImageCms

    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        return ImageCms.profileToProfile(image, source, _srgb_profile(), outputMode="RGB")
    except (OSError, ValueError, ImageCms.PyCMSError):
        return None


@cache
def _srgb_profile() -> Any:
    from PIL import ImageCms

    return ImageCms.createProfile("sRGB")


def _to_display_mode(image: Image.Image) -> Image.Image:
    if image.mode in ("RGB", "RGBA"):
        return image
    if image.mode.startswith("I"):
        # 16-bit greyscale (scans): scale to 8 bits rather than clip everything to white.
        return image.convert("I").point(lambda value: value / 256).convert("RGB")
    return image.convert("RGBA" if image.has_transparency_data else "RGB")


def _fitted_size(size: tuple[int, int], longest_side: int) -> tuple[int, int]:
    width, height = size
    scale = longest_side / max(width, height)
    if scale >= 1:
        return size
    return max(1, round(width * scale)), max(1, round(height * scale))


def _fit(image: Image.Image, longest_side: int, keep_up_to: int) -> Image.Image:
    """The image scaled to `longest_side`, unless its longest side is at most `keep_up_to` already.

    A whole-factor box reduction that lands between the two is taken as it is: the 12 MP iPhone
    photo reduced by two (1512 x 2016, 60 ms) needs no Lanczos pass over 12 MP (0.6 s).
    """
    if max(image.size) <= keep_up_to:
        return image
    factor = max(image.size) // longest_side
    if factor >= 2 and max(image.size) // factor <= keep_up_to:
        return image.reduce(factor)
    # reducing_gap 2 (what Image.thumbnail uses) shrinks by whole factors with a box filter first and
    # leaves the last factor of two or more to Lanczos: three times faster than Lanczos alone for a
    # thumbnail, with no visible difference.
    return image.resize(_fitted_size(image.size, longest_side), Image.Resampling.LANCZOS, reducing_gap=2.0)


def _encode_webp(image: Image.Image, quality: int, method: int, icc_profile: bytes | None) -> Rendition:
    return _encode(image, "WEBP", "image/webp", icc_profile, quality=quality, method=method)


def _encode_jpeg(image: Image.Image, quality: int, icc_profile: bytes | None) -> Rendition:
    return _encode(image, "JPEG", "image/jpeg", icc_profile, quality=quality)


def _encode(image: Image.Image, format: str, content_type: str, icc_profile: bytes | None, **options: Any) -> Rendition:
    # Nothing but the pixels and the colour profile: Pillow writes EXIF (GPS position) only when asked.
    if icc_profile:
        options["icc_profile"] = icc_profile
    buffer = io.BytesIO()
    image.save(buffer, format, **options)
    return Rendition(buffer.getvalue(), content_type)


# --- EXIF -----------------------------------------------------------------------------------------
# Metadata is best effort: an unreadable or absurd value becomes None, it never fails the upload.


def _read_exif(image: Image.Image) -> Image.Exif:
    try:
        return image.getexif()
    except _DECODE_ERRORS:
        return Image.Exif()


def _sub_ifd(exif: Image.Exif, tag: int) -> dict[int, Any]:
    try:
        return dict(exif.get_ifd(tag))
    except _DECODE_ERRORS:
        return {}


def orientation(exif: Mapping[int, Any]) -> int:
    """The EXIF orientation (1-8) of IFD0 `exif`; 1 when absent or invalid."""
    value = exif.get(_TAG_ORIENTATION)
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _text(value: object) -> str | None:
    """A printable, bounded string from an EXIF text value (cameras pad with NULs and spaces)."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if not isinstance(value, str):
        return None
    printable = "".join(char for char in value if char.isprintable()).strip()
    return printable[:_MAX_TEXT_LENGTH] or None


def _taken_at(exif_ifd: dict[int, Any]) -> datetime | None:
    raw = _text(exif_ifd.get(_TAG_DATETIME_ORIGINAL))
    match = _EXIF_DATETIME.fullmatch(raw) if raw else None
    if match is None:
        return None
    try:
        local = datetime(*(int(part) for part in match.groups()), microsecond=_microseconds(exif_ifd))
    except ValueError:
        return None
    # Without OffsetTimeOriginal the camera's zone is unknown, and the server's own zone says
    # nothing about it: the clock reading is taken as UTC. Such a time can be off by the camera's
    # offset, but it is stable, and photos from one camera keep their order.
    zone = _utc_offset(exif_ifd.get(_TAG_OFFSET_TIME_ORIGINAL)) or timezone.utc
    try:
        return local.replace(tzinfo=zone).astimezone(timezone.utc)
    except OverflowError:
        return None


def _microseconds(exif_ifd: dict[int, Any]) -> int:
    digits = _text(exif_ifd.get(_TAG_SUBSEC_TIME_ORIGINAL))
    if not digits or not digits.isdecimal():
        return 0
    return int(digits[:6].ljust(6, "0"))


def _utc_offset(value: object) -> timezone | None:
    raw = _text(value)
    match = _EXIF_OFFSET.fullmatch(raw) if raw else None
    if match is None:
        return None
    sign, hours, minutes = match.group(1), int(match.group(2)), int(match.group(3))
    if hours > 14 or minutes >= 60:
        return None
    offset = timedelta(hours=hours, minutes=minutes)
    return timezone(-offset if sign == "-" else offset)


def _gps_position(gps_ifd: dict[int, Any]) -> tuple[float | None, float | None]:
    latitude = _gps_coordinate(gps_ifd.get(_GPS_LATITUDE), gps_ifd.get(_GPS_LATITUDE_REF), "N", "S", 90)
    longitude = _gps_coordinate(gps_ifd.get(_GPS_LONGITUDE), gps_ifd.get(_GPS_LONGITUDE_REF), "E", "W", 180)
    if latitude is None or longitude is None:
        return None, None
    return latitude, longitude


def _gps_coordinate(value: object, reference: object, positive: str, negative: str, limit: float) -> float | None:
    try:
        degrees, minutes, seconds = (float(part) for part in value)  # type: ignore[union-attr]
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    parts = (degrees, minutes, seconds)
    if not all(math.isfinite(part) and part >= 0 for part in parts) or minutes >= 60 or seconds >= 60:
        return None
    coordinate = degrees + minutes / 60 + seconds / 3600
    hemisphere = (_text(reference) or positive).upper()
    if hemisphere not in (positive, negative) or coordinate > limit:
        return None
    return round(-coordinate if hemisphere == negative else coordinate, 7)

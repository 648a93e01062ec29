"""Generators of camera-like media files for tests: every function returns the bytes of a file.

The images show `camera_scene`: a red gradient growing left to right, a green one growing top to
bottom, shapes of every size and grain on top, so any rotation or mirroring of it is visible even after heavy downscaling.
`width`/`height` are always the DISPLAYED size: with an `orientation`, the pixels are stored the way a
camera held that way stores them, so a viewer that honours the orientation shows `camera_scene`.
"""

from __future__ import annotations

import io
import random
import struct
import zlib
from datetime import datetime, timezone

from PIL import Image, ImageDraw, ImageFilter

from tests.support.icc import PRESS_INKS_SRGB, cmyk_profile

EXIF_IFD = 0x8769
GPS_IFD = 0x8825
TAG_ORIENTATION = 0x0112
TAG_MAKE = 0x010F
TAG_MODEL = 0x0110
TAG_DATETIME_ORIGINAL = 0x9003
TAG_OFFSET_TIME_ORIGINAL = 0x9011

# How to store a displayed scene so that EXIF orientation N shows it upright again (the inverse of
# what a viewer applies for N).
_STORE_FOR_ORIENTATION = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


def camera_scene(width: int, height: int, *, seed: int = 0, mode: str = "RGB") -> Image.Image:
    """The upright scene every generated image shows (noise makes it compress like a photo)."""
    red = Image.linear_gradient("L").rotate(90)
    red = red.resize((width, height))
    green = Image.linear_gradient("L").resize((width, height))
    grain = Image.frombytes("L", (width, height), random.Random(seed).randbytes(width * height))
    grain = grain.filter(ImageFilter.BoxBlur(1))
    blue = Image.blend(green, grain, 0.5)
    scene = Image.merge("RGB", (red, green, blue))
    scene = Image.blend(scene, _shapes(width, height, seed), 0.3)
    scene = Image.blend(scene, Image.merge("RGB", (grain, grain, grain)), 0.15)
    if mode == "RGBA":
        alpha = Image.linear_gradient("L").resize((width, height))
        scene.putalpha(alpha.point(lambda value: 255 - value // 2))
    return scene


def _shapes(width: int, height: int, seed: int) -> Image.Image:
    """Edges and objects at every scale, as in a real scene, so downscaled renditions keep detail."""
    rng = random.Random(seed)
    canvas = Image.new("RGB", (width, height), (128, 128, 128))
    draw = ImageDraw.Draw(canvas)
    for _ in range(120):
        size = int(min(width, height) * rng.uniform(0.01, 0.25))
        left, top = rng.randrange(width), rng.randrange(height)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        box = (left, top, left + size, top + size)
        if rng.random() < 0.5:
            draw.ellipse(box, fill=colour)
        else:
            draw.rectangle(box, fill=colour)
    return canvas


def _stored_pixels(width: int, height: int, orientation: int | None, mode: str = "RGB") -> Image.Image:
    scene = camera_scene(width, height, mode=mode)
    method = _STORE_FOR_ORIENTATION[orientation or 1]
    return scene if method is None else scene.transpose(method)


def _format_exif_time(value: datetime | str) -> str:
    # A string is written as it is, so tests can store garbage where a date belongs.
    return value if isinstance(value, str) else value.strftime("%Y:%m:%d %H:%M:%S")


def _gps_rational(degrees: float) -> tuple[float, float, float]:
    degrees = abs(degrees)
    whole = int(degrees)
    minutes_float = (degrees - whole) * 60
    minutes = int(minutes_float)
    return (float(whole), float(minutes), round((minutes_float - minutes) * 60, 4))


def make_exif(
    *,
    orientation: int | None = None,
    taken_at: datetime | str | None = None,
    offset: str | None = None,
    make: str | None = None,
    model: str | None = None,
    gps: tuple[float, float] | None = None,
) -> Image.Exif:
    """An EXIF block as a camera writes it; `gps` is (latitude, longitude) in signed degrees."""
    exif = Image.Exif()
    if orientation is not None:
        exif[TAG_ORIENTATION] = orientation
    if make is not None:
        exif[TAG_MAKE] = make
    if model is not None:
        exif[TAG_MODEL] = model
    if taken_at is not None or offset is not None:
        exif_ifd = exif.get_ifd(EXIF_IFD)
        if taken_at is not None:
            exif_ifd[TAG_DATETIME_ORIGINAL] = _format_exif_time(taken_at)
        if offset is not None:
            exif_ifd[TAG_OFFSET_TIME_ORIGINAL] = offset
    if gps is not None:
        latitude, longitude = gps
        gps_ifd = exif.get_ifd(GPS_IFD)
        gps_ifd[0] = b"\x02\x02\x00\x00"
        gps_ifd[1] = "N" if latitude >= 0 else "S"
        gps_ifd[2] = _gps_rational(latitude)
        gps_ifd[3] = "E" if longitude >= 0 else "W"
        gps_ifd[4] = _gps_rational(longitude)
    return exif


def make_jpeg(
    width: int = 640,
    height: int = 480,
    *,
    orientation: int | None = None,
    taken_at: datetime | str | None = None,
    offset: str | None = None,
    make: str | None = None,
    model: str | None = None,
    gps: tuple[float, float] | None = None,
    quality: int = 85,
) -> bytes:
    """A JPEG as a camera writes it (4:2:0, EXIF); `width` x `height` is the displayed size."""
    exif = make_exif(orientation=orientation, taken_at=taken_at, offset=offset, make=make, model=model, gps=gps)
    buffer = io.BytesIO()
    _stored_pixels(width, height, orientation).save(buffer, "JPEG", quality=quality, exif=exif, subsampling="4:2:0")
    return buffer.getvalue()


def make_heic(
    width: int = 640,
    height: int = 480,
    *,
    orientation: int | None = None,
    taken_at: datetime | str | None = None,
    offset: str | None = None,
    make: str | None = None,
    model: str | None = None,
    gps: tuple[float, float] | None = None,
    quality: int = 80,
    thumbnail_sides: tuple[int, ...] = (),
) -> bytes:
    """A HEIC as a phone writes it; the orientation goes into the EXIF tag and the HEIF transform boxes,
    which libheif applies to the embedded thumbnails (longest sides `thumbnail_sides`) as well."""
    import pillow_heif

    pillow_heif.register_heif_opener()
    exif = make_exif(orientation=orientation, taken_at=taken_at, offset=offset, make=make, model=model, gps=gps)
    buffer = io.BytesIO()
    _stored_pixels(width, height, orientation).save(
        buffer, "HEIF", quality=quality, exif=exif.tobytes(), thumbnails=list(thumbnail_sides)
    )
    return buffer.getvalue()


def make_cmyk_jpeg(width: int = 400, height: int = 300, *, profile: bool = True) -> bytes:
    """A CMYK JPEG as prepress software writes it: four ink patches side by side (cyan, magenta,
    yellow, black, left to right), with a press profile (icc.PRESS_INKS_SRGB) embedded unless
    `profile` is False."""
    image = Image.new("CMYK", (width, height))
    draw = ImageDraw.Draw(image)
    for index, ink in enumerate(((255, 0, 0, 0), (0, 255, 0, 0), (0, 0, 255, 0), (0, 0, 0, 255))):
        draw.rectangle((index * width // 4, 0, (index + 1) * width // 4 - 1, height - 1), fill=ink)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=95, **({"icc_profile": cmyk_profile(PRESS_INKS_SRGB)} if profile else {}))
    return buffer.getvalue()


def make_png(width: int = 640, height: int = 480, *, alpha: bool = False) -> bytes:
    buffer = io.BytesIO()
    camera_scene(width, height, mode="RGBA" if alpha else "RGB").save(buffer, "PNG")
    return buffer.getvalue()


def make_webp(width: int = 640, height: int = 480, *, alpha: bool = False, quality: int = 80) -> bytes:
    buffer = io.BytesIO()
    camera_scene(width, height, mode="RGBA" if alpha else "RGB").save(buffer, "WEBP", quality=quality)
    return buffer.getvalue()


def make_gif(width: int = 320, height: int = 240, *, frames: int = 3) -> bytes:
    """An animated GIF whose first frame is `camera_scene` and whose later frames are inverted."""
    first = camera_scene(width, height).quantize(64)
    later = [Image.eval(camera_scene(width, height, seed=index), lambda v: 255 - v).quantize(64) for index in range(1, frames)]
    buffer = io.BytesIO()
    first.save(buffer, "GIF", save_all=True, append_images=later, duration=100, loop=0)
    return buffer.getvalue()


def make_truncated_jpeg(width: int = 1200, height: int = 900, *, keep: float = 0.5) -> bytes:
    """A JPEG cut off part-way through its image data, as an interrupted copy leaves it."""
    whole = make_jpeg(width, height, taken_at=datetime(2021, 6, 1, 10, 0, 0))
    return whole[: int(len(whole) * keep)]


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def make_bomb_png(width: int = 20_000, height: int = 15_000) -> bytes:
    """A PNG of a few hundred bytes that declares `width` x `height` RGB pixels (300 MP by default).

    Decoding it would first allocate the whole declared raster (over a gigabyte by default); only its
    first rows are present.
    """
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    first_rows = zlib.compress(b"\x00" * (1 + 3 * width) * 4, 9)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", first_rows)
        + _png_chunk(b"IEND", b"")
    )


_MP4_EPOCH = datetime(1904, 1, 1, tzinfo=timezone.utc)
_FIXED_ONE = 0x10000
_ROTATION_MATRICES = {
    0: (_FIXED_ONE, 0, 0, _FIXED_ONE),
    90: (0, _FIXED_ONE, -_FIXED_ONE, 0),
    180: (-_FIXED_ONE, 0, 0, -_FIXED_ONE),
    270: (0, -_FIXED_ONE, _FIXED_ONE, 0),
}


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def _matrix(rotation: int) -> bytes:
    a, b, c, d = _ROTATION_MATRICES[rotation]
    return struct.pack(">9i", a, b, 0, c, d, 0, 0, 0, 0x40000000)


def make_mp4(
    width: int = 1920,
    height: int = 1080,
    *,
    created: datetime | None = None,
    rotation: int = 0,
    quicktime: bool = False,
    moov_at_end: bool = False,
) -> bytes:
    """An MP4 (or QuickTime, `quicktime=True`) file's structure: `ftyp`, `moov` with `mvhd` and a video
    track's `tkhd`, and a few bytes of `mdat`. `width` x `height` is the coded size; `rotation`
    (0/90/180/270) goes into the track matrix the way phones record portrait video."""
    brands = (b"qt  ", 0, [b"qt  "]) if quicktime else (b"isom", 0x200, [b"isom", b"iso2", b"avc1", b"mp41"])
    ftyp = _box(b"ftyp", brands[0] + struct.pack(">I", brands[1]) + b"".join(brands[2]))
    seconds = 0 if created is None else int((created - _MP4_EPOCH).total_seconds())
    timescale, duration = 600, 600 * 3
    mvhd = _box(
        b"mvhd",
        struct.pack(">B3xIIII", 0, seconds, seconds, timescale, duration)
        + struct.pack(">IH10x", _FIXED_ONE, 0x0100)
        + _matrix(0)
        + bytes(24)
        + struct.pack(">I", 3),
    )
    sound_tkhd = _box(
        b"tkhd",
        struct.pack(">B3BIIIII8xhhhh", 0, 0, 0, 3, seconds, seconds, 2, 0, duration, 0, 0, 0x0100, 0)
        + _matrix(0)
        + struct.pack(">II", 0, 0),
    )
    video_tkhd = _box(
        b"tkhd",
        struct.pack(">B3BIIIII8xhhhh", 0, 0, 0, 3, seconds, seconds, 1, 0, duration, 0, 0, 0, 0)
        + _matrix(rotation)
        + struct.pack(">II", width * _FIXED_ONE, height * _FIXED_ONE),
    )
    moov = _box(b"moov", mvhd + _box(b"trak", sound_tkhd) + _box(b"trak", video_tkhd))
    mdat = _box(b"mdat", bytes(range(256)) * 4)
    return ftyp + (mdat + moov if moov_at_end else moov + mdat)

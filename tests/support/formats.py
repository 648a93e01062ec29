"""AVIF files and DNG camera RAW files, made by the tests with the libraries that write them
(Pillow's AVIF encoder, libavif; tifffile for DNG's TIFF structure)."""

from __future__ import annotations

import io
from datetime import datetime

import numpy as np
import tifffile

from tests.support.images import _format_exif_time, _stored_pixels, make_exif

# DNG tags (Adobe DNG specification 1.4) and the TIFF/EP ones a DNG's IFD0 carries.
_DNG_VERSION, _DNG_BACKWARD_VERSION, _UNIQUE_CAMERA_MODEL = 50706, 50707, 50708
_COLOR_MATRIX_1, _CALIBRATION_ILLUMINANT_1 = 50721, 50778
_CFA_REPEAT_PATTERN_DIM, _CFA_PATTERN, _BLACK_LEVEL, _WHITE_LEVEL = 33421, 33422, 50714, 50717
_MAKE, _MODEL, _ORIENTATION, _DATETIME_ORIGINAL, _OFFSET_TIME_ORIGINAL = 271, 272, 274, 36867, 36881
_D65 = 21
_RGGB = (0, 1, 1, 2)
_WHITE = 4095  # 12-bit sensor values


def make_avif(
    width: int = 640,
    height: int = 480,
    *,
    orientation: int | None = None,
    taken_at: datetime | str | None = None,
    make: str | None = None,
    model: str | None = None,
) -> bytes:
    """An AVIF as a phone writes it, with EXIF; `width` x `height` is the displayed size (libavif
    stores the orientation as `irot`/`imir` boxes)."""
    exif = make_exif(orientation=orientation, taken_at=taken_at, make=make, model=model)
    buffer = io.BytesIO()
    _stored_pixels(width, height, orientation).save(buffer, "AVIF", quality=60, speed=10, exif=exif)
    return buffer.getvalue()


def make_dng(
    width: int = 640,
    height: int = 480,
    *,
    preview: bool = True,
    orientation: int = 1,
    taken_at: datetime | str | None = None,
    offset: str | None = None,
    make: str = "PhotoSync",
    model: str = "Test Camera",
) -> bytes:
    """A DNG as a camera writes it: IFD0 is the embedded full-size RGB preview (left out with
    `preview=False`, which puts a 1/8 thumbnail there instead, as in a minimal DNG), the sensor's
    12-bit RGGB mosaic a SubIFD of it; the date is TIFF/EP's DateTimeOriginal in IFD0.
    `width` x `height` is the displayed size: the stored pixels are turned by `orientation`."""
    stored = _stored_pixels(width, height, orientation)
    scene = np.asarray(stored, dtype=np.uint16) * _WHITE // 255
    mosaic = np.empty(scene.shape[:2], np.uint16)
    mosaic[0::2, 0::2] = scene[0::2, 0::2, 0]
    mosaic[0::2, 1::2] = scene[0::2, 1::2, 1]
    mosaic[1::2, 0::2] = scene[1::2, 0::2, 1]
    mosaic[1::2, 1::2] = scene[1::2, 1::2, 2]
    shown = stored if preview else stored.reduce(8)
    identity = (1, 1, 0, 1, 0, 1, 0, 1, 1, 1, 0, 1, 0, 1, 0, 1, 1, 1)
    ifd0_tags = [
        (_MAKE, "s", 0, make, True),
        (_MODEL, "s", 0, model, True),
        (_ORIENTATION, "H", 1, orientation, True),
        (_DNG_VERSION, "B", 4, (1, 4, 0, 0), True),
        (_DNG_BACKWARD_VERSION, "B", 4, (1, 1, 0, 0), True),
        (_UNIQUE_CAMERA_MODEL, "s", 0, f"{make} {model}", True),
        (_COLOR_MATRIX_1, "2i", 9, identity, True),
        (_CALIBRATION_ILLUMINANT_1, "H", 1, _D65, True),
    ]
    if taken_at is not None:
        ifd0_tags.append((_DATETIME_ORIGINAL, "s", 0, _format_exif_time(taken_at), True))
    if offset is not None:
        ifd0_tags.append((_OFFSET_TIME_ORIGINAL, "s", 0, offset, True))
    buffer = io.BytesIO()
    with tifffile.TiffWriter(buffer) as dng:
        dng.write(
            np.asarray(shown), photometric="rgb", subfiletype=1, subifds=1, software=False, metadata=None,
            extratags=ifd0_tags,
        )
        dng.write(
            mosaic, photometric="cfa", subfiletype=0, software=False, metadata=None,
            extratags=[
                (_CFA_REPEAT_PATTERN_DIM, "H", 2, (2, 2), True),
                (_CFA_PATTERN, "B", 4, _RGGB, True),
                (_BLACK_LEVEL, "H", 1, 0, True),
                (_WHITE_LEVEL, "H", 1, _WHITE, True),
            ],
        )
    return buffer.getvalue()

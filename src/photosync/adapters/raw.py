"""Camera RAW files (DNG, CR2, CR3, NEF, ARW, RAF, RW2, ORF): what finalize learns from them, and the
picture their renditions are made from.

A RAW file is stored as it is, and PhotoSync does not develop its sensor data:
- the capture time, camera and position come from the file's own EXIF: its TIFF directories (every
  format but CR3 and RAF is TIFF-shaped), the CMT boxes of a CR3, or the JPEG a RAF embeds;
- the displayed size and the orientation come from LibRaw (rawpy), which knows every format's
  quirks (orientation kept in maker notes, sensor margins);
- the thumbnail and preview are made from the preview the camera embedded (a JPEG, or for some
  DNGs an RGB bitmap), turned upright. A file without one gets no renditions: it is kept, like any
  file PhotoSync cannot draw.
rawpy (LibRaw and numpy, about half a second to import) is imported on the first RAW file only.
"""

from __future__ import annotations

import io
import struct
from functools import cache
from typing import Any

from PIL import Image

from photosync.adapters import media

_EXIF_IFD = 0x8769
_GPS_IFD = 0x8825
# TIFF variants with a magic number of their own in place of 42, whose directories are plain TIFF.
_TIFF_LIKE_HEADERS = {b"IIU\x00": b"II*\x00", b"IIRO": b"II*\x00", b"IIRS": b"II*\x00", b"MMOR": b"MM\x00*"}
_CR3_METADATA_BOX = bytes.fromhex("85c0b687820f11e08111f4ce462b6a48")
_RAF_JPEG_POINTER = 84  # offset and length of the embedded JPEG, big-endian, in the RAF header
# LibRaw's `flip` as the EXIF orientation that describes the same turn.
_FLIP_ORIENTATIONS = {0: 1, 3: 3, 5: 8, 6: 6}
# Metadata is best effort (a damaged directory means no date, never a refused upload); these are
# what Pillow's TIFF parser and struct raise for content they cannot parse.
_PARSE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, KeyError, struct.error)


def inspect_raw(data: bytes, content_type: str) -> media.MediaInfo:
    """Displayed size, capture time, camera and position of a RAW file whose type was sniffed."""
    ifd0, exif_ifd, gps_ifd = _exif_directories(data, content_type)
    size = None
    layout = _layout(data)
    if layout is not None:
        width, height, exif_orientation = layout
        size = (height, width) if exif_orientation in (5, 6, 7, 8) else (width, height)
    return media.info_from_tags(content_type, size, ifd0, exif_ifd, gps_ifd)


def embedded_preview(data: bytes, content_type: str) -> tuple[Image.Image, bytes | None]:
    """The camera's embedded preview, decoded upright in RGB, with its ICC profile (None: sRGB).

    Raises MediaError when the file has no preview LibRaw can extract, or it cannot be decoded.
    """
    rawpy = _rawpy()
    try:
        with rawpy.imread(io.BytesIO(data)) as raw:
            exif_orientation = _FLIP_ORIENTATIONS.get(raw.sizes.flip, 1)
            thumbnail = raw.extract_thumb()
    except rawpy.LibRawNoThumbnailError:
        raise media.MediaError("The RAW file has no embedded preview to make a thumbnail from.") from None
    except rawpy.LibRawError:
        raise media.MediaError("The RAW file's embedded preview cannot be read.") from None
    if thumbnail.format == rawpy.ThumbFormat.BITMAP:
        picture, icc_profile = media.to_display_colours(Image.fromarray(thumbnail.data), None)
    else:
        picture, icc_profile = _decode_jpeg(thumbnail.data)
    # The camera stores its preview as the sensor saw it; the RAW's orientation turns both.
    return media.upright(picture, exif_orientation), icc_profile


@cache
def _rawpy() -> Any:
    import rawpy

    return rawpy


def _layout(data: bytes) -> tuple[int, int, int] | None:
    """(width, height, EXIF orientation) of the developed picture as LibRaw sees it, or None when
    LibRaw cannot read the file (the photo then has no size, as for any undecodable file)."""
    rawpy = _rawpy()
    try:
        with rawpy.imread(io.BytesIO(data)) as raw:
            sizes = raw.sizes
    except rawpy.LibRawError:
        return None
    if sizes.width <= 0 or sizes.height <= 0:
        return None
    return sizes.width, sizes.height, _FLIP_ORIENTATIONS.get(sizes.flip, 1)


def _decode_jpeg(jpeg: bytes) -> tuple[Image.Image, bytes | None]:
    try:
        with Image.open(io.BytesIO(jpeg), formats=("JPEG",)) as image:
            # Previews are at most a camera screen's size, and a full-size one (some cameras embed
            # one) is decoded at the smallest DCT scale that still covers the preview rendition.
            if max(image.size) > media.PREVIEW_MAX_LONGEST_SIDE:
                image.draft("RGB", (media.PREVIEW_LONGEST_SIDE, media.PREVIEW_LONGEST_SIDE))
            image.load()
            return media.to_display_colours(image, image.info.get("icc_profile"))
    except (Image.DecompressionBombError, *_PARSE_ERRORS):
        raise media.MediaError("The RAW file's embedded preview is not a readable JPEG image.") from None


# --- EXIF -----------------------------------------------------------------------------------------


def _exif_directories(data: bytes, content_type: str) -> tuple[dict[int, Any], dict[int, Any], dict[int, Any]]:
    """(IFD0, EXIF directory, GPS directory) of a RAW file; empty where the file has none."""
    try:
        if content_type == "image/x-canon-cr3":
            return _cr3_directories(data)
        if content_type == "image/x-fuji-raf":
            return _raf_directories(data)
        return _tiff_directories(data)
    except _PARSE_ERRORS:
        return {}, {}, {}


def _tiff_directories(tiff: bytes) -> tuple[dict[int, Any], dict[int, Any], dict[int, Any]]:
    header = _TIFF_LIKE_HEADERS.get(tiff[:4])
    if header is not None:
        tiff = header + tiff[4:]
    exif = Image.Exif()
    exif.load(tiff)
    return dict(exif), _sub_directory(exif, _EXIF_IFD), _sub_directory(exif, _GPS_IFD)


def _sub_directory(exif: Image.Exif, tag: int) -> dict[int, Any]:
    try:
        return dict(exif.get_ifd(tag))
    except _PARSE_ERRORS:
        return {}


def _cr3_directories(data: bytes) -> tuple[dict[int, Any], dict[int, Any], dict[int, Any]]:
    """CR3 keeps IFD0 and the EXIF and GPS directories as small TIFF files in the CMT1, CMT2 and
    CMT4 boxes of Canon's metadata box (a `uuid` box inside `moov`)."""
    movie = _first_box(data, 0, len(data), b"moov")
    boxes: dict[bytes, bytes] = {}
    if movie is not None:
        for kind, start, end in _boxes(data, *movie):
            if kind == b"uuid" and data[start : start + 16] == _CR3_METADATA_BOX:
                boxes = {name: data[a:b] for name, a, b in _boxes(data, start + 16, end)}
                break

    def directory(name: bytes) -> dict[int, Any]:
        if name not in boxes:
            return {}
        exif = Image.Exif()
        exif.load(boxes[name])
        return dict(exif)

    return directory(b"CMT1"), directory(b"CMT2"), directory(b"CMT4")


def _raf_directories(data: bytes) -> tuple[dict[int, Any], dict[int, Any], dict[int, Any]]:
    """A RAF's EXIF is the EXIF of the JPEG embedded in it, which the header points to."""
    offset, length = struct.unpack_from(">II", data, _RAF_JPEG_POINTER)
    jpeg = data[offset : offset + length]
    if not jpeg.startswith(b"\xff\xd8"):
        return {}, {}, {}
    with Image.open(io.BytesIO(jpeg), formats=("JPEG",)) as image:
        exif = image.getexif()
        return dict(exif), _sub_directory(exif, _EXIF_IFD), _sub_directory(exif, _GPS_IFD)


def _boxes(data: bytes, start: int, end: int):
    """(type, payload start, payload end) of each ISO-BMFF box between start and end."""
    position = start
    while position + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, position)
        header = 8
        if size == 1:
            size = struct.unpack_from(">Q", data, position + 8)[0]
            header = 16
        elif size == 0:
            size = end - position
        if size < header or position + size > end:
            return
        yield kind, position + header, position + size
        position += size


def _first_box(data: bytes, start: int, end: int, kind: bytes) -> tuple[int, int] | None:
    for found, payload_start, payload_end in _boxes(data, start, end):
        if found == kind:
            return payload_start, payload_end
    return None

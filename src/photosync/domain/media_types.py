"""Which media PhotoSync accepts, and how a type is recognised from the first bytes of a file.

The declared type is only a hint: what is stored and served is what the magic bytes say.
"""

from __future__ import annotations

import struct

# Camera RAW files are stored as they are; their metadata and renditions come from the embedded
# preview (adapters/raw.py).
RAW_TYPES = frozenset({
    "image/x-adobe-dng", "image/x-canon-cr2", "image/x-canon-cr3", "image/x-nikon-nef",
    "image/x-sony-arw", "image/x-fuji-raf", "image/x-panasonic-rw2", "image/x-olympus-orf",
})
IMAGE_TYPES = frozenset({
    "image/jpeg", "image/png", "image/heic", "image/heif", "image/avif", "image/webp", "image/gif",
}) | RAW_TYPES
VIDEO_TYPES = frozenset({"video/mp4", "video/quicktime"})
ACCEPTED_TYPES = IMAGE_TYPES | VIDEO_TYPES
# What users read when a file is refused (the upload request and finalize say the same).
ACCEPTED_FORMATS_TEXT = (
    "JPEG, PNG, HEIC/HEIF, AVIF, WebP or GIF images, camera RAW files (DNG, CR2, CR3, NEF, ARW, RAF, "
    "RW2, ORF), or MP4/QuickTime videos"
)

# Enough for every signature below. Most need a few bytes; a TIFF-based RAW is told apart by tags
# of its first directory (IFD0), which cameras write at the start of the file, with the text values
# it points to: 64 KiB covers those with a wide margin and costs one small read.
SNIFF_BYTES = 64 * 1024

_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"}
_HEIF_BRANDS = {b"mif1", b"msf1"}
_AVIF_BRANDS = {b"avif", b"avis"}
_CR3_BRANDS = {b"crx "}
_QUICKTIME_BRANDS = {b"qt  "}
_MP4_BRANDS = {
    b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ",
    b"dash", b"3gp4", b"3gp5", b"3gp6", b"3g2a", b"MSNV", b"f4v ", b"mmp4",
}
# Formats in the same container that PhotoSync does not accept, although they list generic brands
# such as `isom` too: MPEG-4 audio.
_OTHER_FORMAT_BRANDS = {b"M4A ", b"M4B ", b"M4P "}

_TIFF_LITTLE = b"II*\x00"
_TIFF_BIG = b"MM\x00*"
_TAG_MAKE = 0x010F
_TAG_DNG_VERSION = 0xC612
_TIFF_ASCII = 2
# TIFF-based RAW formats without a signature of their own, told apart by the camera maker that IFD0
# names (Make, upper-cased, as these makers write it).
_RAW_BY_MAKE = {"NIKON": "image/x-nikon-nef", "SONY": "image/x-sony-arw"}


def sniff_content_type(head: bytes) -> str | None:
    """The accepted media type that `head` (the first SNIFF_BYTES of a file) starts like, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return _sniff_iso_bmff(head)
    if head.startswith(b"FUJIFILMCCD-RAW"):
        return "image/x-fuji-raf"
    # TIFF variants with a magic number of their own in place of TIFF's 42.
    if head.startswith(b"IIU\x00"):
        return "image/x-panasonic-rw2"
    if head.startswith((b"IIRO", b"IIRS", b"MMOR")):
        return "image/x-olympus-orf"
    if head.startswith((_TIFF_LITTLE, _TIFF_BIG)):
        return _sniff_tiff_raw(head)
    return None


def _sniff_iso_bmff(head: bytes) -> str | None:
    box_size = int.from_bytes(head[:4], "big")
    end = min(len(head), box_size) if box_size >= 16 else min(len(head), 16)
    major = head[8:12]
    compatible = [head[i : i + 4] for i in range(16, end - 3, 4)]
    brands = [major, *compatible]
    # The major brand decides first; compatible brands settle files whose major brand is generic.
    for brand in brands:
        if brand in _OTHER_FORMAT_BRANDS:
            return None
        if brand in _CR3_BRANDS:
            return "image/x-canon-cr3"
        if brand in _AVIF_BRANDS:
            return "image/avif"
        if brand in _HEIC_BRANDS:
            return "image/heic"
        if brand in _HEIF_BRANDS:
            # A generic HEIF whose pictures are AV1 (it lists `avif`) is AVIF, for its decoder.
            return "image/avif" if _AVIF_BRANDS.intersection(brands) else "image/heif"
        if brand in _QUICKTIME_BRANDS:
            return "video/quicktime"
        if brand in _MP4_BRANDS:
            return "video/mp4"
    return None


def _sniff_tiff_raw(head: bytes) -> str | None:
    """The RAW format of a file with TIFF's header, or None: a plain TIFF is not accepted.

    Canon CR2 marks itself ('CR', version 2) right after the header; a DNG carries DNGVersion in
    IFD0, whichever camera wrote it; NEF and ARW are known by the maker in IFD0. Anything else (a
    TIFF from an editor or a scanner, named .nef or not) is not a RAW file.
    """
    if head[8:11] == b"CR\x02":
        return "image/x-canon-cr2"
    tags = _ifd0_tags(head)
    if tags is None:
        return None
    if _TAG_DNG_VERSION in tags:
        return "image/x-adobe-dng"
    make = tags.get(_TAG_MAKE)
    if isinstance(make, str):
        for prefix, content_type in _RAW_BY_MAKE.items():
            if make.upper().startswith(prefix):
                return content_type
    return None


def _ifd0_tags(head: bytes) -> dict[int, object] | None:
    """IFD0's tag numbers, with the value of ASCII tags whose text lies within `head` (else None)."""
    if len(head) < 8:
        return None
    endian = "<" if head[:2] == b"II" else ">"
    (offset,) = struct.unpack_from(endian + "I", head, 4)
    if offset < 8 or offset + 2 > len(head):
        return None
    (count,) = struct.unpack_from(endian + "H", head, offset)
    if offset + 2 + count * 12 > len(head):
        return None
    tags: dict[int, object] = {}
    for entry in range(offset + 2, offset + 2 + count * 12, 12):
        tag, kind, length, value = struct.unpack_from(endian + "HHI4s", head, entry)
        text = None
        if kind == _TIFF_ASCII:
            if length <= 4:
                raw = value[:length]
            else:
                (start,) = struct.unpack_from(endian + "I", value)
                raw = head[start : start + length] if start + length <= len(head) else None
            text = raw.split(b"\x00", 1)[0].decode("latin-1").strip() if raw is not None else None
        tags[tag] = text
    return tags

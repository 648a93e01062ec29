"""Which media PhotoSync accepts, and how a type is recognised from the first bytes of a file.

The declared type is only a hint: what is stored and served is what the magic bytes say.
"""

from __future__ import annotations

IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/heic", "image/heif", "image/webp", "image/gif"})
VIDEO_TYPES = frozenset({"video/mp4", "video/quicktime"})
ACCEPTED_TYPES = IMAGE_TYPES | VIDEO_TYPES

# Enough for every signature below, including an ISO-BMFF `ftyp` box with its compatible brands.
SNIFF_BYTES = 64

_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"}
_HEIF_BRANDS = {b"mif1", b"msf1"}
_QUICKTIME_BRANDS = {b"qt  "}
_MP4_BRANDS = {
    b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ",
    b"dash", b"3gp4", b"3gp5", b"3gp6", b"3g2a", b"MSNV", b"f4v ", b"mmp4",
}
# Formats in the same container that PhotoSync does not accept, although they list generic brands
# such as `mif1` or `isom` too: AVIF (no AV1 decoder is installed), Canon CR3 raw files, MPEG-4 audio.
_OTHER_FORMAT_BRANDS = {b"avif", b"avis", b"crx ", b"M4A ", b"M4B ", b"M4P "}


def sniff_content_type(head: bytes) -> str | None:
    """The accepted media type that `head` (the first bytes of a file) starts like, or None."""
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
        if brand in _HEIC_BRANDS:
            return "image/heic"
        if brand in _HEIF_BRANDS:
            return "image/heif"
        if brand in _QUICKTIME_BRANDS:
            return "video/quicktime"
        if brand in _MP4_BRANDS:
            return "video/mp4"
    return None

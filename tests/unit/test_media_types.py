"""Recognising accepted media from their first bytes."""

from __future__ import annotations

import random
import struct
from pathlib import Path

import pytest

from photosync.domain.media_types import SNIFF_BYTES, sniff_content_type
from tests.support.formats import make_avif, make_dng
from tests.support.images import make_gif, make_heic, make_jpeg, make_mp4, make_png, make_truncated_jpeg, make_webp

REAL_PHOTOS = Path(__file__).resolve().parents[2].parent / "shared" / "testdata" / "real-photos"
REAL_RAW_FILES = Path(__file__).resolve().parents[1] / "fixtures" / "raw"


def _ftyp(major: bytes, *compatible: bytes) -> bytes:
    payload = major + b"\x00\x00\x00\x00" + b"".join(compatible)
    return (8 + len(payload)).to_bytes(4, "big") + b"ftyp" + payload + b"\x00\x00\x00\x08free"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (make_jpeg(64, 48), "image/jpeg"),
        (make_truncated_jpeg(), "image/jpeg"),  # the type is in the head; damage is found later
        (make_png(64, 48), "image/png"),
        (make_gif(64, 48, frames=2), "image/gif"),
        (make_webp(64, 48), "image/webp"),
        (make_heic(64, 48), "image/heic"),
        (make_avif(64, 48), "image/avif"),
        (make_dng(64, 48), "image/x-adobe-dng"),
        (make_dng(64, 48, make="NIKON CORPORATION"), "image/x-adobe-dng"),  # DNGVersion decides
        (make_mp4(), "video/mp4"),
        (make_mp4(quicktime=True), "video/quicktime"),
    ],
    ids=["jpeg", "truncated-jpeg", "png", "gif", "webp", "heic", "avif", "dng", "dng-from-nikon", "mp4", "quicktime"],
)
def test_generated_files_are_recognised(data: bytes, expected: str) -> None:
    assert sniff_content_type(data[:SNIFF_BYTES]) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Canon_40D.jpg", "image/jpeg"),
        ("DSCN0010-gps.jpg", "image/jpeg"),
        ("orientation/portrait_6.jpg", "image/jpeg"),
        ("iphone_13_pro_max.HEIC", "image/heic"),
    ],
)
def test_real_camera_files_are_recognised(name: str, expected: str) -> None:
    with (REAL_PHOTOS / name).open("rb") as file:
        assert sniff_content_type(file.read(SNIFF_BYTES)) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("CanonRaw.cr2", "image/x-canon-cr2"),
        ("CanonRaw.cr3", "image/x-canon-cr3"),
        ("DNG.dng", "image/x-adobe-dng"),  # big-endian TIFF
        ("FujiFilm.raf", "image/x-fuji-raf"),
        ("Nikon.nef", "image/x-nikon-nef"),
        ("Panasonic.rw2", "image/x-panasonic-rw2"),
    ],
)
def test_real_camera_raw_files_are_recognised(name: str, expected: str) -> None:
    with (REAL_RAW_FILES / name).open("rb") as file:
        assert sniff_content_type(file.read(SNIFF_BYTES)) == expected


def _tiff(endian: str, tags: list[tuple[int, int, bytes]], *, magic: bytes | None = None) -> bytes:
    """A TIFF header and IFD0 with (tag, type, value) entries; ASCII values after the directory."""
    header = (magic or (b"II*\x00" if endian == "<" else b"MM\x00*")) + struct.pack(endian + "I", 8)
    data_start = 8 + 2 + len(tags) * 12 + 4
    entries, data = b"", b""
    for tag, kind, value in tags:
        if len(value) <= 4:
            entries += struct.pack(endian + "HHI", tag, kind, len(value)) + value.ljust(4, b"\x00")
        else:
            entries += struct.pack(endian + "HHII", tag, kind, len(value), data_start + len(data))
            data += value
    return header + struct.pack(endian + "H", len(tags)) + entries + b"\x00" * 4 + data


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (_tiff("<", [(0x010F, 2, b"NIKON CORPORATION\x00")]), "image/x-nikon-nef"),
        (_tiff(">", [(0x010F, 2, b"NIKON\x00")]), "image/x-nikon-nef"),
        (_tiff("<", [(0x010F, 2, b"SONY\x00")]), "image/x-sony-arw"),
        (_tiff("<", [(0xC612, 1, b"\x01\x04\x00\x00")]), "image/x-adobe-dng"),
        (b"II*\x00\x10\x00\x00\x00CR\x02\x00" + b"\x00" * 8, "image/x-canon-cr2"),
        (_tiff("<", [(0x010F, 2, b"OLYMPUS\x00")], magic=b"IIRO"), "image/x-olympus-orf"),
        (_tiff("<", [], magic=b"IIRS"), "image/x-olympus-orf"),
        (_tiff(">", [], magic=b"MMOR"), "image/x-olympus-orf"),
        (_tiff("<", [], magic=b"IIU\x00"), "image/x-panasonic-rw2"),
        (b"FUJIFILMCCD-RAW 0201FF383501", "image/x-fuji-raf"),
        (_ftyp(b"crx ", b"crx ", b"isom"), "image/x-canon-cr3"),
        (_ftyp(b"avif", b"avif", b"mif1", b"miaf"), "image/avif"),
        (_ftyp(b"avis", b"avis", b"msf1"), "image/avif"),
        (_ftyp(b"mif1", b"avif", b"mif1"), "image/avif"),
    ],
    ids=[
        "nef", "nef-big-endian", "arw", "dng", "cr2", "orf", "orf-iirs", "orf-mmor", "rw2", "raf", "cr3",
        "avif", "avif-sequence", "avif-compatible-brand",
    ],
)
def test_raw_and_avif_signatures(head: bytes, expected: str) -> None:
    assert sniff_content_type(head) == expected


@pytest.mark.parametrize(
    "head",
    [
        _tiff("<", [(0x010F, 2, b"Canon\x00")]),  # a TIFF from a Canon scanner, no CR2 marker
        _tiff("<", [(0x010F, 2, b"Adobe Photoshop\x00")]),
        _tiff("<", [(0x0100, 3, b"\x40\x00")]),  # a TIFF without a maker
        _tiff("<", [(0x010F, 2, b"NIKON CORPORATION\x00")])[:30],  # the maker's text cut off
        b"II*\x00\xff\xff\xff\x7f",  # IFD0 beyond the head
        b"MM\x00*\x00\x00\x00\x08\xff\xff",  # more entries than bytes
    ],
    ids=["canon-tiff", "editor-tiff", "no-maker", "maker-cut-off", "ifd-outside", "ifd-too-long"],
)
def test_tiffs_that_are_not_camera_raw_are_not_accepted(head: bytes) -> None:
    assert sniff_content_type(head) is None


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (_ftyp(b"mif1", b"mif1", b"heic"), "image/heif"),  # generic HEIF brand decides first
        (_ftyp(b"msf1", b"msf1", b"hevc"), "image/heif"),
        (_ftyp(b"heix", b"mif1"), "image/heic"),
        (_ftyp(b"mp42", b"isom", b"mp42"), "video/mp4"),
        (_ftyp(b"M4V ", b"M4V ", b"M4A ", b"mp42"), "video/mp4"),
        (_ftyp(b"3gp5", b"3gp5", b"isom"), "video/mp4"),
        (_ftyp(b"qt  ", b"qt  "), "video/quicktime"),
        (_ftyp(b"XXXX", b"mp41"), "video/mp4"),  # unknown major brand, known compatible one
    ],
)
def test_iso_media_brands(head: bytes, expected: str) -> None:
    assert sniff_content_type(head[:SNIFF_BYTES]) == expected


@pytest.mark.parametrize(
    "head",
    [
        _ftyp(b"M4A ", b"M4A ", b"mp42", b"isom"),  # audio only
        _ftyp(b"XXXX", b"YYYY"),
    ],
    ids=["m4a", "unknown-brands"],
)
def test_other_iso_media_formats_are_not_accepted(head: bytes) -> None:
    assert sniff_content_type(head[:SNIFF_BYTES]) is None


@pytest.mark.parametrize(
    "head",
    [
        b"<!DOCTYPE html><html><body><img src=x onerror=alert(1)></body></html>",
        b"<html><script>alert(1)</script></html>",
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>',
        b"just some text that happens to be uploaded\n",
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
        b"II*\x00\x08\x00\x00\x00",  # TIFF
        b"BM" + b"\x00" * 60,  # BMP
        b"PK\x03\x04" + b"\x00" * 60,  # ZIP
        b"RIFF\x24\x00\x00\x00WAVEfmt ",  # RIFF, but audio
        b"\xff\xd8",  # too short to be a JPEG start
        b"GIF8",
        b"\x89PNG",
        b"",
    ],
    ids=[
        "html", "html-script", "svg-xml", "svg", "text", "pdf", "tiff", "bmp", "zip", "wav",
        "short-jpeg", "short-gif", "short-png", "empty",
    ],
)
def test_other_content_is_not_accepted(head: bytes) -> None:
    assert sniff_content_type(head[:SNIFF_BYTES]) is None


def test_random_bytes_are_not_accepted() -> None:
    rng = random.Random(20240501)
    # Every signature sits in the first few bytes (a TIFF's IFD0 just after them): 4 KiB is as telling
    # as the whole SNIFF_BYTES, for a sixteenth of the random bytes.
    heads = [rng.randbytes(4096) for _ in range(2000)]
    assert [head for head in heads if sniff_content_type(head) is not None] == []


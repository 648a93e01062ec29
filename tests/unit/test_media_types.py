"""Recognising accepted media from their first bytes."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from photosync.domain.media_types import SNIFF_BYTES, sniff_content_type
from tests.support.images import make_gif, make_heic, make_jpeg, make_mp4, make_png, make_truncated_jpeg, make_webp

REAL_PHOTOS = Path(__file__).resolve().parents[2].parent / "shared" / "testdata" / "real-photos"


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
        (make_mp4(), "video/mp4"),
        (make_mp4(quicktime=True), "video/quicktime"),
    ],
    ids=["jpeg", "truncated-jpeg", "png", "gif", "webp", "heic", "mp4", "quicktime"],
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
        _ftyp(b"avif", b"avif", b"mif1", b"miaf"),  # AVIF: no decoder installed
        _ftyp(b"avis", b"avis", b"msf1"),
        _ftyp(b"crx ", b"crx ", b"isom"),  # Canon CR3 raw
        _ftyp(b"M4A ", b"M4A ", b"mp42", b"isom"),  # audio only
        _ftyp(b"XXXX", b"YYYY"),
    ],
    ids=["avif", "avif-sequence", "cr3", "m4a", "unknown-brands"],
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
    heads = [rng.randbytes(SNIFF_BYTES) for _ in range(2000)]
    assert [head for head in heads if sniff_content_type(head) is not None] == []


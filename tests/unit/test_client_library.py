"""Finding media in folders, the SHA-256 cache, and human-readable sizes."""

from __future__ import annotations

import hashlib
import os

import pytest

from photosync.client import library
from photosync.client.library import HashCache, scan
from photosync.client.units import human_size

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 60
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 60


def test_scan_needs_a_media_extension_and_media_bytes(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "deep.JPG").write_bytes(JPEG)
    (tmp_path / "a" / "really-png.jpg").write_bytes(PNG)
    (tmp_path / "notes.txt").write_bytes(b"hello")
    (tmp_path / "fake.jpg").write_bytes(b"not a jpeg at all")
    (tmp_path / "jpeg-without-extension").write_bytes(JPEG)
    (tmp_path / "empty.png").write_bytes(b"")
    result = scan([tmp_path])
    assert {(f.path.name, f.content_type) for f in result.media} == {("deep.JPG", "image/jpeg"), ("really-png.jpg", "image/png")}
    assert {p.name for p in result.skipped} == {"notes.txt", "fake.jpg", "jpeg-without-extension", "empty.png"}
    assert all(f.path.is_absolute() for f in result.media)


def test_overlapping_roots_list_a_file_once(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "x.jpg").write_bytes(JPEG)
    assert len(scan([tmp_path, tmp_path / "sub", tmp_path / "sub" / "x.jpg"]).media) == 1


def test_hash_cache_skips_rereading_unchanged_files(tmp_path, monkeypatch):
    photo = tmp_path / "p.jpg"
    photo.write_bytes(JPEG + b"one")
    reads = []
    real_hash = library.hash_file
    monkeypatch.setattr(library, "hash_file", lambda path, on_bytes=None: reads.append(path) or real_hash(path, on_bytes))
    expected = hashlib.sha256(photo.read_bytes()).hexdigest()

    with HashCache(tmp_path / "cache.sqlite3") as cache:
        assert cache.sha256(scan([photo]).media[0]) == expected
    with HashCache(tmp_path / "cache.sqlite3") as cache:  # a later run
        assert cache.sha256(scan([photo]).media[0]) == expected
    assert len(reads) == 1

    photo.write_bytes(JPEG + b"two, longer")
    with HashCache(tmp_path / "cache.sqlite3") as cache:
        assert cache.sha256(scan([photo]).media[0]) == hashlib.sha256(photo.read_bytes()).hexdigest()
    assert len(reads) == 2


def test_hash_cache_notices_a_same_size_rewrite_by_its_mtime(tmp_path):
    photo = tmp_path / "p.jpg"
    photo.write_bytes(JPEG + b"AAAA")
    with HashCache(tmp_path / "cache.sqlite3") as cache:
        first = cache.sha256(scan([photo]).media[0])
        photo.write_bytes(JPEG + b"BBBB")
        stat = photo.stat()
        os.utime(photo, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
        second = cache.sha256(scan([photo]).media[0])
    assert first != second == hashlib.sha256(JPEG + b"BBBB").hexdigest()


@pytest.mark.parametrize(
    ("size", "text"),
    [(0, "0 B"), (1023, "1023 B"), (1024, "1.0 KiB"), (1536, "1.5 KiB"), (5 * 1024**2, "5.0 MiB"),
     (15 * 1024**3, "15.0 GiB"), (3 * 1024**6, "3072.0 PiB"), (-2048, "-2.0 KiB")],
)
def test_human_size(size, text):
    assert human_size(size) == text

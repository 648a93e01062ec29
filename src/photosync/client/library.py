"""The local side of a photo library: finding media files in folders and hashing them, with a cache.

Shared by backup and free-up-space. A file counts as media only if its extension is one PhotoSync
accepts AND its first bytes say so; the type sent to the server is the one the bytes say.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from photosync.client.api import hash_file
from photosync.domain.media_types import SNIFF_BYTES, sniff_content_type

MEDIA_EXTENSIONS = frozenset({
    ".jpg", ".jpeg", ".jpe", ".png", ".gif", ".webp", ".heic", ".heif", ".hif", ".avif",
    ".dng", ".cr2", ".cr3", ".nef", ".arw", ".raf", ".rw2", ".orf",
    ".mp4", ".m4v", ".mov", ".qt",
})
HASH_CACHE_FILE = "hash-cache.sqlite3"


@dataclass(frozen=True)
class LocalFile:
    path: Path  # absolute
    size: int
    mtime_ns: int
    content_type: str


@dataclass
class ScanResult:
    media: list[LocalFile] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)  # not media, or media we cannot read


def _classify(path: Path) -> LocalFile | None:
    if path.suffix.lower() not in MEDIA_EXTENSIONS:
        return None
    try:
        with open(path, "rb") as file:
            stat = os.fstat(file.fileno())
            content_type = sniff_content_type(file.read(SNIFF_BYTES))
    except OSError:
        return None
    if content_type is None or stat.st_size == 0:
        return None
    return LocalFile(path=path, size=stat.st_size, mtime_ns=stat.st_mtime_ns, content_type=content_type)


def scan(roots: Iterable[Path]) -> ScanResult:
    """Every regular file under the roots (recursively, in a stable order), sorted into media and the rest.

    Symbolic links to folders are not followed, so a link cycle cannot make the walk endless; a file
    reached twice (two overlapping roots) is listed once.
    """
    result = ScanResult()
    seen: set[Path] = set()
    for root in roots:
        root = Path(root).absolute()
        if root.is_file():
            paths: Iterable[Path] = [root]
        else:
            paths = _walk(root)
        for path in paths:
            if path in seen:
                continue
            seen.add(path)
            local = _classify(path)
            if local is None:
                result.skipped.append(path)
            else:
                result.media.append(local)
    return result


def _walk(root: Path) -> Iterable[Path]:
    for directory, subdirectories, files in os.walk(root):
        subdirectories.sort()
        for name in sorted(files):
            path = Path(directory, name)
            if path.is_file():
                yield path


class HashCache:
    """SHA-256 of files keyed by (absolute path, size, mtime_ns), so an unchanged library is not re-read.

    A change of size or modification time makes the cached value unusable; the file is hashed again.
    Safe to use from several threads.
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS file_hash ("
            " path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, sha256 TEXT NOT NULL)"
        )

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> HashCache:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def get(self, path: Path, size: int, mtime_ns: int) -> str | None:
        with self._lock:
            row = self._db.execute(
                "SELECT sha256 FROM file_hash WHERE path = ? AND size = ? AND mtime_ns = ?", (str(path), size, mtime_ns)
            ).fetchone()
        return row[0] if row else None

    def put(self, path: Path, size: int, mtime_ns: int, sha256: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO file_hash (path, size, mtime_ns, sha256) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (path) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns, sha256 = excluded.sha256",
                (str(path), size, mtime_ns, sha256),
            )

    def sha256(self, file: LocalFile, on_bytes: Callable[[int], None] | None = None) -> str:
        """The file's SHA-256, from the cache when its size and mtime are unchanged, else by reading it."""
        cached = self.get(file.path, file.size, file.mtime_ns)
        if cached is not None:
            if on_bytes:
                on_bytes(file.size)
            return cached
        digest = hash_file(file.path, on_bytes)
        # Cache only if the file did not change while it was read; otherwise the pair would be wrong.
        stat = file.path.stat()
        if stat.st_size == file.size and stat.st_mtime_ns == file.mtime_ns:
            self.put(file.path, file.size, file.mtime_ns, digest)
        return digest

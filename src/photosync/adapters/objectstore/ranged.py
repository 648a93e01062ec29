"""A stored object as a seekable file that fetches only what is read, in ranged reads: a decoder
that reads headers (Pillow opening a JPEG reads its markers up to the image data) touches a few
kilobytes of a 6 MB original, not all of it."""

from __future__ import annotations

import io

from photosync.adapters.objectstore.base import ObjectStore

# One ranged read per this many bytes: a JPEG's EXIF (up to 64 KiB) and frame header usually come in one.
READ_AHEAD_BYTES = 64 * 1024


class _StoredObject(io.RawIOBase):
    def __init__(self, store: ObjectStore, key: str, size: int) -> None:
        self._store = store
        self._key = key
        self._size = size
        self._position = 0
        self.bytes_fetched = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def readall(self) -> bytes:
        # One ranged read for the rest (libheif takes a HEIF whole), not one per 8 KiB.
        data = self._store.read_range(self._key, self._position, max(0, self._size - self._position))
        self._position += len(data)
        self.bytes_fetched += len(data)
        return data

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        length = min(len(buffer), self._size - self._position)
        if length <= 0:
            return 0
        data = self._store.read_range(self._key, self._position, length)
        buffer[: len(data)] = data
        self._position += len(data)
        self.bytes_fetched += len(data)
        return len(data)


def open_stored(store: ObjectStore, key: str, size: int) -> io.BufferedReader:
    """A read-only binary file over `key`; its `raw.bytes_fetched` says how much was read."""
    return io.BufferedReader(_StoredObject(store, key, size), buffer_size=READ_AHEAD_BYTES)

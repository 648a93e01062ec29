"""The web client hashes a file as a stream with hash-wasm's SHA-256, under the server's CSP: a 1 GiB
file gets Python's hash, is never read whole into a buffer, and Chromium's renderer memory stays far
below the file's size."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import psutil
import pytest

pytestmark = pytest.mark.browser

MiB = 1024 * 1024
LARGE_FILE_BYTES = 1024 * MiB
# Renderer memory the hashing may add: its 4 MiB buffer, the stream's own, WebAssembly's memory.
# Reading the file whole (Web Crypto's way) would add the file's 1 GiB; reading it in fresh slices,
# whatever the garbage collector has not freed yet (several hundred MiB, measured).
RENDERER_GROWTH_LIMIT = 256 * MiB


def write_large_file(path: Path, size: int) -> str:
    """A file of `size` bytes that no run-length trick hashes cheaply; returns its SHA-256."""
    block = hashlib.shake_256(b"photosync web hashing").digest(MiB)
    digest = hashlib.sha256()
    with path.open("wb") as file:
        for index in range(size // MiB):
            chunk = index.to_bytes(8, "big") + block[8:]
            file.write(chunk)
            digest.update(chunk)
    return digest.hexdigest()


class RendererMemory:
    """Peak resident memory of Chromium's renderer processes (the pages), sampled in a thread."""

    def __init__(self) -> None:
        self.baseline = self._now()
        self.peak = self.baseline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    @staticmethod
    def _now() -> int:
        total = 0
        for process in psutil.Process().children(recursive=True):
            try:
                if "--type=renderer" in " ".join(process.cmdline()):
                    total += process.memory_info().rss
            except psutil.Error:
                continue
        return total

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, self._now())

    def __enter__(self) -> RendererMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()


HASH_IN_PAGE = """async () => {
  const { sha256Hex } = await import("/js/hashing.js");
  const file = document.querySelector("#hash-probe").files[0];
  let bufferReads = 0, progressCalls = 0, lastProgress = 0;
  const arrayBuffer = Blob.prototype.arrayBuffer;
  Blob.prototype.arrayBuffer = function () {
    bufferReads += 1;
    return arrayBuffer.call(this);
  };
  try {
    const sha256 = await sha256Hex(file, { onProgress: (hashed) => { progressCalls += 1; lastProgress = hashed; } });
    return { sha256, bufferReads, progressCalls, lastProgress, size: file.size };
  } finally {
    Blob.prototype.arrayBuffer = arrayBuffer;
  }
}"""


def test_a_large_file_is_hashed_as_a_stream_in_bounded_memory(open_page, server, tmp_path):
    path = tmp_path / "large-video.mp4"
    expected = write_large_file(path, LARGE_FILE_BYTES)
    page, _ = open_page(server)
    page.goto("/")
    page.evaluate("""() => {
      const input = document.createElement("input");
      input.type = "file";
      input.id = "hash-probe";
      document.body.append(input);
    }""")
    page.locator("#hash-probe").set_input_files(path)

    try:
        with RendererMemory() as memory:
            result = page.evaluate(HASH_IN_PAGE)
    finally:
        path.unlink()  # 1 GiB: not left behind in the test's temporary directory

    assert result["size"] == LARGE_FILE_BYTES
    assert result["sha256"] == expected
    assert result["bufferReads"] == 0  # streamed, never `arrayBuffer()` of the file or a slice
    assert result["progressCalls"] > 1 and result["lastProgress"] == LARGE_FILE_BYTES
    assert memory.baseline > 0, "no Chromium renderer process found to measure"
    assert memory.peak - memory.baseline < RENDERER_GROWTH_LIMIT, (memory.baseline, memory.peak)


@pytest.mark.parametrize("size", [1, 4 * MiB - 1, 4 * MiB, 4 * MiB + 1, 9 * MiB + 7], ids=["one-byte", "buffer-minus-one", "buffer", "buffer-plus-one", "several-buffers"])
def test_buffer_boundaries_give_python_s_hash(open_page, server, tmp_path, size):
    data = hashlib.shake_256(str(size).encode()).digest(size)
    path = tmp_path / "photo.jpg"
    path.write_bytes(data)
    page, _ = open_page(server)
    page.goto("/")
    page.evaluate("""() => {
      const input = document.createElement("input");
      input.type = "file";
      input.id = "hash-probe";
      document.body.append(input);
    }""")
    page.locator("#hash-probe").set_input_files(path)
    result = page.evaluate(HASH_IN_PAGE)
    assert result["sha256"] == hashlib.sha256(data).hexdigest()

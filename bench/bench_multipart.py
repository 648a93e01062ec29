"""Multipart upload of one 1 GiB video by `photosync backup` against a real local server, next to `cp`
of the same file in the same run, with the CLI's peak memory.

Run from the repository root:

    .venv/bin/python -m bench.bench_multipart [--size-mib 1024] [--no-write]

The file is an MP4 (an `ftyp` box, then an `mdat` of filler whose every MiB differs). The CLI hashes
it, asks for a multipart upload, hashes and sends its parts (4 at once), completes it, and waits for
the server to finalize it (the store assembles the parts; finalize reads the whole object to check its
SHA-256). The baseline is `cp` of the same file to the same disk: the least any copy of those bytes
costs. The CLI's peak resident memory comes from the kernel (`wait4`'s `ru_maxrss`). Figures go into
bench/RESULTS.md, in this benchmark's own section.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from bench.results import write_section
from tests.e2e.test_multipart_uploads import write_video
from tests.support.server import start_server

PHOTOSYNC = Path(sys.executable).with_name("photosync")
MIB = 1024**2


def run_measured(command: list[str], env: dict[str, str] | None = None) -> tuple[float, int]:
    """(seconds, peak RSS in bytes) of a command run to completion; a failing run ends the benchmark."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        sys.exit(f"{' '.join(command[:2])} failed ({process.returncode}):\n{process.stderr.read().decode()[-3000:]}")
    return elapsed, usage.ru_maxrss * 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--no-write", action="store_true", help="print the figures only")
    args = parser.parse_args()
    size = args.size_mib * MIB

    with tempfile.TemporaryDirectory(prefix="bench-multipart-", dir=os.environ.get("BENCH_TMP")) as scratch:
        root = Path(scratch)
        library = root / "library"
        library.mkdir()
        video = library / "long-take.mp4"
        write_video(video, size)
        load = ", ".join(f"{value:.1f}" for value in os.getloadavg())

        copy_seconds, _ = run_measured(["cp", str(video), str(root / "copy.mp4")])
        (root / "copy.mp4").unlink()

        server = start_server(root / "server")
        try:
            env = {**os.environ, "PHOTOSYNC_CONFIG_DIR": str(root / "config")}
            subprocess.run([str(PHOTOSYNC), "login", "--server", server.base_url, "--email", "bench@example.com"],
                           check=True, env=env, stdout=subprocess.DEVNULL)
            upload_seconds, peak_rss = run_measured([str(PHOTOSYNC), "backup", str(library)], env)
        finally:
            server.stop()

    mib = size / MIB
    section = f"""## Multipart upload of a large file (`bench/bench_multipart.py`)

- Date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC
- Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, load average at start {load}. Shared with other jobs: read the ratio, not the absolute times.
- Input: one {mib:.0f} MiB MP4 (filler in an `mdat` box, every MiB different), 8 MiB parts, 4 in flight.
- Server: a fresh `photosync serve` (private PostgreSQL, local store) on 127.0.0.1, on the same disk and cores as the CLI.

| what | time | MB/s | peak RSS |
|---|---|---|---|
| `photosync backup` (hash, parts, complete, wait for finalize) | {upload_seconds:.2f} s | {size / 1e6 / upload_seconds:.1f} | {peak_rss / MIB:.0f} MiB |
| baseline: `cp` of the same file | {copy_seconds:.2f} s | {size / 1e6 / copy_seconds:.1f} | |

- Ratio backup / `cp`: **{upload_seconds / copy_seconds:.1f}x**. The backup reads the file three times (whole-file hash, each part's hash, each part's bytes) and the server, on the same two cores, hashes each part as it arrives, writes it, fsyncs it, assembles the file and hashes it once more in finalize; `cp` reads and writes once.
- The CLI's memory does not grow with the file: parts are hashed and sent from disk in 1 MiB chunks.

Reproduce: `.venv/bin/python -m bench.bench_multipart --size-mib {args.size_mib}` (from the repository root).
"""
    print(section)
    if not args.no_write:
        write_section("bench_multipart", section)


if __name__ == "__main__":
    main()

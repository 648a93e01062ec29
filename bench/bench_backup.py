"""Backup throughput of `photosync backup` against a real local server, next to `sha256sum` + `cp`.

Run from the repository root:

    .venv/bin/python -m bench.bench_backup [--photos 40] [--jobs 4] [--no-write]

A folder of camera-sized JPEGs (noise, so they do not compress: about 2 MiB each) is backed up by the
real command into a fresh `photosync serve`. The baseline is the least any backup must do with the
same bytes on the same machine: read and hash them (`sha256sum`) and write a copy (`cp -r`). The
re-run (nothing new: cached hashes and one lookup) is timed too. Figures go into bench/RESULTS.md,
in this benchmark's own section.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from PIL import Image

from bench.results import write_section
from tests.support.server import start_server

REPO = Path(__file__).resolve().parents[1]
PHOTOSYNC = Path(sys.executable).with_name("photosync")


def make_library(folder: Path, count: int) -> int:
    """`count` distinct noise JPEGs of 1600 x 1200 at quality 95 (about 2 MiB each); returns total bytes."""
    rng = random.Random(20240501)
    folder.mkdir(parents=True)
    total = 0
    for number in range(count):
        image = Image.frombytes("RGB", (1600, 1200), rng.randbytes(1600 * 1200 * 3))
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=95)
        path = folder / f"IMG_{number:04}.jpg"
        path.write_bytes(buffer.getvalue())
        total += path.stat().st_size
    return total


def timed(command: list[str], env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"{' '.join(command[:2])} failed ({result.returncode}): a benchmark of a failing run means nothing\n{result.stderr[-3000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=int, default=40)
    parser.add_argument("--jobs", type=int, default=4)
    parser.add_argument("--no-write", action="store_true", help="print the figures only")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-backup-") as scratch:
        root = Path(scratch)
        library = root / "library"
        total_bytes = make_library(library, args.photos)
        mib = total_bytes / 1024**2
        load = ", ".join(f"{value:.1f}" for value in os.getloadavg())

        # Baseline first, then the backup: both start with the files in the page cache (just written).
        hash_seconds = timed(["sha256sum", *sorted(map(str, library.iterdir()))])
        copy_seconds = timed(["cp", "-r", str(library), str(root / "copy")])
        baseline = hash_seconds + copy_seconds

        server = start_server(root / "server")
        try:
            env = {**os.environ, "PHOTOSYNC_CONFIG_DIR": str(root / "config")}
            subprocess.run([str(PHOTOSYNC), "login", "--server", server.base_url, "--email", "bench@example.com"],
                           check=True, env=env, stdout=subprocess.DEVNULL)
            backup_seconds = timed([str(PHOTOSYNC), "backup", str(library), "--jobs", str(args.jobs)], env)
            rerun_seconds = timed([str(PHOTOSYNC), "backup", str(library), "--jobs", str(args.jobs)], env)
        finally:
            server.stop()

    section = f"""## Backup throughput (`bench/bench_backup.py`)

- Date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC
- Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, load average at start {load}. Shared with other jobs: read the ratio, not the absolute times.
- Input: {args.photos} distinct noise JPEGs 1600 x 1200 (quality 95), {mib:.1f} MiB in all ({mib / args.photos:.1f} MiB each).
- Server: a fresh `photosync serve` (private PostgreSQL, local store) on 127.0.0.1; `--jobs {args.jobs}`.

| what | time | photos/s | MiB/s |
|---|---|---|---|
| `photosync backup` (hash, lookup, upload, wait for finalize) | {backup_seconds:.2f} s | {args.photos / backup_seconds:.1f} | {mib / backup_seconds:.1f} |
| baseline: `sha256sum` + `cp -r` of the same folder | {baseline:.2f} s ({hash_seconds:.2f} + {copy_seconds:.2f}) | {args.photos / baseline:.1f} | {mib / baseline:.1f} |
| re-run of `photosync backup` (nothing new) | {rerun_seconds:.2f} s | | |

- Ratio backup / baseline: **{backup_seconds / baseline:.1f}x**. The re-run reads no photo (hashes cached by path, size and mtime) and makes one lookup; most of its time is starting Python.
- Each upload waits for the server to finalize it: size, hash and type checks, then a WebP thumbnail and preview (about 1 s of CPU per photo for these noise images, the worst case for WebP; see the renditions benchmark). On 2 cores that server-side work, not the client, bounds the throughput; `sha256sum` + `cp` does none of it.

Reproduce: `.venv/bin/python -m bench.bench_backup --photos {args.photos} --jobs {args.jobs}` (from the repository root).
"""
    print(section)
    if not args.no_write:
        write_section("bench_backup", section)


if __name__ == "__main__":
    if shutil.which("sha256sum") is None:
        sys.exit("sha256sum (coreutils) is needed for the baseline")
    main()

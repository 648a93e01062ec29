"""Backup throughput of `photosync backup` against a real local server, next to `sha256sum` + `cp`.

Run from the repository root:

    .venv/bin/python -m bench.bench_backup [--photos 200] [--jobs 4] [--no-write]

The folder: `--photos` camera-sized JPEGs (12 MP, quality 90, 3-6 MB each) made from the real
iPhone photo in ../shared/testdata/real-photos/ (each a different crop, brightness and orientation,
with sensor-like grain so they compress as camera files do, not as smooth upscales), plus the real
files of that folder as they are. It is backed up by the real command into a fresh
`photosync serve`. The baseline is the least any backup must do with the same bytes on the same
machine: read and hash them (`sha256sum`) and write a copy (`cp -r`).

Measured in one run: the time until every file is acknowledged `complete` (the command returns only
then), the time until every thumbnail is ready (renditions are made in the background, by the
server's renditions workers, from a queue: counted as the thumbnail files the store holds), the
re-run (nothing new), and the renditions themselves, `make_renditions` next to libvips (pyvips)
making the same sizes and formats from the same files, one photo at a time in this process. Figures
go into bench/RESULTS.md, in this benchmark's own section.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

from PIL import Image, ImageChops, ImageEnhance

from bench.results import write_section
from tests.support.server import start_server

REPO = Path(__file__).resolve().parents[1]
PHOTOSYNC = Path(sys.executable).with_name("photosync")


REAL_PHOTOS = REPO.parent / "shared" / "testdata" / "real-photos"
PHOTO_SUFFIXES = {".jpg", ".jpeg", ".heic"}
CAMERA_SIZE = (4000, 3000)


def make_library(folder: Path, count: int) -> tuple[int, int]:
    """`count` camera JPEGs made from the real iPhone photo, and the real photos themselves;
    (files, total bytes)."""
    import pillow_heif

    real = [p for p in sorted(REAL_PHOTOS.rglob("*")) if p.suffix.lower() in PHOTO_SUFFIXES]
    source = pillow_heif.open_heif((REAL_PHOTOS / "iphone_13_pro_max.HEIC").read_bytes()).to_pillow().convert("RGB")
    # Grain as a sensor leaves it (Gaussian, sigma 10 of 255), cut at a different place per photo.
    grain = Image.effect_noise((CAMERA_SIZE[0] + 200, CAMERA_SIZE[0] + 200), 10).convert("RGB")
    rng = random.Random(20261201)
    (folder / "camera").mkdir(parents=True)
    for number in range(count):
        width, height = source.size
        crop_w, crop_h = int(width * rng.uniform(0.55, 1.0)), int(height * rng.uniform(0.55, 1.0))
        left, top = rng.randint(0, width - crop_w), rng.randint(0, height - crop_h)
        size = CAMERA_SIZE if rng.random() < 0.5 else CAMERA_SIZE[::-1]
        image = source.crop((left, top, left + crop_w, top + crop_h)).resize(size, Image.Resampling.BILINEAR)
        image = ImageEnhance.Brightness(image).enhance(rng.uniform(0.75, 1.25))
        x, y = rng.randint(0, 200), rng.randint(0, 200)
        image = ImageChops.add(image, grain.crop((x, y, x + size[0], y + size[1])), offset=-128)
        image.save(folder / "camera" / f"IMG_{number:04}.JPG", "JPEG", quality=90)
    for path in real:
        target = folder / "real" / path.relative_to(REAL_PHOTOS)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    files = [p for p in folder.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def count_thumbnails(data_dir: Path) -> int:
    root = data_dir / "objects" / "thumbnails"
    return sum(1 for p in root.rglob("*") if p.is_file() and not p.name.endswith(".meta.json")) if root.exists() else 0


def watch_thumbnails(data_dir: Path, expected: int, started: float, timeout: float) -> dict[str, float]:
    """Starts a thread noting when the store holds `expected` thumbnails (seconds after `started`)."""
    seen: dict[str, float] = {}

    def watch() -> None:
        while time.perf_counter() - started < timeout:
            if count_thumbnails(data_dir) >= expected:
                seen["all"] = time.perf_counter() - started
                return
            time.sleep(0.05)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    seen["thread"] = thread  # type: ignore[assignment]
    return seen


def rendition_rates(files: list[Path], rounds: int) -> tuple[float, float]:
    """Photos per second of `make_renditions` and of libvips making the same outputs, the works
    taking turns photo by photo (a busy machine slows both alike); medians over `rounds` passes."""
    from bench.bench_renditions import vips_thumbnail_from_preview
    from photosync.adapters import media

    ours, vips = [], []
    for _ in range(rounds):
        ours_time = vips_time = 0.0
        for path in files:
            data = path.read_bytes()
            content_type = "image/heic" if path.suffix.lower() == ".heic" else "image/jpeg"
            started = time.perf_counter()
            made = media.make_renditions(data, content_type)
            ours_time += time.perf_counter() - started
            thumbnail = Image.open(io.BytesIO(made.thumbnail.data)).size
            preview = Image.open(io.BytesIO(made.preview.data)).size
            if content_type == "image/heic":
                continue  # libvips here has no HEVC decoder: HEIC is timed in bench_renditions
            started = time.perf_counter()
            vips_thumbnail_from_preview(str(path), max(thumbnail), max(preview))
            vips_time += time.perf_counter() - started
        ours.append(len(files) / ours_time)
        vips.append(sum(1 for p in files if p.suffix.lower() != ".heic") / vips_time)
    return statistics.median(ours), statistics.median(vips)


def timed(command: list[str], env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"{' '.join(command[:2])} failed ({result.returncode}): a benchmark of a failing run means nothing\n{result.stderr[-3000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=4)
    parser.add_argument("--rendition-sample", type=int, default=20, help="photos timed for the renditions comparison")
    parser.add_argument("--no-write", action="store_true", help="print the figures only")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-backup-") as scratch:
        root = Path(scratch)
        library = root / "library"
        file_count, total_bytes = make_library(library, args.photos)
        mib = total_bytes / 1024**2
        load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
        paths = sorted(str(p) for p in library.rglob("*") if p.is_file())

        # Baseline first, then the backup: both start with the files in the page cache (just written).
        hash_seconds = timed(["sha256sum", *paths])
        copy_seconds = timed(["cp", "-r", str(library), str(root / "copy")])
        baseline = hash_seconds + copy_seconds

        server = start_server(root / "server")
        try:
            env = {**os.environ, "PHOTOSYNC_CONFIG_DIR": str(root / "config")}
            subprocess.run([str(PHOTOSYNC), "login", "--server", server.base_url, "--email", "bench@example.com"],
                           check=True, env=env, stdout=subprocess.DEVNULL)
            started = time.perf_counter()
            thumbnails = watch_thumbnails(server.data_dir, file_count, started, timeout=3600)
            backup_seconds = timed([str(PHOTOSYNC), "backup", str(library), "--jobs", str(args.jobs)], env)
            thumbnails.pop("thread").join()  # type: ignore[union-attr]
            thumbnails_seconds = thumbnails.get("all", float("nan"))
            rerun_seconds = timed([str(PHOTOSYNC), "backup", str(library), "--jobs", str(args.jobs)], env)
        finally:
            server.stop()
        from photosync.local.server import ServeOptions

        workers = ServeOptions(host="", port=0, data_dir=root).rendition_environments
        sample = sorted(library.rglob("*.JPG"))[: args.rendition_sample] + sorted(library.rglob("*.HEIC"))
        ours_rate, vips_rate = rendition_rates(sample, rounds=3)

    section = f"""## Backup throughput (`bench/bench_backup.py`)

- Date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC
- Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, load average at start {load}. Shared with other jobs: read the ratios, not the absolute times.
- Input: {file_count} files, {mib:.1f} MiB: {args.photos} camera JPEGs 4000 x 3000 (quality 90, made from the real iPhone photo: crops, brightness, orientation, sensor-like grain; {mib / file_count:.1f} MiB on average) and the {file_count - args.photos} real files of `../shared/testdata/real-photos/` (JPEG and HEIC).
- Server: a fresh `photosync serve` (private PostgreSQL, local store) on 127.0.0.1; `--jobs {args.jobs}`; {workers} renditions worker process(es) beside the API's.

| what | time | files/s | MiB/s |
|---|---|---|---|
| `photosync backup`: every file acknowledged `complete` | {backup_seconds:.2f} s | {file_count / backup_seconds:.1f} | {mib / backup_seconds:.1f} |
| baseline: `sha256sum` + `cp -r` of the same folder | {baseline:.2f} s ({hash_seconds:.2f} + {copy_seconds:.2f}) | {file_count / baseline:.1f} | {mib / baseline:.1f} |
| every thumbnail ready (from the start of the backup) | {thumbnails_seconds:.2f} s | {file_count / thumbnails_seconds:.1f} | |
| re-run of `photosync backup` (nothing new) | {rerun_seconds:.2f} s | | |

- Ratio backup / baseline: **{backup_seconds / baseline:.1f}x** (target: at most 2x). Finalize checks size, the store's SHA-256 (taken while the upload streamed in: nothing is hashed again) and type, reads the header in ranged reads, records and charges the photo and queues its renditions; it makes none.
- Renditions, one photo at a time in one process, on {len(sample)} of these files ({len(sample) - 1} camera JPEGs and the real HEIC; libvips has no HEVC decoder here, so its rate is over the JPEGs only): `make_renditions` {ours_rate:.1f} photos/s, libvips (pyvips, same sizes and formats) {vips_rate:.1f} photos/s: our time per photo is **{vips_rate / ours_rate:.2f}x** libvips'. The server's workers made {file_count / thumbnails_seconds:.1f} photos/s over the whole backup, sharing the machine with the uploads.
- Where the rest goes: the backup hashes every file on the client and the server hashes it again while it streams in, then fsyncs it (`cp` does not); and the CLI's stages overlap but still cost round trips: grants go 100 files per `POST /uploads/batch`, each file is its own PUT, and completion is confirmed by lookups of up to 1000 hashes polled with a growing delay, which rounds the last acknowledgements up. The re-run, which uploads nothing, shows the fixed cost of the command itself. On a small machine the renditions workers also run during the backup and take CPU from the uploads (in AWS they are a function of their own); finalize itself no longer decodes anything.

Reproduce: `.venv/bin/python -m bench.bench_backup --photos {args.photos} --jobs {args.jobs}` (from the repository root).
"""
    print(section)
    if not args.no_write:
        write_section("bench_backup", section)


if __name__ == "__main__":
    if shutil.which("sha256sum") is None:
        sys.exit("sha256sum (coreutils) is needed for the baseline")
    main()

"""What finalize and the renditions function do with a one-minute 1080p phone video, next to opening it
alone with PyAV (what `ffprobe` does: the container's header and index, no frame decoded), in one run.

Run from the repository root:

    .venv/bin/python -m bench.bench_video [--runs 5] [--no-write]

The clips are generated here (the same scene as the tests' videos, with motion and grain, so the
encoders do real work): 60 s of 1920 x 1080 at 30 frames per second, audio included, as a phone
records them with the index (`moov`) at the end of the file: H.264 (what Android phones and an
iPhone's "Most Compatible" setting write) and HEVC (an iPhone's default). Every read goes through
`open_stored` over a file with `os.pread`, as the functions read S3 with ranged GETs; the bytes and
the number of reads are counted. The works take turns run by run, so a busy machine slows all
alike; read the medians and ratios. The playback copy of the HEVC clip (the conversion a browser
needs) is timed once, as seconds of work per second of video: that figure bounds
PHOTOSYNC_MAX_TRANSCODE_SECONDS. Peak memory of each work is measured in a fresh child process.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from fractions import Fraction
from pathlib import Path
from typing import BinaryIO, Callable

import av
from PIL import ImageDraw

from bench.results import RESULTS, write_section
from photosync.adapters import media, video
from photosync.adapters.objectstore.ranged import open_stored
from tests.support.images import camera_scene

SECONDS, FPS, WIDTH, HEIGHT = 60, 30, 1920, 1080
COMMAND = ".venv/bin/python -m bench.bench_video --runs {runs} --codecs {codecs}"


def make_clip(path: Path, codec: str) -> None:
    """A phone-like 1080p clip: moving shapes over grain, 48 kHz stereo sound, index at the end."""
    scene = camera_scene(WIDTH, HEIGHT)
    with av.open(str(path), "w", format="mov") as output:
        output.metadata["creation_time"] = "2024-07-14T18:30:00.000000Z"
        # The encoders' fastest presets: making the clip is not what is measured.
        options = {"preset": "ultrafast"} if codec == "libx264" else {"preset": "ultrafast", "x265-params": "log-level=error"}
        stream = output.add_stream(codec, rate=FPS, options=options)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.codec_context.gop_size = FPS  # a keyframe a second, as phones write
        sound = output.add_stream("aac", rate=48_000, layout="stereo")
        for index in range(SECONDS * FPS):
            picture = scene.copy()
            x = (index * 13) % WIDTH
            ImageDraw.Draw(picture).ellipse((x, 300, x + 300, 600), fill=(250, 240, 230))
            frame = av.VideoFrame.from_image(picture)
            frame.pts, frame.time_base = index, Fraction(1, FPS)
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))
        for start in range(0, SECONDS * 48_000, 1024):
            tone = av.AudioFrame(format="fltp", layout="stereo", samples=1024)
            tone.sample_rate, tone.pts = 48_000, start
            for plane in tone.planes:
                plane.update(bytes(plane.buffer_size))
            output.mux(sound.encode(tone))
        output.mux(sound.encode(None))


class FileRanges:
    """A store's `read_range` over a local file, counting what is fetched (as S3 ranged GETs)."""

    def __init__(self, path: Path) -> None:
        self.path, self.size = path, path.stat().st_size
        self.fd = os.open(path, os.O_RDONLY)
        self.requests = self.bytes = 0

    def read_range(self, key: str, start: int, length: int) -> bytes:
        data = os.pread(self.fd, length, start)
        self.requests += 1
        self.bytes += len(data)
        return data

    def reader(self) -> BinaryIO:
        """The original as the renditions read it: `open_stored` with the video read-ahead."""
        return open_stored(self, "originals/owner/clip", self.size, read_ahead=video.READ_AHEAD_BYTES)  # type: ignore[arg-type]


def probe(ranges: FileRanges) -> None:
    """PyAV's open alone: the container header and index, as `ffprobe` reads them."""
    with av.open(ranges.reader(), "r") as container:
        stream = container.streams.video[0]
        _ = (container.duration, stream.codec_context.name, stream.codec_context.width, container.metadata)


def finalize_work(ranges: FileRanges) -> None:
    """Finalize's header read: every field of the Photo that comes from the video."""
    video.inspect_video(ranges.reader())


def poster_work(ranges: FileRanges) -> None:
    """The renditions function's image work: poster frame, then thumbnail and preview."""
    media.renditions_of_picture(video.poster_frame(ranges.reader()))


WORKS: dict[str, Callable[[FileRanges], None]] = {
    "PyAV open alone (ffprobe)": probe,
    "metadata (finalize)": finalize_work,
    "poster + thumbnail + preview": poster_work,
}


def timed(work: Callable[[FileRanges], None], ranges: FileRanges) -> float:
    start = time.perf_counter()
    work(ranges)
    return time.perf_counter() - start


def peak_rss_mib(work: str, path: Path) -> float:
    """Peak resident memory of one work in a fresh interpreter (imports included)."""
    code = (
        "import resource, sys; from pathlib import Path; from bench.bench_video import WORKS, FileRanges;"
        f"WORKS[{work!r}](FileRanges(Path({str(path)!r})));"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return int(out.split()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--codecs", default="h264,hevc", help="clips to make: h264, hevc or both")
    args = parser.parse_args()
    wanted = set(args.codecs.split(","))
    with tempfile.TemporaryDirectory() as scratch:
        clips = {}
        for label, codec in (("H.264", "libx264"), ("HEVC", "libx265")):
            if label.replace(".", "").lower() not in wanted:
                continue
            path = Path(scratch) / f"{codec}.mov"
            started = time.perf_counter()
            make_clip(path, codec)
            print(f"{label} clip: {path.stat().st_size / 2**20:.1f} MiB in {time.perf_counter() - started:.0f} s", flush=True)
            clips[label] = path
        rows = []
        for label, path in clips.items():
            times: dict[str, list[float]] = {name: [] for name in WORKS}
            fetched: dict[str, tuple[int, int]] = {}
            for _ in range(args.runs):
                for name, work in WORKS.items():
                    ranges = FileRanges(path)
                    times[name].append(timed(work, ranges))
                    fetched[name] = (ranges.requests, ranges.bytes)
            baseline = statistics.median(times["PyAV open alone (ffprobe)"])
            for name in WORKS:
                median = statistics.median(times[name])
                rows.append((label, name, median, median / baseline, *fetched[name], peak_rss_mib(name, path)))
                print(rows[-1], flush=True)
        copy = Path(scratch) / "playback.mp4"
        # The copy an HEVC original needs; without that clip the H.264 one is converted the same way.
        converted = "HEVC" if "HEVC" in clips else "H.264"
        started = time.perf_counter()
        video.make_playback_copy(FileRanges(clips[converted]).reader(), copy)
        transcode = time.perf_counter() - started
        copy_info = video.inspect_video(open(copy, "rb"))
        print(f"playback copy: {transcode:.1f} s, {copy.stat().st_size / 2**20:.1f} MiB", flush=True)
        sizes = {label: path.stat().st_size for label, path in clips.items()}

    cpu = platform.processor() or platform.machine()
    lines = [
        "## Video: finalize's metadata and the poster renditions of a 1-minute 1080p clip (`bench/bench_video.py`)",
        "",
        f"Run {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores ({cpu}), Python "
        f"{platform.python_version()}, PyAV {av.__version__} (FFmpeg {'.'.join(map(str, av.ffmpeg_version_info)) if isinstance(av.ffmpeg_version_info, tuple) else av.ffmpeg_version_info}), "
        f"median of {args.runs} runs, works taking turns. Clips: {SECONDS} s of {WIDTH} x {HEIGHT} at {FPS} fps "
        f"with stereo AAC, index at the end: {', '.join(f'{label} {size / 2**20:.0f} MiB' for label, size in sizes.items())}. "
        "Reads are ranged (1 MiB read-ahead), counted as S3 GETs would be.",
        "",
        "| clip | work | median | x PyAV open alone | ranged reads | bytes read | peak RSS (child) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, name, median, ratio, requests, fetched_bytes, rss in rows:
        lines.append(
            f"| {label} | {name} | {median * 1000:.0f} ms | {ratio:.1f} | {requests} | {fetched_bytes / 2**20:.1f} MiB | {rss:.0f} MiB |"
        )
    lines += [
        "",
        f"Playback copy of the {converted} clip (H.264 `{video.PLAYBACK_PRESET}` CRF {video.PLAYBACK_CRF} + AAC, "
        f"{copy_info.width} x {copy_info.height}, faststart): {transcode:.0f} s for {SECONDS} s of video, "
        f"{transcode / SECONDS:.2f} s of work per second of video on this machine.",
        "",
        f"Reproduce: `{COMMAND.format(runs=args.runs, codecs=args.codecs)}` (from the repository root).",
    ]
    section = "\n".join(lines)
    print(section)
    if not args.no_write:
        write_section("bench_video", section, RESULTS)


if __name__ == "__main__":
    main()

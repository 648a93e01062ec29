"""`make_renditions` next to libvips on a 12 MP camera JPEG, and next to HEVC decoding alone on the real
iPhone HEIC, all in one run.

Run from the repository root:

    .venv/bin/python -m bench.bench_renditions [--runs 9] [--no-write]

The JPEG input is a real photo: the iPhone 13 Pro Max HEIC from ../shared/testdata/real-photos/
decoded, scaled to 4000 x 3000 and stored rotated with EXIF orientation 6 and its Display P3 profile,
as a camera writes a portrait photo, at quality 90. libvips (pyvips, the engine Immich uses through
sharp) makes the same outputs: the same sizes, WebP thumbnail and JPEG preview at the same qualities
and effort, upright, ICC profile kept and all other metadata stripped. libvips is only a dependency
of this benchmark, not of PhotoSync (Lambda cold start, package size). Two libvips pipelines are
timed and the faster one is the baseline: two `thumbnail` calls from the file (each with
shrink-on-load), and one `thumbnail` for the preview with the thumbnail scaled from it.

The pyvips wheels carry no HEVC decoder, so for HEIC the floor is pillow-heif's decode alone
(libde265 plus libheif's YCbCr to RGB conversion, which one libheif call does together). The stages
of `make_renditions` for the HEIC are timed one by one, with the ones the previous pipeline used
(Lanczos from 12 MP, WebP preview) beside them. The works take turns run by run, so a busy machine
slows all alike; read the medians and ratios, not single runs. Peak memory of each work is measured
in a fresh child process so nothing else the benchmark did is counted.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from PIL import Image

from bench.results import RESULTS, write_section
from photosync.adapters import media
from photosync.adapters.media import (
    PREVIEW_QUALITY,
    PREVIEW_WEBP_METHOD,
    THUMBNAIL_QUALITY,
    THUMBNAIL_WEBP_METHOD,
    make_renditions,
)
from tests.support.images import make_exif

REAL_HEIC = Path(__file__).resolve().parents[1].parent / "shared" / "testdata" / "real-photos" / "iphone_13_pro_max.HEIC"
COMMAND = ".venv/bin/python -m bench.bench_renditions --runs {runs}"


def camera_jpeg(heic: bytes) -> bytes:
    """The real iPhone photo as a 12 MP camera JPEG: landscape pixels, EXIF orientation 6, P3 profile."""
    import pillow_heif

    photo = pillow_heif.open_heif(heic).to_pillow()
    stored = photo.resize((3000, 4000), Image.Resampling.LANCZOS).transpose(Image.Transpose.ROTATE_90)
    exif = make_exif(orientation=6, taken_at=datetime(2024, 5, 1, 12, 0, 0), make="Bench", model="12MP")
    buffer = io.BytesIO()
    stored.save(buffer, "JPEG", quality=90, exif=exif, icc_profile=photo.info["icc_profile"])
    return buffer.getvalue()


def interleaved_timings(
    works: dict[str, Callable[[], object]], runs: int
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """(elapsed seconds, CPU seconds of all threads) per run of each work. The works take turns, so a
    busy machine slows all alike. CPU time is what a worker pays per photo on a machine whose cores
    are all busy; elapsed time also credits libvips for using a second core when one is free."""
    for work in works.values():
        work()  # warm-up: plugin imports and codec set-up are not part of the steady state
    elapsed: dict[str, list[float]] = {name: [] for name in works}
    cpu: dict[str, list[float]] = {name: [] for name in works}
    for _ in range(runs):
        for name, work in works.items():
            started, started_cpu = time.perf_counter(), time.process_time()
            work()
            elapsed[name].append(time.perf_counter() - started)
            cpu[name].append(time.process_time() - started_cpu)
    return elapsed, cpu


# --- the works ------------------------------------------------------------------------------------


def ours(path: str) -> None:
    data = Path(path).read_bytes()
    make_renditions(data, "image/heic" if path.lower().endswith(".heic") else "image/jpeg")


def _vips_save(thumbnail, preview) -> tuple[bytes, bytes]:
    import pyvips

    keep = pyvips.enums.ForeignKeep.ICC
    return (
        thumbnail.webpsave_buffer(Q=THUMBNAIL_QUALITY, effort=THUMBNAIL_WEBP_METHOD, keep=keep),
        preview.jpegsave_buffer(Q=PREVIEW_QUALITY, keep=keep),
    )


def vips_two_thumbnails(path: str, thumbnail_side: int, preview_side: int) -> tuple[bytes, bytes]:
    import pyvips

    return _vips_save(pyvips.Image.thumbnail(path, thumbnail_side), pyvips.Image.thumbnail(path, preview_side))


def vips_thumbnail_from_preview(path: str, thumbnail_side: int, preview_side: int) -> tuple[bytes, bytes]:
    import pyvips

    preview = pyvips.Image.thumbnail(path, preview_side).copy_memory()
    return _vips_save(preview.thumbnail_image(thumbnail_side), preview)


def heif_decode_alone(path: str) -> None:
    import pillow_heif

    _decode_primary(pillow_heif.open_heif(Path(path).read_bytes(), convert_hdr_to_8bit=True))


def _decode_primary(heif_file) -> None:
    heif_file[heif_file.primary_index].load()


def heic_stages(heic: bytes) -> dict[str, Callable[[], object]]:
    """Each step of making the HEIC's renditions on its own, on the previous step's output."""
    import pillow_heif

    pillow_heif.register_heif_opener(thumbnails=True, depth_images=False, aux_images=False)
    decoded = Image.open(io.BytesIO(heic))
    decoded.load()
    icc = decoded.info["icc_profile"]
    reduced = decoded.reduce(2)
    lanczos = decoded.resize((1440, 1920), Image.Resampling.LANCZOS, reducing_gap=2.0)

    def embedded_thumbnail() -> Image.Image:
        image = Image.open(io.BytesIO(heic))
        image.draft(None, (240, 320))
        image.load()
        return image

    thumbnail = embedded_thumbnail()

    def encode(image: Image.Image, format: str, **options: object) -> bytes:
        buffer = io.BytesIO()
        image.save(buffer, format, icc_profile=icc, **options)
        return buffer.getvalue()

    def pillow_load() -> None:
        image = Image.open(io.BytesIO(heic))
        image.load()

    return {
        "decode through Pillow's plugin (pillow-heif's decode plus a copy into Pillow's memory)": pillow_load,
        "colour: read the profile's colour space (Display P3 is RGB: kept, no pixel conversion)": lambda: (
            media._to_display_colours(decoded, icc)
        ),
        "preview resize: box reduce by 2 to 1512 x 2016": lambda: decoded.reduce(2),
        "preview encode: JPEG quality 80": lambda: encode(reduced, "JPEG", quality=PREVIEW_QUALITY),
        "thumbnail: decode the embedded 240 x 320 HEVC thumbnail": embedded_thumbnail,
        "instead of the embedded thumbnail: scale the preview to 240 x 320": lambda: reduced.resize(
            (240, 320), Image.Resampling.LANCZOS, reducing_gap=2.0
        ),
        "thumbnail encode: WebP": lambda: encode(thumbnail, "WEBP", quality=THUMBNAIL_QUALITY, method=THUMBNAIL_WEBP_METHOD),
        "was: preview resize, Lanczos from 12 MP to 1440 x 1920": lambda: decoded.resize(
            (1440, 1920), Image.Resampling.LANCZOS, reducing_gap=2.0
        ),
        "was: preview encode, WebP method 2": lambda: encode(lanczos, "WEBP", quality=PREVIEW_QUALITY, method=PREVIEW_WEBP_METHOD),
    }


# --- peak memory ----------------------------------------------------------------------------------

_MEMORY_WORKS = {
    "ours": ours,
    "vips_two_thumbnails": vips_two_thumbnails,
    "vips_thumbnail_from_preview": vips_thumbnail_from_preview,
    "heif_decode_alone": heif_decode_alone,
}


def peak_rss_of_one_call(work: str, *arguments: object) -> float:
    """MiB the work adds to the peak RSS of a fresh interpreter that has imported everything it needs."""
    child = subprocess.run(
        [sys.executable, "-m", "bench.bench_renditions", "--measure-rss", json.dumps([work, *arguments])],
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    return json.loads(child.stdout)["growth_mib"]


def peak_rss_mib() -> float:
    # Linux keeps ru_maxrss across exec, so a child started by a big parent would report the
    # parent's peak; VmHWM belongs to the child's own address space.
    status = Path("/proc/self/status")
    if status.exists():
        match = re.search(r"^VmHWM:\s+(\d+) kB", status.read_text(), re.MULTILINE)
        if match:
            return int(match.group(1)) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_rss(request: str) -> None:
    import pillow_heif
    import pyvips

    work, *arguments = json.loads(request)
    pyvips.Image.black(1, 1).avg()  # libvips initialised before the baseline reading
    pillow_heif.register_heif_opener(thumbnails=True, depth_images=False, aux_images=False)
    before_mib = peak_rss_mib()
    _MEMORY_WORKS[work](*arguments)
    print(json.dumps({"growth_mib": peak_rss_mib() - before_mib}))


# --- report ---------------------------------------------------------------------------------------


def machine_note() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        names = re.findall(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
        cpu = names[0].strip() if names else cpu
    except OSError:
        pass
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, load average at start {load}"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}" if seconds < 0.01 else f"{seconds * 1000:.0f}"


def _stage_row(name: str, runs: list[float], cpu: list[float]) -> str:
    return (
        f"| {name} | {_ms(statistics.median(runs))} ms | {_ms(statistics.median(cpu))} ms | "
        f"{', '.join(_ms(t) for t in runs)} |"
    )


def _row(name: str, runs: list[float], cpu: list[float], memory: float) -> str:
    return (
        f"| {name} | {statistics.median(runs) * 1000:.0f} ms | {statistics.median(cpu) * 1000:.0f} ms | "
        f"{memory:.0f} MiB | {', '.join(f'{t * 1000:.0f}' for t in runs)} |"
    )


def _outputs(data: bytes, content_type: str) -> tuple[str, tuple[int, int], tuple[int, int]]:
    made = make_renditions(data, content_type)
    assert made is not None
    thumbnail, preview = Image.open(io.BytesIO(made.thumbnail.data)), Image.open(io.BytesIO(made.preview.data))
    text = (
        f"{made.thumbnail.content_type} thumbnail {thumbnail.size[0]} x {thumbnail.size[1]} "
        f"({len(made.thumbnail.data) / 1e3:.0f} kB), {made.preview.content_type} preview {preview.size[0]} x "
        f"{preview.size[1]} ({len(made.preview.data) / 1e3:.0f} kB)"
    )
    return text, thumbnail.size, preview.size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--no-write", action="store_true", help="print only, leave bench/RESULTS.md alone")
    parser.add_argument("--measure-rss", metavar="JSON", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.measure_rss:
        measure_rss(arguments.measure_rss)
        return

    note = machine_note()
    heic = REAL_HEIC.read_bytes()
    jpeg = camera_jpeg(heic)
    jpeg_outputs, thumbnail_size, preview_size = _outputs(jpeg, "image/jpeg")
    heic_outputs, _, _ = _outputs(heic, "image/heic")
    sides = (max(thumbnail_size), max(preview_size))
    stages = heic_stages(heic)
    with tempfile.TemporaryDirectory() as directory:
        jpeg_path = os.path.join(directory, "camera-12mp.jpg")
        Path(jpeg_path).write_bytes(jpeg)
        heic_path = str(REAL_HEIC)
        timings, cpu = interleaved_timings(
            {
                "ours_jpeg": lambda: ours(jpeg_path),
                "vips_two": lambda: vips_two_thumbnails(jpeg_path, *sides),
                "vips_from_preview": lambda: vips_thumbnail_from_preview(jpeg_path, *sides),
                "ours_heic": lambda: ours(heic_path),
                "heif_decode": lambda: heif_decode_alone(heic_path),
                **stages,
            },
            arguments.runs,
        )
        memory = {
            "ours_jpeg": peak_rss_of_one_call("ours", jpeg_path),
            "vips_two": peak_rss_of_one_call("vips_two_thumbnails", jpeg_path, *sides),
            "vips_from_preview": peak_rss_of_one_call("vips_thumbnail_from_preview", jpeg_path, *sides),
            "ours_heic": peak_rss_of_one_call("ours", heic_path),
            "heif_decode": peak_rss_of_one_call("heif_decode_alone", heic_path),
        }

    median = {name: statistics.median(runs) for name, runs in timings.items()}
    median_cpu = {name: statistics.median(runs) for name, runs in cpu.items()}
    vips_best = min(("vips_two", "vips_from_preview"), key=median.__getitem__)
    vips_best_cpu = min(("vips_two", "vips_from_preview"), key=median_cpu.__getitem__)
    jpeg_ratio = median["ours_jpeg"] / median[vips_best]
    jpeg_cpu_ratio = median_cpu["ours_jpeg"] / median_cpu[vips_best_cpu]
    heic_ratio = median["ours_heic"] / median["heif_decode"]
    heic_cpu_ratio = median_cpu["ours_heic"] / median_cpu["heif_decode"]
    lines = [
        "## Renditions: 12 MP camera JPEG against libvips, iPhone HEIC against decoding alone (`bench/bench_renditions.py`)",
        "",
        f"- Date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC",
        f"- Machine: {note}. Shared with other jobs: read the medians and ratios, not single runs.",
        f"- JPEG input: the real iPhone photo as a 4000 x 3000 camera JPEG (EXIF orientation 6, Display P3 profile, "
        f"quality 90), {len(jpeg) / 1e6:.1f} MB. Outputs: {jpeg_outputs}.",
        f"- HEIC input: the real iPhone 13 Pro Max HEIC (3024 x 4032 in 48 tiles, embedded 240 x 320 thumbnail), "
        f"{len(heic) / 1e6:.1f} MB. Outputs: {heic_outputs}.",
        f"- Both sides read the file from disk, decode it once per output at most with shrink-on-load, turn it upright, "
        f"keep the ICC profile and strip all other metadata. libvips `thumbnail` sizes to the longest side as "
        f"`make_renditions` does ({sides[0]} and {sides[1]} px).",
        "",
        f"| what | elapsed, median of {arguments.runs} | CPU time, median | peak RSS added | elapsed, all runs (ms) |",
        "|---|---|---|---|---|",
        *(
            _row(label, timings[name], cpu[name], memory[name])
            for name, label in (
                ("ours_jpeg", "`make_renditions`, 12 MP JPEG (Pillow: draft decode at 1/2, WebP + JPEG)"),
                ("vips_two", f"libvips: `thumbnail(path, {sides[0]})` + `thumbnail(path, {sides[1]})`"),
                ("vips_from_preview", f"libvips: `thumbnail(path, {sides[1]})`, thumbnail scaled from it"),
                ("ours_heic", "`make_renditions`, iPhone HEIC"),
                ("heif_decode", "pillow-heif decode alone, iPhone HEIC"),
            )
        ),
        "",
        f"- **12 MP JPEG: `make_renditions` / fastest libvips pipeline = {jpeg_ratio:.2f} elapsed, "
        f"{jpeg_cpu_ratio:.2f} CPU time** (target at most 1.0). Per process: {1 / median['ours_jpeg']:.1f} photos/s "
        f"against libvips' {1 / median[vips_best]:.1f} photos/s; per fully busy core (CPU time): "
        f"{1 / median_cpu['ours_jpeg']:.1f} against {1 / median_cpu[vips_best_cpu]:.1f} photos/s.",
        f"- **iPhone HEIC: `make_renditions` / decoding alone = {heic_ratio:.2f} elapsed, {heic_cpu_ratio:.2f} CPU "
        f"time** (target at most 1.5); {1 / median['ours_heic']:.1f} photos/s per process.",
        "",
        "Where the HEIC time goes, each stage on its own in the same rounds as the table above (the last two are "
        "what the previous pipeline did instead):",
        "",
        f"| stage | elapsed, median of {arguments.runs} | CPU time, median | elapsed, all runs (ms) |",
        "|---|---|---|---|",
        _stage_row("HEVC decode + YCbCr to RGB (pillow-heif alone, one libheif call does both)", timings["heif_decode"], cpu["heif_decode"]),
        *(_stage_row(name, timings[name], cpu[name]) for name in stages),
        "",
        "Decoding is the HEIC's cost; what is not decoding is now a box reduction by two (the result, 2016 px, is "
        "within the preview range, so no Lanczos pass over 12 MP), a JPEG encode, and the file's own 240 x 320 "
        "thumbnail re-encoded as WebP. While the full image is decoded for the preview anyway, the embedded "
        "thumbnail saves only the few milliseconds of scaling the preview (compare the two thumbnail rows).",
        "",
        f"Reproduce: `{COMMAND.format(runs=arguments.runs)}` (from the repository root).",
    ]
    section = "\n".join(lines)
    print(section)
    if not arguments.no_write:
        write_section("bench_renditions", section)
        print(f"\nWritten to {RESULTS}")


if __name__ == "__main__":
    main()

"""Real, tiny videos for tests, encoded with PyAV (FFmpeg's encoders: x264, x265, MPEG-4, libvpx).

Every clip starts with black frames (as a phone's clip often does when the lens adjusts), then shows
`camera_scene`, upright as displayed: with a `rotation` the frames are stored turned the other way
and the display matrix turns them back, the way phones record portrait video.
"""

from __future__ import annotations

import tempfile
from datetime import datetime, timezone
from fractions import Fraction

import av
from PIL import Image, ImageDraw

from tests.support.images import camera_scene

BLACK_FRAMES = 3
# x265 and libvpx at their defaults spend seconds on a few frames; these clips need no quality.
_FAST_OPTIONS = {
    "libx264": {"preset": "ultrafast"},
    "libx265": {"preset": "ultrafast", "x265-params": "log-level=error"},
    "libvpx-vp9": {"deadline": "realtime", "cpu-used": "8"},
}


def make_video(
    *,
    codec: str = "libx264",
    container: str = "mp4",
    width: int = 160,
    height: int = 96,
    seconds: float = 1.0,
    fps: int = 12,
    rotation: int = 0,
    created: datetime | None = None,
    quicktime_creationdate: str | None = None,
    make: str | None = None,
    model: str | None = None,
    location: str | None = None,
    moov_at_end: bool = False,
    audio: bool = True,
    gop: int | None = None,
) -> bytes:
    """The bytes of a `seconds`-long clip whose DISPLAYED size is `width` x `height`.

    `rotation` (counter-clockwise degrees, as FFmpeg's display matrix) stores the frames turned;
    `created` goes into the movie header, the QuickTime keys (`com.apple.quicktime.*`, as iPhones
    write them) into a `meta` box. The index (`moov`) is written first unless `moov_at_end`."""
    stored_width, stored_height = (height, width) if rotation % 180 else (width, height)
    movflags = [] if moov_at_end else ["+faststart"]
    metadata: dict[str, str] = {}
    if created is not None:
        metadata["creation_time"] = created.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000000Z")
    for key, value in (
        ("com.apple.quicktime.creationdate", quicktime_creationdate),
        ("com.apple.quicktime.make", make),
        ("com.apple.quicktime.model", model),
        ("com.apple.quicktime.location.ISO6709", location),
    ):
        if value is not None:
            metadata[key] = value
            if "+use_metadata_tags" not in movflags:
                movflags.append("+use_metadata_tags")
    options = {"movflags": "".join(movflags)} if movflags else {}
    # A file, not memory: `faststart` reads the written file back to move the index to the front.
    with tempfile.NamedTemporaryFile(suffix=f".{container}") as file:
        with av.open(file.name, "w", format=container, options=options) as output:
            output.metadata.update(metadata)
            video = output.add_stream(codec, rate=fps, options=_FAST_OPTIONS.get(codec, {}))
            video.width, video.height = stored_width, stored_height
            video.pix_fmt = "yuv420p"
            if gop is not None:
                video.codec_context.gop_size = gop
            if rotation % 360:
                video.set_display_rotation(rotation)
            sound = output.add_stream("aac", rate=48_000, layout="mono") if audio else None
            scene = camera_scene(width, height)
            for index in range(max(1, round(seconds * fps))):
                picture = Image.new("RGB", (width, height)) if index < BLACK_FRAMES else _moving(scene, index)
                stored = picture.rotate(-rotation, expand=True) if rotation % 360 else picture
                frame = av.VideoFrame.from_image(stored)
                frame.pts, frame.time_base = index, Fraction(1, fps)
                output.mux(video.encode(frame))
            output.mux(video.encode(None))
            if sound is not None:
                _add_silence(output, sound, seconds)
        return file.read()


def _moving(scene: Image.Image, index: int) -> Image.Image:
    """The scene with a bar that moves frame by frame (so frames differ, as in a real video)."""
    picture = scene.copy()
    x = (index * 7) % max(1, picture.width)
    ImageDraw.Draw(picture).rectangle((x, 0, x + 4, picture.height), fill=(255, 255, 255))
    return picture


def _add_silence(output: av.container.OutputContainer, sound: av.AudioStream, seconds: float) -> None:
    samples_per_frame = 1024
    total = round(48_000 * seconds)
    for start in range(0, total, samples_per_frame):
        count = min(samples_per_frame, total - start)
        frame = av.AudioFrame(format="fltp", layout="mono", samples=count)
        frame.sample_rate = 48_000
        frame.pts = start
        frame.planes[0].update(bytes(frame.planes[0].buffer_size))
        output.mux(sound.encode(frame))
    output.mux(sound.encode(None))

"""What a video holds (length, displayed size, capture time, camera, place), its poster frame, and a
copy every browser plays. FFmpeg's libraries do the work, through PyAV (its wheels bundle them).

Decisions this module makes (the ones users notice belong in the README too):
- Originals are read through ranged reads (`RangeReader`), never whole: a phone's 4 GB video costs
  a few megabytes of memory, and a `moov` box at the end of the file costs one seek.
- Sizes are as displayed: the display matrix (phones record portrait video as landscape frames with
  a quarter turn) swaps width and height, and the poster is turned upright the same way.
- The capture time is QuickTime's `com.apple.quicktime.creationdate` when present (it keeps the
  phone's UTC offset), else the movie header's `creation_time` (UTC by the standard). A zero or
  pre-1970 header time is a camera without a clock and means "unknown".
- The poster is the most detailed of a few frames sampled across the video (a greyscale histogram's
  entropy), so a fade from black or a lens cap at the start does not become the thumbnail.
- "Plays in every browser" means H.264 in 8-bit 4:2:0 with AAC or MP3 sound (or none), in MP4 or
  QuickTime: what Chrome, Firefox, Safari and Edge all decode. Anything else (HEVC from iPhones,
  MPEG-4 Part 2, VP9, AV1, 10-bit) gets a playback copy: H.264/AAC MP4, at most 1920 x 1080 (portrait
  1080 x 1920), with its index at the front (`faststart`) so playback starts before the download ends.
"""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterator

import av
from PIL import Image

# One ranged read fetches at least this much: FFmpeg reads in small pieces (32 KiB), and every
# piece from S3 would otherwise be a request of its own.
READ_AHEAD_BYTES = 1024 * 1024
POSTER_SAMPLES = 5
# The sampled frames are compared at this size: enough to tell detail from a flat frame, cheap.
_SCORING_SIDE = 160
PLAYBACK_MAX_LONG_SIDE = 1920
PLAYBACK_MAX_SHORT_SIDE = 1080
# x264's constant-quality mode at its default quality; "veryfast" is about three times faster than
# "medium" for files about 10% larger, which suits a copy made for viewing.
PLAYBACK_CRF = 23
PLAYBACK_PRESET = "veryfast"
PLAYBACK_AUDIO_BIT_RATE = 128_000
PLAYBACK_AUDIO_RATE = 48_000

_PLAYABLE_VIDEO_CODECS = frozenset({"h264"})
_PLAYABLE_PIXEL_FORMATS = frozenset({"yuv420p", "yuvj420p"})
_PLAYABLE_AUDIO_CODECS = frozenset({"aac", "mp3"})
_MAX_TEXT_LENGTH = 128
_ISO6709 = re.compile(r"([+-]\d+(?:\.\d+)?)([+-]\d+(?:\.\d+)?)")
_QUICKTIME_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})?")
_EARLIEST_CLOCK = datetime(1970, 1, 2, tzinfo=timezone.utc)

# What FFmpeg raises for content it cannot demux or decode (av.error.FFmpegError and its kinds are
# subclasses of these), plus ValueError for values PyAV cannot convert.
_DECODE_ERRORS = (av.error.FFmpegError, ValueError, OSError, EOFError)


class VideoError(Exception):
    """The content cannot be read as a video (corrupt, truncated, no video track); for the user."""


@dataclass(frozen=True)
class VideoInfo:
    width: int | None  # as displayed, after the display matrix
    height: int | None
    duration_ms: int | None
    taken_at: datetime | None  # tz-aware, UTC
    camera_make: str | None
    camera_model: str | None
    gps_latitude: float | None
    gps_longitude: float | None
    video_codec: str
    browser_playable: bool


class RangeReader(io.RawIOBase):
    """A seekable, read-only file over `read_range(start, length)`, as FFmpeg needs one: the bytes
    come in ranged reads of at least READ_AHEAD_BYTES, and only the last block is kept."""

    def __init__(self, read_range: Callable[[int, int], bytes], size: int, *, read_ahead: int = READ_AHEAD_BYTES) -> None:
        super().__init__()
        self._read_range = read_range
        self._size = size
        self._read_ahead = read_ahead
        self._position = 0
        self._block_start = 0
        self._block = b""

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

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        wanted = min(len(buffer), self._size - self._position)
        if wanted <= 0:
            return 0
        offset = self._position - self._block_start
        if not (0 <= offset and offset + wanted <= len(self._block)):
            length = min(max(wanted, self._read_ahead), self._size - self._position)
            self._block = self._read_range(self._position, length)
            self._block_start, offset = self._position, 0
            wanted = min(wanted, len(self._block))
        buffer[:wanted] = self._block[offset : offset + wanted]
        self._position += wanted
        return wanted


def inspect_video(source: io.RawIOBase) -> VideoInfo:
    """Length, displayed size, capture time, camera and place of a video. Reads the headers and
    decodes one frame (the display matrix comes with decoded frames). Raises VideoError."""
    with _open(source) as container:
        stream = _video_stream(container)
        rotation = _rotation(container, stream)
        width, height = stream.codec_context.width or None, stream.codec_context.height or None
        if width and height and rotation % 180:
            width, height = height, width
        metadata = {key.lower(): value for key, value in container.metadata.items()}
        latitude, longitude = _iso6709_position(
            metadata.get("com.apple.quicktime.location.iso6709") or metadata.get("location")
        )
        return VideoInfo(
            width=width,
            height=height,
            duration_ms=_duration_ms(container, stream),
            taken_at=_taken_at(metadata),
            camera_make=_text(metadata.get("com.apple.quicktime.make") or metadata.get("make") or metadata.get("com.android.manufacturer")),
            camera_model=_text(metadata.get("com.apple.quicktime.model") or metadata.get("model") or metadata.get("com.android.model")),
            gps_latitude=latitude,
            gps_longitude=longitude,
            video_codec=stream.codec_context.name,
            browser_playable=_browser_playable(container, stream),
        )


def poster_frame(source: io.RawIOBase, *, samples: int = POSTER_SAMPLES) -> Image.Image:
    """An upright RGB picture of the most detailed of `samples` frames spread over the video.
    Raises VideoError when no frame can be decoded."""
    with _open(source) as container:
        stream = _video_stream(container)
        duration = _duration_seconds(container, stream)
        best: tuple[float, Image.Image] | None = None
        # Evenly inside the video, never its first instant: 1/(n+1), 2/(n+1), ... of the length.
        moments = [duration * (i + 1) / (samples + 1) for i in range(samples)] if duration else [0.0]
        for moment in moments:
            frame = _frame_near(container, stream, moment)
            if frame is None:
                continue
            picture = _upright(frame, stream.sample_aspect_ratio)
            score = _detail(picture)
            if best is None or score > best[0]:
                best = (score, picture)
        if best is None:
            raise VideoError("No frame of the video can be decoded.")
        return best[1]


def make_playback_copy(source: io.RawIOBase, destination: Path) -> None:
    """Write an H.264/AAC MP4 of the video, at most 1920 x 1080, that every browser plays, to
    `destination`. The display matrix is kept, so the copy shows upright as the original does.
    Raises VideoError when the original cannot be decoded."""
    with _open(source) as container:
        video_in = _video_stream(container)
        # Frame threading decodes several frames at once: worth it for a whole video, not for one.
        video_in.thread_type = "AUTO"
        audio_in = container.streams.audio[0] if container.streams.audio else None
        try:
            with av.open(str(destination), "w", format="mp4", options={"movflags": "+faststart"}) as output:
                _transcode(container, video_in, audio_in, output)
        except _DECODE_ERRORS as error:
            raise VideoError(f"The video cannot be converted for playback: {error}") from None


# --- internals --------------------------------------------------------------------------------


def _open(source: io.RawIOBase) -> av.container.InputContainer:
    source.seek(0)
    try:
        return av.open(source, "r", buffer_size=64 * 1024)
    except _DECODE_ERRORS:
        raise VideoError("The file is not a readable video.") from None


def _video_stream(container: av.container.InputContainer) -> av.VideoStream:
    if not container.streams.video:
        raise VideoError("The file has no video track.")
    return container.streams.video[0]


def _frames(container: av.container.InputContainer, stream: av.VideoStream) -> Iterator[av.VideoFrame]:
    for packet in container.demux(stream):
        yield from packet.decode()


def _rotation(container: av.container.InputContainer, stream: av.VideoStream) -> int:
    """The display matrix's counter-clockwise turn: FFmpeg attaches it to decoded frames."""
    try:
        first = next(_frames(container, stream), None)
    except _DECODE_ERRORS:
        return 0
    return first.rotation if first is not None else 0


def _frame_near(container: av.container.InputContainer, stream: av.VideoStream, seconds: float) -> av.VideoFrame | None:
    """The first frame at or after `seconds`: decoding starts at the keyframe before it (phones put
    one every second or two), or the last frame decoded when the video ends first."""
    try:
        if stream.time_base:
            container.seek(int(seconds / stream.time_base) + (stream.start_time or 0), stream=stream, backward=True)
        stream.codec_context.flush_buffers()
        last = None
        for frame in _frames(container, stream):
            last = frame
            if frame.time is None or frame.time >= seconds:
                break
        return last
    except _DECODE_ERRORS:
        return None


def _upright(frame: av.VideoFrame, ratio: Fraction | None) -> Image.Image:
    picture = frame.to_image()  # RGB, in stored pixels: anamorphic video has non-square ones
    if ratio and ratio != 1:
        picture = picture.resize((max(1, round(picture.width * ratio)), picture.height))
    # `rotation` is counter-clockwise, as PIL's `rotate`.
    return picture.rotate(frame.rotation, expand=True) if frame.rotation % 360 else picture


def _detail(picture: Image.Image) -> float:
    small = picture.copy()
    small.thumbnail((_SCORING_SIDE, _SCORING_SIDE))
    return small.convert("L").entropy()


def _duration_seconds(container: av.container.InputContainer, stream: av.VideoStream) -> float | None:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / av.time_base
    return None


def _duration_ms(container: av.container.InputContainer, stream: av.VideoStream) -> int | None:
    seconds = _duration_seconds(container, stream)
    return round(seconds * 1000) if seconds and math.isfinite(seconds) and seconds > 0 else None


def _browser_playable(container: av.container.InputContainer, stream: av.VideoStream) -> bool:
    if stream.codec_context.name not in _PLAYABLE_VIDEO_CODECS:
        return False
    if stream.codec_context.pix_fmt not in _PLAYABLE_PIXEL_FORMATS:
        return False
    return all(audio.codec_context.name in _PLAYABLE_AUDIO_CODECS for audio in container.streams.audio)


def _transcode(
    container: av.container.InputContainer,
    video_in: av.VideoStream,
    audio_in: av.AudioStream | None,
    output: av.container.OutputContainer,
) -> None:
    width, height = _playback_size(video_in.codec_context.width, video_in.codec_context.height)
    rate = video_in.average_rate or video_in.guessed_rate or Fraction(30)
    video_out = output.add_stream("libx264", rate=rate, options={"crf": str(PLAYBACK_CRF), "preset": PLAYBACK_PRESET})
    video_out.width, video_out.height = width, height
    video_out.pix_fmt = "yuv420p"
    video_out.codec_context.time_base = video_in.time_base
    # The matrix goes into the track header, written before the first packet.
    rotation = _rotation(container, video_in)
    if rotation % 360:
        video_out.set_display_rotation(rotation)
    container.seek(0)
    audio_out = resampler = None
    if audio_in is not None:
        layout = "stereo" if audio_in.codec_context.channels >= 2 else "mono"
        audio_out = output.add_stream("aac", rate=PLAYBACK_AUDIO_RATE, layout=layout)
        audio_out.bit_rate = PLAYBACK_AUDIO_BIT_RATE
        resampler = av.AudioResampler(format="fltp", layout=layout, rate=PLAYBACK_AUDIO_RATE)
    streams = [video_in] if audio_in is None else [video_in, audio_in]
    for packet in container.demux(*streams):
        for frame in packet.decode():
            if isinstance(frame, av.VideoFrame):
                resized = frame.reformat(width=width, height=height, format="yuv420p")
                resized.pts, resized.time_base = frame.pts, frame.time_base
                output.mux(video_out.encode(resized))
            else:
                assert resampler is not None and audio_out is not None
                for resampled in resampler.resample(frame):
                    output.mux(audio_out.encode(resampled))
    output.mux(video_out.encode(None))
    if audio_out is not None and resampler is not None:
        for resampled in resampler.resample(None):
            output.mux(audio_out.encode(resampled))
        output.mux(audio_out.encode(None))


def _playback_size(width: int, height: int) -> tuple[int, int]:
    """The stored frame size scaled into 1920 x 1080 (either way round), even (H.264's 4:2:0)."""
    long_side, short_side = max(width, height), min(width, height)
    scale = min(1.0, PLAYBACK_MAX_LONG_SIDE / long_side, PLAYBACK_MAX_SHORT_SIDE / short_side)
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


def _text(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    printable = "".join(char for char in value if char.isprintable()).strip()
    return printable[:_MAX_TEXT_LENGTH] or None


def _taken_at(metadata: dict[str, str]) -> datetime | None:
    for key in ("com.apple.quicktime.creationdate", "creation_time"):
        moment = _parse_date(metadata.get(key))
        if moment is not None:
            return moment
    return None


def _parse_date(raw: str | None) -> datetime | None:
    match = _QUICKTIME_DATE.fullmatch(raw.strip()) if raw else None
    if match is None:
        return None
    *parts, zone = match.groups()
    try:
        local = datetime(*(int(part) for part in parts))
        offset = timezone.utc if zone in (None, "Z") else _offset(zone)
        moment = local.replace(tzinfo=offset).astimezone(timezone.utc)
    except (ValueError, OverflowError):
        return None
    return moment if moment >= _EARLIEST_CLOCK else None


def _offset(zone: str) -> timezone:
    digits = zone[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:])
    if hours > 14 or minutes >= 60:
        raise ValueError(zone)
    offset = timedelta(hours=hours, minutes=minutes)
    return timezone(-offset if zone[0] == "-" else offset)


def _iso6709_position(raw: str | None) -> tuple[float | None, float | None]:
    """Latitude and longitude of an ISO 6709 string such as "+48.8584+002.2945+035.000/"."""
    match = _ISO6709.match(raw.strip()) if raw else None
    if match is None:
        return None, None
    latitude, longitude = float(match.group(1)), float(match.group(2))
    if not (abs(latitude) <= 90 and abs(longitude) <= 180) or (latitude == 0 and longitude == 0):
        return None, None
    return round(latitude, 7), round(longitude, 7)

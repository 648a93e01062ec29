"""The video adapter on real clips encoded by FFmpeg: metadata through ranged reads, the poster frame,
and the playback copy every browser plays."""

from __future__ import annotations

import io
from datetime import datetime, timezone

import av
import pytest
from PIL import Image, ImageStat

from photosync.adapters import video
from photosync.adapters.objectstore.ranged import open_stored
from photosync.adapters.video import VideoError, inspect_video, make_playback_copy, poster_frame
from tests.support.videos import make_video

UTC = timezone.utc
CREATED = datetime(2024, 5, 1, 10, 20, 30, tzinfo=UTC)


class CountingSource:
    """A store holding one object, served by ranged reads only, each one recorded (as S3's
    GetObject with Range would be)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.reads: list[tuple[int, int]] = []

    def read_range(self, key: str, start: int, length: int) -> bytes:
        self.reads.append((start, length))
        return self.data[start : start + length]

    def reader(self, read_ahead: int = video.READ_AHEAD_BYTES):
        return open_stored(self, "originals/o/v", len(self.data), read_ahead=read_ahead)  # type: ignore[arg-type]

    @property
    def bytes_read(self) -> int:
        return sum(len(self.data[start : start + length]) for start, length in self.reads)


def source_of(data: bytes):
    return CountingSource(data).reader()


CLIPS = {
    "h264-mp4": (dict(codec="libx264", container="mp4"), "h264", True),
    "hevc-mov": (dict(codec="libx265", container="mov"), "hevc", False),
    "mpeg4-mp4": (dict(codec="mpeg4", container="mp4"), "mpeg4", False),
    "vp9-mp4": (dict(codec="libvpx-vp9", container="mp4", audio=False), "vp9", False),
    "h264-mov": (dict(codec="libx264", container="mov"), "h264", True),
}


@pytest.mark.parametrize("name", sorted(CLIPS))
def test_each_codec_gives_length_size_time_and_whether_browsers_play_it(name):
    options, codec, playable = CLIPS[name]
    data = make_video(**options, width=160, height=96, seconds=1.5, created=CREATED)

    info = inspect_video(source_of(data))

    assert (info.width, info.height) == (160, 96)
    assert info.duration_ms == pytest.approx(1500, abs=90)  # within a frame (and AAC's priming)
    assert info.taken_at == CREATED
    assert (info.video_codec, info.browser_playable) == (codec, playable)


@pytest.mark.parametrize("rotation", [90, 270, 180], ids=["quarter", "three-quarters", "half"])
def test_a_rotated_video_has_its_displayed_size_and_an_upright_poster(rotation):
    data = make_video(width=96, height=160, rotation=rotation)

    info = inspect_video(source_of(data))
    poster = poster_frame(source_of(data))

    assert (info.width, info.height) == (96, 160)
    assert poster.size == (96, 160)
    assert_upright(poster)


def test_metadata_at_the_end_of_a_file_is_read_in_ranges_not_whole():
    data = make_video(width=640, height=480, seconds=5, moov_at_end=True, created=CREATED)
    assert data.rfind(b"moov") > data.find(b"mdat")  # the index really is at the end
    counting = CountingSource(data)

    info = inspect_video(counting.reader(read_ahead=4096))

    assert (info.width, info.height, info.duration_ms, info.taken_at) == (640, 480, 5000, CREATED)
    assert counting.reads and max(length for _, length in counting.reads) <= 64 * 1024
    assert any(start > data.find(b"mdat") for start, _ in counting.reads)  # it jumped to the index
    assert counting.bytes_read < len(data) / 2  # the header, the index and the first frame


def test_quicktime_keys_give_the_local_capture_time_camera_and_place():
    data = make_video(
        codec="libx265", container="mov", created=datetime(2024, 5, 1, 23, 59, 59, tzinfo=UTC),
        quicktime_creationdate="2024-05-01T12:20:30+0200", make="Apple", model="iPhone 15 Pro",
        location="+48.8584+002.2945+035.000/",
    )

    info = inspect_video(source_of(data))

    # The phone's own clock reading with its offset wins over the movie header's time.
    assert info.taken_at == datetime(2024, 5, 1, 10, 20, 30, tzinfo=UTC)
    assert (info.camera_make, info.camera_model) == ("Apple", "iPhone 15 Pro")
    assert (info.gps_latitude, info.gps_longitude) == (48.8584, 2.2945)


def test_a_video_without_a_clock_has_no_time_and_no_camera():
    info = inspect_video(source_of(make_video()))
    assert (info.taken_at, info.camera_make, info.camera_model, info.gps_latitude) == (None, None, None, None)


def test_the_poster_is_not_the_black_first_frame():
    data = make_video(width=160, height=96, seconds=2)
    with av.open(io.BytesIO(data)) as container:
        first = next(container.decode(video=0)).to_image()
    assert ImageStat.Stat(first.convert("L")).mean[0] < 5  # the clip does open on black

    poster = poster_frame(source_of(data))

    assert poster.size == (160, 96)
    assert ImageStat.Stat(poster.convert("L")).mean[0] > 60
    assert_upright(poster)


def test_the_poster_is_found_with_sparse_keyframes():
    # One keyframe for the whole clip: every sample decodes forward from the start.
    data = make_video(seconds=2, gop=1000)
    assert ImageStat.Stat(poster_frame(source_of(data)).convert("L")).mean[0] > 60


@pytest.mark.parametrize("rotation", [0, 90], ids=["landscape", "portrait"])
def test_the_playback_copy_is_h264_aac_and_plays_upright(tmp_path, rotation):
    width, height = (96, 160) if rotation else (160, 96)
    data = make_video(codec="libx265", container="mov", width=width, height=height, rotation=rotation, seconds=1.5)
    copy = tmp_path / "playback.mp4"

    make_playback_copy(source_of(data), copy)

    info = inspect_video(io.FileIO(copy))
    assert (info.video_codec, info.browser_playable, info.width, info.height) == ("h264", True, width, height)
    assert info.duration_ms == pytest.approx(1500, abs=90)
    with av.open(str(copy)) as container:
        assert [s.codec_context.name for s in container.streams.audio] == ["aac"]
    head = copy.read_bytes()[:4096]
    assert head.find(b"moov") != -1 and head.find(b"moov") < max(head.find(b"mdat"), 4096)  # faststart
    assert_upright(poster_frame(io.FileIO(copy)))


def test_a_silent_video_gets_a_silent_copy(tmp_path):
    copy = tmp_path / "playback.mp4"
    make_playback_copy(source_of(make_video(codec="mpeg4", audio=False)), copy)
    with av.open(str(copy)) as container:
        assert (len(container.streams.video), len(container.streams.audio)) == (1, 0)


@pytest.mark.parametrize(
    ("stored", "copy"),
    [
        ((3840, 2160), (1920, 1080)),
        ((2160, 3840), (1080, 1920)),
        ((1920, 1080), (1920, 1080)),
        ((640, 480), (640, 480)),  # never upscaled
        ((1440, 1440), (1080, 1080)),
        ((1921, 1081), (1920, 1080)),  # even, as 4:2:0 needs
    ],
)
def test_the_playback_copy_fits_1080p_either_way_round(stored, copy):
    assert video._playback_size(*stored) == copy


@pytest.mark.parametrize(
    "data",
    [b"\x00\x00\x00\x18ftypisom" + bytes(100), b"not a video at all" * 10],
    ids=["empty-box", "garbage"],
)
def test_what_is_not_a_video_is_a_video_error(data):
    with pytest.raises(VideoError):
        inspect_video(source_of(data))
    with pytest.raises(VideoError):
        poster_frame(source_of(data))


def test_a_video_cut_before_its_index_is_a_video_error():
    data = make_video(moov_at_end=True)
    with pytest.raises(VideoError):
        inspect_video(source_of(data[: data.rfind(b"moov") - 4]))


def assert_upright(picture: Image.Image) -> None:
    """`camera_scene`'s red grows left to right and its green top to bottom."""
    width, height = picture.size
    left = ImageStat.Stat(picture.crop((0, 0, width // 4, height))).mean
    right = ImageStat.Stat(picture.crop((width * 3 // 4, 0, width, height))).mean
    top = ImageStat.Stat(picture.crop((0, 0, width, height // 4))).mean
    bottom = ImageStat.Stat(picture.crop((0, height * 3 // 4, width, height))).mean
    assert right[0] > left[0] + 40, (left, right)
    assert bottom[1] > top[1] + 40, (top, bottom)

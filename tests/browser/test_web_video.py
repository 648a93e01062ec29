"""Videos in the web client: the viewer plays them with their poster and seeks through HTTP range
requests, from the original when Chromium plays it and from the playback copy when it does not."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page, expect

from tests.browser.library import ApiClient
from tests.browser.test_web_library import sign_in, tile
from tests.support.videos import make_video

pytestmark = pytest.mark.browser

RENDITIONS_WAIT_SECONDS = 120
CLIP_SECONDS = 6


def wait_for_renditions(api: ApiClient, photo_id: str) -> dict:
    """The photo once its renditions are made (they may come after the upload is complete)."""
    deadline = time.monotonic() + RENDITIONS_WAIT_SECONDS
    while time.monotonic() < deadline:
        photo = api._ok(api.http.get(f"/photos/{photo_id}"))
        if photo["preview_url"]:
            return photo
        time.sleep(0.2)
    raise AssertionError(f"no renditions for {photo_id} in {RENDITIONS_WAIT_SECONDS}s")


def play_and_seek(page: Page, filename: str, ranges: list[str]) -> dict:
    """Open `filename` in the viewer, play it, seek near its end; the player's state there."""
    tile(page, filename).click()
    video = page.locator("#viewer video")
    expect(video).to_be_visible()
    ranges.clear()
    # Muted, so autoplay rules let a script start it.
    video.evaluate("v => { v.muted = true; return v.play(); }")
    # Functions with arguments, not strings: the app's CSP forbids eval.
    page.wait_for_function("after => document.querySelector('#viewer video').currentTime > after", arg=0.3)
    video.evaluate("(v, to) => { v.pause(); v.currentTime = to; }", CLIP_SECONDS - 1.5)
    page.wait_for_function(
        "at => { const v = document.querySelector('#viewer video'); return !v.seeking && v.currentTime >= at; }",
        arg=CLIP_SECONDS - 1.6,
    )
    state = video.evaluate(
        "v => ({src: v.currentSrc, poster: v.poster, time: v.currentTime, error: v.error && v.error.code,"
        " width: v.videoWidth, height: v.videoHeight})"
    )
    page.keyboard.press("Escape")
    return state


def test_the_viewer_plays_videos_and_seeks_with_range_requests(open_page, server, api: ApiClient, email):
    playable = make_video(codec="libx264", container="mp4", width=320, height=192, seconds=CLIP_SECONDS, fps=12, gop=12)
    portrait_hevc = make_video(
        codec="libx265", container="mov", width=192, height=320, rotation=90, seconds=CLIP_SECONDS, fps=12, gop=12
    )
    h264 = wait_for_renditions(api, api.upload(playable, "beach.mp4", "video/mp4"))
    hevc = wait_for_renditions(api, api.upload(portrait_hevc, "portrait.mov", "video/quicktime"))
    assert (h264["duration_ms"], h264["playback_url"]) == (CLIP_SECONDS * 1000, None)
    assert (hevc["width"], hevc["height"], hevc["duration_ms"]) == (192, 320, CLIP_SECONDS * 1000)
    assert hevc["playback_url"] is not None

    page, _ = open_page(server)
    ranges: list[str] = []
    # What the store answered to the player's range requests ("206 bytes 0-..." when honoured).
    page.on("response", lambda response: ranges.append(f"{response.status} {response.headers.get('content-range')}")
            if "range" in response.request.headers and "/_store/" in response.url else None)
    sign_in(page, email)
    expect(page.locator(".tile")).to_have_count(2)
    expect(tile(page, "beach.mp4").locator(".tile-badge")).to_have_text(f"▶ 0:0{CLIP_SECONDS}")
    expect(tile(page, "portrait.mov").locator("img")).to_be_visible()  # the poster's thumbnail
    # Chromium here has no HEVC decoder: the copy is what makes that video play.
    assert page.evaluate("document.createElement('video').canPlayType('video/mp4; codecs=\"hvc1.1.6.L93.B0\"')") == ""

    original = play_and_seek(page, "beach.mp4", ranges)
    assert original["error"] is None and original["time"] >= CLIP_SECONDS - 1.6
    assert "/_store/objects/originals/" in original["src"]
    assert "/_store/objects/previews/" in original["poster"]
    assert any(answer.startswith("206 bytes ") for answer in ranges), ranges

    copy = play_and_seek(page, "portrait.mov", ranges)
    assert copy["error"] is None and copy["time"] >= CLIP_SECONDS - 1.6
    assert "/_store/objects/playback/" in copy["src"]
    assert (copy["width"], copy["height"]) == (192, 320)  # upright, as the phone held it
    assert any(answer.startswith("206 bytes ") for answer in ranges), ranges
    expect(page.locator("#viewer")).to_be_hidden()

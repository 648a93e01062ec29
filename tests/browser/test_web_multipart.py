"""The web client sends a big file in parts against a real `photosync serve`: each part PUT straight
from the file, progress shown as the bytes go, a part whose transfer breaks sent again, and the
photo's bytes are the file's."""

from __future__ import annotations

import hashlib
import re
import struct

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.library import ApiClient
from tests.browser.test_web_library import sign_in
from tests.support.images import make_mp4

pytestmark = pytest.mark.browser

MiB = 1024 * 1024
# Above the web client's 64 MiB threshold; the server's parts are 8 MiB, so ten parts, the last short.
VIDEO_BYTES = 75 * MiB + 12345
BROKEN_PART = 2

RECORD_STATUSES = """() => {
  window.uploadStatuses = [];
  new MutationObserver(() => {
    for (const status of document.querySelectorAll(".upload-status")) {
      if (window.uploadStatuses.at(-1) !== status.textContent) window.uploadStatuses.push(status.textContent);
    }
  }).observe(document.body, { subtree: true, childList: true, characterData: true });
}"""


def big_video(size: int) -> bytes:
    """An MP4's boxes followed by a `free` box of noise up to `size` bytes."""
    head = make_mp4(1280, 720)
    padding = size - len(head) - 8
    return head + struct.pack(">I4s", padding + 8, b"free") + hashlib.shake_256(b"web multipart").digest(padding)


def test_a_big_video_goes_up_in_parts_with_progress_and_a_broken_part_is_sent_again(
    open_page, server, api: ApiClient, email, tmp_path
):
    data = big_video(VIDEO_BYTES)
    path = tmp_path / "holiday.mp4"
    path.write_bytes(data)
    page, problems = open_page(server)
    # Chromium logs the transfer the test breaks.
    problems.expected.append(re.compile("ERR_CONNECTION_RESET"))
    sign_in(page, email)
    page.evaluate(RECORD_STATUSES)

    part_puts: list[int] = []
    broken: list[int] = []

    def on_part(route):
        number = int(re.search(r"[?&]part=(\d+)", route.request.url).group(1))
        part_puts.append(number)
        if number == BROKEN_PART and not broken:
            broken.append(number)
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route(re.compile(r".*/_store/parts/.*"), on_part)
    page.locator("#file-input").set_input_files(path)

    item = page.locator(".upload-item", has_text="holiday.mp4")
    expect(item).to_have_attribute("data-status", "done", timeout=180_000)

    statuses = page.evaluate("window.uploadStatuses")
    percentages = [int(m.group(1)) for s in statuses if (m := re.fullmatch(r"Uploading (\d+)%", s))]
    assert any(0 < value < 100 for value in percentages), statuses
    assert sorted(set(part_puts)) == list(range(1, 11)), part_puts
    assert len(part_puts) == 11 and part_puts.count(BROKEN_PART) == 2  # the broken part, once more
    [photo_id] = api.all_photo_ids()
    link = api.http.get(f"/photos/{photo_id}/download").json()["url"]
    downloaded = httpx.get(link, timeout=60).content
    assert hashlib.sha256(downloaded).hexdigest() == hashlib.sha256(data).hexdigest()
    assert api.me()["storage_used"] == VIDEO_BYTES


def test_an_interrupted_big_upload_resumes_after_a_reload_with_only_the_missing_parts(
    open_page, server, api: ApiClient, email, tmp_path
):
    data = big_video(VIDEO_BYTES - 3 * MiB)
    path = tmp_path / "concert.mp4"
    path.write_bytes(data)
    page, problems = open_page(server)
    problems.expected.append(re.compile("ERR_CONNECTION_RESET"))
    sign_in(page, email)
    first_run: list[int] = []

    def connection_lost_after_part_4(route):
        number = int(re.search(r"[?&]part=(\d+)", route.request.url).group(1))
        first_run.append(number)
        if number <= 4:
            route.continue_()
        else:
            route.abort("connectionreset")

    page.route(re.compile(r".*/_store/parts/.*"), connection_lost_after_part_4)
    page.locator("#file-input").set_input_files(path)
    expect(page.locator(".upload-item", has_text="concert.mp4")).to_have_attribute("data-status", "failed", timeout=180_000)
    assert {1, 2, 3, 4} <= set(first_run)
    page.unroute(re.compile(r".*/_store/parts/.*"))

    page.reload()
    expect(page.locator("#app")).to_be_visible()
    second_run: list[int] = []
    page.on("request", lambda request: second_run.append(int(re.search(r"[?&]part=(\d+)", request.url).group(1)))
            if "/_store/parts/" in request.url else None)
    page.locator("#file-input").set_input_files(path)

    expect(page.locator(".upload-item", has_text="concert.mp4")).to_have_attribute("data-status", "done", timeout=180_000)
    assert sorted(second_run) == list(range(5, 11)), second_run  # parts 1-4 were not sent again
    [photo_id] = api.all_photo_ids()
    link = api.http.get(f"/photos/{photo_id}/download").json()["url"]
    assert hashlib.sha256(httpx.get(link, timeout=60).content).hexdigest() == hashlib.sha256(data).hexdigest()
    assert api.me()["storage_used"] == len(data) and api.me()["storage_pending"] == 0

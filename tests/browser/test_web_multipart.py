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

    def part_number(url: str) -> int:
        return int(re.search(r"[?&]part=(\d+)", url).group(1))

    def connection_lost_after_part_4(route):
        number = part_number(route.request.url)
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
    # Parts still in flight when the file failed may have been retried, and stored, after the
    # unroute: what storage holds now is what must not be sent again.
    [unfinished] = page.evaluate("Object.values(JSON.parse(localStorage.getItem('photosync.unfinishedUploads')))")
    held = {part["number"] for part in api.http.get(f"/uploads/{unfinished['upload_id']}/parts").json()["parts"]}
    assert {1, 2, 3, 4} <= held and held != set(range(1, 11))
    second_run: list[int] = []
    page.on("request", lambda request: second_run.append(part_number(request.url))
            if "/_store/parts/" in request.url else None)
    page.locator("#file-input").set_input_files(path)

    expect(page.locator(".upload-item", has_text="concert.mp4")).to_have_attribute("data-status", "done", timeout=180_000)
    assert sorted(second_run) == sorted(set(range(1, 11)) - held), (second_run, held)  # only the missing parts
    [photo_id] = api.all_photo_ids()
    link = api.http.get(f"/photos/{photo_id}/download").json()["url"]
    assert hashlib.sha256(httpx.get(link, timeout=60).content).hexdigest() == hashlib.sha256(data).hexdigest()
    assert api.me()["storage_used"] == len(data) and api.me()["storage_pending"] == 0

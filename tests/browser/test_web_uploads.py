"""What the upload panel tells the user: already backed up, over quota (with the numbers), refused."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SMALL_QUOTA_BYTES
from tests.browser.library import ApiClient, distinct_jpeg, human_bytes
from tests.browser.test_web_library import sign_in
from tests.support.images import make_jpeg

pytestmark = pytest.mark.browser


def test_duplicate_is_reported_as_already_backed_up(open_page, server, api: ApiClient, email):
    photo = distinct_jpeg(7)
    page, _ = open_page(server)
    sign_in(page, email)
    page.locator("#file-input").set_input_files([{"name": "first.jpg", "mimeType": "image/jpeg", "buffer": photo}])
    expect(page.locator(".upload-item[data-status=done]")).to_have_count(1)
    used = api.me()["storage_used"]

    page.locator("#file-input").set_input_files([{"name": "copy-of-first.jpg", "mimeType": "image/jpeg", "buffer": photo}])
    duplicate = page.locator(".upload-item", has_text="copy-of-first.jpg")
    expect(duplicate).to_have_attribute("data-status", "duplicate")
    expect(duplicate.locator(".upload-status")).to_have_text("Already backed up")
    expect(page.locator("#upload-subtitle")).to_contain_text("1 already backed up")
    expect(page.locator("#photos-view .tile")).to_have_count(1)
    assert api.me()["storage_used"] == used
    assert len(api.all_photo_ids()) == 1


def test_over_quota_shows_the_numbers_and_unsupported_files_are_named(open_page, small_quota_server, email):
    fits = make_jpeg(320, 240)
    too_big = make_jpeg(1400, 1100)
    with ApiClient(small_quota_server.base_url, email) as api:
        page, problems = open_page(small_quota_server)
        problems.expect_http_error(413)
        problems.expect_http_error(415)
        sign_in(page, email)
        expect(page.locator(".storage-text")).to_have_text(f"0 B of {human_bytes(SMALL_QUOTA_BYTES)} used")
        page.locator("#file-input").set_input_files([{"name": "fits.jpg", "mimeType": "image/jpeg", "buffer": fits}])
        expect(page.locator(".upload-item[data-status=done]")).to_have_count(1)
        assert len(fits) + len(too_big) > SMALL_QUOTA_BYTES

        page.locator("#file-input").set_input_files([
            {"name": "too-big.jpg", "mimeType": "image/jpeg", "buffer": too_big},
            {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"not a photo"},
        ])
        over = page.locator(".upload-item", has_text="too-big.jpg")
        expect(over).to_have_attribute("data-status", "failed")
        account = api.me()
        assert account["storage_used"] == len(fits)
        message = over.locator(".upload-status")
        expect(message).to_contain_text("Not enough storage")
        expect(message).to_contain_text(f"{human_bytes(account['storage_used'])} used")
        expect(message).to_contain_text(f"of {human_bytes(SMALL_QUOTA_BYTES)}")
        expect(message).to_contain_text(f"needs {human_bytes(len(too_big))}")
        refused = page.locator(".upload-item", has_text="notes.txt")
        expect(refused).to_have_attribute("data-status", "failed")
        expect(refused.locator(".upload-status")).to_contain_text("Not a supported photo or video")
        expect(page.locator(".storage-text")).to_have_text(
            f"{human_bytes(len(fits))} of {human_bytes(SMALL_QUOTA_BYTES)} used"
        )
        assert len(api.all_photo_ids()) == 1


def test_a_drop_of_many_files_is_granted_in_batches_and_each_content_backed_up_once(open_page, server, api: ApiClient, email):
    photos = {f"IMG_{n}.jpg": distinct_jpeg(300 + n) for n in range(8)}
    photos["copy of IMG_0.jpg"] = photos["IMG_0.jpg"]
    page, _ = open_page(server)
    grants: list[dict] = []

    def record(request) -> None:
        path = request.url.removeprefix(server.base_url)
        if request.method == "POST" and path.startswith("/uploads"):
            grants.append({"path": path, "body": request.post_data_json})

    page.on("request", record)
    sign_in(page, email)

    page.locator("#file-input").set_input_files(
        [{"name": name, "mimeType": "image/jpeg", "buffer": data} for name, data in photos.items()]
    )

    items = page.locator(".upload-item")
    expect(items).to_have_count(len(photos))
    for name in photos:
        expect(page.locator(".upload-item", has_text=name).first).to_have_attribute("data-status", re.compile("done|duplicate"))
    expect(page.locator("#photos-view .tile")).to_have_count(len(photos) - 1)
    assert sorted(api.all_photo_ids()) == sorted(set(api.all_photo_ids()))
    assert len(api.all_photo_ids()) == len(photos) - 1
    assert {g["path"] for g in grants} == {"/uploads/batch"}, grants
    assert sorted(f["filename"] for g in grants for f in g["body"]["files"]) == sorted(photos)
    assert api.me()["storage_pending"] == 0

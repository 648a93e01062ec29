"""The everyday path through the web client: sign in, back up, look, download, organise, delete."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE
from tests.browser.library import ApiClient, distinct_jpeg, human_bytes
from tests.support.images import make_jpeg

pytestmark = pytest.mark.browser

XSS_NAME = "<img src=x onerror=alert(1)>.jpg"


def sign_in(page: Page, email: str) -> None:
    page.goto("/")
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#app")).to_be_visible()
    expect(page.locator("#account-email")).to_have_text(email)


def tile(page: Page, filename: str):
    """The tile of `filename` in the view on screen (other views keep theirs, hidden)."""
    return page.locator(f'.view:not([hidden]) .tile[title="{filename}"]')


def test_upload_view_download_album_and_delete(open_page, server, api: ApiClient, email, tmp_path: Path, artifacts):
    beach = make_jpeg(1200, 800, taken_at=datetime(2024, 7, 14, 10, 30, tzinfo=timezone.utc))
    forest = make_jpeg(800, 1200, taken_at=datetime(2024, 7, 13, 16, 5, tzinfo=timezone.utc))
    page, _ = open_page(server)
    sign_in(page, email)
    expect(page.locator(".empty-state")).to_contain_text("No photos yet")
    expect(page.locator(".storage-text")).to_have_text("0 B of 15 GB used")

    page.locator("#file-input").set_input_files([
        {"name": "beach.jpg", "mimeType": "image/jpeg", "buffer": beach},
        {"name": "forest.jpg", "mimeType": "image/jpeg", "buffer": forest},
    ])
    expect(page.locator(".upload-item[data-status=done]")).to_have_count(2)
    expect(page.locator("#upload-title")).to_have_text("Uploads finished")
    expect(page.locator(".tile")).to_have_count(2)
    expect(tile(page, "beach.jpg").locator("img")).to_have_attribute("loading", "lazy")
    expect(page.locator(".storage-text")).to_have_text(f"{human_bytes(len(beach) + len(forest))} of 15 GB used")
    ids = api.all_photo_ids()
    assert len(ids) == 2
    page.screenshot(path=str(artifacts / "timeline-after-upload.png"), full_page=True)

    # The viewer: details, keyboard navigation, download of the original bytes.
    shown_order = [title for title in page.locator(".tile").evaluate_all("tiles => tiles.map(t => t.title)")]
    assert sorted(shown_order) == ["beach.jpg", "forest.jpg"]
    viewer = page.locator("#viewer")
    page.locator(".tile").first.click()
    expect(viewer).to_be_visible()
    expect(viewer.locator(".viewer-filename")).to_have_text(shown_order[0])
    page.keyboard.press("ArrowRight")
    expect(viewer.locator(".viewer-filename")).to_have_text(shown_order[1])
    page.keyboard.press("ArrowLeft")
    expect(viewer.locator(".viewer-filename")).to_have_text(shown_order[0])
    page.keyboard.press("Escape")
    expect(viewer).to_be_hidden()
    tile(page, "beach.jpg").click()
    expect(viewer.locator(".viewer-filename")).to_have_text("beach.jpg")
    expect(viewer.locator("[data-field=size]")).to_have_text(human_bytes(len(beach)))
    expect(viewer.locator("[data-field=dimensions]")).to_have_text("1200 × 800")
    with page.expect_download() as download_info:
        viewer.get_by_role("button", name="Download original").click()
    download = download_info.value
    assert download.suggested_filename == "beach.jpg"
    saved = tmp_path / "downloaded.jpg"
    download.save_as(saved)
    assert saved.read_bytes() == beach

    # Into a new album, and seen there.
    viewer.get_by_role("button", name="Add to album").click()
    picker = page.locator("#album-picker")
    picker.get_by_placeholder("New album name").fill("Summer 2024")
    picker.get_by_role("button", name="Create & add").click()
    expect(picker).to_be_hidden()
    expect(page.locator(".toast")).to_contain_text("Added to Summer 2024")
    page.keyboard.press("Escape")
    expect(viewer).to_be_hidden()
    page.get_by_role("link", name="Albums", exact=True).click()
    album_card = page.locator(".album-card", has_text="Summer 2024")
    expect(album_card).to_contain_text("1 item")
    album_card.click()
    expect(page.locator("#album-view h1")).to_have_text("Summer 2024")
    expect(page.locator("#album-view .tile")).to_have_count(1)
    expect(tile(page, "beach.jpg")).to_be_visible()

    # Move to the trash from inside the album, through the confirmation dialog: it leaves the album
    # and the timeline, and still counts in the storage until deleted for good (test_web_trash.py).
    used_before = page.locator(".storage-text").inner_text()
    tile(page, "beach.jpg").click()
    viewer.get_by_role("button", name="Move to trash").click()
    confirm = page.locator("#confirm-dialog")
    expect(confirm).to_contain_text("beach.jpg")
    confirm.get_by_role("button", name="Move to trash").click()
    expect(viewer).to_be_hidden()
    expect(page.locator(".toast").last).to_have_text("Moved to trash")
    expect(page.locator("#album-view .tile")).to_have_count(0)
    expect(page.locator("#album-view .empty-state")).to_be_visible()
    expect(page.locator(".storage-text")).to_have_text(used_before)
    page.get_by_role("link", name="Photos", exact=True).click()
    expect(page.locator("#photos-view .tile")).to_have_count(1)
    expect(tile(page, "forest.jpg")).to_be_visible()
    assert api.all_photo_ids() == [pid for pid in ids if pid != ids_of(api, ids, "beach.jpg")]
    assert api.me()["storage_used"] == len(beach) + len(forest)
    assert api.me()["storage_trash"] == len(beach)


def ids_of(api: ApiClient, ids: list[str], filename: str) -> str | None:
    """The id among `ids` whose photo had `filename` (photos in the trash still answer)."""
    for photo_id in ids:
        if api.http.get(f"/photos/{photo_id}").json()["filename"] == filename:
            return photo_id
    return None


def test_markup_in_names_is_shown_as_text(open_page, server, api: ApiClient, email):
    page, problems = open_page(server)
    sign_in(page, email)
    page.locator("#file-input").set_input_files([{"name": XSS_NAME, "mimeType": "image/jpeg", "buffer": distinct_jpeg(1)}])
    expect(page.locator(".upload-item[data-status=done]")).to_have_count(1)
    expect(page.locator(".upload-name")).to_have_text(XSS_NAME)
    tile(page, XSS_NAME).click()
    expect(page.locator(".viewer-filename")).to_have_text(XSS_NAME)
    expect(page.locator(".viewer-filename")).to_be_visible()
    page.keyboard.press("Escape")

    album_name = '<b onmouseover="alert(2)">Trip</b>'
    page.get_by_role("link", name="Albums", exact=True).click()
    page.get_by_role("button", name="New album").click()
    page.locator("#prompt-input").fill(album_name)
    page.locator("#prompt-dialog").get_by_role("button", name="Create").click()
    expect(page.locator("#album-view h1")).to_have_text(album_name)

    assert page.locator('img[src="x"]').count() == 0
    assert page.locator("#app b").count() == 0
    page.locator("#album-view h1").hover()
    assert problems.dialogs == []


def test_phone_layout_fits_and_opens_the_viewer(open_page, server, api: ApiClient, email, artifacts):
    api.upload_many([(distinct_jpeg(index), f"phone-{index}.jpg") for index in range(9)])
    page, _ = open_page(server, PHONE)
    sign_in(page, email)
    expect(page.locator(".tile")).to_have_count(9)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(artifacts / "timeline-phone.png"))
    page.locator(".tile").first.click()
    expect(page.locator("#viewer").get_by_role("button", name="Download original")).to_be_in_viewport()
    page.screenshot(path=str(artifacts / "viewer-phone.png"))

"""The web client's trash and change feed (issue 10, item 7): delete, find it in Trash, restore it,
delete it forever, empty the trash; and a timeline that follows changes made elsewhere, no reload."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE
from tests.browser.library import ApiClient, distinct_jpeg, human_bytes
from tests.browser.test_web_library import sign_in, tile

pytestmark = pytest.mark.browser


def trash_item(page: Page, filename: str):
    return page.locator(f'#trash-view .trash-item[aria-label="{filename}"]')


def shown_order(page: Page) -> list[str]:
    return page.locator("#photos-view .tile").evaluate_all("tiles => tiles.map(t => t.title)")


def test_delete_find_in_trash_restore_and_delete_forever(open_page, server, api: ApiClient, email, artifacts):
    beach, forest = distinct_jpeg(1), distinct_jpeg(2)
    beach_id, forest_id = api.upload_many([(beach, "beach.jpg"), (forest, "forest.jpg")])
    album = api._ok(api.http.post("/albums", json={"name": "Holiday"}))
    api._ok(api.http.post(f"/albums/{album['id']}/photos", json={"photo_ids": [beach_id]}))
    both = human_bytes(len(beach) + len(forest))
    page, _ = open_page(server)
    sign_in(page, email)
    expect(page.locator("#photos-view .tile")).to_have_count(2)

    # Delete: "Move to trash", confirmed; it leaves the timeline, still counts in the storage.
    tile(page, "beach.jpg").click()
    viewer = page.locator("#viewer")
    viewer.get_by_role("button", name="Move to trash").click()
    confirm = page.locator("#confirm-dialog")
    expect(confirm).to_contain_text("You can restore it from Trash")
    confirm.get_by_role("button", name="Move to trash").click()
    expect(viewer.locator(".viewer-filename")).to_have_text("forest.jpg")  # the viewer moves on
    page.keyboard.press("Escape")
    expect(viewer).to_be_hidden()
    expect(page.locator("#photos-view .tile")).to_have_count(1)
    expect(page.locator(".storage-text")).to_have_text(f"{both} of 15 GB used")

    # Find it in the Trash, with its days left.
    page.get_by_role("link", name="Trash", exact=True).click()
    item = trash_item(page, "beach.jpg")
    expect(item).to_be_visible()
    expect(item.locator(".trash-left")).to_have_text("30 days left")
    expect(page.locator("#trash-view .trash-item")).to_have_count(1)
    page.screenshot(path=str(artifacts / "trash.png"), full_page=True)

    # Restore it: back in the timeline and in its album.
    item.get_by_role("button", name="Restore").click()
    expect(page.locator(".toast").last).to_have_text("Restored beach.jpg")
    expect(page.locator("#trash-view .empty-state")).to_contain_text("Trash is empty")
    page.get_by_role("link", name="Photos", exact=True).click()
    expect(page.locator("#photos-view .tile")).to_have_count(2)
    expect(tile(page, "beach.jpg")).to_be_visible()
    page.goto(f"/#/albums/{album['id']}")
    expect(page.locator("#album-view .tile")).to_have_count(1)
    expect(tile(page, "beach.jpg")).to_be_visible()

    # Delete it forever: trash it again, then "Delete forever" in the Trash, confirmed.
    tile(page, "beach.jpg").click()
    viewer.get_by_role("button", name="Move to trash").click()
    confirm.get_by_role("button", name="Move to trash").click()
    expect(page.locator("#album-view .tile")).to_have_count(0)
    page.get_by_role("link", name="Trash", exact=True).click()
    trash_item(page, "beach.jpg").get_by_role("button", name="Delete forever").click()
    expect(confirm).to_contain_text("This cannot be undone")
    confirm.get_by_role("button", name="Delete forever").click()
    expect(page.locator("#trash-view .empty-state")).to_be_visible()
    expect(page.locator(".storage-text")).to_have_text(f"{human_bytes(len(forest))} of 15 GB used")
    assert api.me()["storage_used"] == len(forest)
    lookup = api._ok(api.http.post("/photos/lookup", json={"sha256": [hashlib.sha256(beach).hexdigest()]}))
    assert lookup["deleted"] == [hashlib.sha256(beach).hexdigest()]

    # Empty the trash, after a confirmation that can be cancelled.
    api.http.delete(f"/photos/{forest_id}").raise_for_status()
    page.get_by_role("link", name="Photos", exact=True).click()
    page.get_by_role("link", name="Trash", exact=True).click()
    expect(trash_item(page, "forest.jpg")).to_be_visible()
    page.get_by_role("button", name="Empty trash").click()
    confirm.get_by_role("button", name="Cancel").click()
    expect(trash_item(page, "forest.jpg")).to_be_visible()
    page.get_by_role("button", name="Empty trash").click()
    expect(confirm).to_contain_text("Every photo in the trash will be deleted for good")
    confirm.get_by_role("button", name="Empty trash").click()
    expect(page.locator(".toast").last).to_have_text(f"Deleted 1 photo forever, freed {human_bytes(len(forest))}")
    expect(page.locator("#trash-view .empty-state")).to_be_visible()
    expect(page.locator(".storage-text")).to_have_text("0 B of 15 GB used")
    assert api.me()["storage_used"] == 0


def test_the_open_timeline_follows_uploads_and_deletions_made_elsewhere(open_page, server, api: ApiClient, email):
    def taken(day: int) -> bytes:
        return distinct_jpeg(0, base=datetime(2024, 3, day, 12, 0, tzinfo=timezone.utc))

    api.upload_many([(taken(1), "march-1.jpg"), (taken(20), "march-20.jpg")])
    page, _ = open_page(server)
    sign_in(page, email)
    expect(page.locator("#photos-view .tile")).to_have_count(2)
    page.evaluate("window.__notReloaded = true")

    # Another session of the same user (a phone, the CLI) backs up a photo: it appears in its place.
    with ApiClient(server.base_url, email) as phone:
        middle = phone.upload(taken(10), "march-10.jpg")
        expect(tile(page, "march-10.jpg")).to_be_visible()  # by the poll interval, no user action
        assert shown_order(page) == ["march-20.jpg", "march-10.jpg", "march-1.jpg"]

        # Moved to the trash elsewhere: it goes; noticed at once when the window regains focus.
        phone.http.delete(f"/photos/{middle}").raise_for_status()
        page.evaluate("window.dispatchEvent(new Event('focus'))")
        expect(tile(page, "march-10.jpg")).to_have_count(0)
        newest = phone.upload(taken(25), "march-25.jpg")
        page.evaluate("window.dispatchEvent(new Event('focus'))")
        expect(page.locator("#photos-view .tile").first).to_have_attribute("title", "march-25.jpg")

        # Deleted for good elsewhere: gone too.
        phone.http.delete(f"/photos/{newest}").raise_for_status()
        phone.http.delete(f"/trash/{newest}").raise_for_status()
        page.evaluate("window.dispatchEvent(new Event('focus'))")
        expect(tile(page, "march-25.jpg")).to_have_count(0)
    assert shown_order(page) == ["march-20.jpg", "march-1.jpg"]
    assert page.evaluate("window.__notReloaded") is True


def test_trash_fits_a_phone(open_page, server, api: ApiClient, email, artifacts):
    photo_ids = api.upload_many([(distinct_jpeg(index), f"phone-trash-{index}.jpg") for index in range(3)])
    for photo_id in photo_ids:
        api.http.delete(f"/photos/{photo_id}").raise_for_status()
    page, _ = open_page(server, PHONE)
    sign_in(page, email)
    page.goto("/#/trash")
    expect(page.locator("#trash-view .trash-item")).to_have_count(3)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    expect(page.locator("#trash-view .trash-item").first.get_by_role("button", name="Restore")).to_be_in_viewport()
    page.screenshot(path=str(artifacts / "trash-phone.png"))

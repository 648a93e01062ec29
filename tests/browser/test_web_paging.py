"""A large library loads page by page as the user scrolls, each photo exactly once, in order."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.library import ApiClient, distinct_jpeg
from tests.browser.test_web_library import sign_in

pytestmark = pytest.mark.browser

LIBRARY_SIZE = 300
MAX_SCROLLS = 60


@pytest.fixture
def large_library(api: ApiClient) -> list[str]:
    api.upload_many([(distinct_jpeg(index, width=48, height=36), f"IMG_{index:04d}.jpg") for index in range(LIBRARY_SIZE)])
    ids = api.all_photo_ids()
    assert len(ids) == LIBRARY_SIZE
    return ids


def test_scrolling_loads_every_photo_once_in_order(open_page, server, email, large_library, artifacts):
    page, _ = open_page(server)
    sign_in(page, email)
    tiles = page.locator("#photos-view .tile")
    expect(tiles.first).to_be_visible()
    expect(page.locator(".month-title").first).to_be_visible()
    page.screenshot(path=str(artifacts / "timeline.png"))
    first_screen = tiles.count()
    assert 0 < first_screen < LIBRARY_SIZE, "the first screen should not load the whole library"

    for _ in range(MAX_SCROLLS):
        if tiles.count() == LIBRARY_SIZE:
            break
        page.locator(".timeline-sentinel").scroll_into_view_if_needed()
        page.mouse.wheel(0, 4000)
        expect(page.locator("#photos-view .timeline-status.busy")).to_have_count(0)

    expect(tiles).to_have_count(LIBRARY_SIZE)
    shown = tiles.evaluate_all("tiles => tiles.map(tile => tile.dataset.photoId)")
    assert len(set(shown)) == LIBRARY_SIZE
    assert shown == large_library, "the grid shows the photos in the API's newest-first order"
    assert tiles.locator("img[loading=lazy]").count() == LIBRARY_SIZE

"""The phone app in a browser: sign in, back up real camera files, browse, album, free up space."""

from __future__ import annotations

import json
import re
import time
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import REAL_PHOTOS
from tests.mobile_web.conftest import by_id

pytestmark = pytest.mark.browser

BACKED_UP = [
    REAL_PHOTOS / "orientation" / "landscape_6.jpg",  # EXIF orientation 6: stored sideways
    REAL_PHOTOS / "orientation" / "portrait_8.jpg",
    REAL_PHOTOS / "Canon_40D.jpg",
    REAL_PHOTOS / "DSCN0010-gps.jpg",
    REAL_PHOTOS / "iphone_13_pro_max.HEIC",
]
NOT_A_PHOTO = REAL_PHOTOS / "README.md"
PICKED_LATER = REAL_PHOTOS / "orientation" / "portrait_1.jpg"

expect.set_options(timeout=60_000)


def new_email() -> str:
    return f"phone-{uuid.uuid4().hex[:12]}@example.com"


def dev_sign_in(page: Page, email: str) -> None:
    page.goto("/app/")
    expect(by_id(page, "signin-screen")).to_be_visible()
    by_id(page, "email-input").fill(email)
    by_id(page, "dev-signin").click()
    expect(by_id(page, "photos-screen")).to_be_visible()


def natural_size(page: Page, filename: str) -> tuple[int, int]:
    image = by_id(page, f"thumb-{filename}").locator("img")
    expect(image).to_have_count(1)
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    return tuple(image.evaluate("img => [img.naturalWidth, img.naturalHeight]"))


def freeup_offered(page: Page) -> list[str]:
    expect(by_id(page, "freeup-summary")).to_be_visible()
    items = page.locator("[data-testid^='freeup-item-']")
    return sorted(name.removeprefix("freeup-item-") for name in items.evaluate_all("els => els.map(e => e.dataset.testid)"))


def test_back_up_browse_album_and_free_up_space(phone, screenshots):
    page, _ = phone
    page.goto("/app/")
    expect(by_id(page, "signin-screen")).to_be_visible()
    page.screenshot(path=screenshots / "1-sign-in.png")
    by_id(page, "email-input").fill(new_email())
    by_id(page, "dev-signin").click()
    expect(by_id(page, "photos-screen")).to_be_visible()

    # Back up: the real camera files go in through the web media source (a file input).
    by_id(page, "tab-backup").click()
    by_id(page, "file-input").set_input_files([*BACKED_UP, NOT_A_PHOTO])
    expect(page.get_by_text("(6 chosen)")).to_be_visible()
    by_id(page, "backup-start").click()
    expect(by_id(page, "backup-report")).to_contain_text("5 uploaded · 0 already backed up")
    page.screenshot(path=screenshots / "2-backup.png")

    # A second run sends nothing: the server has it all.
    by_id(page, "backup-start").click()
    expect(by_id(page, "backup-report")).to_contain_text("0 uploaded · 5 already backed up")

    # The timeline shows their thumbnails, the right way up.
    by_id(page, "tab-photos").click()
    landscape_w, landscape_h = natural_size(page, "landscape_6.jpg")
    portrait_w, portrait_h = natural_size(page, "portrait_8.jpg")
    assert landscape_w > landscape_h, (landscape_w, landscape_h)
    assert portrait_h > portrait_w, (portrait_w, portrait_h)
    for path in BACKED_UP:
        expect(by_id(page, f"photo-{path.name}")).to_be_visible()
    expect(by_id(page, f"photo-{NOT_A_PHOTO.name}")).to_have_count(0)
    page.screenshot(path=screenshots / "3-timeline.png")

    # Open one, put it in a new album.
    by_id(page, "photo-landscape_6.jpg").click()
    expect(by_id(page, "viewer-details")).to_contain_text("×")
    preview = by_id(page, "viewer-preview").locator("img")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=preview.element_handle())
    width, height = preview.evaluate("img => [img.naturalWidth, img.naturalHeight]")
    assert width > height
    with page.expect_download() as download_info:
        by_id(page, "viewer-download").click()
    download = download_info.value
    assert download.suggested_filename == "landscape_6.jpg"
    assert Path(download.path()).read_bytes() == BACKED_UP[0].read_bytes()
    by_id(page, "viewer-new-album").fill("Holiday")
    by_id(page, "viewer-create-album").click()
    expect(by_id(page, "viewer-message")).to_have_text("Added to Holiday.")
    page.screenshot(path=screenshots / "4-viewer.png")
    page.go_back()

    # Move one to the trash: free up space must no longer offer it.
    by_id(page, "photo-Canon_40D.jpg").click()
    by_id(page, "viewer-delete").click()
    by_id(page, "viewer-confirm-delete").click()
    expect(by_id(page, "photos-screen")).to_be_visible()
    expect(by_id(page, "photo-Canon_40D.jpg")).to_have_count(0)

    by_id(page, "tab-albums").click()
    expect(by_id(page, "album-Holiday")).to_contain_text("1 photo")
    by_id(page, "album-Holiday").click()
    expect(by_id(page, "album-title")).to_have_text("Holiday")
    expect(by_id(page, "album-photos").get_by_test_id("thumb-landscape_6.jpg")).to_be_visible()
    page.screenshot(path=screenshots / "5-album.png")
    page.go_back()

    # One more file chosen but never backed up.
    by_id(page, "tab-backup").click()
    by_id(page, "file-input").set_input_files([PICKED_LATER])
    expect(page.get_by_text("(7 chosen)")).to_be_visible()

    # Free up space offers exactly what the server confirms: not the trashed one, not the one never
    # backed up, not the file that is no photo.
    by_id(page, "tab-freeup").click()
    by_id(page, "freeup-find").click()
    confirmed = sorted(p.name for p in BACKED_UP if p.name != "Canon_40D.jpg")
    assert freeup_offered(page) == confirmed
    expect(by_id(page, "freeup-summary")).to_contain_text(f"{len(confirmed)} of {len(confirmed)} backed-up photos selected")
    page.screenshot(path=screenshots / "6-free-up-review.png")

    # Deselect one, delete the rest; only the deselected one is offered afterwards.
    by_id(page, "freeup-item-DSCN0010-gps.jpg").click()
    expect(by_id(page, "freeup-summary")).to_contain_text(f"{len(confirmed) - 1} of {len(confirmed)}")
    by_id(page, "freeup-next").click()
    by_id(page, "freeup-confirm").click()
    expect(by_id(page, "freeup-result")).to_contain_text(f"{len(confirmed) - 1} local copies deleted")
    page.screenshot(path=screenshots / "7-free-up-done.png")
    by_id(page, "freeup-find").click()
    assert freeup_offered(page) == ["DSCN0010-gps.jpg"]

    by_id(page, "tab-account").click()
    expect(by_id(page, "quota-text")).to_contain_text("used")
    expect(by_id(page, "account-email")).to_contain_text("@example.com")
    page.screenshot(path=screenshots / "8-account.png")


def test_sign_in_with_authorization_code_and_pkce(phone, screenshots):
    page, _ = phone
    email = new_email()
    page.goto("/app/")
    with page.expect_popup() as popup_info:
        by_id(page, "browser-signin").click()
    popup = popup_info.value
    # The local identity provider's hosted sign-in page, as Cognito's hosted UI would be in AWS.
    expect(popup.locator("#email")).to_be_visible()
    assert "code_challenge_method=S256" in popup.url and "code_challenge=" in popup.url
    popup.locator("#email").fill(email)
    popup.get_by_role("button", name="Sign in").click()
    popup.wait_for_event("close")
    expect(by_id(page, "photos-screen")).to_be_visible()
    by_id(page, "tab-account").click()
    expect(by_id(page, "account-email")).to_have_text(email)
    page.screenshot(path=screenshots / "9-pkce-signed-in.png")

    # Shortly before the access token expires the app refreshes it with the refresh token.
    first_token = page.evaluate(
        """(now) => {
        const session = JSON.parse(sessionStorage.getItem('photosync.session'));
        session.expiresAt = now + 5000;
        sessionStorage.setItem('photosync.session', JSON.stringify(session));
        return session.accessToken;
    }""",
        int(time.time() * 1000),
    )
    page.reload()
    page.wait_for_function(
        "(old) => { const s = JSON.parse(sessionStorage.getItem('photosync.session') || 'null');"
        " return s && s.accessToken !== old && s.expiresAt > Date.now() + 600000; }",
        arg=first_token,
    )
    expect(by_id(page, "account-email")).to_have_text(email)


def test_unreachable_server_says_no_connection(phone, screenshots):
    page, problems = phone
    for each in problems:
        # The request the test provokes is refused by the CSP or the closed port, as intended.
        each.expected.append(re.compile(r"Content Security Policy|ERR_CONNECTION_REFUSED|Failed to fetch"))
    page.goto("/app/")
    by_id(page, "server-input").fill("http://127.0.0.1:9")
    by_id(page, "email-input").fill(new_email())
    by_id(page, "dev-signin").click()
    expect(by_id(page, "signin-error")).to_contain_text("No connection to http://127.0.0.1:9")
    page.screenshot(path=screenshots / "10-no-connection.png")


def test_a_session_the_server_refuses_ends_with_a_message(phone, mobile_server):
    page, problems = phone
    for each in problems:
        each.expect_http_error(401)
    dev_sign_in(page, new_email())
    # The token no longer checks out (revoked, or signed by a key the server rotated away).
    page.evaluate(
        """() => {
        const session = JSON.parse(sessionStorage.getItem('photosync.session'));
        session.accessToken = session.accessToken.slice(0, -8) + 'AAAAAAAA';
        sessionStorage.setItem('photosync.session', JSON.stringify(session));
    }"""
    )
    page.reload()
    expect(by_id(page, "signin-notice")).to_have_text("Your session has expired. Sign in again to continue.")


def test_an_expired_session_asks_to_sign_in_again(phone):
    page, _ = phone
    dev_sign_in(page, new_email())
    page.evaluate(
        """(now) => {
        const session = JSON.parse(sessionStorage.getItem('photosync.session'));
        session.expiresAt = now - 1000;
        sessionStorage.setItem('photosync.session', JSON.stringify(session));
    }""",
        int(time.time() * 1000),
    )
    page.reload()
    expect(by_id(page, "signin-notice")).to_have_text("Your session has expired. Sign in again to continue.")
    assert json.loads(page.evaluate("() => JSON.stringify(sessionStorage.getItem('photosync.session'))")) is None


def test_a_full_quota_stops_the_backup_with_the_numbers(phone_small_quota, screenshots):
    page, problems = phone_small_quota
    for each in problems:
        each.expect_http_error(413)
    dev_sign_in(page, new_email())
    by_id(page, "tab-backup").click()
    by_id(page, "file-input").set_input_files([REAL_PHOTOS / "orientation" / "landscape_1.jpg", REAL_PHOTOS / "iphone_13_pro_max.HEIC"])
    by_id(page, "backup-start").click()
    error = by_id(page, "backup-error")
    expect(error).to_contain_text("Storage full")
    expect(error).to_contain_text("reserved of 200 KB; this file needs 2.1 MB")
    expect(error).to_contain_text("Free up space on the server")
    expect(by_id(page, "backup-start")).to_have_text("Resume backup")
    expect(by_id(page, "device-album-Chosen files")).to_contain_text("(2)")
    page.screenshot(path=screenshots / "11-quota-exceeded.png")

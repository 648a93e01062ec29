"""Sharing in the web client: an album shared with a second signed-in user, who opens it and (as a
contributor) adds a photo, and a public link opened signed out in a fresh browser context."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.library import ApiClient, distinct_jpeg
from tests.browser.test_web_library import sign_in

pytestmark = pytest.mark.browser


def open_album(page: Page, name: str) -> None:
    page.get_by_role("link", name="Albums", exact=True).click()
    page.locator(".album-card", has_text=name).click()
    expect(page.locator("#album-view h1")).to_have_text(name)


def test_share_with_a_second_user_who_opens_the_album_and_adds_a_photo(open_page, server, api: ApiClient, email):
    api.upload(distinct_jpeg(1), "owners-beach.jpg")
    friend_email = f"friend-{uuid.uuid4().hex[:10]}@example.com"
    owner_page, _ = open_page(server)
    sign_in(owner_page, email)
    owner_page.get_by_role("link", name="Albums", exact=True).click()
    owner_page.get_by_role("button", name="New album").click()
    owner_page.locator("#prompt-input").fill("Family")
    owner_page.locator("#prompt-dialog").get_by_role("button", name="Create").click()
    expect(owner_page.locator("#album-view h1")).to_have_text("Family")
    owner_page.get_by_role("link", name="Photos", exact=True).click()
    owner_page.locator(".tile").first.click()
    owner_page.locator("#viewer").get_by_role("button", name="Add to album").click()
    owner_page.locator("#album-picker .album-choice", has_text="Family").click()
    expect(owner_page.locator(".toast").last).to_have_text("Added to Family")
    owner_page.keyboard.press("Escape")

    # The owner shares with someone who has not signed in yet, as a contributor.
    open_album(owner_page, "Family")
    owner_page.get_by_role("button", name="Share").click()
    share = owner_page.locator("#share-dialog")
    share.get_by_label("Person to share with").fill(friend_email)
    share.get_by_label("Role", exact=True).select_option("contributor")
    share.get_by_role("button", name="Add", exact=True).click()
    member = share.locator(".share-row", has_text=friend_email)
    expect(member).to_contain_text("Invited")
    expect(member.get_by_label(f"Role of {friend_email}")).to_have_value("contributor")
    share.get_by_role("button", name="Done").click()
    expect(share).to_be_hidden()

    # The friend signs in for the first time: the album is among "Shared with me", with its owner.
    friend_page, _ = open_page(server)
    sign_in(friend_page, friend_email)
    friend_page.get_by_role("link", name="Albums", exact=True).click()
    shared = friend_page.locator("[data-albums=shared] .album-card", has_text="Family")
    expect(shared).to_contain_text(f"Shared by {email}")
    expect(friend_page.locator("[data-albums=own] .album-card")).to_have_count(0)
    shared.click()
    album = friend_page.locator("#album-view")
    expect(album.locator("h1")).to_have_text("Family")
    expect(album.locator(".tile")).to_have_count(1)
    expect(album.locator(".album-sharing")).to_have_text(f"Shared by {email} · Can add photos")
    # Members look; renaming, sharing and deleting stay the owner's.
    expect(album.get_by_role("button", name="Leave album")).to_be_visible()
    for owner_only in ("Rename", "Delete album", "Share"):
        expect(album.get_by_role("button", name=owner_only, exact=True)).to_have_count(0)
    album.locator(".tile").first.click()
    viewer = friend_page.locator("#viewer")
    expect(viewer.locator(".viewer-filename")).to_have_text("owners-beach.jpg")
    expect(viewer.get_by_role("button", name="Download original")).to_be_visible()
    for not_theirs in ("Move to trash", "Add to album", "Remove from album"):
        expect(viewer.get_by_role("button", name=not_theirs)).to_be_hidden()
    friend_page.keyboard.press("Escape")

    # The contributor uploads a photo of their own and adds it to the shared album.
    friend_page.get_by_role("link", name="Photos", exact=True).click()
    friend_page.locator("#file-input").set_input_files([
        {"name": "friends-picnic.jpg", "mimeType": "image/jpeg", "buffer": distinct_jpeg(2)},
    ])
    expect(friend_page.locator(".upload-item[data-status=done]")).to_have_count(1)
    friend_page.locator('#photos-view .tile[title="friends-picnic.jpg"]').click()
    viewer.get_by_role("button", name="Add to album").click()
    choice = friend_page.locator("#album-picker .album-choice", has_text="Family")
    expect(choice).to_contain_text(f"Shared by {email}")
    choice.click()
    expect(friend_page.locator(".toast").last).to_have_text("Added to Family")
    friend_page.keyboard.press("Escape")
    open_album(friend_page, "Family")
    expect(friend_page.locator("#album-view .tile")).to_have_count(2)

    # The owner sees it, a photo that stays the contributor's.
    owner_page.reload()
    expect(owner_page.locator("#album-view .tile")).to_have_count(2)
    owner_page.locator('#album-view .tile[title="friends-picnic.jpg"]').click()
    owner_viewer = owner_page.locator("#viewer")
    expect(owner_viewer.get_by_role("button", name="Remove from album")).to_be_visible()
    expect(owner_viewer.get_by_role("button", name="Move to trash")).to_be_hidden()
    owner_page.keyboard.press("Escape")

    # The owner makes the friend a viewer, then removes them: each change reaches the friend's page.
    owner_page.get_by_role("button", name="Share").click()
    member = share.locator(".share-row", has_text=friend_email)
    expect(member).not_to_contain_text("Invited")
    member.get_by_label(f"Role of {friend_email}").select_option("viewer")
    expect(owner_page.locator(".toast").last).to_have_text(f"{friend_email}: can view")
    friend_page.reload()
    expect(friend_page.locator("#album-view .album-sharing")).to_have_text(f"Shared by {email} · Can view")
    member.get_by_role("button", name=f"Remove {friend_email}").click()
    expect(share.locator(".share-row")).to_have_count(0)
    expect(share.locator(".share-members")).to_have_text("Not shared with anyone yet.")
    friend_page.get_by_role("link", name="Albums", exact=True).click()
    expect(friend_page.locator("#albums-view .empty-state")).to_be_visible()
    expect(friend_page.locator("#albums-view .album-card")).to_have_count(0)


def test_public_link_opened_signed_out_asks_for_the_password_and_shows_the_grid(
    open_page, server, api: ApiClient, email, tmp_path: Path
):
    originals = [distinct_jpeg(index, width=640, height=480) for index in range(3)]
    photo_ids = api.upload_many([(data, f"wedding-{index}.jpg") for index, data in enumerate(originals)])
    album = api._ok(api.http.post("/albums", json={"name": "Wedding"}))
    api._ok(api.http.post(f"/albums/{album['id']}/photos", json={"photo_ids": photo_ids}))

    page, _ = open_page(server)
    sign_in(page, email)
    open_album(page, "Wedding")
    page.get_by_role("button", name="Share").click()
    share = page.locator("#share-dialog")
    share.get_by_label("Expires").select_option("7")
    share.get_by_label("Password").fill("open sesame")
    share.get_by_role("button", name="Create link").click()
    link_row = share.locator(".share-link").first
    expect(link_row).to_contain_text("Password · Downloads allowed")
    url = link_row.get_by_label("Public link").input_value()
    assert "/s/" in url

    # A fresh context: no session, no storage shared with the owner's tab.
    visitor, problems = open_page(server)
    problems.expect_http_error(401)
    visitor.goto(url)
    form = visitor.locator("#public-password")
    expect(form).to_be_visible()
    expect(visitor.locator("#signin")).to_be_hidden()
    expect(visitor.locator("#public-grid .tile")).to_have_count(0)
    form.get_by_label("Password").fill("wrong guess")
    form.get_by_role("button", name="Open album").click()
    expect(form.locator(".notice")).to_have_text("That password is not right. Try again.")
    form.get_by_label("Password").fill("open sesame")
    form.get_by_role("button", name="Open album").click()
    expect(form).to_be_hidden()
    expect(visitor.locator("#public-title")).to_have_text("Wedding")
    expect(visitor.locator("#public-count")).to_have_text("3 items")
    expect(visitor.locator("#public-grid .tile")).to_have_count(3)
    expect(visitor.locator("#public-grid .tile img").first).to_have_attribute("src", re.compile(r"."))

    # The viewer, and the original's bytes when the link allows downloads.
    visitor.locator("#public-grid .tile").first.click()
    viewer = visitor.locator("#public-viewer")
    expect(viewer.locator(".viewer-image")).to_be_visible()
    visitor.keyboard.press("ArrowRight")
    with visitor.expect_download() as download_info:
        viewer.get_by_role("button", name="Download original").click()
    saved = tmp_path / "public-download.jpg"
    download_info.value.save_as(saved)
    assert saved.read_bytes() in originals
    # Nothing in the page names the owner or the files.
    content = visitor.content()
    assert email not in content and "wedding-" not in content
    visitor.keyboard.press("Escape")

    # Revoked, the link shows nothing any more.
    link_row.get_by_role("button", name="Revoke").click()
    page.locator("#confirm-dialog").get_by_role("button", name="Revoke").click()
    expect(share.locator(".share-link")).to_have_count(0)
    problems.expect_http_error(404)
    visitor.reload()
    expect(visitor.locator("#public-title")).to_have_text("Link not available")
    expect(visitor.locator("#public-message")).to_contain_text("does not work any more")
    expect(visitor.locator("#public-grid .tile")).to_have_count(0)

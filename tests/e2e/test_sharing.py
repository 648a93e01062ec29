"""Sharing end to end against a real `photosync serve`: invitations that wait for a first sign-in,
contributors' photos and quotas, what leaves an album when, public links' expiry, deletion and
password limits, and that nobody who lost access is handed a pre-signed URL again."""

from __future__ import annotations

import base64
import time
import uuid
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from tests.e2e.api import ApiUser, assert_error
from tests.support.images import make_jpeg


def jpeg(label: str) -> bytes:
    return make_jpeg(model=f"{label}-{uuid.uuid4().hex}")


def email(label: str) -> str:
    return f"{label}-{uuid.uuid4().hex[:10]}@example.com"


def sync_all(user: ApiUser) -> list[dict]:
    changes, cursor = [], None
    while True:
        response = user.request("GET", "/sync", params={"cursor": cursor} if cursor else {})
        assert response.status_code == 200, response.text
        page = response.json()
        changes += page["changes"]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            return changes


def albums_of(changes: list[dict]) -> dict[str, dict]:
    """The albums a client holds after applying `changes` in order."""
    held: dict[str, dict] = {}
    for change in changes:
        if change["type"] != "album":
            continue
        if change["op"] == "upsert":
            held[change["album"]["id"]] = change["album"]
        else:
            held.pop(change["id"], None)
    return held


def album_photo_ids(user: ApiUser, album_id: str) -> set[str]:
    return {p["id"] for p in user.all_photos(album_id=album_id)}


def share(owner: ApiUser, album_id: str, address: str, role: str) -> dict:
    response = owner.request("POST", f"/albums/{album_id}/members", json={"email": address, "role": role})
    assert response.status_code == 201, response.text
    return response.json()


def test_an_invited_email_sees_the_album_from_its_first_sign_in(server):
    owner = ApiUser(server.base_url)
    album = owner.request("POST", "/albums", json={"name": "Wedding"}).json()["id"]
    address = email("Later")  # spelled with capitals: one address whatever its case
    member = share(owner, album, address, "viewer")
    assert member["user_id"] is None and member["email"] == address.lower() and member["role"] == "viewer"
    assert_error(owner.request("POST", f"/albums/{album}/members", json={"email": address.lower(), "role": "viewer"}), 409, "conflict")

    later = ApiUser(server.base_url, address.lower())  # the first sign-in provisions them
    listed = {a["id"]: a for a in later.request("GET", "/albums").json()["items"]}
    assert listed[album]["role"] == "viewer" and listed[album]["owner"]["email"] == owner.email
    assert albums_of(sync_all(later))[album]["role"] == "viewer"
    [claimed] = owner.request("GET", f"/albums/{album}/members").json()["items"]
    assert claimed["user_id"] == later.me()["id"]


def test_members_follow_the_album_in_their_sync_and_lose_it_when_removed(server):
    owner, viewer = ApiUser(server.base_url), ApiUser(server.base_url)
    album = owner.request("POST", "/albums", json={"name": "Trip"}).json()["id"]
    before = sync_all(viewer)
    cursor = viewer.request("GET", "/sync", params={"limit": 1000}).json()["next_cursor"]
    member = share(owner, album, viewer.email, "viewer")
    photo = owner.upload(jpeg("trip"))
    owner.request("POST", f"/albums/{album}/photos", json={"photo_ids": [photo]})
    owner.request("PATCH", f"/albums/{album}", json={"name": "Trip 2026"})
    assert owner.request("PATCH", f"/albums/{album}/members/{member['id']}", json={"role": "contributor"}).status_code == 200

    def since(cursor):
        return viewer.request("GET", "/sync", params={"cursor": cursor}).json()

    page = since(cursor)
    held = albums_of(before + page["changes"])
    assert (held[album]["name"], held[album]["role"], held[album]["photo_count"]) == ("Trip 2026", "contributor", 1)
    # The shared album's photos are not the member's: they come from the album's listing.
    assert not [c for c in page["changes"] if c["type"] in ("photo", "album_photo")]
    assert albums_of(sync_all(viewer)) == held
    # Leaving: the album goes from the member's copy (and from a fresh sync).
    assert viewer.request("DELETE", f"/albums/{album}/members/{member['id']}").status_code == 204
    later = since(page["next_cursor"])
    assert album not in albums_of(before + page["changes"] + later["changes"])
    assert album not in albums_of(sync_all(viewer))
    assert_error(viewer.request("GET", f"/albums/{album}"), 404, "not_found")


def test_a_contributors_photo_is_theirs_and_leaves_the_album_with_them(server):
    owner, contributor, viewer = (ApiUser(server.base_url) for _ in range(3))
    album = owner.request("POST", "/albums", json={"name": "Family"}).json()["id"]
    member = share(owner, album, contributor.email, "contributor")
    share(owner, album, viewer.email, "viewer")
    data = jpeg("contributed")
    used_before = owner.me()["storage_used"]
    photo = contributor.upload(data)
    kept = contributor.upload(jpeg("kept"))
    added = contributor.request("POST", f"/albums/{album}/photos", json={"photo_ids": [photo, kept]})
    assert added.json() == {"added": 2}
    # Counted in the contributor's quota, not the owner's; the owner's own sync sees the membership.
    assert contributor.me()["storage_used"] == len(data) + contributor.request("GET", f"/photos/{kept}").json()["size"]
    assert owner.me()["storage_used"] == used_before
    for user in (owner, contributor, viewer):
        assert album_photo_ids(user, album) == {photo, kept}
    assert {(c["album_id"], c["photo_id"]) for c in sync_all(owner) if c["type"] == "album_photo"} >= {(album, photo)}

    # The contributor trashes it: gone from the album for everyone, back when restored.
    assert contributor.request("DELETE", f"/photos/{photo}").status_code == 204
    for user in (owner, contributor, viewer):
        assert album_photo_ids(user, album) == {kept}
    assert_error(viewer.request("GET", f"/photos/{photo}"), 404, "not_found")
    assert owner.request("GET", f"/albums/{album}").json()["photo_count"] == 1
    assert contributor.request("POST", "/trash/restore", json={"photo_ids": [photo]}).status_code == 200
    assert album_photo_ids(viewer, album) == {photo, kept}

    # The owner takes one out of the album: it stays the contributor's.
    assert owner.request("DELETE", f"/albums/{album}/photos/{kept}").status_code == 204
    assert album_photo_ids(viewer, album) == {photo}
    assert contributor.request("GET", f"/photos/{kept}").status_code == 200
    assert kept in {p["id"] for p in contributor.all_photos()}

    # The contributor is removed: their photos leave the album for everyone, and stay theirs.
    assert owner.request("DELETE", f"/albums/{album}/members/{member['id']}").status_code == 204
    assert album_photo_ids(owner, album) == album_photo_ids(viewer, album) == set()
    assert_error(owner.request("GET", f"/photos/{photo}"), 404, "not_found")
    assert contributor.request("GET", f"/photos/{photo}").json()["trashed_at"] is None
    assert_error(contributor.request("GET", f"/photos?album_id={album}"), 404, "not_found")
    owner_memberships = {}
    for change in sync_all(owner):
        if change["type"] == "album_photo":
            owner_memberships[(change["album_id"], change["photo_id"])] = change["op"]
    assert (album, photo) not in owner_memberships or owner_memberships[(album, photo)] == "remove"


def public(server, token: str, suffix: str = "", password: str | None = None) -> httpx.Response:
    headers = {"X-Link-Password": password} if password is not None else {}
    return httpx.get(f"{server.base_url}/public/{token}{suffix}", headers=headers, timeout=60)


def test_links_expire_are_revoked_and_limit_wrong_passwords(server):
    owner = ApiUser(server.base_url)
    album = owner.request("POST", "/albums", json={"name": "Party"}).json()["id"]
    photo = owner.upload(jpeg("party"))
    owner.request("POST", f"/albums/{album}/photos", json={"photo_ids": [photo]})

    def link(**options) -> dict:
        response = owner.request("POST", f"/albums/{album}/links", json=options)
        assert response.status_code == 201, response.text
        return response.json()

    tokens = set()
    for _ in range(5):
        made = link()
        tokens.add(made["token"])
        # At least 128 random bits, in the URL-safe alphabet, and the web client's page for it.
        assert len(base64.urlsafe_b64decode(made["token"] + "=" * (-len(made["token"]) % 4))) >= 16
        assert made["url"] == f"{server.base_url}/s/{made['token']}"
        assert (made["has_password"], made["allow_download"], made["expires_at"]) == (False, True, None)
    assert len(tokens) == 5

    expiring = link(expires_at=(datetime.now(timezone.utc) + timedelta(seconds=2)).isoformat())
    assert public(server, expiring["token"]).status_code == 200
    time.sleep(2.5)
    assert_error(public(server, expiring["token"]), 404, "not_found")
    assert_error(public(server, expiring["token"], f"/photos/{photo}/download"), 404, "not_found")
    for bad in ({"expires_at": "2001-01-01T00:00:00Z"}, {"expires_at": "tomorrow"}, {"password": ""},
                {"allow_download": "yes"}):
        assert_error(owner.request("POST", f"/albums/{album}/links", json=bad), 400, "invalid_request")

    revoked = link()
    assert owner.request("DELETE", f"/albums/{album}/links/{revoked['id']}").status_code == 204
    assert_error(public(server, revoked["token"]), 404, "not_found")
    assert revoked["id"] not in {l["id"] for l in owner.request("GET", f"/albums/{album}/links").json()["items"]}

    guarded = link(password="open sesame", allow_download=False)
    assert guarded["has_password"] is True and "open sesame" not in str(guarded)
    assert_error(public(server, guarded["token"]), 401, "password_required")
    assert public(server, guarded["token"], password="open sesame").json()["album"]["name"] == "Party"
    assert_error(public(server, guarded["token"], f"/photos/{photo}/download", "open sesame"), 403, "forbidden")
    for _ in range(10):
        assert_error(public(server, guarded["token"], password="guess"), 401, "password_required")
    # Locked for a while, the right password included; other links are unaffected.
    assert_error(public(server, guarded["token"], password="guess"), 429, "too_many_requests")
    assert_error(public(server, guarded["token"], password="open sesame"), 429, "too_many_requests")
    assert public(server, link()["token"]).status_code == 200


def test_nobody_who_lost_access_gets_a_presigned_url(server):
    owner, viewer = ApiUser(server.base_url), ApiUser(server.base_url)
    album = owner.request("POST", "/albums", json={"name": "Private"}).json()["id"]
    photo = owner.upload(jpeg("private"))
    owner.request("POST", f"/albums/{album}/photos", json={"photo_ids": [photo]})
    member = share(owner, album, viewer.email, "viewer")
    link = owner.request("POST", f"/albums/{album}/links", json={}).json()
    deadline = time.monotonic() + 60
    while owner.request("GET", f"/photos/{photo}").json()["thumbnail_url"] is None and time.monotonic() < deadline:
        time.sleep(0.2)
    seen = viewer.all_photos(album_id=album)[0]
    assert seen["thumbnail_url"] and viewer.request("GET", f"/photos/{photo}/download").status_code == 200
    assert public(server, link["token"]).json()["items"][0]["thumbnail_url"]

    owner.request("DELETE", f"/albums/{album}/members/{member['id']}")
    owner.request("DELETE", f"/albums/{album}/links/{link['id']}")
    answers = [
        viewer.request("GET", f"/photos?album_id={album}"), viewer.request("GET", f"/photos/{photo}"),
        viewer.request("GET", f"/photos/{photo}/download"), viewer.request("GET", "/albums"),
        viewer.request("GET", "/photos"), viewer.request("GET", "/sync"),
        public(server, link["token"]), public(server, link["token"], f"/photos/{photo}/download"),
    ]
    for answer in answers:
        assert photo not in answer.text, (answer.request.url, answer.text)
        assert "/_store/" not in answer.text and "signature" not in answer.text, answer.request.url

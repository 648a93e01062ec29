"""Renditions in the background, against a real `photosync serve`: an upload is complete and listed
before its thumbnail exists; the renditions worker makes it from the local queue, retrying after a
failure, and clients learn the new URLs through /sync (issue 12)."""

from __future__ import annotations

import time
from urllib.parse import unquote, urlsplit

from tests.e2e.api import ApiUser
from tests.support.images import make_jpeg


def wait_until(condition, *, timeout: float = 60, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def synced_photos(user: ApiUser, cursor: str | None) -> tuple[dict[str, dict], str]:
    photos: dict[str, dict] = {}
    while True:
        page = user.request("GET", "/sync", params={"cursor": cursor} if cursor else {}).json()
        photos.update({c["photo"]["id"]: c["photo"] for c in page["changes"] if c["type"] == "photo" and c["op"] == "upsert"})
        cursor = page["next_cursor"]
        if not page["has_more"]:
            return photos, cursor


def test_a_photo_is_complete_before_its_thumbnail_which_a_retry_makes_and_sync_reports(server):
    user = ApiUser(server.base_url)
    data = make_jpeg(width=1600, height=1200, model="background renditions e2e")
    granted = user.grant(data).json()
    owner = unquote(urlsplit(granted["url"]).path).split("/originals/", 1)[1].split("/")[0]
    # A file where this user's thumbnail directory goes: the worker's first tries fail.
    blocked = server.data_dir / "objects" / "thumbnails" / owner
    blocked.parent.mkdir(parents=True, exist_ok=True)
    blocked.write_bytes(b"")
    _, cursor = synced_photos(user, None)

    photo_id = user.upload(data)

    [listed] = user.all_photos()
    assert (listed["id"], listed["thumbnail_url"], listed["preview_url"]) == (photo_id, None, None)
    assert user.request("GET", f"/uploads/{photo_id}").json()["status"] == "complete"
    wait_until(lambda: "storing renditions failed" in server.log() and photo_id in server.log(), what="a failed try")
    [listed] = user.all_photos()
    assert listed["thumbnail_url"] is None

    blocked.unlink()
    wait_until(lambda: user.all_photos()[0]["thumbnail_url"] is not None, what="the retry to make the thumbnail")
    [listed] = user.all_photos()
    for url in (listed["thumbnail_url"], listed["preview_url"]):
        assert user.http.get(url).status_code == 200
    changed, _ = synced_photos(user, cursor)
    assert changed[photo_id]["thumbnail_url"] is not None

"""The whole of api.md, driven over HTTP against a real `photosync serve` as a user would."""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.e2e.api import ApiUser, assert_error
from tests.support.images import make_jpeg, make_png


def photo(n: int, **kwargs) -> bytes:
    return make_jpeg(model=f"e2e camera {n}", **kwargs)


def test_sign_in_upload_gallery_download_duplicate_lookup_and_delete(server):
    user = ApiUser(server.base_url)
    assert user.me()["storage_used"] == 0 and user.me()["email"] == user.email
    first, second = photo(1, width=1600, height=1200), make_png(320, 200)

    first_id = user.upload(first, filename="IMG_1000.JPG")
    second_id = user.upload(second, filename="screenshot.png", content_type="image/png")
    user.wait_for_renditions(first_id)

    me = user.me()
    assert (me["storage_used"], me["storage_pending"]) == (len(first) + len(second), 0)
    listed = {item["id"]: item for item in user.all_photos()}
    assert set(listed) == {first_id, second_id}
    item = listed[first_id]
    assert (item["filename"], item["size"], item["width"], item["height"]) == ("IMG_1000.JPG", len(first), 1600, 1200)
    assert item["sha256"] == hashlib.sha256(first).hexdigest() and item["content_type"] == "image/jpeg"
    thumbnail = httpx.get(item["thumbnail_url"])
    assert thumbnail.status_code == 200 and thumbnail.headers["content-type"] == "image/webp"
    single = user.request("GET", f"/photos/{first_id}").json()
    without_urls = lambda p: {k: v for k, v in p.items() if not k.endswith("_url")}  # noqa: E731 - URLs are re-signed
    assert without_urls(single) == without_urls(item)

    link = user.request("GET", f"/photos/{first_id}/download").json()
    assert set(link) == {"url", "expires_at"}
    original = httpx.get(link["url"])
    assert original.status_code == 200 and original.content == first
    assert "IMG_1000.JPG" in original.headers["content-disposition"]

    duplicate = user.grant(first, filename="same photo, other name.jpg")
    assert duplicate.status_code == 200 and duplicate.json() == {"status": "duplicate", "photo_id": first_id}
    assert user.me()["storage_pending"] == 0

    unknown = hashlib.sha256(b"never uploaded").hexdigest()
    found = user.request("POST", "/photos/lookup", json={"sha256": [hashlib.sha256(second).hexdigest(), unknown]})
    assert found.json() == {"found": {hashlib.sha256(second).hexdigest(): second_id}, "trashed": {}, "deleted": []}

    def stored_files(photo_id: str) -> list:
        return [p for p in (server.data_dir / "objects").rglob(photo_id + "*") if not p.name.endswith(".meta.json")]

    assert len(stored_files(first_id)) == 3  # original, thumbnail and preview
    # Delete moves it to the trash: out of the timeline, still stored and counted.
    assert user.request("DELETE", f"/photos/{first_id}").status_code == 204
    assert [p["id"] for p in user.all_photos()] == [second_id]
    assert user.request("GET", f"/photos/{first_id}").json()["trashed_at"].endswith("Z")
    assert user.me()["storage_trash"] == len(first) and user.me()["storage_used"] == len(first) + len(second)
    assert len(stored_files(first_id)) == 3
    # Deleting it from the trash frees it for good.
    assert user.request("DELETE", f"/trash/{first_id}").status_code == 204
    assert user.me()["storage_used"] == len(second)
    assert_error(user.request("GET", f"/photos/{first_id}"), 404, "not_found")
    assert httpx.get(link["url"]).status_code == 404
    assert list((server.data_dir / "objects").rglob(first_id + "*")) == []  # sidecars too


def test_every_album_route(server):
    user = ApiUser(server.base_url)
    ids = [user.upload(photo(10 + n)) for n in range(3)]

    created = user.request("POST", "/albums", json={"name": "  Summer 2024  "})
    assert created.status_code == 201
    album = created.json()
    assert (album["name"], album["photo_count"]) == ("Summer 2024", 0) and album["created_at"].endswith("Z")
    album_id = album["id"]

    assert user.request("POST", f"/albums/{album_id}/photos", json={"photo_ids": ids[:2]}).json() == {"added": 2}
    assert user.request("POST", f"/albums/{album_id}/photos", json={"photo_ids": ids[:2]}).json() == {"added": 0}
    assert user.request("GET", f"/albums/{album_id}").json()["photo_count"] == 2
    assert {p["id"] for p in user.all_photos(album_id=album_id)} == set(ids[:2])
    assert [a["id"] for a in user.request("GET", "/albums").json()["items"]] == [album_id]

    renamed = user.request("PATCH", f"/albums/{album_id}", json={"name": "Summer"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "Summer"

    assert user.request("DELETE", f"/albums/{album_id}/photos/{ids[0]}").status_code == 204
    assert_error(user.request("DELETE", f"/albums/{album_id}/photos/{ids[0]}"), 404, "not_found")
    assert [p["id"] for p in user.all_photos(album_id=album_id)] == [ids[1]]

    assert user.request("DELETE", f"/photos/{ids[1]}").status_code == 204  # leaves every album
    assert user.request("GET", f"/albums/{album_id}").json()["photo_count"] == 0

    assert user.request("DELETE", f"/albums/{album_id}").status_code == 204
    assert_error(user.request("GET", f"/albums/{album_id}"), 404, "not_found")
    assert {p["id"] for p in user.all_photos()} == {ids[0], ids[2]}  # an album's photos stay


def test_pagination_returns_every_photo_exactly_once(server):
    user = ApiUser(server.base_url)
    with ThreadPoolExecutor(max_workers=4) as pool:
        ids = set(pool.map(lambda n: user.upload(photo(100 + n, width=64, height=48)), range(23)))

    for limit in (1, 7, 23, 500):
        listed = [p["id"] for p in user.all_photos(limit=limit)]
        assert len(listed) == len(set(listed)) == 23
        assert set(listed) == ids


def test_thirty_concurrent_grants_for_a_tenth_of_the_quota_each_grant_exactly_ten(server):
    user = ApiUser(server.base_url)
    tenth = user.me()["storage_quota"] // 10

    def request(n: int) -> int:
        return user.http.post("/uploads", json={
            "filename": f"big-{n}.mov", "content_type": "video/quicktime", "size": tenth,
            "sha256": hashlib.sha256(str(n).encode()).hexdigest(),
        }).status_code

    with ThreadPoolExecutor(max_workers=30) as pool:
        statuses = list(pool.map(request, range(30)))

    assert statuses.count(201) == 10 and statuses.count(413) == 20
    me = user.me()
    assert me["storage_pending"] == 10 * tenth <= me["storage_quota"]
    refused = user.http.post("/uploads", json={"filename": "one-more.mov", "content_type": "video/quicktime",
                                               "size": tenth, "sha256": "0" * 64})
    assert_error(refused, 413, "quota_exceeded")
    assert str(me["storage_quota"]) in str(refused.json()["error"]["storage_quota"])

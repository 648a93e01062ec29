"""Another user's ids look exactly like ids that do not exist: 404 on every route."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.api import ApiUser, assert_error
from tests.support.images import make_jpeg


@pytest.fixture(scope="module")
def alice_and_bob(server):
    alice, bob = ApiUser(server.base_url), ApiUser(server.base_url)
    photo_id = alice.upload(make_jpeg(model="alice's camera"))
    album_id = alice.request("POST", "/albums", json={"name": "Alice only"}).json()["id"]
    assert alice.request("POST", f"/albums/{album_id}/photos", json={"photo_ids": [photo_id]}).status_code == 200
    pending = alice.grant(make_jpeg(model="alice pending")).json()["upload_id"]
    bobs_photo = bob.upload(make_jpeg(model="bob's camera"))
    bobs_album = bob.request("POST", "/albums", json={"name": "Bob's"}).json()["id"]
    return alice, bob, photo_id, album_id, pending, bobs_photo, bobs_album


def routes(photo_id: str, album_id: str, upload_id: str, bobs_photo: str, bobs_album: str):
    return [
        ("GET", f"/photos/{photo_id}", None),
        ("GET", f"/photos/{photo_id}/download", None),
        ("DELETE", f"/photos/{photo_id}", None),
        ("GET", f"/uploads/{upload_id}", None),
        ("GET", f"/photos?album_id={album_id}", None),
        ("GET", f"/albums/{album_id}", None),
        ("PATCH", f"/albums/{album_id}", {"name": "taken over"}),
        ("POST", f"/albums/{album_id}/photos", {"photo_ids": [bobs_photo]}),
        ("DELETE", f"/albums/{album_id}/photos/{photo_id}", None),
        ("DELETE", f"/albums/{album_id}", None),
        ("POST", f"/albums/{bobs_album}/photos", {"photo_ids": [photo_id]}),  # Alice's photo in Bob's album
        ("POST", "/trash/restore", {"photo_ids": [photo_id]}),
        ("DELETE", f"/trash/{photo_id}", None),
    ]


def test_a_second_user_gets_404_on_every_route_with_the_first_users_ids(alice_and_bob):
    alice, bob, photo_id, album_id, upload_id, bobs_photo, bobs_album = alice_and_bob
    for method, path, body in routes(photo_id, album_id, upload_id, bobs_photo, bobs_album):
        response = bob.request(method, path, json=body) if body is not None else bob.request(method, path)
        assert_error(response, 404, "not_found")

    # Nothing changed for Alice.
    assert alice.request("GET", f"/photos/{photo_id}").status_code == 200
    album = alice.request("GET", f"/albums/{album_id}").json()
    assert (album["name"], album["photo_count"]) == ("Alice only", 1)
    assert alice.request("GET", f"/uploads/{upload_id}").json()["status"] == "pending"
    assert bob.request("GET", f"/albums/{bobs_album}").json()["photo_count"] == 0
    assert bob.request("POST", "/photos/lookup", json={"sha256": [alice.all_photos()[0]["sha256"]]}).json() == {
        "found": {}, "trashed": {}, "deleted": [],
    }


def test_not_yours_and_not_found_are_indistinguishable(alice_and_bob):
    _, bob, photo_id, album_id, upload_id, bobs_photo, bobs_album = alice_and_bob
    missing = str(uuid.uuid4())
    for (method, path, body), (_, missing_path, _) in zip(
        routes(photo_id, album_id, upload_id, bobs_photo, bobs_album),
        routes(missing, missing, missing, bobs_photo, bobs_album),
    ):
        if path.startswith(f"/albums/{bobs_album}"):
            continue
        theirs = bob.request(method, path, json=body) if body else bob.request(method, path)
        absent = bob.request(method, missing_path, json=body) if body else bob.request(method, missing_path)
        assert (theirs.status_code, theirs.json()) == (absent.status_code, absent.json())

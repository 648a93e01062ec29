"""Sharing, end to end against a real `photosync serve`: who gets what from every route.

The access matrix sends every route of api.md as every actor - the album's owner, a contributor, a
viewer, a removed member, a stranger, nobody signed in, and anonymous visitors with a valid,
expired or deleted link, with and without its password - and checks the exact status the contract
gives, and that no answer carries another user's filename, content hash, place or email where the
contract does not show it."""

from __future__ import annotations

import base64
import hashlib
import re
import time
import uuid
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from photosync.local.gateway import PUBLIC_ROUTES, ROUTES
from tests.e2e.api import ApiUser, assert_error
from tests.support.images import make_jpeg

GPS = (48.858370, 2.294481)
PASSWORD = "correct horse battery staple"
# The owner acts last: what they remove or delete is then gone for nobody else's row.
ACTORS = ("contributor", "viewer", "removed", "stranger", "anonymous", "owner")


def unique_jpeg(label: str, **kwargs) -> bytes:
    return make_jpeg(model=f"{label}-{uuid.uuid4().hex[:8]}", **kwargs)


class Photo:
    def __init__(self, user: ApiUser, label: str, *, gps: tuple[float, float] | None = None) -> None:
        self.filename = f"{label}-{uuid.uuid4().hex[:6]}.jpg"
        data = unique_jpeg(label, gps=gps)
        self.sha256 = hashlib.sha256(data).hexdigest()
        self.size = len(data)
        self.id = user.upload(data, filename=self.filename)

    @property
    def secrets(self) -> set[str]:
        return {self.filename, self.sha256}


@pytest.fixture(scope="module")
def world(server):
    """One shared album and everyone around it."""
    tag = uuid.uuid4().hex[:8]
    users = {
        name: ApiUser(server.base_url, f"{name}-{tag}@example.com")
        for name in ("owner", "contributor", "viewer", "removed", "stranger")
    }
    owner, contributor, viewer, removed, stranger = (users[n] for n in ("owner", "contributor", "viewer", "removed", "stranger"))
    photos = {
        "owner_shared": Photo(owner, "owner-shared", gps=GPS),
        "owner_private": Photo(owner, "owner-private", gps=GPS),
        "owner_spare": Photo(owner, "owner-spare"),
        "contributor_shared": Photo(contributor, "contrib-shared", gps=GPS),
        "contributor_private": Photo(contributor, "contrib-private"),
        "contributor_spare": Photo(contributor, "contrib-spare"),
        "viewer_own": Photo(viewer, "viewer-own"),
        "removed_own": Photo(removed, "removed-own"),
        "stranger_own": Photo(stranger, "stranger-own", gps=GPS),
    }
    album = owner.request("POST", "/albums", json={"name": "Family"}).json()["id"]
    spare_album = owner.request("POST", "/albums", json={"name": "Spare"}).json()["id"]
    members = {}
    for name, role in (("contributor", "contributor"), ("viewer", "viewer"), ("removed", "viewer")):
        for album_id in (album, spare_album) if name != "removed" else (album,):
            response = owner.request("POST", f"/albums/{album_id}/members", json={"email": users[name].email, "role": role})
            assert response.status_code == 201, response.text
            if album_id == album:
                members[name] = response.json()["id"]
    assert owner.request("POST", f"/albums/{album}/photos", json={"photo_ids": [photos["owner_shared"].id]}).status_code == 200
    assert contributor.request(
        "POST", f"/albums/{album}/photos", json={"photo_ids": [photos["contributor_shared"].id]}
    ).status_code == 200
    assert owner.request("DELETE", f"/albums/{album}/members/{members['removed']}").status_code == 204
    # A spare member of the album for the owner to remove and for the viewer to be refused on.
    spare_member = owner.request("POST", f"/albums/{album}/members", json={"email": f"spare-{tag}@example.com", "role": "viewer"}).json()["id"]

    def link(**options) -> dict:
        response = owner.request("POST", f"/albums/{album}/links", json=options)
        assert response.status_code == 201, response.text
        return response.json()

    links = {
        "open": link(),
        "password": link(password=PASSWORD),
        "no_download": link(allow_download=False),
        "expired": link(expires_at=(datetime.now(timezone.utc) + timedelta(seconds=2)).isoformat()),
        "deleted": link(),
        "spare": link(),
    }
    assert owner.request("DELETE", f"/albums/{album}/links/{links['deleted']['id']}").status_code == 204
    pending_upload = owner.grant(unique_jpeg("pending")).json()["upload_id"]
    time.sleep(2.5)  # the expiring link is now expired
    return {
        "users": users, "photos": photos, "album": album, "spare_album": spare_album, "members": members,
        "spare_member": spare_member, "links": links, "pending_upload": pending_upload,
    }


def call(world, actor: str, method: str, path: str, body=None, headers=None) -> httpx.Response:
    if actor == "anonymous":
        user = world["users"]["owner"]
        return httpx.request(method, f"{user.base_url}{path}", json=body, headers=headers or {}, timeout=60)
    return world["users"][actor].request(method, path, json=body, headers=headers or {})


def secrets_hidden_from(world, actor: str) -> set[str]:
    """What `actor` must never receive: the filenames and hashes of photos they cannot see and the
    emails of people they have no album in common with (an album's members see each other)."""
    photos, users = world["photos"], world["users"]
    in_album = {"owner_shared", "contributor_shared", "owner_spare", "contributor_spare"}
    own = {
        "owner": {"owner_shared", "owner_private", "owner_spare"},
        "contributor": {"contributor_shared", "contributor_private", "contributor_spare"},
        "viewer": {"viewer_own"}, "removed": {"removed_own"}, "stranger": {"stranger_own"}, "anonymous": set(),
    }[actor]
    seen = own | (in_album if actor in ("owner", "contributor", "viewer") else set())
    hidden = set().union(*(p.secrets for name, p in photos.items() if name not in seen))
    if actor in ("owner", "contributor", "viewer"):
        hidden |= {users["stranger"].email}
    else:
        hidden |= {u.email for name, u in users.items() if name != actor}
    return hidden


def check_body(world, actor: str, response: httpx.Response) -> None:
    text = response.text
    for secret in secrets_hidden_from(world, actor):
        assert secret not in text, (actor, response.request.method, response.request.url, secret)
    # No place ever leaves the server, not even to the photo's owner.
    assert f"{GPS[0]:.4f}" not in text and f"{GPS[1]:.4f}" not in text, (actor, response.request.url)


def expect(world, method: str, path, statuses: dict[str, int | None], body=None) -> None:
    """`path` and `body` may depend on the actor (each acts on what is theirs); None: not sent."""
    for actor in ACTORS:
        status = statuses.get(actor, 401 if actor == "anonymous" else None)
        if status is None:
            continue
        actor_path = path(actor) if callable(path) else path
        actor_body = body(actor) if callable(body) else body
        response = call(world, actor, method, actor_path, actor_body)
        assert response.status_code == status, (actor, method, actor_path, response.status_code, response.text)
        if status >= 400:
            assert set(response.json()) == {"error"}, response.text
        check_body(world, actor, response)


SEE = {"owner": 200, "contributor": 200, "viewer": 200, "removed": 404, "stranger": 404}
OWNER_ONLY = {"owner": 200, "contributor": 403, "viewer": 403, "removed": 404, "stranger": 404}
EVERYONE = {"owner": 200, "contributor": 200, "viewer": 200, "removed": 200, "stranger": 200}


def test_every_route_as_every_signed_in_actor(world):
    a, p, w = world["album"], world["photos"], world
    own_spare = {"owner": "owner_spare", "contributor": "contributor_spare", "viewer": "viewer_own",
                 "removed": "removed_own", "stranger": "stranger_own", "anonymous": "owner_spare"}
    # Reads.
    expect(w, "GET", "/healthz", {**EVERYONE, "anonymous": 200})
    expect(w, "GET", "/me", EVERYONE)
    expect(w, "GET", "/albums", EVERYONE)
    expect(w, "GET", f"/albums/{a}", SEE)
    expect(w, "GET", f"/photos?album_id={a}", SEE)
    expect(w, "GET", "/photos", EVERYONE)
    for shared in ("owner_shared", "contributor_shared"):
        expect(w, "GET", f"/photos/{p[shared].id}", SEE)
        expect(w, "GET", f"/photos/{p[shared].id}/download", SEE)
    for private, owner in (("owner_private", "owner"), ("contributor_private", "contributor"), ("stranger_own", "stranger")):
        statuses = {actor: 404 for actor in SEE} | {owner: 200}
        expect(w, "GET", f"/photos/{p[private].id}", statuses)
        expect(w, "GET", f"/photos/{p[private].id}/download", statuses)
    expect(w, "GET", f"/albums/{a}/members", SEE)
    expect(w, "GET", f"/albums/{a}/links", OWNER_ONLY)
    expect(w, "GET", "/trash", EVERYONE)
    expect(w, "GET", "/sync", EVERYONE)
    expect(w, "GET", f"/uploads/{w['pending_upload']}", {actor: 404 for actor in SEE} | {"owner": 200})
    expect(w, "POST", "/photos/lookup", EVERYONE, body={"sha256": [p["owner_shared"].sha256, p["contributor_shared"].sha256]})
    # Changes: the owner's, or a contributor's own.
    expect(w, "PATCH", f"/albums/{a}", OWNER_ONLY, body={"name": "Family"})
    expect(w, "POST", f"/albums/{a}/photos",
           {"owner": 200, "contributor": 200, "viewer": 403, "removed": 404, "stranger": 404},
           body=lambda actor: {"photo_ids": [p[own_spare[actor]].id]})
    expect(w, "POST", f"/albums/{a}/photos",  # someone else's photo, even one the caller sees
           {"owner": 404, "contributor": 404, "viewer": 403, "removed": 404, "stranger": 404},
           body=lambda actor: {"photo_ids": [p["contributor_shared" if actor == "owner" else "owner_shared"].id]})
    expect(w, "DELETE", f"/albums/{a}/photos/{p['owner_shared'].id}",
           {"contributor": 403, "viewer": 403, "removed": 404, "stranger": 404})
    expect(w, "DELETE", lambda actor: f"/albums/{a}/photos/{p[own_spare[actor]].id}",
           {"owner": 204, "contributor": 204, "viewer": 403, "removed": 404, "stranger": 404})
    expect(w, "DELETE", f"/photos/{p['owner_shared'].id}", {"contributor": 403, "viewer": 403, "removed": 404, "stranger": 404})
    expect(w, "DELETE", f"/trash/{p['owner_shared'].id}", {actor: 404 for actor in SEE})
    expect(w, "POST", "/trash/restore", {actor: 404 for actor in SEE}, body={"photo_ids": [p["owner_shared"].id]})
    member_email = {actor: f"new-{actor}-{uuid.uuid4().hex[:6]}@example.com" for actor in ACTORS}
    expect(w, "POST", f"/albums/{a}/members", {**OWNER_ONLY, "owner": 201},
           body=lambda actor: {"email": member_email[actor], "role": "viewer"})
    expect(w, "PATCH", f"/albums/{a}/members/{w['members']['viewer']}", OWNER_ONLY, body={"role": "viewer"})
    expect(w, "DELETE", f"/albums/{a}/members/{w['spare_member']}",
           {"contributor": 403, "viewer": 403, "removed": 404, "stranger": 404, "owner": 204})
    expect(w, "POST", f"/albums/{a}/links", {**OWNER_ONLY, "owner": 201}, body={})
    expect(w, "DELETE", f"/albums/{a}/links/{w['links']['spare']['id']}", {**OWNER_ONLY, "owner": 204})
    expect(w, "DELETE", f"/albums/{w['spare_album']}", {**OWNER_ONLY, "owner": 204})
    expect(w, "GET", f"/albums/{uuid.uuid4()}", {actor: 404 for actor in SEE})


def test_every_other_route_needs_a_sign_in(world):
    for key in sorted({key for keys in ROUTES.values() for key in keys} - PUBLIC_ROUTES):
        method, template = key.split(" ", 1)
        path = re.sub(r"\{\w+\}", str(uuid.uuid4()), template)
        response = call(world, "anonymous", method, path, {} if method in ("POST", "PATCH") else None)
        assert_error(response, 401, "unauthorized")


def test_every_public_route_as_every_anonymous_visitor(world):
    w, links, p = world, world["links"], world["photos"]
    shared, private = p["owner_shared"].id, p["owner_private"].id
    right, wrong = {"X-Link-Password": PASSWORD}, {"X-Link-Password": "guess"}
    cases = [
        # (link, path suffix, headers, status)
        ("open", "", None, 200),
        ("open", f"/photos/{shared}/download", None, 200),
        ("open", f"/photos/{p['contributor_shared'].id}/download", None, 200),
        ("open", f"/photos/{private}/download", None, 404),
        ("open", f"/photos/{p['stranger_own'].id}/download", None, 404),
        ("no_download", "", None, 200),
        ("no_download", f"/photos/{shared}/download", None, 403),
        ("password", "", None, 401),
        ("password", "", wrong, 401),
        ("password", "", right, 200),
        ("password", f"/photos/{shared}/download", None, 401),
        ("password", f"/photos/{shared}/download", right, 200),
        ("expired", "", None, 404),
        ("expired", f"/photos/{shared}/download", None, 404),
        ("deleted", "", None, 404),
        ("deleted", f"/photos/{shared}/download", None, 404),
    ]
    for name, suffix, headers, status in cases:
        for actor in ("anonymous", "stranger", "removed"):  # a sign-in changes nothing on a link's page
            response = call(w, actor, "GET", f"/public/{links[name]['token']}{suffix}", headers=headers)
            assert response.status_code == status, (name, suffix, headers, actor, response.text)
            check_body(w, "anonymous", response)
            if status == 401:
                assert_error(response, 401, "password_required")
    response = call(w, "anonymous", "GET", f"/public/{base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip('=')}")
    assert_error(response, 404, "not_found")
    page = call(w, "anonymous", "GET", f"/public/{links['open']['token']}").json()
    assert page["album"] == {"name": "Family", "photo_count": len(page["items"])}
    for item in page["items"]:
        assert set(item) == {"id", "content_type", "taken_at", "width", "height", "duration_ms", "thumbnail_url", "preview_url"}
    assert {item["id"] for item in page["items"]} >= {shared, p["contributor_shared"].id}


def test_shared_albums_show_their_owner_and_the_caller_s_role(world):
    users, album = world["users"], world["album"]
    for actor, role in (("owner", "owner"), ("contributor", "contributor"), ("viewer", "viewer")):
        listed = {a["id"]: a for a in users[actor].request("GET", "/albums").json()["items"]}
        assert listed[album]["role"] == role
        assert listed[album]["owner"] == {"id": users["owner"].me()["id"], "email": users["owner"].email}
    for actor in ("removed", "stranger"):
        assert album not in {a["id"] for a in users[actor].request("GET", "/albums").json()["items"]}
    # The timeline stays one's own photos.
    viewer_timeline = {ph["id"] for ph in users["viewer"].all_photos()}
    assert viewer_timeline == {world["photos"]["viewer_own"].id}
    album_page = users["viewer"].all_photos(album_id=album)
    owners = {ph["id"]: ph["owner_id"] for ph in album_page}
    assert owners[world["photos"]["contributor_shared"].id] == users["contributor"].me()["id"]

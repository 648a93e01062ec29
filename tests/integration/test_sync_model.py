"""Model-based test of the change feed: a seeded random walk of thousands of operations over two
users, through the Lambda handlers. After every step, the library as /sync builds it (replayed from
no cursor, and followed incrementally from the previous cursor) must be exactly what the listing
routes show, which must be what a plain Python model of the library expects (albums listed in
timeline order, each with its newest photo as cover), and storage_used must be the sum of the user's
photo sizes, trash included."""

from __future__ import annotations

import hashlib
import os
import random
from dataclasses import dataclass, field

import pytest

from photosync.handlers import environment
from photosync.services import cleanup, finalize
from tests.integration.test_uploads import distinct_jpeg
from tests.support.lambda_api import LambdaApi
from tests.support.sync_replica import Replica, listed

STEPS = int(os.environ.get("PHOTOSYNC_MODEL_STEPS", "2000"))
SEED = int(os.environ.get("PHOTOSYNC_MODEL_SEED", "20261201"))
CONTENTS = 24  # distinct files the users draw from: re-uploads, duplicates and tombstones happen
MAX_ALBUMS = 5
# Small pages make a first sync cross its phases mid-page; large ones keep 2,000 steps quick.
PAGE_LIMITS, PAGE_LIMIT_WEIGHTS = (3, 20, 1000), (1, 2, 7)
ORDER_CHECK_EVERY = 5  # steps between checks of album order and covers


@dataclass
class Library:
    """What a user's library should hold, kept by the test alone."""

    api: LambdaApi
    photos: dict[str, dict] = field(default_factory=dict)  # id -> {"sha256", "size", "trashed"}
    albums: dict[str, str] = field(default_factory=dict)  # id -> name
    members: set[tuple[str, str]] = field(default_factory=set)
    replica: Replica = field(default_factory=Replica)

    def ids(self, *, trashed: bool | None = None) -> list[str]:
        # In upload order, not id order: the walk's choices then depend on the seed alone.
        return [p for p, v in self.photos.items() if trashed is None or v["trashed"] == trashed]

    def drop_photos(self, photo_ids: set[str]) -> None:
        for photo_id in photo_ids:
            del self.photos[photo_id]
        self.members = {(a, p) for a, p in self.members if p not in photo_ids}


class Walk:
    def __init__(self, uow, rng: random.Random) -> None:
        self.uow, self.rng = uow, rng
        self.store = environment.object_store()
        self.users = [Library(LambdaApi()), Library(LambdaApi())]
        self.contents = [distinct_jpeg(500 + n, width=24 + n, height=16) for n in range(CONTENTS)]

    # ------------------------------------------------------------------ operations
    def upload(self, lib: Library) -> None:
        data = self.rng.choice(self.contents)
        sha = hashlib.sha256(data).hexdigest()
        status, body = lib.api.call("POST", "/uploads", json_body={
            "filename": "IMG.JPG", "content_type": "image/jpeg", "size": len(data), "sha256": sha,
        })
        existing = next((pid for pid, p in lib.photos.items() if p["sha256"] == sha), None)
        if existing is not None:
            expected = {"status": "duplicate", "photo_id": existing}
            if lib.photos[existing]["trashed"]:
                expected["in_trash"] = True
            assert (status, body) == (200, expected)
            return
        assert status == 201, body
        key = f"originals/{lib.api.user_id}/{body['upload_id']}"
        self.store.put(key, data, content_type="image/jpeg")
        assert finalize.finalize_object(self.uow, self.store, key).outcome == "finalized"
        lib.photos[body["upload_id"]] = {"sha256": sha, "size": len(data), "trashed": False}

    def delete(self, lib: Library, other: Library) -> list[Library]:
        if other.photos and self.rng.random() < 0.1:
            assert lib.api.call("DELETE", f"/photos/{self.rng.choice(other.ids())}")[0] == 404
            return [lib, other]
        if not lib.photos:
            return [lib]
        photo = self.rng.choice(lib.ids())
        assert lib.api.call("DELETE", f"/photos/{photo}") == (204, None)
        lib.photos[photo]["trashed"] = True
        return [lib]

    def restore(self, lib: Library) -> None:
        trashed = lib.ids(trashed=True)
        if not trashed:
            return
        chosen = self.rng.sample(trashed, self.rng.randint(1, min(3, len(trashed))))
        live = lib.ids(trashed=False)
        if live and self.rng.random() < 0.2:
            status, _ = lib.api.call("POST", "/trash/restore", json_body={"photo_ids": [*chosen, self.rng.choice(live)]})
            assert status == 404  # and nothing was restored: the model is unchanged
            return
        assert lib.api.ok("POST", "/trash/restore", json_body={"photo_ids": chosen}) == {"restored": len(chosen)}
        for photo in chosen:
            lib.photos[photo]["trashed"] = False

    def delete_forever(self, lib: Library) -> None:
        if not lib.photos:
            return
        photo = self.rng.choice(lib.ids())
        if not lib.photos[photo]["trashed"]:
            assert lib.api.call("DELETE", f"/trash/{photo}")[0] == 404
            return
        assert lib.api.call("DELETE", f"/trash/{photo}") == (204, None)
        lib.drop_photos({photo})

    def empty(self, lib: Library) -> None:
        doomed = set(lib.ids(trashed=True))
        freed = sum(lib.photos[p]["size"] for p in doomed)
        assert lib.api.ok("POST", "/trash/empty") == {"deleted": len(doomed), "freed_bytes": freed}
        lib.drop_photos(doomed)

    def sweep(self) -> list[Library]:
        """The sweep with a retention of zero: everyone's trash goes."""
        expected = sum(len(lib.ids(trashed=True)) for lib in self.users)
        report = cleanup.run_cleanup(self.uow, self.store, pending_ttl_seconds=3600, trash_retention_days=0)
        assert report.trash_purged == expected
        for lib in self.users:
            lib.drop_photos(set(lib.ids(trashed=True)))
        return self.users

    def create_album(self, lib: Library) -> None:
        if len(lib.albums) >= MAX_ALBUMS:
            return
        album = lib.api.ok("POST", "/albums", json_body={"name": f"album {self.rng.randint(0, 999)}"}, status=201)
        lib.albums[album["id"]] = album["name"]

    def rename_album(self, lib: Library) -> None:
        if lib.albums:
            album = self.rng.choice(list(lib.albums))
            name = f"renamed {self.rng.randint(0, 999)}"
            assert lib.api.ok("PATCH", f"/albums/{album}", json_body={"name": name})["name"] == name
            lib.albums[album] = name

    def delete_album(self, lib: Library) -> None:
        if lib.albums:
            album = self.rng.choice(list(lib.albums))
            assert lib.api.call("DELETE", f"/albums/{album}") == (204, None)
            del lib.albums[album]
            lib.members = {(a, p) for a, p in lib.members if a != album}

    def add_to_album(self, lib: Library) -> None:
        if not lib.albums or not lib.photos:
            return
        album = self.rng.choice(list(lib.albums))
        chosen = self.rng.sample(lib.ids(), self.rng.randint(1, min(4, len(lib.photos))))
        status, body = lib.api.call("POST", f"/albums/{album}/photos", json_body={"photo_ids": chosen})
        if any(lib.photos[p]["trashed"] for p in chosen):
            assert status == 404  # all or nothing
            return
        new = {(album, p) for p in chosen} - lib.members
        assert (status, body) == (200, {"added": len(new)})
        lib.members |= new

    def remove_from_album(self, lib: Library) -> None:
        if not lib.albums or not lib.photos:
            return
        album, photo = self.rng.choice(list(lib.albums)), self.rng.choice(lib.ids())
        status, _ = lib.api.call("DELETE", f"/albums/{album}/photos/{photo}")
        assert status == (204 if (album, photo) in lib.members else 404)
        lib.members.discard((album, photo))

    # ------------------------------------------------------------------ the check
    def page_limit(self) -> int:
        return self.rng.choices(PAGE_LIMITS, PAGE_LIMIT_WEIGHTS)[0]

    def check(self, lib: Library, *, order: bool) -> None:
        shown = listed(lib.api)
        assert set(shown.timeline) == set(lib.ids(trashed=False))
        assert set(shown.trash) == set(lib.ids(trashed=True))
        assert {a: v["name"] for a, v in shown.albums.items()} == lib.albums
        assert shown.album_photos == {
            a: {p for b, p in lib.members if b == a and not lib.photos[p]["trashed"]} for a in lib.albums
        }
        assert all(v["photo_count"] == len(shown.album_photos[a]) for a, v in shown.albums.items())
        # An album lists its photos in timeline order, and its cover is the first one's thumbnail
        # (every few steps: the walk's time goes to HTTP calls).
        timeline = [p["id"] for p in lib.api.all_pages("/photos", limit="500")] if order else []
        for album_id, album in shown.albums.items() if order else ():
            in_order = [p for p in timeline if p in shown.album_photos[album_id]]
            assert [p["id"] for p in lib.api.all_pages("/photos", album_id=album_id, limit="7")] == in_order
            assert album["cover_thumbnail_url"] == (shown.timeline[in_order[0]]["thumbnail_url"] if in_order else None)
        me = lib.api.ok("GET", "/me")
        assert me["storage_used"] == sum(p["size"] for p in lib.photos.values())
        assert me["storage_trash"] == sum(p["size"] for p in lib.photos.values() if p["trashed"])

        from_scratch = Replica()
        from_scratch.pull(lib.api, limit=self.page_limit())
        assert from_scratch.view() == shown
        lib.replica.pull(lib.api, limit=self.page_limit())
        assert lib.replica.view() == shown
        assert lib.replica.resets == 0


@pytest.mark.timeout(900)
def test_sync_replayed_or_followed_always_equals_the_listings(uow, lambda_env):
    rng = random.Random(SEED)
    walk = Walk(uow, rng)
    operations = [
        (25, "upload"), (15, "delete"), (8, "restore"), (6, "delete_forever"), (2, "empty"), (1, "sweep"),
        (6, "create_album"), (4, "rename_album"), (2, "delete_album"), (12, "add_to_album"), (6, "remove_from_album"),
    ]
    names = [name for _, name in operations]
    weights = [weight for weight, _ in operations]
    counts = dict.fromkeys(names, 0)
    for step in range(STEPS):
        name = rng.choices(names, weights)[0]
        counts[name] += 1
        lib = rng.choice(walk.users)
        other = walk.users[1 - walk.users.index(lib)]
        if name == "sweep":
            touched = walk.sweep()
        elif name == "delete":
            touched = walk.delete(lib, other)
        else:
            getattr(walk, name)(lib)
            touched = [lib]
        try:
            for library in touched:
                walk.check(library, order=step % ORDER_CHECK_EVERY == 0)
        except AssertionError as failure:
            raise AssertionError(f"step {step} ({name}), seed {SEED}: {failure}") from failure
    # The walk went through every kind of operation and reached libraries of some size.
    assert all(counts.values()), counts
    assert sum(len(lib.photos) for lib in walk.users) > 5

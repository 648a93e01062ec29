"""A client's copy of a library, kept by /sync the way the API's Sync section says, and the same
library as the listing routes show it, in one comparable shape."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.support.lambda_api import LambdaApi

# Rendition URLs are short-lived and signed anew on each read: compare what they point at.
_URL_FIELDS = ("thumbnail_url", "preview_url", "playback_url")


def comparable_photo(photo: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in photo.items() if k != "purge_at"}
    for name in _URL_FIELDS:
        if out.get(name):
            out[name] = out[name].split("?", 1)[0]
    return out


def comparable_album(album: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.split("?", 1)[0] if k.endswith("_url") and v else v) for k, v in album.items()}


@dataclass
class LibraryView:
    timeline: dict[str, dict]
    trash: dict[str, dict]
    albums: dict[str, dict]
    album_photos: dict[str, set[str]]


@dataclass
class Replica:
    photos: dict[str, dict] = field(default_factory=dict)
    albums: dict[str, dict] = field(default_factory=dict)
    members: set[tuple[str, str]] = field(default_factory=set)
    cursor: str | None = None
    resets: int = 0

    def apply(self, change: dict[str, Any]) -> None:
        kind, op = change["type"], change["op"]
        if kind == "photo" and op == "upsert":
            self.photos[change["photo"]["id"]] = change["photo"]
        elif kind == "photo":
            self.photos.pop(change["id"], None)
            self.members = {(a, p) for a, p in self.members if p != change["id"]}
        elif kind == "album" and op == "upsert":
            self.albums[change["album"]["id"]] = change["album"]
        elif kind == "album":
            self.albums.pop(change["id"], None)
            self.members = {(a, p) for a, p in self.members if a != change["id"]}
        elif op == "add":
            self.members.add((change["album_id"], change["photo_id"]))
        else:
            self.members.discard((change["album_id"], change["photo_id"]))

    def pull(self, api: LambdaApi, *, limit: int = 500) -> int:
        """Follow /sync until it has nothing more; returns how many changes were applied."""
        applied = 0
        while True:
            page = api.ok("GET", "/sync", query={"cursor": self.cursor, "limit": str(limit)})
            if page["reset"]:
                assert page["changes"] == []
                self.photos, self.albums, self.members, self.cursor = {}, {}, set(), None
                self.resets += 1
                continue
            for change in page["changes"]:
                self.apply(change)
            applied += len(page["changes"])
            self.cursor = page["next_cursor"]
            if not page["has_more"]:
                return applied

    def view(self) -> LibraryView:
        visible = {pid for pid, p in self.photos.items() if p["trashed_at"] is None}
        return LibraryView(
            timeline={pid: comparable_photo(p) for pid, p in self.photos.items() if pid in visible},
            trash={pid: comparable_photo(p) for pid, p in self.photos.items() if pid not in visible},
            albums={aid: comparable_album(a) for aid, a in self.albums.items()},
            album_photos={aid: {p for a, p in self.members if a == aid and p in visible} for aid in self.albums},
        )


def listed(api: LambdaApi) -> LibraryView:
    albums = api.ok("GET", "/albums")["items"]
    return LibraryView(
        timeline={p["id"]: comparable_photo(p) for p in api.all_pages("/photos", limit="500")},
        trash={p["id"]: comparable_photo(p) for p in api.all_pages("/trash", limit="500")},
        albums={a["id"]: comparable_album(a) for a in albums},
        album_photos={a["id"]: {p["id"] for p in api.all_pages("/photos", album_id=a["id"], limit="500")} for a in albums},
    )

"""Helpers for the browser tests: an HTTP client that fills a library through the public API
(grant, PUT, poll, exactly as any client must), test images, and the app's byte formatting."""

from __future__ import annotations

import hashlib
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import httpx

from tests.support.images import make_jpeg

FINALIZE_WAIT_SECONDS = 60


class ApiClient:
    def __init__(self, base_url: str, email: str) -> None:
        self.base_url = base_url
        self.email = email
        # Enough connections for the thread pool that fills a large library.
        self.http = httpx.Client(base_url=base_url, timeout=30, limits=httpx.Limits(max_connections=16))
        response = self.http.post("/auth/dev/login", json={"email": email})
        response.raise_for_status()
        self.http.headers["Authorization"] = f"Bearer {response.json()['access_token']}"

    def __enter__(self) -> "ApiClient":
        return self

    def __exit__(self, *exc_info) -> None:
        self.http.close()

    def me(self) -> dict:
        return self._ok(self.http.get("/me"))

    def upload(self, content: bytes, filename: str, content_type: str = "image/jpeg") -> str:
        """Back up one file and return its photo id once finalized and its thumbnail made (renditions
        come after the upload is complete, in the background): the pages then show every tile."""
        grant = self._ok(self.http.post("/uploads", json={
            "filename": filename,
            "content_type": content_type,
            "size": len(content),
            "sha256": hashlib.sha256(content).hexdigest(),
        }))
        assert grant["status"] == "pending", grant
        put = self.http.request(grant["method"], grant["url"], headers=grant["headers"], content=content)
        assert put.is_success, (put.status_code, put.text)
        deadline = time.monotonic() + FINALIZE_WAIT_SECONDS
        while time.monotonic() < deadline:
            state = self._ok(self.http.get(f"/uploads/{grant['upload_id']}"))
            if state["status"] == "complete":
                photo_id = state.get("photo_id") or grant["upload_id"]
                self._wait_for_thumbnail(photo_id, deadline)
                return photo_id
            assert state["status"] == "pending", state
            time.sleep(0.1)
        raise AssertionError(f"upload {grant['upload_id']} was not finalized in {FINALIZE_WAIT_SECONDS}s")

    def _wait_for_thumbnail(self, photo_id: str, deadline: float) -> None:
        while self._ok(self.http.get(f"/photos/{photo_id}"))["thumbnail_url"] is None:
            assert time.monotonic() < deadline, f"no thumbnail for {photo_id} in {FINALIZE_WAIT_SECONDS}s"
            time.sleep(0.1)

    def upload_many(self, files: list[tuple[bytes, str]], *, workers: int = 8) -> list[str]:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(lambda item: self.upload(*item), files))

    def all_photo_ids(self, album_id: str | None = None) -> list[str]:
        """Every photo id in the API's order, walking all pages."""
        ids: list[str] = []
        cursor = None
        while True:
            params = {"limit": 100}
            if cursor:
                params["cursor"] = cursor
            if album_id:
                params["album_id"] = album_id
            page = self._ok(self.http.get("/photos", params=params))
            ids.extend(item["id"] for item in page["items"])
            cursor = page["next_cursor"]
            if not cursor:
                return ids

    @staticmethod
    def _ok(response: httpx.Response) -> dict:
        assert response.is_success, (response.request.method, response.request.url.path, response.status_code, response.text)
        return response.json()


def distinct_jpeg(index: int, *, width: int = 96, height: int = 72, base: datetime | None = None) -> bytes:
    """A small JPEG unique to `index` (its EXIF date differs, so its SHA-256 does)."""
    base = base or datetime(2024, 8, 31, 12, 0, tzinfo=timezone.utc)
    return make_jpeg(width, height, taken_at=base - timedelta(hours=7 * index))


def human_bytes(size: int) -> str:
    """The app's byte formatting (web/js/format.js), to compare the numbers it shows."""
    units = ["B", "KB", "MB", "GB", "TB", "PB"]
    value = float(size)
    unit = 0
    while value >= 1024 and unit < len(units) - 1:
        value /= 1024
        unit += 1
    if unit == 0:
        return f"{size} B"
    text = f"{value:.1f}" if value < 10 and not value.is_integer() else f"{value:.0f}"
    return f"{text.removesuffix('.0')} {units[unit]}"

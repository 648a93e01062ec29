"""A test user speaking the HTTP contract of api.md to a running server, and nothing else."""

from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import dataclass

import httpx


@dataclass
class Upload:
    upload_id: str
    data: bytes
    filename: str


class ApiUser:
    def __init__(self, base_url: str, email: str | None = None) -> None:
        self.base_url = base_url
        self.email = email or f"user-{uuid.uuid4().hex[:10]}@example.com"
        self.http = httpx.Client(base_url=base_url, timeout=60)
        response = self.http.post("/auth/dev/login", json={"email": self.email})
        assert response.status_code == 200, response.text
        self.token = response.json()["access_token"]
        self.http.headers["Authorization"] = f"Bearer {self.token}"

    def request(self, method: str, path: str, **kwargs) -> httpx.Response:
        return self.http.request(method, path, **kwargs)

    def me(self) -> dict:
        response = self.http.get("/me")
        assert response.status_code == 200, response.text
        return response.json()

    def grant(self, data: bytes, *, filename: str = "IMG_0001.JPG", content_type: str = "image/jpeg") -> httpx.Response:
        return self.http.post("/uploads", json={
            "filename": filename, "content_type": content_type, "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        })

    def upload(self, data: bytes, *, filename: str = "IMG_0001.JPG", content_type: str = "image/jpeg") -> str:
        """The whole flow of api.md: grant, PUT, wait for finalize. Returns the photo id."""
        granted = self.grant(data, filename=filename, content_type=content_type)
        assert granted.status_code == 201, granted.text
        body = granted.json()
        put = httpx.request(body["method"], body["url"], headers=body["headers"], content=data, timeout=60)
        assert put.status_code == 200, put.text
        status = self.wait_for(body["upload_id"])
        assert status["status"] == "complete", status
        assert status["photo_id"] == body["upload_id"]
        return status["photo_id"]

    def wait_for(self, upload_id: str, *, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            response = self.http.get(f"/uploads/{upload_id}")
            assert response.status_code == 200, response.text
            status = response.json()
            if status["status"] != "pending" or time.monotonic() > deadline:
                return status
            time.sleep(0.1)

    def wait_for_renditions(self, photo_id: str, *, timeout: float = 60) -> dict:
        """The photo once its thumbnail exists: the renditions worker makes it after the upload is
        complete, in the background."""
        deadline = time.monotonic() + timeout
        while True:
            response = self.http.get(f"/photos/{photo_id}")
            assert response.status_code == 200, response.text
            photo = response.json()
            if photo["thumbnail_url"] is not None:
                return photo
            assert time.monotonic() < deadline, f"no renditions for {photo_id} after {timeout} s"
            time.sleep(0.1)

    def all_photos(self, *, limit: int = 100, album_id: str | None = None) -> list[dict]:
        items, cursor = [], None
        while True:
            params = {"limit": limit}
            if cursor:
                params["cursor"] = cursor
            if album_id:
                params["album_id"] = album_id
            response = self.http.get("/photos", params=params)
            assert response.status_code == 200, response.text
            page = response.json()
            assert len(page["items"]) <= limit
            items.extend(page["items"])
            cursor = page["next_cursor"]
            if cursor is None:
                return items


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert set(body) == {"error"}, body
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"], body

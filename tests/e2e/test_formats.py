"""AVIF and camera RAW files through a real `photosync serve`: accepted, stored as they are, dated
and thumbnailed; a file that only pretends to be RAW is rejected at finalize and charges nothing."""

from __future__ import annotations

import io
import time
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from PIL import Image

from tests.e2e.api import ApiUser
from tests.support.formats import make_avif, make_dng

REAL_RAW_FILES = Path(__file__).resolve().parents[1] / "fixtures" / "raw"
TAKEN = datetime(2023, 9, 10, 11, 12, 13)


def photo_with_renditions(user: ApiUser, photo_id: str, *, timeout: float = 60) -> dict:
    """The photo once its thumbnail exists (renditions may be made after the upload completes)."""
    deadline = time.monotonic() + timeout
    while True:
        response = user.http.get(f"/photos/{photo_id}")
        assert response.status_code == 200, response.text
        photo = response.json()
        if photo["thumbnail_url"] or time.monotonic() > deadline:
            return photo
        time.sleep(0.2)


def fetched_image(url: str) -> Image.Image:
    response = httpx.get(url, timeout=30)
    assert response.status_code == 200
    image = Image.open(io.BytesIO(response.content))
    image.load()
    return image


def download(user: ApiUser, photo_id: str) -> bytes:
    link = user.http.get(f"/photos/{photo_id}/download")
    assert link.status_code == 200, link.text
    return httpx.get(link.json()["url"], timeout=30).content


@pytest.mark.parametrize(
    ("filename", "content_type", "make_file", "expected"),
    [
        pytest.param(
            "PXL_0001.avif", "image/avif", lambda: make_avif(800, 600, orientation=6, taken_at=TAKEN, make="Google"),
            {"content_type": "image/avif", "width": 800, "height": 600, "camera_make": "Google",
             "taken_at": "2023-09-10T11:12:13Z"},
            id="avif",
        ),
        pytest.param(
            "DSC_0002.DNG", "image/x-adobe-dng", lambda: make_dng(800, 600, orientation=8, taken_at=TAKEN),
            {"content_type": "image/x-adobe-dng", "width": 800, "height": 600, "camera_make": "PhotoSync",
             "taken_at": "2023-09-10T11:12:13Z"},
            id="dng",
        ),
        pytest.param(
            "DSCF0003.RAF", "image/x-fuji-raf", lambda: (REAL_RAW_FILES / "FujiFilm.raf").read_bytes(),
            {"content_type": "image/x-fuji-raf", "camera_make": "FUJIFILM", "camera_model": "FinePix S5Pro",
             "taken_at": "2007-05-22T13:58:30Z"},
            id="real-raf",
        ),
    ],
)
def test_avif_and_raw_files_are_accepted_dated_and_thumbnailed(server, filename, content_type, make_file, expected):
    user = ApiUser(server.base_url)
    data = make_file()

    photo_id = user.upload(data, filename=filename, content_type=content_type)
    photo = photo_with_renditions(user, photo_id)

    assert {key: photo[key] for key in expected} == expected
    assert photo["thumbnail_url"] and photo["preview_url"], photo
    thumbnail = fetched_image(photo["thumbnail_url"])
    if photo["width"]:
        assert (thumbnail.width > thumbnail.height) == (photo["width"] > photo["height"])
    assert download(user, photo_id) == data  # stored as it is
    assert user.me()["storage_used"] == len(data)


def test_real_raw_without_a_preview_is_backed_up_and_dated_without_renditions(server):
    user = ApiUser(server.base_url)
    data = (REAL_RAW_FILES / "CanonRaw.cr3").read_bytes()

    photo_id = user.upload(data, filename="IMG_0004.CR3", content_type="image/x-canon-cr3")
    photo = user.http.get(f"/photos/{photo_id}").json()

    assert (photo["content_type"], photo["camera_model"], photo["width"], photo["height"]) == (
        "image/x-canon-cr3", "Canon EOS M50", 6024, 4020,
    )
    assert photo["taken_at"].startswith("2018-02-21T12:08:56")
    assert download(user, photo_id) == data


def _plain_tiff() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "orange").save(buffer, "TIFF")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("filename", "content_type", "make_file"),
    [
        pytest.param("DSC_0005.NEF", "image/x-nikon-nef", _plain_tiff, id="tiff-named-nef"),
        pytest.param("IMG_0006.CR2", "image/x-canon-cr2", lambda: b"II*\x00\x08\x00\x00\x00" + bytes(4000), id="tiff-header-only"),
        pytest.param("P0007.ORF", "image/x-olympus-orf", lambda: b"not a raw file at all" * 50, id="text-named-orf"),
    ],
)
def test_a_file_that_only_pretends_to_be_raw_is_rejected_and_charges_nothing(server, filename, content_type, make_file):
    user = ApiUser(server.base_url)
    data = make_file()
    granted = user.grant(data, filename=filename, content_type=content_type)
    assert granted.status_code == 201, granted.text  # the declared type is accepted; the bytes decide
    body = granted.json()
    put = httpx.request(body["method"], body["url"], headers=body["headers"], content=data, timeout=30)
    assert put.status_code == 200, put.text

    status = user.wait_for(body["upload_id"])

    assert status["status"] == "failed", status
    assert "not one of the accepted formats" in status["reason"] and "RAW" in status["reason"]
    account = user.me()
    assert (account["storage_used"], account["storage_pending"]) == (0, 0)
    assert user.all_photos() == []

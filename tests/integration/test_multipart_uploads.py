"""Multipart uploads through the Lambda handlers, on a real database and the local store: the grant
and its layout, what the routes refuse, and that cancel and the sweep release the reservation and
remove the parts. (Sending parts over HTTP and `complete` are in tests/e2e/test_multipart_uploads.py
against `photosync serve`, and against S3 in tests/integration/test_s3_multipart.py.)"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qsl, urlsplit

import pytest

from photosync.adapters.objectstore import ObjectStoreError
from photosync.handlers import environment
from photosync.services import cleanup
from tests.support.lambda_api import LambdaApi

MIB = 1024 * 1024
SIZE = 20 * MIB  # three parts of 8 MiB, the last one 4 MiB
SHA256 = "ab" * 32


@pytest.fixture
def api(lambda_env) -> LambdaApi:
    return LambdaApi()


def grant(api: LambdaApi, size: int = SIZE) -> dict:
    return api.ok("POST", "/uploads", status=201, json_body={
        "filename": "LONG.MP4", "content_type": "video/mp4", "size": size, "sha256": SHA256, "multipart": True,
    })


def store_part(api: LambdaApi, upload_id: str, number: int, data: bytes) -> None:
    """What the store's endpoint does with a part that arrived whole and verified."""
    (part,) = api.ok("POST", f"/uploads/{upload_id}/parts", json_body={
        "parts": [{"number": number, "sha256": hashlib.sha256(data).hexdigest()}],
    })["parts"]
    store = environment.object_store()
    ticket = store.verify_part(urlsplit(part["url"]).path.split("/_store/parts/", 1)[1], dict(parse_qsl(urlsplit(part["url"]).query)))
    assert ticket.size == len(data)
    temp = store.incoming_file()
    temp.write_bytes(data)
    store.store_part(temp, ticket)


def parts_folders(tmp_path) -> list[str]:
    return sorted(p.name for p in (tmp_path / "data" / "parts").iterdir())


def test_a_multipart_grant_has_its_layout_and_reserves_the_size(api):
    granted = grant(api)

    assert (granted["method"], granted["status"], granted["part_size"], granted["part_count"]) == ("MULTIPART", "pending", 8 * MIB, 3)
    assert "url" not in granted
    assert api.ok("GET", "/me")["storage_pending"] == SIZE
    expires_at = datetime.fromisoformat(granted["expires_at"])
    assert timedelta(hours=23) < expires_at - datetime.now(timezone.utc) <= timedelta(hours=24)

    urls = api.ok("POST", f"/uploads/{granted['upload_id']}/parts", json_body={
        "parts": [{"number": 3, "sha256": "cd" * 32}, {"number": 1, "sha256": "ef" * 32}],
    })["parts"]
    assert [u["number"] for u in urls] == [3, 1]
    sizes = [dict(parse_qsl(urlsplit(u["url"]).query))["size"] for u in urls]
    assert sizes == [str(4 * MIB), str(8 * MIB)]
    assert [u["headers"]["Content-Length"] for u in urls] == sizes


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"size": 5 * MIB - 1, "multipart": True}, 400),  # parts start at 5 MiB
        ({"size": 5 * 1024**3 + 1}, 413),  # one PUT takes at most 5 GiB
        ({"size": 20 * 1024**3 + 1, "multipart": True}, 413),  # over the largest upload
        ({"size": SIZE, "multipart": "yes"}, 400),
    ],
    ids=["multipart-below-5-MiB", "single-above-5-GiB", "above-the-largest", "multipart-not-a-bool"],
)
def test_a_grant_outside_the_multipart_rules_is_refused_and_reserves_nothing(api, body, status):
    answer = api.call("POST", "/uploads", json_body={"filename": "A.MP4", "content_type": "video/mp4", "sha256": SHA256, **body})

    assert answer[0] == status
    assert api.ok("GET", "/me")["storage_pending"] == 0


@pytest.mark.parametrize(
    "parts",
    [
        [], [{"number": 0, "sha256": SHA256}], [{"number": 4, "sha256": SHA256}], [{"number": 1, "sha256": "XY"}],
        [{"number": 1, "sha256": SHA256}, {"number": 1, "sha256": SHA256}], [{"number": True, "sha256": SHA256}],
        [{"number": n, "sha256": SHA256} for n in range(1, 102)], "parts",
    ],
    ids=["none", "number-0", "past-the-last", "bad-hash", "twice", "bool", "over-100", "not-a-list"],
)
def test_bad_part_requests_are_400(api, parts):
    upload_id = grant(api)["upload_id"]

    status, body = api.call("POST", f"/uploads/{upload_id}/parts", json_body={"parts": parts})

    assert status == 400 and body["error"]["code"] == "invalid_request"


def test_parts_of_an_unknown_a_foreign_or_a_single_upload_are_refused(api):
    upload_id = grant(api)["upload_id"]
    single = api.ok("POST", "/uploads", status=201, json_body={
        "filename": "A.JPG", "content_type": "image/jpeg", "size": 10, "sha256": SHA256,
    })["upload_id"]
    stranger = LambdaApi()
    body = {"parts": [{"number": 1, "sha256": SHA256}]}

    assert stranger.call("POST", f"/uploads/{upload_id}/parts", json_body=body)[0] == 404
    assert stranger.call("GET", f"/uploads/{upload_id}/parts")[0] == 404
    assert stranger.call("POST", f"/uploads/{upload_id}/complete", json_body={"parts": [{"number": 1, "etag": "x"}]})[0] == 404
    assert api.call("POST", "/uploads/7f0c4a8e-0000-4000-8000-000000000001/parts", json_body=body)[0] == 404
    assert api.call("POST", f"/uploads/{single}/parts", json_body=body)[0] == 409
    assert api.call("GET", f"/uploads/{single}/parts")[0] == 409


def test_complete_with_a_missing_or_reordered_part_is_refused_and_charges_nothing(api):
    upload_id = grant(api)["upload_id"]
    store_part(api, upload_id, 1, b"a" * 8 * MIB)
    store_part(api, upload_id, 2, b"b" * 8 * MIB)
    held = {p["number"]: p["etag"] for p in api.ok("GET", f"/uploads/{upload_id}/parts")["parts"]}
    assert sorted(held) == [1, 2]

    attempts = [
        [{"number": 1, "etag": held[1]}, {"number": 2, "etag": held[2]}],  # part 3 not listed
        [{"number": 2, "etag": held[2]}, {"number": 1, "etag": held[1]}, {"number": 3, "etag": "x"}],  # reordered
        [{"number": 1, "etag": held[1]}, {"number": 2, "etag": held[2]}, {"number": 3, "etag": "x"}],  # 3 not stored
        [{"number": 1, "etag": held[2]}, {"number": 2, "etag": held[2]}, {"number": 3, "etag": "x"}],  # wrong ETag
    ]
    for parts in attempts:
        status, body = api.call("POST", f"/uploads/{upload_id}/complete", json_body={"parts": parts})
        assert status == 400 and body["error"]["code"] == "invalid_request", body

    me = api.ok("GET", "/me")
    assert (me["storage_used"], me["storage_pending"]) == (0, SIZE)
    assert api.ok("GET", f"/uploads/{upload_id}")["status"] == "pending"
    assert len(api.ok("GET", f"/uploads/{upload_id}/parts")["parts"]) == 2  # nothing was dropped


def test_cancel_releases_the_reservation_and_removes_the_parts(api, tmp_path):
    upload_id = grant(api)["upload_id"]
    store_part(api, upload_id, 1, b"a" * 8 * MIB)
    assert len(parts_folders(tmp_path)) == 1

    assert api.call("DELETE", f"/uploads/{upload_id}") == (204, None)

    assert parts_folders(tmp_path) == []
    assert api.ok("GET", "/me")["storage_pending"] == 0
    assert api.call("GET", f"/uploads/{upload_id}/parts")[0] == 409
    assert api.call("POST", f"/uploads/{upload_id}/parts", json_body={"parts": [{"number": 2, "sha256": SHA256}]})[0] == 409


def test_the_sweep_aborts_a_multipart_upload_left_alone_for_its_ttl_and_spares_one_in_use(api, uow, tmp_path):
    abandoned = grant(api)["upload_id"]
    store_part(api, abandoned, 1, b"a" * 8 * MIB)
    in_use = grant(api)["upload_id"]
    store = environment.object_store()
    soon = datetime.now(timezone.utc) + timedelta(hours=23)

    # Within its TTL nothing happens (a single upload of that age would be released).
    report = cleanup.run_cleanup(uow, store, pending_ttl_seconds=3600, now=soon)
    assert report.released == 0 and len(parts_folders(tmp_path)) == 2

    # A part request keeps `in_use` alive a day more; `abandoned` lapses.
    uow.conn.execute("UPDATE pending_uploads SET url_expires_at = url_expires_at + interval '2 days' WHERE id = %s", (in_use,))
    report = cleanup.run_cleanup(uow, store, pending_ttl_seconds=3600, now=soon + timedelta(hours=2))

    assert (report.released, report.parts_aborted) == (1, 1)
    assert api.ok("GET", f"/uploads/{abandoned}")["status"] == "failed"
    assert api.ok("GET", f"/uploads/{in_use}")["status"] == "pending"
    assert api.ok("GET", "/me")["storage_pending"] == SIZE
    assert len(parts_folders(tmp_path)) == 1


def test_an_abort_that_fails_is_retried_by_the_sweep_and_the_tombstone_waits_for_it(api, uow, tmp_path, monkeypatch):
    upload_id = grant(api)["upload_id"]
    store_part(api, upload_id, 1, b"a" * 8 * MIB)
    store = environment.object_store()
    real_abort = type(store).abort_multipart

    def failing(self, key, multipart_id):
        raise ObjectStoreError("the store is unreachable")

    monkeypatch.setattr(type(store), "abort_multipart", failing)
    assert api.call("DELETE", f"/uploads/{upload_id}") == (204, None)
    assert api.ok("GET", "/me")["storage_pending"] == 0  # released at once all the same
    assert len(parts_folders(tmp_path)) == 1
    later = datetime.now(timezone.utc) + timedelta(days=30)  # past the tombstones' retention
    report = cleanup.run_cleanup(uow, store, pending_ttl_seconds=3600, now=later)
    assert report.parts_aborted == 0 and report.errors
    assert uow.conn.execute("SELECT count(*) AS n FROM pending_uploads WHERE id = %s", (upload_id,)).fetchone()["n"] == 1

    monkeypatch.setattr(type(store), "abort_multipart", real_abort)
    report = cleanup.run_cleanup(uow, store, pending_ttl_seconds=3600, now=later)

    assert report.parts_aborted == 1
    assert parts_folders(tmp_path) == []

"""Retry policy and error mapping of the SDK, against a fake transport."""

from __future__ import annotations

import json
import random

import httpx
import pytest

from photosync.client import (
    Conflict,
    FileTooLarge,
    InvalidRequest,
    NotFound,
    PhotoSyncClient,
    QuotaExceeded,
    RetryPolicy,
    ServerError,
    ServerUnreachable,
    Unauthorized,
    UnsupportedMediaType,
)

ME = {"id": "u1", "email": "a@example.com", "storage_quota": 2048, "storage_used": 1536, "storage_pending": 0}


def _client(handler, attempts: int = 4) -> tuple[PhotoSyncClient, list[float]]:
    sleeps: list[float] = []
    client = PhotoSyncClient(
        "http://photosync.test",
        "token",
        retry=RetryPolicy(attempts=attempts, base_delay=0.1, max_delay=1.0, rng=random.Random(7)),
        transport=httpx.MockTransport(handler),
        sleep=sleeps.append,
    )
    return client, sleeps


def _error(status: int, code: str) -> httpx.Response:
    return httpx.Response(status, json={"error": {"code": code, "message": f"{code} happened"}})


def test_delays_grow_exponentially_within_jitter_and_cap():
    policy = RetryPolicy(base_delay=0.5, max_delay=3.0, jitter=0.5, rng=random.Random(1))
    for retry, ceiling in enumerate([0.5, 1.0, 2.0, 3.0, 3.0]):
        delays = [policy.delay(retry) for _ in range(50)]
        assert all(ceiling / 2 <= delay <= ceiling for delay in delays)
        assert len(set(delays)) > 1  # jittered, so concurrent clients do not retry in lockstep


def test_get_is_retried_on_5xx_then_succeeds():
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(503) if len(calls) < 3 else httpx.Response(200, json=ME)

    client, sleeps = _client(handler)
    assert client.me().storage_used == 1536
    assert len(calls) == 3
    assert len(sleeps) == 2 and sleeps[0] <= 0.1 and sleeps[1] <= 0.2
    assert calls[0].headers["Authorization"] == "Bearer token"


def test_persistent_5xx_becomes_server_error_after_all_attempts():
    calls = []

    def handler(request):
        calls.append(request)
        return httpx.Response(500, json={"error": {"code": "internal", "message": "boom"}})

    client, _ = _client(handler, attempts=3)
    with pytest.raises(ServerError):
        client.list_albums()
    assert len(calls) == 3


def test_upload_request_is_not_repeated_after_a_5xx():
    calls = []

    def handler(request):
        calls.append(request)
        return httpx.Response(502)

    client, _ = _client(handler)
    with pytest.raises(ServerError):
        client.request_upload(filename="a.jpg", content_type="image/jpeg", size=3, sha256="0" * 64)
    assert len(calls) == 1


def test_upload_request_is_not_repeated_after_a_read_timeout():
    calls = []

    def handler(request):
        calls.append(request)
        raise httpx.ReadTimeout("slow", request=request)

    client, _ = _client(handler)
    with pytest.raises(ServerUnreachable):
        client.request_upload(filename="a.jpg", content_type="image/jpeg", size=3, sha256="0" * 64)
    assert len(calls) == 1


def test_a_request_that_never_connected_is_retried_even_when_not_idempotent():
    calls = []

    def handler(request):
        calls.append(request)
        if len(calls) == 1:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(201, json={"id": "a1", "name": "Trip", "created_at": "2024-05-01T10:00:00Z", "photo_count": 0})

    client, _ = _client(handler)
    assert client.create_album("Trip").name == "Trip"
    assert len(calls) == 2


def test_lookup_is_retried_after_a_dropped_connection():
    calls = []

    def handler(request):
        calls.append(request)
        if len(calls) == 1:
            raise httpx.RemoteProtocolError("dropped", request=request)
        return httpx.Response(200, json={"found": {"a" * 64: "p1"}})

    client, _ = _client(handler)
    assert client.lookup(["a" * 64, "b" * 64]).found == {"a" * 64: "p1"}
    assert len(calls) == 2


def test_unreachable_server_names_the_url_and_what_to_do():
    def handler(request):
        raise httpx.ConnectError("refused", request=request)

    client, sleeps = _client(handler, attempts=2)
    with pytest.raises(ServerUnreachable) as caught:
        client.me()
    assert "Cannot reach http://photosync.test: is `photosync serve` running?" in str(caught.value)
    assert len(sleeps) == 1


@pytest.mark.parametrize(
    ("status", "code", "exception"),
    [
        (401, "unauthorized", Unauthorized),
        (404, "not_found", NotFound),
        (400, "invalid_request", InvalidRequest),
        (413, "file_too_large", FileTooLarge),
        (415, "unsupported_media_type", UnsupportedMediaType),
        (409, "conflict", Conflict),
    ],
)
def test_each_error_code_has_its_exception(status, code, exception):
    client, _ = _client(lambda request: _error(status, code))
    with pytest.raises(exception) as caught:
        client.get_photo("p1")
    assert caught.value.status == status
    assert caught.value.code == code
    assert str(caught.value) == f"{code} happened"


def test_quota_exceeded_carries_the_numbers_from_me():
    def handler(request):
        if request.url.path == "/uploads":
            return _error(413, "quota_exceeded")
        return httpx.Response(200, json=ME)

    client, _ = _client(handler)
    with pytest.raises(QuotaExceeded) as caught:
        client.request_upload(filename="a.jpg", content_type="image/jpeg", size=1024, sha256="0" * 64)
    error = caught.value
    assert (error.storage_quota, error.storage_used, error.storage_pending, error.requested) == (2048, 1536, 0, 1024)
    assert str(error) == "Storage quota exceeded: 1.5 KiB used of 2.0 KiB; this file needs 1.0 KiB"


def test_lookup_sends_batches_of_at_most_1000_distinct_hashes():
    batches = []

    def handler(request):
        batch = json.loads(request.content)["sha256"]
        batches.append(batch)
        return httpx.Response(200, json={"found": {value: f"p-{value[:4]}" for value in batch if value.startswith("00")}})

    client, _ = _client(handler)
    hashes = [f"{number:064x}" for number in range(2500)]
    found = client.lookup(hashes + hashes[:10]).found
    assert [len(batch) for batch in batches] == [1000, 1000, 500]
    assert sorted(value for batch in batches for value in batch) == sorted(hashes)
    assert set(found) == {value for value in hashes if value.startswith("00")}


def test_upload_streams_the_file_with_exactly_the_granted_headers(tmp_path):
    content = bytes(range(256)) * 9000  # > 2 chunks
    source = tmp_path / "photo.jpg"
    source.write_bytes(b"\xff\xd8\xff" + content)
    size = source.stat().st_size
    seen = {}
    polls = []

    def handler(request):
        if request.url.path == "/uploads":
            return httpx.Response(
                201,
                json={
                    "upload_id": "up1",
                    "status": "pending",
                    "method": "PUT",
                    "url": "http://store.test/put/up1?sig=abc",
                    "headers": {"Content-Type": "image/jpeg", "X-Signed": "yes"},
                    "expires_at": "2030-01-01T00:00:00Z",
                },
            )
        if request.url.host == "store.test":
            seen["headers"] = request.headers
            seen["body"] = request.read()
            return httpx.Response(200)
        polls.append(request)
        status = "complete" if len(polls) >= 3 else "pending"
        return httpx.Response(200, json={"upload_id": "up1", "status": status, "photo_id": "up1"})

    client, sleeps = _client(handler)
    result = client.upload_file(source)
    assert (result.photo_id, result.duplicate) == ("up1", False)
    assert seen["body"] == source.read_bytes()
    assert seen["headers"]["X-Signed"] == "yes"
    assert seen["headers"]["Content-Type"] == "image/jpeg"
    assert seen["headers"]["Content-Length"] == str(size)
    assert "authorization" not in seen["headers"]  # the API token never goes to the storage
    assert "transfer-encoding" not in seen["headers"]
    assert len(polls) == 3 and sleeps == sorted(sleeps) and sleeps[0] < sleeps[-1]


def test_upload_of_content_the_server_has_sends_no_bytes(tmp_path):
    source = tmp_path / "photo.png"
    source.write_bytes(b"\x89PNG\r\n\x1a\n" + b"x" * 100)
    hosts = []

    def handler(request):
        hosts.append(request.url.path)
        return httpx.Response(200, json={"status": "duplicate", "photo_id": "p9"})

    client, _ = _client(handler)
    result = client.upload_file(source)
    assert (result.photo_id, result.duplicate) == ("p9", True)
    assert hosts == ["/uploads"]


def test_a_batch_answer_is_one_result_per_file_with_each_file_s_error_returned_not_raised() -> None:
    from photosync.client import DuplicateUpload, FileToUpload, UploadGrant

    grant = {"upload_id": "u-1", "status": "pending", "method": "PUT", "url": "http://store/1", "headers": {},
             "expires_at": "2026-12-01T23:00:00Z"}
    answers = [
        grant,
        {"status": "duplicate", "photo_id": "p-1", "in_trash": True},
        {"error": {"code": "quota_exceeded", "message": "not enough storage", "storage_quota": 2048,
                   "storage_used": 1536, "storage_pending": 100, "size": 600}},
        {"error": {"code": "unsupported_media_type", "message": "'text/plain' is not supported"}},
        {**grant, "duplicate_of": 0},
    ]
    sent: list[dict] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(200, json={"results": answers})

    client, sleeps = _client(handler)
    files = [FileToUpload(f"f{n}.jpg", "image/jpeg", 600, f"{n:064x}") for n in range(len(answers))]

    results = client.request_uploads(files)

    assert sent == [{"files": [{"filename": f.filename, "content_type": "image/jpeg", "size": 600, "sha256": f.sha256}
                               for f in files]}]
    assert isinstance(results[0], UploadGrant) and results[0].duplicate_of is None
    assert results[1] == DuplicateUpload(photo_id="p-1", in_trash=True)
    assert isinstance(results[2], QuotaExceeded) and (results[2].status, results[2].requested) == (413, 600)
    assert str(results[2]) == "Storage quota exceeded: 1.5 KiB used and 100 B being uploaded of 2.0 KiB; this file needs 600 B"
    assert isinstance(results[3], UnsupportedMediaType) and results[3].status == 415
    assert isinstance(results[4], UploadGrant) and results[4].duplicate_of == 0
    assert sleeps == []  # answered at once, nothing retried

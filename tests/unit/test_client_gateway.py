"""The SDK against API Gateway's own answers: `{"message": ...}` bodies mapped by status, 429 and
503 retried honouring Retry-After, and the session renewed with its refresh token (before expiry,
and once after a 401). Over httpx's MockTransport."""

from __future__ import annotations

import random
import threading
import time
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs

import httpx
import jwt
import pytest

from photosync.client import PhotoSyncClient, RetryPolicy, Unauthorized
from photosync.client.auth import Credentials, RefreshingSession, TokenStore
from photosync.client.errors import Forbidden, NotFound, TooManyRequests

SERVER = "https://api.photosync.test"
TOKEN_URL = "https://auth.photosync.test/oauth2/token"
ME = {"id": "u1", "email": "a@example.com", "storage_quota": 2048, "storage_used": 0, "storage_pending": 0}
GRANT = {"upload_id": "up1", "status": "pending", "method": "PUT", "url": "https://s3.test/x", "headers": {},
         "expires_at": "2030-01-01T00:00:00Z"}


def access_token(name: str, *, expires_in: float) -> str:
    return jwt.encode({"sub": "u1", "name": name, "exp": int(time.time() + expires_in)}, "k" * 32, algorithm="HS256")


def client_for(handler, *, session: RefreshingSession | None = None, token: str | None = "token", attempts: int = 4):
    sleeps: list[float] = []
    client = PhotoSyncClient(
        SERVER, token,
        retry=RetryPolicy(attempts=attempts, base_delay=0.1, max_delay=1.0, rng=random.Random(3)),
        transport=httpx.MockTransport(handler), sleep=sleeps.append, session=session,
    )
    return client, sleeps


@pytest.mark.parametrize(
    ("status", "message", "error"),
    [(401, "Unauthorized", Unauthorized), (403, "Forbidden", Forbidden), (404, "Not Found", NotFound)],
)
def test_api_gateway_s_own_error_bodies_are_mapped_by_status(status, message, error):
    client, _ = client_for(lambda request: httpx.Response(status, json={"message": message}))
    with pytest.raises(error) as raised:
        client.me()
    assert raised.value.status == status and message in str(raised.value)


def test_a_throttled_upload_request_is_retried_after_the_time_the_gateway_asks():
    answers = [httpx.Response(429, json={"message": "Too Many Requests"}, headers={"Retry-After": "3"}),
               httpx.Response(201, json=GRANT)]
    calls = []

    def handler(request):
        calls.append(request)
        return answers[len(calls) - 1]

    client, sleeps = client_for(handler)
    grant = client.request_upload(filename="a.jpg", content_type="image/jpeg", size=10, sha256="a" * 64)

    assert grant.upload_id == "up1" and len(calls) == 2  # POST /uploads too: a 429 did nothing
    assert sleeps == [3.0]


def test_503_is_retried_honouring_an_http_date_retry_after():
    when = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=20), usegmt=True)
    answers = iter([httpx.Response(503, headers={"Retry-After": when}), httpx.Response(200, json=ME)])
    client, sleeps = client_for(lambda request: next(answers))

    assert client.me().email == "a@example.com"
    assert len(sleeps) == 1 and 15 < sleeps[0] <= 20


def test_a_retry_after_beyond_the_policy_s_limit_is_cut_to_it():
    answers = iter([httpx.Response(429, headers={"Retry-After": "86400"}), httpx.Response(200, json=ME)])
    client, sleeps = client_for(lambda request: next(answers))
    client.me()
    assert sleeps == [RetryPolicy().max_retry_after]


def test_throttling_that_outlasts_the_retries_is_too_many_requests():
    client, sleeps = client_for(lambda request: httpx.Response(429, json={"message": "Too Many Requests"}), attempts=3)
    with pytest.raises(TooManyRequests):
        client.me()
    assert len(sleeps) == 2


class IdentityProvider:
    """A token endpoint (refresh_token grant) in front of an API that accepts only its latest token."""

    def __init__(self, first_token: str) -> None:
        self.valid = first_token
        self.refreshes: list[dict] = []
        self.api_calls: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if str(request.url) == TOKEN_URL:
            form = {name: values[0] for name, values in parse_qs(request.content.decode()).items()}
            with self.lock:
                self.refreshes.append(form)
                self.valid = access_token(f"renewed-{len(self.refreshes)}", expires_in=3600)
            return httpx.Response(200, json={"access_token": self.valid, "token_type": "Bearer", "expires_in": 3600})
        presented = request.headers.get("authorization", "").removeprefix("Bearer ")
        self.api_calls.append(presented)
        if presented != self.valid:
            return httpx.Response(401, json={"message": "Unauthorized"})
        return httpx.Response(200, json=ME)


def stored_session(tmp_path, token: str, *, refresh_token: str | None = "refresh-1", expires_in: float = 3600):
    credentials = Credentials(
        server=SERVER, access_token=token, expires_at=int(time.time() + expires_in), refresh_token=refresh_token,
        email="a@example.com", token_url=TOKEN_URL, client_id="app-client",
    )
    store = TokenStore(tmp_path)
    store.save(credentials)
    return store, credentials


def test_an_access_token_about_to_expire_is_renewed_before_the_request_and_saved(tmp_path):
    old = access_token("old", expires_in=10)
    idp = IdentityProvider(first_token="nothing-yet")
    store, credentials = stored_session(tmp_path, old, expires_in=10)
    session = RefreshingSession(credentials, store=store, http=httpx.Client(transport=httpx.MockTransport(idp)))
    client, _ = client_for(idp, session=session, token=None)

    assert client.me().email == "a@example.com"

    assert idp.api_calls == [idp.valid]  # the expiring token was never sent
    assert idp.refreshes == [{"grant_type": "refresh_token", "refresh_token": "refresh-1", "client_id": "app-client"}]
    saved = store.load()
    assert saved.access_token == idp.valid and saved.refresh_token == "refresh-1"  # Cognito sends no new one


def test_a_refused_token_is_renewed_once_and_the_request_sent_again(tmp_path):
    revoked = access_token("revoked", expires_in=3600)
    idp = IdentityProvider(first_token="something-else")
    store, credentials = stored_session(tmp_path, revoked)
    session = RefreshingSession(credentials, store=store, http=httpx.Client(transport=httpx.MockTransport(idp)))
    client, _ = client_for(idp, session=session, token=None)

    assert client.me().email == "a@example.com"
    assert idp.api_calls == [revoked, idp.valid] and len(idp.refreshes) == 1


def test_a_session_the_identity_provider_no_longer_renews_ends_in_unauthorized_without_a_loop(tmp_path):
    calls = []

    def handler(request):
        calls.append(str(request.url))
        if str(request.url) == TOKEN_URL:
            return httpx.Response(400, json={"error": "invalid_grant"})
        return httpx.Response(401, json={"message": "Unauthorized"})

    store, credentials = stored_session(tmp_path, access_token("old", expires_in=3600))
    session = RefreshingSession(credentials, store=store, http=httpx.Client(transport=httpx.MockTransport(handler)))
    client, _ = client_for(handler, session=session, token=None)

    with pytest.raises(Unauthorized):
        client.me()
    assert calls == [f"{SERVER}/me", TOKEN_URL]


def test_threads_that_hit_the_expiry_together_renew_once(tmp_path):
    idp = IdentityProvider(first_token="nothing-yet")
    store, credentials = stored_session(tmp_path, access_token("old", expires_in=5), expires_in=5)
    session = RefreshingSession(credentials, store=store, http=httpx.Client(transport=httpx.MockTransport(idp)))
    client, _ = client_for(idp, session=session, token=None)

    threads = [threading.Thread(target=client.me) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(idp.refreshes) == 1 and set(idp.api_calls) == {idp.valid}

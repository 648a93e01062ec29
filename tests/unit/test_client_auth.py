"""Token storage and the PKCE / loopback pieces of the browser sign-in."""

from __future__ import annotations

import stat
import threading
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest

from photosync.client.auth import (
    Credentials,
    LoopbackReceiver,
    OAuthEndpoints,
    SignInError,
    TokenStore,
    authorization_url,
    code_challenge_s256,
    new_code_verifier,
    token_expiry,
)
from photosync.client.models import Token


def test_code_challenge_matches_rfc_7636_appendix_b():
    assert code_challenge_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_code_verifiers_are_long_random_and_url_safe():
    verifiers = {new_code_verifier() for _ in range(20)}
    assert len(verifiers) == 20
    for verifier in verifiers:
        assert 43 <= len(verifier) <= 128
        assert set(verifier) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def test_authorization_url_carries_the_pkce_request():
    endpoints = OAuthEndpoints("https://idp.test/oauth2/authorize", "https://idp.test/oauth2/token", "app-1")
    url = authorization_url(endpoints, redirect_uri="http://127.0.0.1:5555/callback", state="s1", code_challenge="c1")
    query = {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}
    assert url.startswith("https://idp.test/oauth2/authorize?")
    assert query == {
        "response_type": "code",
        "client_id": "app-1",
        "redirect_uri": "http://127.0.0.1:5555/callback",
        "scope": "openid email",
        "state": "s1",
        "code_challenge": "c1",
        "code_challenge_method": "S256",
    }


def test_token_file_is_private_and_round_trips(tmp_path):
    store = TokenStore(tmp_path / "config")
    credentials = Credentials(server="http://127.0.0.1:8000", access_token="abc", expires_at=2_000_000_000, email="a@example.com")
    store.save(credentials)
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.directory.stat().st_mode) == 0o700
    assert store.load() == credentials
    store.save(Credentials(server="http://127.0.0.1:8000", access_token="def"))
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert store.load().access_token == "def"
    assert [p.name for p in store.directory.iterdir()] == ["credentials.json"]
    assert store.clear() is True
    assert store.load() is None
    assert store.clear() is False


def test_expiry_comes_from_the_jwt_exp_claim():
    token = jwt.encode({"sub": "u", "exp": 1_900_000_000}, "a-test-only-hmac-key-of-32-bytes!", algorithm="HS256")
    assert token_expiry(token) == 1_900_000_000
    assert token_expiry("not a jwt") is None
    credentials = Credentials.from_token("http://s/", Token(token, "Bearer", 3600))
    assert credentials.server == "http://s"
    assert credentials.expires_at == 1_900_000_000
    assert not credentials.is_expired(now=1_800_000_000)
    assert credentials.is_expired(now=1_900_000_000)
    assert credentials.is_expired(now=1_900_000_000 - 10)  # a margin: do not start with a dying token


def test_expiry_falls_back_to_expires_in_for_opaque_tokens():
    credentials = Credentials.from_token("http://s", Token("opaque", "Bearer", 600), now=1000.0)
    assert credentials.expires_at == 1600


def test_loopback_receiver_gets_the_callback_and_ignores_other_paths():
    receiver = LoopbackReceiver()
    assert urlsplit(receiver.redirect_uri).hostname == "127.0.0.1"
    answers = []

    def browser():
        base = receiver.redirect_uri.rsplit("/", 1)[0]
        answers.append(httpx.get(base + "/favicon.ico").status_code)
        answers.append(httpx.get(receiver.redirect_uri, params={"code": "c0de", "state": "st"}).status_code)

    thread = threading.Thread(target=browser)
    thread.start()
    try:
        assert receiver.wait(timeout=10) == {"code": "c0de", "state": "st"}
    finally:
        thread.join()
        receiver.close()
    assert answers == [404, 200]


def test_loopback_receiver_gives_up_at_the_deadline():
    receiver = LoopbackReceiver()
    started = time.monotonic()
    try:
        with pytest.raises(SignInError):
            receiver.wait(timeout=0.3)
    finally:
        receiver.close()
    assert time.monotonic() - started < 5

"""A stored sign-in outlives its access token: the CLI renews it with the refresh token from the
browser sign-in (here the local identity provider's code + PKCE flow) instead of asking the user
to sign in again every hour."""

from __future__ import annotations

import dataclasses
import secrets
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from photosync.client.auth import (
    Credentials,
    TokenStore,
    authorization_url,
    code_challenge_s256,
    discover_endpoints,
    exchange_code,
    new_code_verifier,
)
from tests.e2e.test_cli_sign_in_and_errors import config, forged_token, invoke  # noqa: F401 - fixture
from tests.support.server import start_server

REDIRECT_URI = "http://127.0.0.1:9/callback"  # never reached: the redirect is read, not followed


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    process = start_server(tmp_path_factory.mktemp("server"))
    yield process
    process.stop()


def browser_sign_in(server, email: str):
    endpoints = discover_endpoints(server.base_url, "photosync-local")
    verifier, state = new_code_verifier(), secrets.token_urlsafe(8)
    url = authorization_url(endpoints, redirect_uri=REDIRECT_URI, state=state, code_challenge=code_challenge_s256(verifier))
    form = dict(parse_qsl(urlsplit(url).query))
    redirect = httpx.post(url.split("?")[0], data={**form, "email": email})
    assert redirect.status_code == 302, redirect.text
    code = dict(parse_qsl(urlsplit(redirect.headers["location"]).query))["code"]
    token = exchange_code(endpoints, code=code, redirect_uri=REDIRECT_URI, code_verifier=verifier)
    assert token.refresh_token
    return Credentials.from_token(server.base_url, token, email=email, endpoints=endpoints)


@pytest.mark.parametrize("access_token", ["expired", "refused"])
def test_the_cli_renews_a_spent_access_token_with_the_refresh_token(config, server, access_token):
    credentials = browser_sign_in(server, "renewal@example.com")
    if access_token == "expired":
        spent = dataclasses.replace(credentials, expires_at=0)
    else:  # not expired by its clock, but the server refuses it
        spent = dataclasses.replace(credentials, access_token=forged_token(exp=4102444800))
    store = TokenStore(config)
    store.save(spent)

    result = invoke("me")

    assert result.exit_code == 0, result.stderr
    assert "renewal@example.com" in result.stdout
    renewed = store.load()
    assert renewed.access_token != spent.access_token and renewed.refresh_token == credentials.refresh_token

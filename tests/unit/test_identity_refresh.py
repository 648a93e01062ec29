"""The local identity provider's refresh_token grant, as Cognito's: the code exchange returns a
refresh token that buys new access tokens (no new refresh token) and is never a bearer token."""

from __future__ import annotations

import pytest

from photosync.local.identity import REFRESH_TOKEN_TTL_SECONDS
from tests.unit.test_identity import (  # noqa: F401 - fixtures
    CLIENT_ID,
    authorize_params,
    authorizer,
    client,
    clock,
    data_dir,
    exchange,
    pkce_pair,
    provider,
    provisioning,
    sign_in_for_code,
    unique_email,
)


def signed_in(client) -> dict:
    verifier, challenge = pkce_pair()
    params = authorize_params(challenge)
    response = exchange(client, sign_in_for_code(client, params, unique_email("refresh")), verifier)
    assert response.status_code == 200, response.text
    return response.json()


def refresh(client, refresh_token: str, client_id: str = CLIENT_ID):
    return client.post(
        "/auth/oauth2/token", data={"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id}
    )


def test_a_refresh_token_buys_a_new_access_token(client, authorizer, provider):
    tokens = signed_in(client)
    first = authorizer.verify(f"Bearer {tokens['access_token']}")
    assert "refresh_token" in provider.openid_configuration()["grant_types_supported"]

    response = refresh(client, tokens["refresh_token"])

    assert response.status_code == 200, response.text
    body = response.json()
    assert "refresh_token" not in body  # as Cognito: the refresh token stays the same
    claims = authorizer.verify(f"Bearer {body['access_token']}")
    assert (claims["sub"], claims["email"], claims["scope"]) == (first["sub"], first["email"], first["scope"])
    assert claims["jti"] != first["jti"]


def test_a_refresh_token_is_not_an_access_token(client, authorizer):
    tokens = signed_in(client)
    with pytest.raises(Exception):
        authorizer.verify(f"Bearer {tokens['refresh_token']}")


@pytest.mark.parametrize("problem", ["expired", "other-client", "access-token", "garbage"])
def test_a_bad_refresh_token_is_refused(client, clock, problem):
    tokens = signed_in(client)
    token, client_id = tokens["refresh_token"], CLIENT_ID
    if problem == "expired":
        clock.now += REFRESH_TOKEN_TTL_SECONDS + 1
    elif problem == "other-client":
        client_id = "someone-else"
    elif problem == "access-token":
        token = tokens["access_token"]
    else:
        token = "not.a.token"

    response = refresh(client, token, client_id)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"

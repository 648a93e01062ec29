"""Bearer tokens are checked as API Gateway's JWT authorizer (plus `token_use`) checks them, over HTTP."""

from __future__ import annotations

import base64
import json
import time
import uuid

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.e2e.api import ApiUser, assert_error


@pytest.fixture(scope="module")
def signer(server):
    """The server's own signing key and key id, read from its data directory, to forge near-valid tokens."""
    pem = (server.data_dir / "identity" / "signing-key.pem").read_bytes()
    key = serialization.load_pem_private_key(pem, password=None)
    kid = httpx.get(f"{server.base_url}/auth/.well-known/jwks.json").json()["keys"][0]["kid"]
    issuer = httpx.get(f"{server.base_url}/auth/.well-known/openid-configuration").json()["issuer"]
    return key, kid, issuer


@pytest.fixture(scope="module")
def user(server) -> ApiUser:
    return ApiUser(server.base_url)


def claims_of(user: ApiUser) -> dict:
    return jwt.decode(user.token, options={"verify_signature": False})


def forge(signer, claims: dict, *, key=None, kid=None, alg="RS256", headers=None) -> str:
    private_key, default_kid, _ = signer
    return jwt.encode(claims, key or private_key, algorithm=alg, headers={"kid": kid or default_kid, **(headers or {})})


def unsigned(claims: dict, kid: str) -> str:
    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT', 'kid': kid})}.{part(claims)}."


def test_the_genuine_token_and_a_freshly_forged_equal_one_are_accepted(server, user, signer):
    assert httpx.get(f"{server.base_url}/me", headers={"Authorization": f"Bearer {user.token}"}).status_code == 200
    assert httpx.get(f"{server.base_url}/me", headers={"Authorization": f"Bearer {forge(signer, claims_of(user))}"}).status_code == 200


def refused_tokens(user: ApiUser, signer) -> dict[str, str | None]:
    good = claims_of(user)
    now = int(time.time())
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = signer[0].public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return {
        "missing": None,
        "malformed": "Bearer not.a.jwt",
        "not bearer": f"Basic {user.token}",
        "alg none": f"Bearer {unsigned(good, signer[1])}",
        "hs256 with the public key": f"Bearer {_hs256(good, public_pem, signer[1])}",
        "wrong signature": f"Bearer {forge(signer, good, key=other_key)}",
        "unknown kid": f"Bearer {forge(signer, good, kid='unknown-key')}",
        "wrong issuer": f"Bearer {forge(signer, {**good, 'iss': 'https://cognito-idp.us-east-1.amazonaws.com/evil'})}",
        "wrong client": f"Bearer {forge(signer, {**good, 'client_id': 'someone-else'})}",
        "expired": f"Bearer {forge(signer, {**good, 'iat': now - 7200, 'exp': now - 3600})}",
        "not yet valid": f"Bearer {forge(signer, {**good, 'nbf': now + 3600})}",
        "id token": f"Bearer {forge(signer, {**good, 'token_use': 'id', 'aud': good['client_id']})}",
        "no sub": f"Bearer {forge(signer, {k: v for k, v in good.items() if k != 'sub'})}",
        "tampered payload": f"Bearer {_tamper(user.token, {**good, 'sub': str(uuid.uuid4())})}",
    }


def _hs256(claims: dict, secret: bytes, kid: str) -> str:
    import hashlib
    import hmac

    def part(value: bytes) -> str:
        return base64.urlsafe_b64encode(value).rstrip(b"=").decode()

    signing_input = f"{part(json.dumps({'alg': 'HS256', 'typ': 'JWT', 'kid': kid}).encode())}.{part(json.dumps(claims).encode())}"
    return f"{signing_input}.{part(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())}"


def _tamper(token: str, claims: dict) -> str:
    header, _, signature = token.split(".")
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{payload}.{signature}"


CASES = ["missing", "malformed", "not bearer", "alg none", "hs256 with the public key", "wrong signature",
         "unknown kid", "wrong issuer", "wrong client", "expired", "not yet valid", "id token", "no sub",
         "tampered payload"]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize(("method", "path"), [("GET", "/me"), ("GET", "/photos"), ("POST", "/uploads"), ("POST", "/albums")])
def test_every_bad_token_is_401(server, user, signer, case, method, path):
    header = refused_tokens(user, signer)[case]
    headers = {"Authorization": header} if header is not None else {}
    response = httpx.request(method, f"{server.base_url}{path}", headers=headers, json={"name": "x"})
    assert_error(response, 401, "unauthorized")


def test_health_needs_no_token(server):
    assert httpx.get(f"{server.base_url}/healthz").json() == {"status": "ok"}

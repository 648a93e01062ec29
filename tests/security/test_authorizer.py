"""The local JWT authorizer refuses every token API Gateway's Cognito JWT authorizer would refuse."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from photosync.local.authorizer import JwtAuthorizer, Unauthorized

ISSUER = "http://127.0.0.1:8000/auth"
CLIENT_ID = "photosync-local"
KID = "signing-key-1"


def _rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _public_jwk(key: rsa.RSAPrivateKey, kid: str) -> dict:
    return {**RSAAlgorithm.to_jwk(key.public_key(), as_dict=True), "kid": kid, "alg": "RS256", "use": "sig"}


@pytest.fixture(scope="module")
def signing_key() -> rsa.RSAPrivateKey:
    return _rsa_key()


@pytest.fixture(scope="module")
def other_key() -> rsa.RSAPrivateKey:
    return _rsa_key()


@pytest.fixture(scope="module")
def jwks(signing_key) -> dict:
    return {"keys": [_public_jwk(signing_key, KID)]}


@pytest.fixture
def authorizer(jwks) -> JwtAuthorizer:
    return JwtAuthorizer(issuer=ISSUER, client_id=CLIENT_ID, jwks=lambda: jwks)


def access_claims(**overrides) -> dict:
    now = int(time.time())
    claims = {
        "sub": str(uuid.uuid4()),
        "iss": ISSUER,
        "client_id": CLIENT_ID,
        "token_use": "access",
        "scope": "openid email",
        "auth_time": now,
        "iat": now,
        "exp": now + 3600,
        "jti": str(uuid.uuid4()),
        "username": "someone@example.com",
    }
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


def rs256(claims: dict, key: rsa.RSAPrivateKey, *, kid: str | None = KID, algorithm: str = "RS256") -> str:
    headers = {"kid": kid} if kid is not None else {}
    return jwt.encode(claims, key, algorithm=algorithm, headers=headers)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hmac_forged(claims: dict, secret: bytes) -> str:
    """An HS256 token "signed" with `secret`, built by hand because PyJWT refuses to do it with a key."""
    signing_input = f"{_b64(json.dumps({'alg': 'HS256', 'kid': KID}).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def refused(authorizer: JwtAuthorizer, header: str | None) -> str:
    with pytest.raises(Unauthorized) as caught:
        authorizer.verify(header)
    return str(caught.value)


def test_a_good_access_token_yields_its_claims(authorizer, signing_key):
    claims = access_claims()
    assert authorizer.verify(f"Bearer {rs256(claims, signing_key)}") == claims


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "BeArEr"])
def test_the_scheme_is_case_insensitive(authorizer, signing_key, scheme):
    claims = access_claims()
    assert authorizer.verify(f"{scheme} {rs256(claims, signing_key)}")["sub"] == claims["sub"]


@pytest.mark.parametrize("header", [None, "", "   "])
def test_a_missing_header_is_refused(authorizer, header):
    assert refused(authorizer, header) == "missing bearer token"


def test_another_scheme_is_refused(authorizer, signing_key):
    token = rs256(access_claims(), signing_key)
    assert "Bearer" in refused(authorizer, f"Basic {token}")
    assert "Bearer" in refused(authorizer, f"Token {token}")
    assert "Bearer" in refused(authorizer, token)
    assert "Bearer" in refused(authorizer, "Bearer")
    assert "Bearer" in refused(authorizer, "Bearer    ")


@pytest.mark.parametrize("token", ["abc", "a.b.c", "not.a.jwt.at.all", "eyJhbGciOiJSUzI1NiJ9", "....", "x y"])
def test_a_malformed_token_is_refused(authorizer, token):
    assert refused(authorizer, f"Bearer {token}") == "malformed token"


def test_alg_none_is_refused(authorizer):
    token = jwt.encode(access_claims(), None, algorithm="none", headers={"kid": KID})
    assert refused(authorizer, f"Bearer {token}") == "unsupported token algorithm"
    unsigned = token.rsplit(".", 1)[0] + "."
    assert refused(authorizer, f"Bearer {unsigned}") == "unsupported token algorithm"


def test_hs256_forged_with_the_public_key_as_secret_is_refused(authorizer, signing_key, jwks):
    public_pem = signing_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    for secret in (public_pem, json.dumps(jwks["keys"][0]).encode(), jwks["keys"][0]["n"].encode()):
        assert refused(authorizer, f"Bearer {hmac_forged(access_claims(), secret)}") == "unsupported token algorithm"


@pytest.mark.parametrize("algorithm", ["RS512", "PS256"])
def test_other_rsa_algorithms_with_the_right_key_are_refused(authorizer, signing_key, algorithm):
    token = rs256(access_claims(), signing_key, algorithm=algorithm)
    assert refused(authorizer, f"Bearer {token}") == "unsupported token algorithm"


def test_a_signature_by_another_key_with_the_same_kid_is_refused(authorizer, other_key):
    assert refused(authorizer, f"Bearer {rs256(access_claims(), other_key)}") == "invalid token signature"


def test_a_tampered_payload_is_refused(authorizer, signing_key):
    header, _, signature = rs256(access_claims(), signing_key).split(".")
    forged_payload = _b64(json.dumps(access_claims(sub="someone-else")).encode())
    assert refused(authorizer, f"Bearer {header}.{forged_payload}.{signature}") == "invalid token signature"


def test_an_unknown_kid_is_refused(authorizer, signing_key):
    assert refused(authorizer, f"Bearer {rs256(access_claims(), signing_key, kid='rotated-away')}") == "unknown signing key"


def test_a_token_without_kid_is_refused(authorizer, signing_key):
    assert refused(authorizer, f"Bearer {rs256(access_claims(), signing_key, kid=None)}") == "token has no key id"


def test_a_jwks_key_for_another_algorithm_is_not_used(signing_key):
    jwk = {**_public_jwk(signing_key, KID), "alg": "RS512"}
    authorizer = JwtAuthorizer(issuer=ISSUER, client_id=CLIENT_ID, jwks=lambda: {"keys": [jwk]})
    assert refused(authorizer, f"Bearer {rs256(access_claims(), signing_key)}") == "unknown signing key"


def test_the_wrong_issuer_is_refused(authorizer, signing_key):
    for issuer in ("http://127.0.0.1:8000/auth/", "https://cognito-idp.eu-west-1.amazonaws.com/pool", "http://evil"):
        token = rs256(access_claims(iss=issuer), signing_key)
        assert refused(authorizer, f"Bearer {token}") == "token from another issuer"


def test_another_client_id_is_refused(authorizer, signing_key):
    token = rs256(access_claims(client_id="someone-elses-app"), signing_key)
    assert refused(authorizer, f"Bearer {token}") == "token issued for another client"


def test_an_expired_token_is_refused(authorizer, signing_key):
    now = int(time.time())
    token = rs256(access_claims(iat=now - 7200, exp=now - 1), signing_key)
    assert refused(authorizer, f"Bearer {token}") == "token expired"


def test_leeway_tolerates_clock_skew_and_no_more(jwks, signing_key):
    lenient = JwtAuthorizer(issuer=ISSUER, client_id=CLIENT_ID, jwks=lambda: jwks, leeway_seconds=60)
    now = int(time.time())
    assert lenient.verify(f"Bearer {rs256(access_claims(iat=now - 3600, exp=now - 30), signing_key)}")
    assert refused(lenient, f"Bearer {rs256(access_claims(iat=now - 3600, exp=now - 120), signing_key)}") == "token expired"


def test_a_token_not_yet_valid_is_refused(authorizer, signing_key):
    now = int(time.time())
    assert refused(authorizer, f"Bearer {rs256(access_claims(nbf=now + 600), signing_key)}") == "token not yet valid"
    assert refused(authorizer, f"Bearer {rs256(access_claims(iat=now + 600), signing_key)}") == "token not yet valid"


def test_an_id_token_is_refused(authorizer, signing_key):
    id_token_claims = access_claims(token_use="id", aud=CLIENT_ID, client_id=None, email="someone@example.com")
    assert refused(authorizer, f"Bearer {rs256(id_token_claims, signing_key)}") == "token lacks the 'client_id' claim"
    # Even carrying the right client_id, a token whose use is not "access" is refused.
    id_token_claims["client_id"] = CLIENT_ID
    assert refused(authorizer, f"Bearer {rs256(id_token_claims, signing_key)}") == "not an access token"


@pytest.mark.parametrize("claim", ["sub", "exp", "iat", "iss", "client_id", "token_use"])
def test_a_token_missing_a_required_claim_is_refused(authorizer, signing_key, claim):
    token = rs256(access_claims(**{claim: None}), signing_key)
    assert refused(authorizer, f"Bearer {token}") == f"token lacks the {claim!r} claim"


@pytest.mark.parametrize("sub", ["", 42])
def test_an_empty_or_non_string_sub_is_refused(authorizer, signing_key, sub):
    refused(authorizer, f"Bearer {rs256(access_claims(sub=sub), signing_key)}")


def test_a_rotated_key_set_is_picked_up(signing_key, other_key):
    current = {"keys": [_public_jwk(signing_key, KID)]}
    authorizer = JwtAuthorizer(issuer=ISSUER, client_id=CLIENT_ID, jwks=lambda: current)
    assert authorizer.verify(f"Bearer {rs256(access_claims(), signing_key)}")
    current = {"keys": [_public_jwk(other_key, "signing-key-2")]}
    assert authorizer.verify(f"Bearer {rs256(access_claims(), other_key, kid='signing-key-2')}")
    assert refused(authorizer, f"Bearer {rs256(access_claims(), signing_key)}") == "unknown signing key"

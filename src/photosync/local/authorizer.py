"""The check API Gateway's Cognito JWT authorizer makes, for the local gateway.

In AWS, API Gateway verifies the access token before a handler runs; locally the gateway calls
`JwtAuthorizer.verify` and puts the returned claims into the event exactly where API Gateway would.
The rules are the same everywhere: RS256 only, a key from the issuer's JWKS picked by `kid`, the
exact issuer, the app client in `client_id` (Cognito access tokens carry no `aud`),
`token_use == "access"`, and `exp` / `nbf` / `iat` / `sub` present and valid.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

import jwt

_ALGORITHM = "RS256"
_REQUIRED_CLAIMS = ["exp", "iat", "sub", "iss", "client_id", "token_use"]


class Unauthorized(Exception):
    """The request carries no acceptable access token; the message is safe to show the caller."""


class JwtAuthorizer:
    def __init__(
        self,
        *,
        issuer: str,
        client_id: str,
        jwks: Callable[[], dict],
        leeway_seconds: int = 0,
    ) -> None:
        if not issuer or not client_id:
            raise ValueError("JwtAuthorizer needs an issuer and a client_id")
        if leeway_seconds < 0:
            raise ValueError("leeway_seconds cannot be negative")
        self._issuer = issuer
        self._client_id = client_id
        self._jwks = jwks
        self._leeway = leeway_seconds
        self._lock = threading.Lock()
        self._parsed_from: dict | None = None
        self._keys_by_kid: dict[str, jwt.PyJWK] = {}

    def verify(self, authorization_header: str | None) -> dict[str, Any]:
        """Return the token's claims, or raise `Unauthorized` saying why it is refused."""
        token = _bearer_token(authorization_header)
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthorized("malformed token") from None
        # Checked before any key is chosen, so `none` and HMAC tokens (including one "signed" with
        # the public key as an HMAC secret) never reach signature verification.
        if header.get("alg") != _ALGORITHM:
            raise Unauthorized("unsupported token algorithm")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Unauthorized("token has no key id")
        key = self._key_for(kid)
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=[_ALGORITHM],
                issuer=self._issuer,
                leeway=self._leeway,
                options={
                    "require": _REQUIRED_CLAIMS,
                    "verify_signature": True,
                    "verify_exp": True,
                    "verify_nbf": True,
                    "verify_iat": True,
                    "verify_iss": True,
                    "verify_sub": True,
                    "verify_jti": True,
                    # Cognito access tokens name the app client in `client_id`, checked below.
                    "verify_aud": False,
                },
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("token expired") from None
        except jwt.ImmatureSignatureError:
            raise Unauthorized("token not yet valid") from None
        except jwt.InvalidSignatureError:
            raise Unauthorized("invalid token signature") from None
        except jwt.InvalidIssuerError:
            raise Unauthorized("token from another issuer") from None
        except jwt.MissingRequiredClaimError as error:
            raise Unauthorized(f"token lacks the {error.claim!r} claim") from None
        except jwt.PyJWTError:
            raise Unauthorized("invalid token") from None
        if claims["client_id"] != self._client_id:
            raise Unauthorized("token issued for another client")
        if claims["token_use"] != "access":
            raise Unauthorized("not an access token")
        if not isinstance(claims["sub"], str) or not claims["sub"]:
            raise Unauthorized("token has no subject")
        return claims

    def _key_for(self, kid: str) -> jwt.PyJWK:
        jwks = self._jwks()
        with self._lock:
            # Parsing RSA keys costs more than comparing the small JWKS document, so keys are
            # rebuilt only when the issuer's key set changes (a rotation).
            if jwks != self._parsed_from:
                self._keys_by_kid = _rsa_keys_by_kid(jwks)
                self._parsed_from = jwks
            key = self._keys_by_kid.get(kid)
        if key is None:
            raise Unauthorized("unknown signing key")
        return key


def _bearer_token(authorization_header: str | None) -> str:
    if not authorization_header or not authorization_header.strip():
        raise Unauthorized("missing bearer token")
    scheme, _, token = authorization_header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("authorization must be 'Bearer <token>'")
    if " " in token:
        raise Unauthorized("malformed token")
    return token


def _rsa_keys_by_kid(jwks: dict) -> dict[str, jwt.PyJWK]:
    keys: dict[str, jwt.PyJWK] = {}
    for jwk in jwks.get("keys", []) if isinstance(jwks, dict) else []:
        if not isinstance(jwk, dict) or jwk.get("kty") != "RSA" or not jwk.get("kid"):
            continue
        if jwk.get("use", "sig") != "sig" or jwk.get("alg", _ALGORITHM) != _ALGORITHM:
            continue
        try:
            # Bound to RS256 whatever the JWK says, so the key can only ever verify RS256.
            keys[jwk["kid"]] = jwt.PyJWK(jwk, algorithm=_ALGORITHM)
        except jwt.PyJWTError:
            continue
    return keys

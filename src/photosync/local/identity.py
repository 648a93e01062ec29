"""The local runtime's identity provider: what Cognito's user pool is in AWS.

It signs RS256 access tokens shaped like Cognito's, publishes its keys as a JWKS and registers the
users who signed in. The pages and flows that sign a developer in (what the hosted UI is in AWS) are
in `photosync.local.sign_in`.

Everything that must survive a restart lives in `<data_dir>/identity/` (directory 0700, files 0600):
the signing key (so tokens stay valid), the namespace every `sub` derives from (so an email keeps its
`sub`, hence its photos) and the registry of emails whose first sign-in provisioned them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

IDENTITY_DIR_NAME = "identity"
SUPPORTED_SCOPES = ("openid", "email", "profile")

_KEY_FILE = "signing-key.pem"
_NAMESPACE_FILE = "subject-namespace"
_REGISTRY_FILE = "users.json"
_RSA_KEY_BITS = 2048
_EMAIL = re.compile(
    r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?",
    re.ASCII,
)

OnFirstSignIn = Callable[[str, str], None]


@dataclass(frozen=True)
class SignIn:
    access_token: str
    expires_in: int
    sub: str
    email: str
    first_sign_in: bool


def normalize_email(email: object) -> str:
    """The email as PhotoSync stores it (trimmed, lowercase); `ValueError` says what is wrong."""
    if not isinstance(email, str):
        raise ValueError("email must be a string")
    if not email.strip():
        raise ValueError("email is required")
    normalized = email.strip().lower()
    local_part, _, _ = normalized.partition("@")
    if len(normalized) > 254 or len(local_part) > 64 or not _EMAIL.fullmatch(normalized):
        raise ValueError(f"{email.strip()!r} is not an email address like name@example.com")
    return normalized


# Like Cognito's default: a refresh token outlives many access tokens.
REFRESH_TOKEN_TTL_SECONDS = 30 * 24 * 3600


class LocalIdentityProvider:
    def __init__(
        self,
        data_dir: Path,
        *,
        issuer: str,
        client_id: str = "photosync-local",
        token_ttl_seconds: int = 3600,
        clock: Callable[[], float] = time.time,
    ) -> None:
        parsed_issuer = urlsplit(issuer)
        if (
            parsed_issuer.scheme not in ("http", "https")
            or not parsed_issuer.hostname
            or parsed_issuer.query
            or parsed_issuer.fragment
            or not parsed_issuer.path.endswith("/auth")
        ):
            raise ValueError(
                f"issuer must be the absolute URL the /auth routes are served at, "
                f"like http://127.0.0.1:8000/auth; got {issuer!r}"
            )
        if not client_id:
            raise ValueError("client_id is required")
        if token_ttl_seconds <= 0:
            raise ValueError("token_ttl_seconds must be positive")
        self.issuer = issuer
        self.client_id = client_id
        self.token_ttl_seconds = token_ttl_seconds
        self.clock = clock

        directory = Path(data_dir) / IDENTITY_DIR_NAME
        _make_private_dir(directory)
        self._signing_key = _load_or_create_signing_key(directory / _KEY_FILE)
        public_jwk = RSAAlgorithm.to_jwk(self._signing_key.public_key(), as_dict=True)
        self._kid = _rfc7638_thumbprint(public_jwk)
        self._public_jwk = {**public_jwk, "kid": self._kid, "alg": "RS256", "use": "sig"}
        self._users = _UserRegistry(directory)

    def jwks(self) -> dict:
        return {"keys": [dict(self._public_jwk)]}

    def openid_configuration(self) -> dict:
        return {
            "issuer": self.issuer,
            "jwks_uri": f"{self.issuer}/.well-known/jwks.json",
            "authorization_endpoint": f"{self.issuer}/oauth2/authorize",
            "token_endpoint": f"{self.issuer}/oauth2/token",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none"],
            "scopes_supported": list(SUPPORTED_SCOPES),
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
        }

    def sign_in(
        self,
        email: str,
        *,
        scope: str = " ".join(SUPPORTED_SCOPES),
        on_first_sign_in: OnFirstSignIn | None = None,
    ) -> SignIn:
        """Sign `email` in and issue its access token.

        The first sign-in of an email runs `on_first_sign_in(sub, email)` (user provisioning) and
        is recorded only once that returns, so a failed provisioning runs again next time; its
        exception propagates and no token is issued. Without `on_first_sign_in` the first sign-in
        is recorded unprovisioned (the API provisions a user without a row on first request).
        """
        sub, email, first_sign_in = self.register(email, on_first_sign_in)
        access_token = self.access_token(sub, email, scope)
        return SignIn(access_token, self.token_ttl_seconds, sub, email, first_sign_in)

    def register(self, email: str, on_first_sign_in: OnFirstSignIn | None) -> tuple[str, str, bool]:
        email = normalize_email(email)
        sub = self._users.sub_for(email)
        if self._users.is_registered(email):
            return sub, email, False
        # Not under the registry lock: provisioning may be slow, and two concurrent first
        # sign-ins calling it twice is harmless because it is idempotent.
        if on_first_sign_in is not None:
            on_first_sign_in(sub, email)
        first_sign_in = self._users.register(email, sub, signed_in_at=self.clock())
        return sub, email, first_sign_in

    def access_token(self, sub: str, email: str, scope: str) -> str:
        now = int(self.clock())
        claims = {
            "sub": sub,
            "iss": self.issuer,
            "client_id": self.client_id,
            "origin_jti": str(uuid.uuid4()),
            "token_use": "access",
            "scope": scope,
            "auth_time": now,
            "exp": now + self.token_ttl_seconds,
            "iat": now,
            "jti": str(uuid.uuid4()),
            "username": email,
            "email": email,
        }
        # Cognito's access-token header is exactly {"kid", "alg"}: no "typ".
        return jwt.encode(claims, self._signing_key, algorithm="RS256", headers={"kid": self._kid, "typ": None})

    def refresh_token(self, sub: str, email: str, scope: str) -> str:
        """Like Cognito's, it outlives the access token (30 days) and only buys new access tokens:
        the gateway refuses it as a bearer token (token_use is not "access")."""
        now = int(self.clock())
        claims = {
            "sub": sub, "iss": self.issuer, "client_id": self.client_id, "token_use": "refresh",
            "scope": scope, "email": email, "iat": now, "exp": now + REFRESH_TOKEN_TTL_SECONDS,
            "jti": str(uuid.uuid4()),
        }
        return jwt.encode(claims, self._signing_key, algorithm="RS256", headers={"kid": self._kid})

    def refreshed_access_token(self, refresh_token: str, client_id: str) -> tuple[str, str]:
        """A new access token (and its scope) for a valid refresh token; ValueError otherwise."""
        try:
            claims = jwt.decode(
                refresh_token, self._signing_key.public_key(), algorithms=["RS256"], issuer=self.issuer,
                # Expiry is checked below against the provider's own clock.
                options={"require": ["exp", "iat", "sub", "iss"], "verify_exp": False, "verify_iat": False},
            )
        except jwt.PyJWTError as error:
            raise ValueError(f"the refresh token is invalid or expired ({error})") from None
        if claims.get("token_use") != "refresh" or claims.get("client_id") != client_id:
            raise ValueError("this is not a refresh token of this client")
        if claims["exp"] <= self.clock():
            raise ValueError("the refresh token is expired: sign in again")
        return self.access_token(claims["sub"], claims["email"], claims["scope"]), claims["scope"]


# ---------------------------------------------------------------------------------------------
# Durable state


def _make_private_dir(directory: Path) -> None:
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    # mkdir honours the umask and leaves an existing directory as it is.
    os.chmod(directory, 0o700)


def _write_private_file(path: Path, content: bytes, *, replace: bool) -> None:
    """Write `content` to `path` (0600) atomically; without `replace`, keep a file already there."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o600)
        if replace:
            os.replace(temporary, path)
        else:
            try:
                # A hard link creates the name only if it is free: two processes starting on a new
                # data directory at once agree on one file.
                os.link(temporary, path)
            except FileExistsError:
                pass
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _load_or_create_signing_key(path: Path) -> rsa.RSAPrivateKey:
    if not path.exists():
        new_key = rsa.generate_private_key(public_exponent=65537, key_size=_RSA_KEY_BITS)
        pem = new_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        _write_private_file(path, pem, replace=False)
    os.chmod(path, 0o600)
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except ValueError as error:
        raise RuntimeError(f"{path} is not a PEM private key ({error}); remove it to create a new one") from None
    if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < 2048:
        raise RuntimeError(f"{path} must hold an RSA key of at least 2048 bits; remove it to create a new one")
    return key


def _rfc7638_thumbprint(public_jwk: Mapping[str, Any]) -> str:
    canonical = json.dumps(
        {"e": public_jwk["e"], "kty": public_jwk["kty"], "n": public_jwk["n"]},
        separators=(",", ":"),
        sort_keys=True,
    )
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


# One lock per registry file, shared by every provider of this process on that data directory.
_registry_locks: dict[Path, threading.Lock] = {}
_registry_locks_guard = threading.Lock()


class _UserRegistry:
    """Emails that completed their first sign-in, and the namespace every `sub` derives from.

    A `sub` is uuid5(namespace, email): stable for an email without any write, and unguessable
    across installations because the namespace is random per data directory.
    """

    def __init__(self, directory: Path) -> None:
        namespace_path = directory / _NAMESPACE_FILE
        if not namespace_path.exists():
            _write_private_file(namespace_path, f"{uuid.uuid4()}\n".encode(), replace=False)
        try:
            self._namespace = uuid.UUID(namespace_path.read_text().strip())
        except ValueError:
            raise RuntimeError(
                f"{namespace_path} is damaged; restore it from a backup, since every user id derives from it"
            ) from None
        self._path = directory / _REGISTRY_FILE
        with _registry_locks_guard:
            self._lock = _registry_locks.setdefault(self._path.resolve(), threading.Lock())

    def sub_for(self, email: str) -> str:
        return str(uuid.uuid5(self._namespace, email))

    def is_registered(self, email: str) -> bool:
        with self._lock:
            return email in self._read()

    def register(self, email: str, sub: str, *, signed_in_at: float) -> bool:
        """Record the email's first sign-in; False when another sign-in recorded it first."""
        with self._lock:
            users = self._read()
            if email in users:
                return False
            users[email] = {
                "sub": sub,
                "first_sign_in_at": datetime.fromtimestamp(signed_in_at, timezone.utc).isoformat(),
            }
            document = json.dumps({"users": users}, indent=2, sort_keys=True).encode()
            _write_private_file(self._path, document, replace=True)
            return True

    def _read(self) -> dict[str, Any]:
        try:
            document = json.loads(self._path.read_text())
        except FileNotFoundError:
            return {}
        except ValueError:
            raise RuntimeError(f"{self._path} is not valid JSON; fix or remove it") from None
        users = document.get("users") if isinstance(document, dict) else None
        if not isinstance(users, dict):
            raise RuntimeError(f"{self._path} has no 'users' object; fix or remove it")
        return users

"""The local runtime's identity provider: what Cognito (hosted UI + user pool) is in AWS.

It signs RS256 access tokens shaped like Cognito's, publishes its keys as a JWKS, and offers the
sign-ins a developer needs without a password: `POST /auth/dev/login` and the OAuth 2 authorization
code flow with PKCE that Cognito's hosted UI offers, so the CLI and the web client use the same flow
in both runtimes. Both are dev sign-ins and exist only when the local server allows them.

Everything that must survive a restart lives in `<data_dir>/identity/` (directory 0700, files 0600):
the signing key (so tokens stay valid), the namespace every `sub` derives from (so an email keeps its
`sub`, hence its photos) and the registry of emails whose first sign-in provisioned them.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import logging
import os
import re
import secrets
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Mapping
from urllib.parse import SplitResult, parse_qsl, urlencode, urlsplit, urlunsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

logger = logging.getLogger(__name__)

IDENTITY_DIR_NAME = "identity"
SUPPORTED_SCOPES = ("openid", "email", "profile")
AUTHORIZATION_CODE_TTL_SECONDS = 300

_KEY_FILE = "signing-key.pem"
_NAMESPACE_FILE = "subject-namespace"
_REGISTRY_FILE = "users.json"
_RSA_KEY_BITS = 2048
_MAX_FORM_BYTES = 16 * 1024
_MAX_STATE_LENGTH = 2048
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
# base64url(SHA-256) without padding is always 43 characters (RFC 7636 section 4.2).
_CODE_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")
_CODE_VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")
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
        self._clock = clock
        self._origin = _origin(parsed_issuer)

        directory = Path(data_dir) / IDENTITY_DIR_NAME
        _make_private_dir(directory)
        self._signing_key = _load_or_create_signing_key(directory / _KEY_FILE)
        public_jwk = RSAAlgorithm.to_jwk(self._signing_key.public_key(), as_dict=True)
        self._kid = _rfc7638_thumbprint(public_jwk)
        self._public_jwk = {**public_jwk, "kid": self._kid, "alg": "RS256", "use": "sig"}
        self._users = _UserRegistry(directory)
        self._codes = _AuthorizationCodes(clock)

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
        sub, email, first_sign_in = self._register(email, on_first_sign_in)
        access_token = self._access_token(sub, email, scope)
        return SignIn(access_token, self.token_ttl_seconds, sub, email, first_sign_in)

    def routes(self, *, on_first_sign_in: OnFirstSignIn, dev_login_allowed: bool) -> list[BaseRoute]:
        endpoints = _AuthEndpoints(self, on_first_sign_in, dev_login_allowed)
        return [
            Route("/auth/.well-known/openid-configuration", endpoints.openid_configuration, methods=["GET"]),
            Route("/auth/.well-known/jwks.json", endpoints.jwks, methods=["GET"]),
            Route("/auth/dev/login", endpoints.dev_login, methods=["POST"]),
            Route("/auth/oauth2/authorize", endpoints.authorize_form, methods=["GET"]),
            Route("/auth/oauth2/authorize", endpoints.authorize_submit, methods=["POST"]),
            Route("/auth/oauth2/token", endpoints.token, methods=["POST"]),
        ]

    def _register(self, email: str, on_first_sign_in: OnFirstSignIn | None) -> tuple[str, str, bool]:
        email = normalize_email(email)
        sub = self._users.sub_for(email)
        if self._users.is_registered(email):
            return sub, email, False
        # Not under the registry lock: provisioning may be slow, and two concurrent first
        # sign-ins calling it twice is harmless because it is idempotent.
        if on_first_sign_in is not None:
            on_first_sign_in(sub, email)
        first_sign_in = self._users.register(email, sub, signed_in_at=self._clock())
        return sub, email, first_sign_in

    def _access_token(self, sub: str, email: str, scope: str) -> str:
        now = int(self._clock())
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

    def _refresh_token(self, sub: str, email: str, scope: str) -> str:
        """Like Cognito's, it outlives the access token (30 days) and only buys new access tokens:
        the gateway refuses it as a bearer token (token_use is not "access")."""
        now = int(self._clock())
        claims = {
            "sub": sub, "iss": self.issuer, "client_id": self.client_id, "token_use": "refresh",
            "scope": scope, "email": email, "iat": now, "exp": now + REFRESH_TOKEN_TTL_SECONDS,
            "jti": str(uuid.uuid4()),
        }
        return jwt.encode(claims, self._signing_key, algorithm="RS256", headers={"kid": self._kid})

    def _refreshed_access_token(self, refresh_token: str, client_id: str) -> tuple[str, str]:
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
        if claims["exp"] <= self._clock():
            raise ValueError("the refresh token is expired: sign in again")
        return self._access_token(claims["sub"], claims["email"], claims["scope"]), claims["scope"]

    def _redirect_uri_allowed(self, redirect_uri: str) -> bool:
        try:
            parsed = urlsplit(redirect_uri)
            parsed.port  # noqa: B018 - raises ValueError on a malformed port
        except ValueError:
            return False
        if parsed.fragment or parsed.username is not None or parsed.password is not None or not parsed.hostname:
            return False
        if parsed.scheme == "http" and parsed.hostname in _LOOPBACK_HOSTS:
            return True
        return _origin(parsed) == self._origin


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


# ---------------------------------------------------------------------------------------------
# OAuth 2 authorization code + PKCE


@dataclass(frozen=True)
class _AuthorizationRequest:
    client_id: str
    redirect_uri: str
    code_challenge: str
    state: str | None
    scope: str


@dataclass(frozen=True)
class _Grant:
    request: _AuthorizationRequest
    sub: str
    email: str
    expires_at: float


class _AuthorizationCodes:
    """Codes live in memory: they last five minutes and a restart just means signing in again."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._grants: dict[str, _Grant] = {}
        self._lock = threading.Lock()

    def issue(self, request: _AuthorizationRequest, sub: str, email: str) -> str:
        code = secrets.token_urlsafe(32)
        now = self._clock()
        with self._lock:
            self._grants = {c: g for c, g in self._grants.items() if g.expires_at > now}
            self._grants[code] = _Grant(request, sub, email, now + AUTHORIZATION_CODE_TTL_SECONDS)
        return code

    def redeem(self, code: str) -> _Grant | None:
        """The code's grant, once: a code is spent by its first redemption, even a failed one."""
        with self._lock:
            grant = self._grants.pop(code, None)
        if grant is None or grant.expires_at <= self._clock():
            return None
        return grant


class _AuthorizationError(Exception):
    """A bad authorization request. Only once the client and its redirect URI are trusted may the
    error be sent back to the client by redirect; before that it is shown here."""

    def __init__(self, error: str, description: str, *, redirect_to: str | None = None, state: str | None = None):
        super().__init__(description)
        self.error = error
        self.description = description
        self.redirect_to = redirect_to
        self.state = state


_AUTHORIZATION_PARAMETERS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "code_challenge",
    "code_challenge_method",
    "state",
    "scope",
)


def _single_valued(pairs: list[tuple[str, str]]) -> dict[str, str]:
    values: dict[str, str] = {}
    for name, value in pairs:
        if name in values:
            raise ValueError(f"parameter {name!r} is repeated")
        values[name] = value
    return values


def _with_query(url: str, parameters: Mapping[str, str | None]) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query.extend((name, value) for name, value in parameters.items() if value is not None)
    return urlunsplit(parts._replace(query=urlencode(query)))


def _origin(parts: SplitResult) -> tuple[str, str, int | None]:
    default_port = {"http": 80, "https": 443}.get(parts.scheme)
    return (parts.scheme, (parts.hostname or "").lower(), parts.port or default_port)


def _pkce_challenge(code_verifier: str) -> str:
    digest = hashlib.sha256(code_verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


# ---------------------------------------------------------------------------------------------
# HTTP


def _api_error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def _oauth_error(error: str, description: str) -> JSONResponse:
    return JSONResponse(
        {"error": error, "error_description": description},
        status_code=400,
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


def _token_response(access_token: str, expires_in: int, **extra: str) -> JSONResponse:
    return JSONResponse(
        {"access_token": access_token, "token_type": "Bearer", "expires_in": expires_in, **extra},
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


_PAGE_HEADERS = {
    # No script, style or other resource is needed, so a strict policy costs nothing.
    "Content-Security-Policy": "default-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in to PhotoSync (local)</title>
</head>
<body>
<main>
<h1>Sign in to PhotoSync</h1>
<p>Local development sign-in: enter any email address, no password is asked.
After signing in you return to <code>{redirect_uri}</code>.</p>
{error}<form method="post" action="authorize">
<label for="email">Email</label>
<input id="email" name="email" type="email" required autocomplete="email" autofocus value="{email}">
{hidden}<button type="submit">Sign in</button>
</form>
</main>
</body>
</html>
"""


def _sign_in_page(parameters: Mapping[str, str], *, email: str = "", error: str = "", status: int = 200) -> HTMLResponse:
    hidden = "".join(
        f'<input type="hidden" name="{name}" value="{html.escape(parameters[name], quote=True)}">\n'
        for name in _AUTHORIZATION_PARAMETERS
        if name in parameters
    )
    body = _PAGE.format(
        redirect_uri=html.escape(parameters.get("redirect_uri", ""), quote=True),
        email=html.escape(email, quote=True),
        error=f'<p role="alert">{html.escape(error, quote=True)}</p>\n' if error else "",
        hidden=hidden,
    )
    return HTMLResponse(body, status_code=status, headers=_PAGE_HEADERS)


async def _form_fields(request: Request) -> dict[str, str]:
    """The request's form fields; `ValueError` if it is not a small, well-formed urlencoded form."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise ValueError("the body must be application/x-www-form-urlencoded")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > _MAX_FORM_BYTES:
            raise ValueError("the form is too large")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body))
    except (UnicodeDecodeError, ValueError):
        raise ValueError("the form is not valid urlencoded UTF-8") from None
    return _single_valued(pairs)


class _AuthEndpoints:
    def __init__(self, provider: LocalIdentityProvider, on_first_sign_in: OnFirstSignIn, dev_login_allowed: bool):
        self._provider = provider
        self._on_first_sign_in = on_first_sign_in
        self._dev_login_allowed = dev_login_allowed

    async def openid_configuration(self, request: Request) -> Response:
        return JSONResponse(self._provider.openid_configuration())

    async def jwks(self, request: Request) -> Response:
        return JSONResponse(self._provider.jwks())

    async def dev_login(self, request: Request) -> Response:
        if not self._dev_login_allowed:
            return _dev_sign_in_forbidden()
        try:
            body = await request.json()
        except ValueError:
            return _api_error(400, "invalid_request", "the body must be JSON like {\"email\": \"name@example.com\"}")
        if not isinstance(body, dict) or "email" not in body:
            return _api_error(400, "invalid_request", "the body must be JSON like {\"email\": \"name@example.com\"}")
        try:
            email = normalize_email(body["email"])
        except ValueError as error:
            return _api_error(400, "invalid_request", str(error))
        try:
            sign_in = await self._signed_in(self._provider.sign_in, email, on_first_sign_in=self._on_first_sign_in)
        except _ProvisioningFailed:
            return _provisioning_failed()
        return _token_response(sign_in.access_token, sign_in.expires_in)

    async def authorize_form(self, request: Request) -> Response:
        if not self._dev_login_allowed:
            return _dev_sign_in_forbidden()
        try:
            parameters = _single_valued(request.query_params.multi_items())
            self._authorization_request(parameters)
        except ValueError as error:
            return _api_error(400, "invalid_request", str(error))
        except _AuthorizationError as error:
            return self._authorization_failed(error)
        return _sign_in_page(parameters)

    async def authorize_submit(self, request: Request) -> Response:
        if not self._dev_login_allowed:
            return _dev_sign_in_forbidden()
        try:
            fields = await _form_fields(request)
            authorization = self._authorization_request(fields)
        except ValueError as error:
            return _api_error(400, "invalid_request", str(error))
        except _AuthorizationError as error:
            return self._authorization_failed(error)
        entered_email = fields.get("email", "")
        try:
            email = normalize_email(entered_email)
        except ValueError as error:
            return _sign_in_page(fields, email=entered_email, error=str(error), status=400)
        try:
            sub, email, _ = await self._signed_in(self._provider._register, email, self._on_first_sign_in)
        except _ProvisioningFailed:
            return _sign_in_page(fields, email=email, error="Your account could not be set up; please try again.", status=503)
        code = self._provider._codes.issue(authorization, sub, email)
        location = _with_query(authorization.redirect_uri, {"code": code, "state": authorization.state})
        return RedirectResponse(location, status_code=302, headers={"Cache-Control": "no-store"})

    async def token(self, request: Request) -> Response:
        if not self._dev_login_allowed:
            return _dev_sign_in_forbidden()
        try:
            fields = await _form_fields(request)
        except ValueError as error:
            return _oauth_error("invalid_request", str(error))
        if fields.get("grant_type") == "refresh_token":
            return await self._refresh(fields)
        if fields.get("grant_type") != "authorization_code":
            return _oauth_error("unsupported_grant_type", "grant_type must be authorization_code or refresh_token")
        missing = [name for name in ("code", "redirect_uri", "client_id", "code_verifier") if not fields.get(name)]
        if missing:
            return _oauth_error("invalid_request", f"missing {', '.join(missing)}")
        grant = self._provider._codes.redeem(fields["code"])
        if grant is None:
            return _oauth_error("invalid_grant", "the code is invalid, expired or already used")
        if fields["client_id"] != grant.request.client_id:
            return _oauth_error("invalid_grant", "the code was issued to another client")
        if fields["redirect_uri"] != grant.request.redirect_uri:
            return _oauth_error("invalid_grant", "redirect_uri differs from the authorization request")
        verifier = fields["code_verifier"]
        if not _CODE_VERIFIER.fullmatch(verifier) or not secrets.compare_digest(
            _pkce_challenge(verifier), grant.request.code_challenge
        ):
            return _oauth_error("invalid_grant", "code_verifier does not match the code_challenge")
        provider = self._provider
        access_token = await run_in_threadpool(provider._access_token, grant.sub, grant.email, grant.request.scope)
        refresh_token = await run_in_threadpool(provider._refresh_token, grant.sub, grant.email, grant.request.scope)
        return _token_response(
            access_token, provider.token_ttl_seconds, scope=grant.request.scope, refresh_token=refresh_token
        )

    async def _refresh(self, fields: Mapping[str, str]) -> Response:
        """As Cognito: a new access token, and no new refresh token (the old one stays valid)."""
        missing = [name for name in ("refresh_token", "client_id") if not fields.get(name)]
        if missing:
            return _oauth_error("invalid_request", f"missing {', '.join(missing)}")
        try:
            access_token, scope = await run_in_threadpool(
                self._provider._refreshed_access_token, fields["refresh_token"], fields["client_id"]
            )
        except ValueError as error:
            return _oauth_error("invalid_grant", str(error))
        return _token_response(access_token, self._provider.token_ttl_seconds, scope=scope)

    def _authorization_request(self, parameters: Mapping[str, str]) -> _AuthorizationRequest:
        client_id = parameters.get("client_id", "")
        if client_id != self._provider.client_id:
            raise _AuthorizationError("invalid_request", "unknown client_id")
        redirect_uri = parameters.get("redirect_uri", "")
        if not self._provider._redirect_uri_allowed(redirect_uri):
            raise _AuthorizationError(
                "invalid_request",
                "redirect_uri must be a loopback URL (http://127.0.0.1:<port>/...) or on this server",
            )
        state = parameters.get("state")
        if state is not None and len(state) > _MAX_STATE_LENGTH:
            raise _AuthorizationError("invalid_request", "state is too long", redirect_to=redirect_uri)

        def refuse(error: str, description: str) -> _AuthorizationError:
            return _AuthorizationError(error, description, redirect_to=redirect_uri, state=state)

        if parameters.get("response_type") != "code":
            raise refuse("unsupported_response_type", "response_type must be code")
        if parameters.get("code_challenge_method") != "S256":
            raise refuse("invalid_request", "code_challenge_method must be S256")
        code_challenge = parameters.get("code_challenge", "")
        if not _CODE_CHALLENGE.fullmatch(code_challenge):
            raise refuse("invalid_request", "code_challenge must be the base64url SHA-256 of the code_verifier")
        requested_scopes = parameters.get("scope", " ".join(SUPPORTED_SCOPES)).split()
        if not requested_scopes or any(scope not in SUPPORTED_SCOPES for scope in requested_scopes):
            raise refuse("invalid_scope", f"scope must be made of {', '.join(SUPPORTED_SCOPES)}")
        scope = " ".join(dict.fromkeys(requested_scopes))
        return _AuthorizationRequest(client_id, redirect_uri, code_challenge, state, scope)

    @staticmethod
    def _authorization_failed(error: _AuthorizationError) -> Response:
        if error.redirect_to is None:
            return _api_error(400, "invalid_request", error.description)
        location = _with_query(
            error.redirect_to,
            {"error": error.error, "error_description": error.description, "state": error.state},
        )
        return RedirectResponse(location, status_code=302, headers={"Cache-Control": "no-store"})

    @staticmethod
    async def _signed_in(sign_in: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run a sign-in (which may provision the user) off the event loop; its failure is ours, not
        the caller's, and is answered without detail."""
        try:
            return await run_in_threadpool(sign_in, *args, **kwargs)
        except Exception as error:
            logger.exception("sign-in failed; a first sign-in's provisioning runs again next time")
            raise _ProvisioningFailed from error


class _ProvisioningFailed(Exception):
    pass


def _dev_sign_in_forbidden() -> JSONResponse:
    return _api_error(403, "forbidden", "the dev sign-in is turned off on this server")


def _provisioning_failed() -> JSONResponse:
    return _api_error(503, "unavailable", "the account could not be set up; please sign in again")

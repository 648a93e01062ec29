"""Signing in: where tokens are kept, and the OAuth 2 authorization code flow with PKCE (RFC 7636).

The browser sign-in works like `gcloud auth login`: a one-shot HTTP listener on 127.0.0.1 at a random
port receives the redirect carrying the authorization code, which is then exchanged (with the PKCE
verifier) at the token endpoint.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from photosync.client.errors import PhotoSyncError, ServerUnreachable
from photosync.client.models import Token

CONFIG_DIR_ENV = "PHOTOSYNC_CONFIG_DIR"
CREDENTIALS_FILE = "credentials.json"
# Consider a token expired a little early, so it does not run out in the middle of a command.
EXPIRY_MARGIN_SECONDS = 30


class SignInError(PhotoSyncError):
    """The sign-in did not complete (refused, timed out, or the identity provider misbehaved)."""


def config_dir() -> Path:
    configured = os.environ.get(CONFIG_DIR_ENV)
    if configured:
        return Path(configured)
    import platformdirs  # imported late: only needed when no directory is configured

    return Path(platformdirs.user_config_dir("photosync"))


def _unverified_claims(access_token: str) -> dict[str, Any]:
    """A JWT's claims read without verifying the signature.

    The server verifies tokens; the client only needs to know when to stop using one and whose it is.
    """
    import jwt

    try:
        return jwt.decode(access_token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return {}


def token_expiry(access_token: str) -> int | None:
    """The `exp` claim of a JWT (seconds since the epoch)."""
    exp = _unverified_claims(access_token).get("exp")
    return int(exp) if isinstance(exp, (int, float)) else None


def token_subject(access_token: str) -> str | None:
    """The `sub` claim of a JWT: the user the token speaks for (the same across sign-ins)."""
    sub = _unverified_claims(access_token).get("sub")
    return sub if isinstance(sub, str) and sub else None


@dataclass(frozen=True)
class Credentials:
    server: str
    access_token: str
    token_type: str = "Bearer"
    expires_at: int | None = None  # seconds since the epoch
    refresh_token: str | None = None
    email: str | None = None

    @classmethod
    def from_token(cls, server: str, token: Token, *, email: str | None = None, now: float | None = None) -> Credentials:
        expires_at = token_expiry(token.access_token)
        if expires_at is None and token.expires_in is not None:
            expires_at = int((time.time() if now is None else now) + token.expires_in)
        return cls(
            server=server.rstrip("/"),
            access_token=token.access_token,
            token_type=token.token_type,
            expires_at=expires_at,
            refresh_token=token.refresh_token,
            email=email,
        )

    def is_expired(self, now: float | None = None) -> bool:
        if self.expires_at is None:
            return False
        return (time.time() if now is None else now) >= self.expires_at - EXPIRY_MARGIN_SECONDS


class TokenStore:
    """The signed-in session, as a JSON file readable only by its owner (0600, in a 0700 directory)."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = Path(directory) if directory is not None else config_dir()
        self.path = self.directory / CREDENTIALS_FILE

    def load(self) -> Credentials | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as error:
            raise PhotoSyncError(f"Cannot read {self.path} ({error}): run `photosync login` again") from error
        known = {name: data[name] for name in Credentials.__dataclass_fields__ if name in data}
        try:
            return Credentials(**known)
        except TypeError as error:
            raise PhotoSyncError(f"{self.path} is incomplete: run `photosync login` again") from error

    def save(self, credentials: Credentials) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.directory, 0o700)
        temporary = self.path.with_name(f".{CREDENTIALS_FILE}.{os.getpid()}.tmp")
        # Created with 0600 from the start: the token is never readable by others, not even briefly.
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                json.dump(asdict(credentials), file, indent=2)
            os.replace(temporary, self.path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise

    def clear(self) -> bool:
        """Forget the session; True if there was one."""
        try:
            self.path.unlink()
        except FileNotFoundError:
            return False
        return True


# --- PKCE --------------------------------------------------------------------------------------


def new_code_verifier() -> str:
    """A high-entropy verifier of 86 characters from the URL-safe alphabet (RFC 7636 allows 43-128)."""
    return secrets.token_urlsafe(64)


def code_challenge_s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class OAuthEndpoints:
    authorize_url: str
    token_url: str
    client_id: str
    scope: str = "openid email"


def discover_endpoints(server: str, client_id: str, *, http: httpx.Client | None = None) -> OAuthEndpoints:
    """The authorize and token endpoints from `{server}/auth/.well-known/openid-configuration`."""
    url = server.rstrip("/") + "/auth/.well-known/openid-configuration"
    owned = http is None
    http = http or httpx.Client(timeout=10)
    try:
        response = http.get(url)
    except httpx.TransportError as error:
        raise ServerUnreachable(server.rstrip("/"), str(error)) from error
    finally:
        if owned:
            http.close()
    if response.status_code != 200:
        raise SignInError(f"{url} answered {response.status_code}: this server does not offer a browser sign-in")
    document = response.json()
    try:
        return OAuthEndpoints(
            authorize_url=document["authorization_endpoint"],
            token_url=document["token_endpoint"],
            client_id=client_id,
        )
    except KeyError as error:
        raise SignInError(f"{url} does not name the {error.args[0]}") from None


def authorization_url(endpoints: OAuthEndpoints, *, redirect_uri: str, state: str, code_challenge: str) -> str:
    query = urlencode(
        {
            "response_type": "code",
            "client_id": endpoints.client_id,
            "redirect_uri": redirect_uri,
            "scope": endpoints.scope,
            "state": state,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        }
    )
    separator = "&" if urlsplit(endpoints.authorize_url).query else "?"
    return f"{endpoints.authorize_url}{separator}{query}"


@dataclass
class _Callback:
    params: dict[str, str] | None = None


class LoopbackReceiver:
    """Listens on 127.0.0.1 for the one redirect that ends the browser sign-in.

    `port` 0 takes a free port (the local identity provider accepts any loopback redirect). Cognito
    accepts only registered callback URLs and plain http only for `localhost`: give the registered
    port there, and the redirect is spelled `http://localhost:<port>/callback`.
    """

    def __init__(self, port: int = 0) -> None:
        callback = _Callback()
        received = threading.Event()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
                parts = urlsplit(self.path)
                if parts.path != "/callback":
                    self.send_error(404)
                    return
                callback.params = {name: values[0] for name, values in parse_qs(parts.query).items()}
                ok = "code" in callback.params
                body = (
                    "<!doctype html><title>PhotoSync</title><p>"
                    + ("You are signed in. You can close this tab." if ok else "Sign-in failed; see the terminal.")
                    + "</p>"
                ).encode()
                self.send_response(200 if ok else 400)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                received.set()

            def log_message(self, format: str, *args: Any) -> None:  # keeps the terminal clean
                return

        self._server = HTTPServer(("127.0.0.1", port), Handler)
        self._callback = callback
        self._received = received
        host = "localhost" if port else "127.0.0.1"
        self.redirect_uri = f"http://{host}:{self._server.server_address[1]}/callback"

    def wait(self, timeout: float) -> dict[str, str]:
        """Serve until the callback arrives (requests for other paths are answered 404) or time runs out."""
        deadline = time.monotonic() + timeout
        while not self._received.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise SignInError(f"No sign-in arrived within {timeout:.0f} s")
            self._server.timeout = min(remaining, 1.0)
            self._server.handle_request()
        assert self._callback.params is not None
        return self._callback.params

    def close(self) -> None:
        self._server.server_close()


def exchange_code(
    endpoints: OAuthEndpoints, *, code: str, redirect_uri: str, code_verifier: str, http: httpx.Client | None = None
) -> Token:
    owned = http is None
    http = http or httpx.Client(timeout=10)
    try:
        response = http.post(
            endpoints.token_url,
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "client_id": endpoints.client_id,
                "code_verifier": code_verifier,
            },
            headers={"Accept": "application/json"},
        )
    except httpx.TransportError as error:
        raise SignInError(f"Cannot reach the token endpoint {endpoints.token_url}: {error}") from error
    finally:
        if owned:
            http.close()
    if response.status_code != 200:
        raise SignInError(f"The identity provider refused the sign-in ({response.status_code}): {response.text[:200]}")
    return Token.from_json(response.json())


def browser_login(
    endpoints: OAuthEndpoints,
    *,
    show_url: Callable[[str], None],
    open_browser: Callable[[str], object] | None,
    timeout: float = 300.0,
    callback_port: int = 0,
) -> Token:
    """Run the authorization code + PKCE flow and return the tokens.

    `show_url` receives the URL to visit (always, so a user without a usable browser can copy it);
    `open_browser` (e.g. `webbrowser.open`) is tried if given, and its failure is tolerated.
    """
    verifier = new_code_verifier()
    state = secrets.token_urlsafe(24)
    receiver = LoopbackReceiver(callback_port)
    try:
        url = authorization_url(
            endpoints, redirect_uri=receiver.redirect_uri, state=state, code_challenge=code_challenge_s256(verifier)
        )
        show_url(url)
        if open_browser is not None:
            try:
                open_browser(url)
            except Exception:  # noqa: BLE001 - no browser is fine: the URL is on screen
                pass
        params = receiver.wait(timeout)
    finally:
        receiver.close()
    if not secrets.compare_digest(params.get("state", ""), state):
        raise SignInError("The sign-in answer does not match this request (state mismatch); try again")
    if "error" in params:
        raise SignInError(f"The identity provider refused the sign-in: {params.get('error_description') or params['error']}")
    if "code" not in params:
        raise SignInError("The sign-in answer carries no authorization code")
    return exchange_code(endpoints, code=params["code"], redirect_uri=receiver.redirect_uri, code_verifier=verifier)

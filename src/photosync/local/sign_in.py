"""The local runtime's sign-in pages and flows: what Cognito's hosted UI is in AWS.

It offers the sign-ins a developer needs without a password: `POST /auth/dev/login` and the OAuth 2
authorization code flow with PKCE that Cognito's hosted UI offers, so the CLI and the web client use
the same flow in both runtimes. Both are dev sign-ins and exist only when the local server allows
them. The keys, tokens and users behind them are `photosync.local.identity`'s.
"""

from __future__ import annotations

import base64
import hashlib
import html
import ipaddress
import logging
import re
import secrets
import threading
from dataclasses import dataclass
from typing import Any, Callable, Mapping
from urllib.parse import SplitResult, parse_qsl, urlencode, urlsplit, urlunsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from photosync.domain.errors import InvalidRequest
from photosync.domain.validation import parse_json_object
from photosync.local.identity import SUPPORTED_SCOPES, LocalIdentityProvider, OnFirstSignIn, normalize_email
from photosync.local.responses import error_response

logger = logging.getLogger(__name__)

AUTHORIZATION_CODE_TTL_SECONDS = 300

_MAX_FORM_BYTES = 16 * 1024
_MAX_STATE_LENGTH = 2048
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
# base64url(SHA-256) without padding is always 43 characters (RFC 7636 section 4.2).
_CODE_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")
_CODE_VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")


def is_loopback(host: str | None) -> bool:
    if host is None:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class DevSignIn:
    """When the password-less dev sign-ins answer (api.md): only when the server is reached at a
    loopback address (Host header included, so DNS rebinding cannot reach it) and its public URL is
    loopback too, unless the server was started with `--allow-dev-login`."""

    # Why the dev sign-ins are off on this server; None when they may answer.
    turned_off_because: str | None = None
    # Started with --allow-dev-login: answer whatever address the request was sent to.
    any_address: bool = False
    # host[:port] of the public URL: a page served there may sign in, whatever Host a proxy sends.
    public_netloc: str | None = None

    @classmethod
    def for_server(cls, *, bind_host: str, public_url: str, allow_dev_login: bool) -> "DevSignIn":
        if allow_dev_login:
            return cls(any_address=True, public_netloc=urlsplit(public_url).netloc)
        if not is_loopback(bind_host):
            return cls(turned_off_because=f"the server listens on {bind_host}, which is not a loopback address")
        if not is_loopback(urlsplit(public_url).hostname):
            return cls(turned_off_because=f"the server is published at {public_url} (PHOTOSYNC_PUBLIC_URL)")
        return cls()

    @property
    def allowed(self) -> bool:
        return self.turned_off_because is None

    def refusal(self, request: Request) -> str | None:
        """Why `request` may not sign in, or None."""
        if self.turned_off_because is not None:
            return self.turned_off_because
        # A browser names the page a request comes from in Fetch Metadata, and in Origin unless the
        # page's referrer policy makes it "null" (as this server's own sign-in page does).
        origin = request.headers.get("origin")
        if request.headers.get("sec-fetch-site") == "cross-site" or (
            origin not in (None, "null") and urlsplit(origin).netloc not in (request.headers.get("host"), self.public_netloc)
        ):
            return f"the request comes from another site's page ({origin or 'cross-site'})"
        if self.any_address:
            return None
        if not is_loopback(request.url.hostname):
            return f"the request was addressed to {request.url.hostname!r}, not to a loopback address"
        if any(name in request.headers for name in ("forwarded", "x-forwarded-for", "x-forwarded-host")):
            return "the request came through a proxy"
        return None


def sign_in_routes(
    provider: LocalIdentityProvider, *, on_first_sign_in: OnFirstSignIn, dev_sign_in: DevSignIn
) -> list[BaseRoute]:
    endpoints = _AuthEndpoints(provider, on_first_sign_in, dev_sign_in)
    return [
        Route("/auth/.well-known/openid-configuration", endpoints.openid_configuration, methods=["GET"]),
        Route("/auth/.well-known/jwks.json", endpoints.jwks, methods=["GET"]),
        Route("/auth/dev/login", endpoints.dev_login, methods=["POST"]),
        Route("/auth/oauth2/authorize", endpoints.authorize_form, methods=["GET"]),
        Route("/auth/oauth2/authorize", endpoints.authorize_submit, methods=["POST"]),
        Route("/auth/oauth2/token", endpoints.token, methods=["POST"]),
    ]


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


async def _small_body(request: Request) -> bytes:
    """The request's body; `ValueError` if it is larger than a sign-in ever needs."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > _MAX_FORM_BYTES:
            raise ValueError(f"the body is larger than {_MAX_FORM_BYTES} bytes")
    return body


async def _form_fields(request: Request) -> dict[str, str]:
    """The request's form fields; `ValueError` if it is not a small, well-formed urlencoded form."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise ValueError("the body must be application/x-www-form-urlencoded")
    body = await _small_body(request)
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body))
    except (UnicodeDecodeError, ValueError):
        raise ValueError("the form is not valid urlencoded UTF-8") from None
    return _single_valued(pairs)


class _AuthEndpoints:
    def __init__(self, provider: LocalIdentityProvider, on_first_sign_in: OnFirstSignIn, dev_sign_in: DevSignIn):
        self._provider = provider
        self._on_first_sign_in = on_first_sign_in
        self._dev_sign_in = dev_sign_in
        self._codes = _AuthorizationCodes(provider.clock)
        self._origin = _origin(urlsplit(provider.issuer))

    async def openid_configuration(self, request: Request) -> Response:
        return JSONResponse(self._provider.openid_configuration())

    async def jwks(self, request: Request) -> Response:
        return JSONResponse(self._provider.jwks())

    async def dev_login(self, request: Request) -> Response:
        if (refusal := self._dev_sign_in.refusal(request)) is not None:
            return _dev_sign_in_forbidden(refusal)
        # JSON only: a web page can post a form to any site, but not JSON without CORS, which this
        # server never grants.
        if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
            return error_response(
                415, "unsupported_media_type", 'send the body as Content-Type: application/json, like {"email": "name@example.com"}'
            )
        try:
            body = parse_json_object(await _small_body(request))
        except (InvalidRequest, ValueError) as error:
            return error_response(400, "invalid_request", f"{error}: send JSON like {{\"email\": \"name@example.com\"}}")
        if "email" not in body:
            return error_response(400, "invalid_request", "the body must be JSON like {\"email\": \"name@example.com\"}")
        try:
            email = normalize_email(body["email"])
        except ValueError as error:
            return error_response(400, "invalid_request", str(error))
        try:
            sign_in = await self._signed_in(self._provider.sign_in, email, on_first_sign_in=self._on_first_sign_in)
        except _ProvisioningFailed:
            return _provisioning_failed()
        return _token_response(sign_in.access_token, sign_in.expires_in)

    async def authorize_form(self, request: Request) -> Response:
        if (refusal := self._dev_sign_in.refusal(request)) is not None:
            return _dev_sign_in_forbidden(refusal)
        try:
            parameters = _single_valued(request.query_params.multi_items())
            self._authorization_request(parameters)
        except ValueError as error:
            return error_response(400, "invalid_request", str(error))
        except _AuthorizationError as error:
            return self._authorization_failed(error)
        return _sign_in_page(parameters)

    async def authorize_submit(self, request: Request) -> Response:
        if (refusal := self._dev_sign_in.refusal(request)) is not None:
            return _dev_sign_in_forbidden(refusal)
        try:
            fields = await _form_fields(request)
            authorization = self._authorization_request(fields)
        except ValueError as error:
            return error_response(400, "invalid_request", str(error))
        except _AuthorizationError as error:
            return self._authorization_failed(error)
        entered_email = fields.get("email", "")
        try:
            email = normalize_email(entered_email)
        except ValueError as error:
            return _sign_in_page(fields, email=entered_email, error=str(error), status=400)
        try:
            sub, email, _ = await self._signed_in(self._provider.register, email, self._on_first_sign_in)
        except _ProvisioningFailed:
            return _sign_in_page(fields, email=email, error="Your account could not be set up; please try again.", status=503)
        code = self._codes.issue(authorization, sub, email)
        location = _with_query(authorization.redirect_uri, {"code": code, "state": authorization.state})
        return RedirectResponse(location, status_code=302, headers={"Cache-Control": "no-store"})

    async def token(self, request: Request) -> Response:
        if (refusal := self._dev_sign_in.refusal(request)) is not None:
            return _dev_sign_in_forbidden(refusal)
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
        grant = self._codes.redeem(fields["code"])
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
        access_token = await run_in_threadpool(provider.access_token, grant.sub, grant.email, grant.request.scope)
        refresh_token = await run_in_threadpool(provider.refresh_token, grant.sub, grant.email, grant.request.scope)
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
                self._provider.refreshed_access_token, fields["refresh_token"], fields["client_id"]
            )
        except ValueError as error:
            return _oauth_error("invalid_grant", str(error))
        return _token_response(access_token, self._provider.token_ttl_seconds, scope=scope)

    def _authorization_request(self, parameters: Mapping[str, str]) -> _AuthorizationRequest:
        client_id = parameters.get("client_id", "")
        if client_id != self._provider.client_id:
            raise _AuthorizationError("invalid_request", "unknown client_id")
        redirect_uri = parameters.get("redirect_uri", "")
        if not self._redirect_uri_allowed(redirect_uri):
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

    @staticmethod
    def _authorization_failed(error: _AuthorizationError) -> Response:
        if error.redirect_to is None:
            return error_response(400, "invalid_request", error.description)
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


def _dev_sign_in_forbidden(reason: str) -> JSONResponse:
    return error_response(
        403,
        "forbidden",
        f"the dev sign-in is refused: {reason}. It answers only on this machine, at the loopback address "
        "the server was started on (like http://127.0.0.1:8000): sign in there, or start the server with "
        "`photosync serve --allow-dev-login` if everyone who can reach it may sign in as anyone",
    )


def _provisioning_failed() -> JSONResponse:
    return error_response(503, "unavailable", "the account could not be set up; please sign in again")

"""Who may use the password-less dev sign-in (api.md): only a server reached at the loopback address
it was started on (Host header included) whose public URL is loopback too, JSON only, unless started
with `--allow-dev-login`. A published server, a rebound DNS name, a proxy or another site's page get
`403 forbidden`; a form or text body gets `415`.

The rules are tested against the sign-in app itself (all four dev sign-in endpoints), then end to end
against real `photosync serve` processes."""

from __future__ import annotations

import base64
import hashlib
import secrets
import uuid

import httpx
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from photosync.local.identity import LocalIdentityProvider
from photosync.local.sign_in import DevSignIn, sign_in_routes
from tests.e2e.api import assert_error
from tests.support.server import start_server

SERVER = "http://127.0.0.1:8000"
LOOPBACK = DevSignIn.for_server(bind_host="127.0.0.1", public_url=SERVER, allow_dev_login=False)


@pytest.fixture(scope="module")
def provider(tmp_path_factory) -> LocalIdentityProvider:
    return LocalIdentityProvider(tmp_path_factory.mktemp("identity"), issuer=f"{SERVER}/auth")


def client_for(provider: LocalIdentityProvider, policy: DevSignIn, base_url: str = SERVER) -> TestClient:
    app = Starlette(routes=sign_in_routes(provider, on_first_sign_in=lambda sub, email: None, dev_sign_in=policy))
    return TestClient(app, base_url=base_url, follow_redirects=False)


def every_dev_sign_in(client: TestClient, **headers: str) -> list[httpx.Response]:
    """One request to each dev sign-in endpoint, each as a real client would send it."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    authorize = {
        "response_type": "code", "client_id": "photosync-local", "redirect_uri": "http://127.0.0.1:53682/callback",
        "code_challenge": challenge, "code_challenge_method": "S256", "state": "s",
    }
    email = f"dev-{uuid.uuid4().hex[:8]}@example.com"
    return [
        client.post("/auth/dev/login", json={"email": email}, headers=headers),
        client.get("/auth/oauth2/authorize", params=authorize, headers=headers),
        client.post("/auth/oauth2/authorize", data={**authorize, "email": email}, headers=headers),
        client.post(
            "/auth/oauth2/token",
            data={"grant_type": "authorization_code", "code": "c", "redirect_uri": authorize["redirect_uri"],
                  "client_id": "photosync-local", "code_verifier": verifier},
            headers=headers,
        ),
    ]


def assert_all_forbidden(responses: list[httpx.Response], *words: str) -> None:
    for response in responses:
        assert_error(response, 403, "forbidden")
        message = response.json()["error"]["message"]
        assert "--allow-dev-login" in message, message
        assert all(word in message for word in words), message


def assert_all_answered(responses: list[httpx.Response]) -> None:
    dev_login, form, submit, token = responses
    assert dev_login.status_code == 200 and dev_login.json()["token_type"] == "Bearer", dev_login.text
    assert form.status_code == 200 and "<form" in form.text, form.text
    assert submit.status_code == 302 and "code=" in submit.headers["location"], submit.text
    assert token.status_code == 400 and token.json()["error"] == "invalid_grant", token.text  # a made-up code


def test_on_loopback_every_dev_sign_in_answers(provider):
    assert_all_answered(every_dev_sign_in(client_for(provider, LOOPBACK)))
    assert_all_answered(every_dev_sign_in(client_for(provider, LOOPBACK, "http://localhost:8000")))
    assert_all_answered(every_dev_sign_in(client_for(provider, LOOPBACK, "http://[::1]:8000")))


@pytest.mark.parametrize("public_url", ["https://photos.example.com", "http://192.168.1.20:8000", "http://0.0.0.0:8000"])
def test_a_published_public_url_turns_the_dev_sign_in_off(provider, public_url):
    policy = DevSignIn.for_server(bind_host="127.0.0.1", public_url=public_url, allow_dev_login=False)
    assert not policy.allowed
    assert_all_forbidden(every_dev_sign_in(client_for(provider, policy)), public_url)


@pytest.mark.parametrize("bind_host", ["0.0.0.0", "::", "192.168.1.20"])
def test_a_non_loopback_bind_address_turns_the_dev_sign_in_off(provider, bind_host):
    policy = DevSignIn.for_server(bind_host=bind_host, public_url=SERVER, allow_dev_login=False)
    assert_all_forbidden(every_dev_sign_in(client_for(provider, policy)), bind_host)


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "127.0.0.1.evil.example", "192.168.1.20:8000"])
def test_a_request_addressed_to_another_host_is_refused(provider, host):
    """DNS rebinding: a page on evil.example whose name now resolves to 127.0.0.1 sends Host: evil.example."""
    assert_all_forbidden(every_dev_sign_in(client_for(provider, LOOPBACK, f"http://{host}")), "not to a loopback address")


@pytest.mark.parametrize(
    "headers",
    [{"X-Forwarded-For": "203.0.113.9"}, {"Forwarded": "for=203.0.113.9"}, {"X-Forwarded-Host": "photos.example.com"}],
)
def test_a_request_through_a_proxy_is_refused(provider, headers):
    assert_all_forbidden(every_dev_sign_in(client_for(provider, LOOPBACK), **headers), "proxy")


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "http://127.0.0.1:9999"},
        {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
        {"Origin": "null", "Sec-Fetch-Site": "cross-site"},  # a page with Referrer-Policy: no-referrer
        {"Sec-Fetch-Site": "cross-site"},
    ],
)
def test_a_request_from_another_sites_page_is_refused(provider, headers):
    assert_all_forbidden(every_dev_sign_in(client_for(provider, LOOPBACK), **headers), "another site")


@pytest.mark.parametrize(
    "headers",
    [{"Origin": SERVER}, {"Origin": SERVER, "Sec-Fetch-Site": "same-origin"}, {"Origin": "null", "Sec-Fetch-Site": "same-origin"}],
)
def test_the_servers_own_page_may_sign_in(provider, headers):
    assert_all_answered(every_dev_sign_in(client_for(provider, LOOPBACK), **headers))


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", b'{"email": "a@example.com"}'),
        ("application/x-www-form-urlencoded", b"email=a%40example.com"),
        ("multipart/form-data; boundary=x", b'--x\r\nContent-Disposition: form-data; name="email"\r\n\r\na@example.com\r\n--x--\r\n'),
        (None, b'{"email": "a@example.com"}'),
    ],
)
def test_the_dev_login_takes_json_only(provider, content_type, body):
    """A web page can post a form or text to any site without asking; JSON needs CORS, never granted."""
    headers = {"Content-Type": content_type} if content_type else {}
    response = client_for(provider, LOOPBACK).post("/auth/dev/login", content=body, headers=headers)
    assert_error(response, 415, "unsupported_media_type")
    assert "application/json" in response.json()["error"]["message"]
    assert client_for(provider, LOOPBACK).post(
        "/auth/dev/login", content=b'{"email": "a@example.com"}', headers={"Content-Type": "application/json; charset=utf-8"}
    ).status_code == 200


def test_allow_dev_login_answers_at_any_address(provider):
    policy = DevSignIn.for_server(bind_host="0.0.0.0", public_url="https://photos.example.com", allow_dev_login=True)
    assert_all_answered(every_dev_sign_in(client_for(provider, policy, "http://photos.example.com")))
    assert_all_answered(every_dev_sign_in(client_for(provider, policy, "http://192.168.1.20:8000"), **{"X-Forwarded-For": "1.2.3.4"}))
    # A page served at the public URL may sign in, whatever Host the proxy forwards.
    assert_all_answered(every_dev_sign_in(client_for(provider, policy, SERVER), Origin="https://photos.example.com"))
    # ...but another site's page still may not, and the body is still JSON only.
    assert_all_forbidden(every_dev_sign_in(client_for(provider, policy), Origin="https://evil.example"), "another site")
    response = client_for(provider, policy).post("/auth/dev/login", content=b"email=a%40example.com",
                                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_error(response, 415, "unsupported_media_type")


# --- end to end: real servers -------------------------------------------------------------------


def test_a_running_server_refuses_rebound_hosts_and_form_posts(server):
    url = f"{server.base_url}/auth/dev/login"
    rebound = httpx.post(url, json={"email": "a@example.com"}, headers={"Host": "evil.example"})
    assert_error(rebound, 403, "forbidden")
    form = httpx.post(url, data={"email": "a@example.com"})
    assert_error(form, 415, "unsupported_media_type")
    assert httpx.post(url, json={"email": "a@example.com"}).status_code == 200


def test_a_published_server_refuses_the_dev_sign_in_unless_allowed(tmp_path):
    data_dir = tmp_path / "data"
    published = start_server(data_dir, env={"PHOTOSYNC_PUBLIC_URL": "https://photos.example.com"})
    try:
        refused = httpx.post(f"{published.base_url}/auth/dev/login", json={"email": "a@example.com"})
        assert_error(refused, 403, "forbidden")
        assert "https://photos.example.com" in refused.json()["error"]["message"]
        assert "--allow-dev-login" in refused.json()["error"]["message"]
        published.stop()
        published.env["PHOTOSYNC_ALLOW_DEV_LOGIN"] = "1"  # the environment's spelling of --allow-dev-login
        published.start()
        allowed = httpx.post(f"{published.base_url}/auth/dev/login", json={"email": "a@example.com"})
        assert allowed.status_code == 200, allowed.text
    finally:
        published.stop()

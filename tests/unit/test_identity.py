"""The local identity provider: durable keys and users, Cognito-shaped tokens, dev sign-in, PKCE."""

from __future__ import annotations

import base64
import hashlib
import html
import os
import secrets
import stat
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from photosync.local.authorizer import JwtAuthorizer, Unauthorized
from photosync.local.identity import LocalIdentityProvider, _rfc7638_thumbprint, normalize_email
from photosync.local.sign_in import AUTHORIZATION_CODE_TTL_SECONDS, DevSignIn, sign_in_routes

ISSUER = "http://testserver/auth"
CLIENT_ID = "photosync-local"
LOOPBACK_CALLBACK = "http://127.0.0.1:53682/callback"


class FakeClock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


class Provisioning:
    """Stands in for the PostConfirmation handler: records calls, can be told to fail."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.failures_left = 0

    def __call__(self, sub: str, email: str) -> None:
        self.calls.append((sub, email))
        if self.failures_left:
            self.failures_left -= 1
            raise RuntimeError("database unavailable")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    # One data directory for the module: generating an RSA key is the slow part.
    return tmp_path_factory.mktemp("photosync-data")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def provider(data_dir, clock) -> LocalIdentityProvider:
    return LocalIdentityProvider(data_dir, issuer=ISSUER, client_id=CLIENT_ID, clock=clock)


@pytest.fixture
def authorizer(provider) -> JwtAuthorizer:
    return JwtAuthorizer(issuer=ISSUER, client_id=CLIENT_ID, jwks=provider.jwks)


@pytest.fixture
def provisioning() -> Provisioning:
    return Provisioning()


# The flows' own tests run at TestClient's address; which addresses may sign in is tested on its own.
ANY_ADDRESS = DevSignIn(any_address=True)


def make_client(
    provider: LocalIdentityProvider, provisioning: Provisioning, *, dev_sign_in: DevSignIn = ANY_ADDRESS,
    base_url: str = "http://testserver",
) -> TestClient:
    app = Starlette(routes=sign_in_routes(provider, on_first_sign_in=provisioning, dev_sign_in=dev_sign_in))
    return TestClient(app, base_url=base_url, follow_redirects=False)


@pytest.fixture
def client(provider, provisioning) -> TestClient:
    return make_client(provider, provisioning)


def unique_email(label: str = "user") -> str:
    return f"{label}-{secrets.token_hex(4)}@example.com"


# --- keys and users survive a restart --------------------------------------------------------


def test_the_same_email_gets_the_same_sub_across_restarts(data_dir):
    email = unique_email()
    first = LocalIdentityProvider(data_dir, issuer=ISSUER).sign_in(email)
    again = LocalIdentityProvider(data_dir, issuer=ISSUER).sign_in(f"  {email.upper()} ")
    assert again.sub == first.sub
    assert again.email == email
    assert LocalIdentityProvider(data_dir, issuer=ISSUER).sign_in(unique_email()).sub != first.sub


def test_another_data_directory_gives_other_subs_and_keys(data_dir, tmp_path):
    email = unique_email()
    here = LocalIdentityProvider(data_dir, issuer=ISSUER)
    elsewhere = LocalIdentityProvider(tmp_path, issuer=ISSUER)
    assert here.sign_in(email).sub != elsewhere.sign_in(email).sub
    assert here.jwks() != elsewhere.jwks()


def test_tokens_survive_a_restart(data_dir):
    token = LocalIdentityProvider(data_dir, issuer=ISSUER).sign_in(unique_email()).access_token
    restarted = LocalIdentityProvider(data_dir, issuer=ISSUER)
    authorizer = JwtAuthorizer(issuer=ISSUER, client_id=CLIENT_ID, jwks=restarted.jwks)
    assert authorizer.verify(f"Bearer {token}")["token_use"] == "access"


def test_identity_files_are_private(tmp_path):
    identity_dir = tmp_path / "identity"
    identity_dir.mkdir(mode=0o755)
    os.chmod(identity_dir, 0o755)
    provider = LocalIdentityProvider(tmp_path, issuer=ISSUER)
    provider.sign_in(unique_email())
    assert stat.S_IMODE(identity_dir.stat().st_mode) == 0o700
    files = sorted(identity_dir.iterdir())
    assert [f.name for f in files] == ["signing-key.pem", "subject-namespace", "users.json"]
    for file in files:
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file.name


def test_the_jwks_publishes_only_the_public_key_with_a_stable_thumbprint_kid(data_dir, provider):
    (key,) = provider.jwks()["keys"]
    assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["use"] == "sig"
    assert not {"d", "p", "q", "dp", "dq", "qi"} & key.keys()
    assert len(base64.urlsafe_b64decode(key["n"] + "==")) * 8 >= 2048
    assert key["kid"] == _rfc7638_thumbprint(key)
    assert LocalIdentityProvider(data_dir, issuer=ISSUER).jwks() == provider.jwks()


def test_the_kid_is_the_rfc7638_thumbprint():
    # The example of RFC 7638 section 3.1.
    jwk = {
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29",
    }
    assert _rfc7638_thumbprint(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


# --- tokens ------------------------------------------------------------------------------------


def test_access_tokens_are_shaped_like_cognitos(provider, authorizer, clock):
    sign_in = provider.sign_in("Shaped@Example.com")
    assert jwt.get_unverified_header(sign_in.access_token) == {"alg": "RS256", "kid": provider.jwks()["keys"][0]["kid"]}
    claims = authorizer.verify(f"Bearer {sign_in.access_token}")
    assert claims["sub"] == sign_in.sub
    assert claims["iss"] == ISSUER
    assert claims["client_id"] == CLIENT_ID
    assert claims["token_use"] == "access"
    assert claims["username"] == claims["email"] == "shaped@example.com"
    assert claims["iat"] == claims["auth_time"] == int(clock.now)
    assert claims["exp"] - claims["iat"] == sign_in.expires_in == 3600
    assert set(claims["scope"].split()) == {"openid", "email", "profile"}
    assert "aud" not in claims
    assert claims["jti"] != authorizer.verify(f"Bearer {provider.sign_in('shaped@example.com').access_token}")["jti"]


def test_the_token_lifetime_is_configurable(data_dir):
    sign_in = LocalIdentityProvider(data_dir, issuer=ISSUER, token_ttl_seconds=120).sign_in(unique_email())
    claims = jwt.decode(sign_in.access_token, options={"verify_signature": False})
    assert sign_in.expires_in == 120 == claims["exp"] - claims["iat"]


def test_the_discovery_document_points_at_the_auth_routes(provider):
    configuration = provider.openid_configuration()
    assert configuration["issuer"] == ISSUER
    assert configuration["jwks_uri"] == f"{ISSUER}/.well-known/jwks.json"
    assert configuration["authorization_endpoint"] == f"{ISSUER}/oauth2/authorize"
    assert configuration["token_endpoint"] == f"{ISSUER}/oauth2/token"
    assert configuration["code_challenge_methods_supported"] == ["S256"]
    assert configuration["response_types_supported"] == ["code"]
    assert configuration["grant_types_supported"] == ["authorization_code", "refresh_token"]


@pytest.mark.parametrize("issuer", ["http://127.0.0.1:8000", "127.0.0.1:8000/auth", "ftp://host/auth", "http://h/auth?x=1"])
def test_an_issuer_that_is_not_the_auth_url_is_rejected(tmp_path, issuer):
    with pytest.raises(ValueError, match="issuer"):
        LocalIdentityProvider(tmp_path, issuer=issuer)


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [(" Ann@Example.COM ", "ann@example.com"), ("a.b+tag@sub.example.org", "a.b+tag@sub.example.org")],
)
def test_emails_are_trimmed_and_lowercased(raw, normalized):
    assert normalize_email(raw) == normalized


@pytest.mark.parametrize(
    "email",
    ["", "   ", "plainaddress", "@example.com", "a@", "a@example", "a b@example.com", "a@exa mple.com",
     "a@@example.com", ".a@example.com", "a..b@example.com", "a@-example.com", "a@exam\nple.com",
     f"{'x' * 65}@example.com", f"a@{'x' * 250}.com", None, 42],
)
def test_invalid_emails_are_refused_with_a_clear_message(provider, email):
    with pytest.raises(ValueError, match="email"):
        provider.sign_in(email)


# --- first sign-in provisioning ----------------------------------------------------------------


def test_the_first_sign_in_provisions_once_even_across_restarts(data_dir, provider, client, provisioning):
    email = unique_email()
    assert client.post("/auth/dev/login", json={"email": email}).status_code == 200
    assert client.post("/auth/dev/login", json={"email": email.upper()}).status_code == 200
    restarted = LocalIdentityProvider(data_dir, issuer=ISSUER)
    assert make_client(restarted, provisioning).post("/auth/dev/login", json={"email": email}).status_code == 200
    assert provisioning.calls == [(provider.sign_in(email).sub, email)]


def test_a_failed_provisioning_runs_again_at_the_next_sign_in(provider, client, provisioning):
    email = unique_email()
    provisioning.failures_left = 1
    failed = client.post("/auth/dev/login", json={"email": email})
    assert failed.status_code == 503
    assert failed.json()["error"]["code"] == "unavailable"
    assert "database" not in failed.text
    assert client.post("/auth/dev/login", json={"email": email}).status_code == 200
    assert client.post("/auth/dev/login", json={"email": email}).status_code == 200
    sub = provider.sign_in(email).sub
    assert provisioning.calls == [(sub, email), (sub, email)]


def test_sign_in_reports_the_first_sign_in(provider, provisioning):
    email = unique_email()
    assert provider.sign_in(email, on_first_sign_in=provisioning).first_sign_in is True
    assert provider.sign_in(email, on_first_sign_in=provisioning).first_sign_in is False
    assert len(provisioning.calls) == 1


# --- dev sign-in over HTTP ---------------------------------------------------------------------


def test_dev_login_returns_a_bearer_access_token(client, authorizer):
    response = client.post("/auth/dev/login", json={"email": " Dev@Example.com"})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert authorizer.verify(f"Bearer {body['access_token']}")["email"] == "dev@example.com"


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[1]", b"{}", b'{"email": null}', b'{"email": 5}', b'{"email": "nobody"}', b'{"email": ""}'],
)
def test_dev_login_refuses_a_bad_body(client, body):
    response = client.post("/auth/dev/login", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"
    assert response.json()["error"]["message"]


def test_dev_sign_ins_are_forbidden_unless_allowed(provider, provisioning):
    client = make_client(provider, provisioning, dev_sign_in=DevSignIn(turned_off_because="it is off"))
    responses = [
        client.post("/auth/dev/login", json={"email": unique_email()}),
        client.get("/auth/oauth2/authorize", params=authorize_params(pkce_pair()[1])),
        client.post("/auth/oauth2/authorize", data={**authorize_params(pkce_pair()[1]), "email": unique_email()}),
        client.post("/auth/oauth2/token", data={"grant_type": "authorization_code", "code": "x"}),
    ]
    for response in responses:
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "forbidden"
    assert provisioning.calls == []
    assert client.get("/auth/.well-known/jwks.json").json() == provider.jwks()
    assert client.get("/auth/.well-known/openid-configuration").json() == provider.openid_configuration()


# --- authorization code + PKCE -----------------------------------------------------------------


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize_params(challenge: str, **overrides: str) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": LOOPBACK_CALLBACK,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": secrets.token_urlsafe(16),
        "scope": "openid email",
    }
    params.update(overrides)
    return {name: value for name, value in params.items() if value is not None}


def sign_in_for_code(client: TestClient, params: dict[str, str], email: str) -> str:
    response = client.post("/auth/oauth2/authorize", data={**params, "email": email})
    assert response.status_code == 302, response.text
    location = urlsplit(response.headers["location"])
    query = parse_qs(location.query)
    assert f"{location.scheme}://{location.netloc}{location.path}" == params["redirect_uri"].split("?")[0]
    assert query["state"] == [params["state"]]
    return query["code"][0]


def exchange(client: TestClient, code: str, verifier: str, **overrides: str):
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": LOOPBACK_CALLBACK,
        "client_id": CLIENT_ID,
        "code_verifier": verifier,
    }
    form.update(overrides)
    return client.post("/auth/oauth2/token", data=form)


def test_the_pkce_flow_end_to_end(provider, client, authorizer, provisioning):
    verifier, challenge = pkce_pair()
    params = authorize_params(challenge)
    form = client.get("/auth/oauth2/authorize", params=params)
    assert form.status_code == 200
    assert form.headers["content-type"].startswith("text/html")
    assert "script-src" not in form.headers["content-security-policy"]
    assert "default-src 'none'" in form.headers["content-security-policy"]
    assert "<script" not in form.text and "style=" not in form.text
    for name, value in params.items():
        assert f'name="{name}" value="{html.escape(value, quote=True)}"' in form.text

    email = unique_email("pkce")
    code = sign_in_for_code(client, params, email.upper())
    response = exchange(client, code, verifier)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    claims = authorizer.verify(f"Bearer {body['access_token']}")
    assert claims["email"] == email
    assert claims["scope"] == "openid email"
    assert claims["sub"] == provider.sign_in(email).sub
    assert provisioning.calls == [(claims["sub"], email)]


def test_a_wrong_verifier_is_refused_and_spends_the_code(client):
    verifier, challenge = pkce_pair()
    params = authorize_params(challenge)
    code = sign_in_for_code(client, params, unique_email())
    wrong = exchange(client, code, pkce_pair()[0])
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    assert "access_token" not in wrong.json()
    assert exchange(client, code, verifier).json()["error"] == "invalid_grant"


def test_a_code_is_single_use(client):
    verifier, challenge = pkce_pair()
    code = sign_in_for_code(client, authorize_params(challenge), unique_email())
    assert exchange(client, code, verifier).status_code == 200
    reused = exchange(client, code, verifier)
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"


def test_an_expired_code_is_refused(client, clock):
    verifier, challenge = pkce_pair()
    code = sign_in_for_code(client, authorize_params(challenge), unique_email())
    clock.now += AUTHORIZATION_CODE_TTL_SECONDS + 1
    expired = exchange(client, code, verifier)
    assert expired.status_code == 400 and expired.json()["error"] == "invalid_grant"


def test_a_code_is_bound_to_its_redirect_uri_and_client(client):
    verifier, challenge = pkce_pair()
    code = sign_in_for_code(client, authorize_params(challenge), unique_email())
    assert exchange(client, code, verifier, redirect_uri="http://127.0.0.1:1/other").json()["error"] == "invalid_grant"
    code = sign_in_for_code(client, authorize_params(challenge), unique_email())
    assert exchange(client, code, verifier, client_id="another-client").json()["error"] == "invalid_grant"


def test_unknown_codes_and_grants_are_refused(client):
    assert exchange(client, "made-up", pkce_pair()[0]).json()["error"] == "invalid_grant"
    assert exchange(client, "x", "y", grant_type="password").json()["error"] == "unsupported_grant_type"
    assert exchange(client, "", pkce_pair()[0]).json()["error"] == "invalid_request"
    not_a_form = client.post("/auth/oauth2/token", json={"grant_type": "authorization_code"})
    assert not_a_form.status_code == 400 and not_a_form.json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://evil.example/callback",
        "http://evil.example:53682/callback",
        "http://127.0.0.1@evil.example/callback",
        "http://localhost.evil.example/callback",
        "https://127.0.0.1.nip.io/callback",
        "http://127.0.0.1:53682/callback#fragment",
        "http://127.0.0.1:notaport/callback",
        "https://testserver/",
        "http://testserver:8080/",
        "javascript:alert(1)",
        "//evil.example/",
        "",
    ],
)
def test_a_foreign_redirect_uri_is_refused_without_redirecting(client, provisioning, redirect_uri):
    params = authorize_params(pkce_pair()[1], redirect_uri=redirect_uri)
    for response in (
        client.get("/auth/oauth2/authorize", params=params),
        client.post("/auth/oauth2/authorize", data={**params, "email": unique_email()}),
    ):
        assert response.status_code == 400
        assert "location" not in response.headers
        assert response.json()["error"]["code"] == "invalid_request"
    assert provisioning.calls == []


@pytest.mark.parametrize("redirect_uri", ["http://localhost:8123/cb", "http://[::1]:9000/", "http://testserver/", "http://testserver:80/app?x=1"])
def test_loopback_and_same_origin_redirect_uris_are_accepted(client, redirect_uri):
    verifier, challenge = pkce_pair()
    params = authorize_params(challenge, redirect_uri=redirect_uri)
    assert client.get("/auth/oauth2/authorize", params=params).status_code == 200
    code = sign_in_for_code(client, params, unique_email())
    assert exchange(client, code, verifier, redirect_uri=redirect_uri).status_code == 200


def test_an_unknown_client_id_is_refused_without_redirecting(client):
    response = client.get("/auth/oauth2/authorize", params=authorize_params(pkce_pair()[1], client_id="other"))
    assert response.status_code == 400 and "location" not in response.headers


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": None}, "invalid_request"),
        ({"code_challenge": None}, "invalid_request"),
        ({"code_challenge": "too-short"}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": "openid admin"}, "invalid_scope"),
    ],
)
def test_other_bad_requests_go_back_to_the_client_as_oauth_errors(client, overrides, error):
    params = authorize_params(pkce_pair()[1], **overrides)
    response = client.get("/auth/oauth2/authorize", params=params)
    assert response.status_code == 302
    location = urlsplit(response.headers["location"])
    assert location.netloc == "127.0.0.1:53682"
    query = parse_qs(location.query)
    assert query["error"] == [error] and query["state"] == [params["state"]]
    assert "code" not in query


def test_repeated_parameters_are_refused(client):
    params = list(authorize_params(pkce_pair()[1]).items()) + [("redirect_uri", "https://evil.example/")]
    response = client.get("/auth/oauth2/authorize", params=params)
    assert response.status_code == 400 and "location" not in response.headers


def test_a_hostile_state_and_redirect_uri_are_escaped_in_the_form(client):
    hostile_state = '"><script>alert("state")</script><input value="'
    hostile_redirect = "http://127.0.0.1:53682/cb?next=\"><img src=x onerror=alert(1)>&a='b'"
    params = authorize_params(pkce_pair()[1], state=hostile_state, redirect_uri=hostile_redirect)
    page = client.get("/auth/oauth2/authorize", params=params)
    assert page.status_code == 200
    assert "<script" not in page.text
    assert "<img" not in page.text
    assert 'alert("state")' not in page.text
    assert "'b'" not in page.text
    assert html.escape(hostile_state, quote=True) in page.text
    assert html.escape(hostile_redirect, quote=True) in page.text

    code_response = client.post("/auth/oauth2/authorize", data={**params, "email": unique_email()})
    assert code_response.status_code == 302
    query = parse_qs(urlsplit(code_response.headers["location"]).query)
    assert query["state"] == [hostile_state]
    assert query["next"] == ['"><img src=x onerror=alert(1)>']


def test_an_invalid_email_shows_the_form_again_escaped(client, provisioning):
    params = authorize_params(pkce_pair()[1])
    response = client.post("/auth/oauth2/authorize", data={**params, "email": "<b>not-an-email"})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert "<b>" not in response.text and "&lt;b&gt;not-an-email" in response.text
    assert provisioning.calls == []


def test_a_failed_provisioning_in_the_pkce_flow_issues_no_code(client, provisioning):
    params = authorize_params(pkce_pair()[1])
    provisioning.failures_left = 1
    email = unique_email()
    failed = client.post("/auth/oauth2/authorize", data={**params, "email": email})
    assert failed.status_code == 503 and "location" not in failed.headers
    sign_in_for_code(client, params, email)
    assert len(provisioning.calls) == 2


def test_the_well_known_routes_serve_the_provider_documents(client, provider):
    assert client.get("/auth/.well-known/jwks.json").json() == provider.jwks()
    assert client.get("/auth/.well-known/openid-configuration").json() == provider.openid_configuration()


def test_an_authorizer_refuses_a_token_from_another_provider(provider, tmp_path):
    stranger = LocalIdentityProvider(tmp_path, issuer=ISSUER, client_id=CLIENT_ID)
    authorizer = JwtAuthorizer(issuer=ISSUER, client_id=CLIENT_ID, jwks=provider.jwks)
    with pytest.raises(Unauthorized, match="unknown signing key"):
        authorizer.verify(f"Bearer {stranger.sign_in(unique_email()).access_token}")

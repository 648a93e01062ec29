"""Signing in with the authorization code flow (PKCE), signing out, and losing a session."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Route, expect

from tests.browser.test_web_library import sign_in

pytestmark = pytest.mark.browser

LOCAL_CLIENT_ID = "photosync-local"


def oauth_config(route: Route) -> None:
    route.fulfill(
        status=200,
        content_type="application/json",
        body=json.dumps({
            "apiBaseUrl": "",
            "auth": {
                "mode": "oauth",
                "authorizeUrl": "/auth/oauth2/authorize",
                "tokenUrl": "/auth/oauth2/token",
                "clientId": LOCAL_CLIENT_ID,
            },
        }),
    )


def test_oauth_sign_in_with_pkce_against_the_local_identity_provider(open_page, server, email):
    page, _ = open_page(server)
    page.route("**/config.json", oauth_config)
    authorize_requests = []
    page.on("request", lambda request: authorize_requests.append(request.url) if "/oauth2/authorize?" in request.url else None)
    page.goto("/#/albums")
    expect(page.locator("#local-signin")).to_be_hidden()
    page.locator("#oauth-signin").click()

    # The local identity provider's own sign-in page.
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Sign in").click()

    expect(page.locator("#app")).to_be_visible()
    expect(page.locator("#account-email")).to_have_text(email)
    expect(page.get_by_role("heading", name="Albums", exact=True)).to_be_visible()
    assert "code=" not in page.url and "state=" not in page.url
    authorize = authorize_requests[0]
    assert "code_challenge_method=S256" in authorize and "code_challenge=" in authorize
    assert "code_verifier" not in authorize
    session = page.evaluate("sessionStorage.getItem('photosync.session')")
    token = json.loads(session)["accessToken"]
    assert token and token not in page.url

    page.get_by_role("button", name="Sign out").click()
    expect(page.locator("#signin")).to_be_visible()
    expect(page.locator("#signin-message")).to_have_text("You have signed out.")
    assert page.evaluate("sessionStorage.getItem('photosync.session')") is None


def test_a_rejected_token_returns_to_sign_in_with_a_message(open_page, server, email):
    page, problems = open_page(server)
    problems.expect_http_error(401)
    sign_in(page, email)
    page.evaluate(
        """() => {
            const session = JSON.parse(sessionStorage.getItem('photosync.session'));
            session.accessToken = session.accessToken.slice(0, -4) + 'AAAA';
            sessionStorage.setItem('photosync.session', JSON.stringify(session));
        }"""
    )
    page.get_by_role("link", name="Albums", exact=True).click()
    expect(page.locator("#signin")).to_be_visible()
    expect(page.locator("#signin-message")).to_have_text("Your session has ended. Please sign in again.")
    assert page.evaluate("sessionStorage.getItem('photosync.session')") is None

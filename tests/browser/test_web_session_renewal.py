"""The web client keeps a session past its access token's hour (renewing it with the refresh token
from the code + PKCE sign-in, before expiry and once after a refusal), and rides out API Gateway's
throttling (429 `{"message": ...}`, retried after Retry-After)."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Route, expect

from tests.browser.test_web_signin import oauth_config

pytestmark = pytest.mark.browser


def oauth_sign_in(page, email: str) -> dict:
    page.route("**/config.json", oauth_config)
    page.goto("/#/albums")
    page.locator("#oauth-signin").click()
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#account-email")).to_have_text(email)
    return stored_session(page)


def stored_session(page) -> dict:
    return json.loads(page.evaluate("sessionStorage.getItem('photosync.session')"))


def change_session(page, script: str) -> None:
    page.evaluate(
        f"""() => {{
            const session = JSON.parse(sessionStorage.getItem('photosync.session'));
            {script}
            sessionStorage.setItem('photosync.session', JSON.stringify(session));
        }}"""
    )


def renewals(page) -> list[str]:
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.post_data or "") if r.url.endswith("/oauth2/token") and "refresh_token" in (r.post_data or "") else None)
    return seen


def test_an_access_token_about_to_run_out_is_renewed_before_the_request(open_page, server, email):
    page, _ = open_page(server)
    first = oauth_sign_in(page, email)
    assert first["refreshToken"]
    seen = renewals(page)
    change_session(page, "session.expiresAt = Date.now();")

    page.reload()

    expect(page.get_by_role("heading", name="Albums", exact=True)).to_be_visible()
    expect(page.locator("#account-email")).to_have_text(email)
    renewed = stored_session(page)
    assert len(seen) >= 1 and "grant_type=refresh_token" in seen[0]
    assert renewed["accessToken"] != first["accessToken"] and renewed["refreshToken"] == first["refreshToken"]
    assert renewed["expiresAt"] > first["expiresAt"] - 60_000


def test_a_refused_access_token_is_renewed_once_and_the_request_sent_again(open_page, server, email):
    page, problems = open_page(server)
    problems.expect_http_error(401)
    first = oauth_sign_in(page, email)
    seen = renewals(page)
    change_session(page, "session.accessToken = session.accessToken.slice(0, -4) + 'AAAA';")
    refused = stored_session(page)["accessToken"]

    page.reload()

    expect(page.get_by_role("heading", name="Albums", exact=True)).to_be_visible()
    # The heading shows before the refused request comes back: wait for the renewed session itself.
    page.wait_for_function(
        "refused => JSON.parse(sessionStorage.getItem('photosync.session')).accessToken !== refused", arg=refused,
    )
    expect(page.locator("#account-email")).to_have_text(email)
    expect(page.locator("#signin")).to_be_hidden()
    assert len(seen) == 1  # the page's parallel requests share one renewal
    assert stored_session(page)["accessToken"] != first["accessToken"]


def test_a_session_that_cannot_be_renewed_returns_to_sign_in(open_page, server, email):
    page, problems = open_page(server)
    problems.expect_http_error(401)
    problems.expect_http_error(400)
    oauth_sign_in(page, email)
    change_session(page, "session.accessToken += 'x'; session.refreshToken = 'revoked';")

    page.reload()

    expect(page.locator("#signin")).to_be_visible()
    expect(page.locator("#signin-message")).to_have_text("Your session has ended. Please sign in again.")


def test_throttling_by_the_gateway_is_retried_after_the_time_it_asks(open_page, server, email):
    page, problems = open_page(server)
    problems.expect_http_error(429)
    oauth_sign_in(page, email)
    throttled = []

    def throttle_once(route: Route) -> None:
        if not throttled:
            throttled.append(route.request.url)
            route.fulfill(status=429, content_type="application/json", headers={"Retry-After": "1"},
                          body=json.dumps({"message": "Too Many Requests"}))
        else:
            route.continue_()

    page.route("**/albums", throttle_once)
    page.reload()

    expect(page.get_by_role("heading", name="Albums", exact=True)).to_be_visible()
    expect(page.locator(".toast")).to_have_count(0)
    assert len(throttled) == 1

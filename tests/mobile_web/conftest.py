"""The phone app's web build (`expo export --platform web` in mobile/), driven by Playwright in
Debian's Chromium against a real `photosync serve --mobile-web-dir`, so the app and the API share an
origin (no CORS) under the server's strict CSP. Every page fails its test on a console error."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tests.browser.conftest import PHONE, SMALL_QUOTA_BYTES, PageProblems
from tests.support.server import ServerProcess, start_server

REPO_ROOT = Path(__file__).resolve().parents[2]
MOBILE_DIST = REPO_ROOT / "mobile" / "dist"
ARTIFACTS = REPO_ROOT / "test-artifacts" / "mobile-web"


@pytest.fixture(scope="session")
def mobile_dist() -> Path:
    assert (MOBILE_DIST / "index.html").is_file(), (
        f"{MOBILE_DIST} has no web build: run `make mobile` (npm ci and expo export --platform web in mobile/) first"
    )
    return MOBILE_DIST


@pytest.fixture(scope="session")
def mobile_server(tmp_path_factory: pytest.TempPathFactory, mobile_dist: Path) -> ServerProcess:
    process = start_server(tmp_path_factory.mktemp("mobile-web-server"), serve_args=("--mobile-web-dir", str(mobile_dist)))
    yield process
    process.stop()


@pytest.fixture(scope="session")
def small_quota_mobile_server(tmp_path_factory: pytest.TempPathFactory, mobile_dist: Path) -> ServerProcess:
    process = start_server(
        tmp_path_factory.mktemp("mobile-web-small-quota"),
        env={"PHOTOSYNC_DEFAULT_QUOTA_BYTES": str(SMALL_QUOTA_BYTES)},
        serve_args=("--mobile-web-dir", str(mobile_dist)),
    )
    yield process
    process.stop()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


def _open_phone(browser: Browser, server: ServerProcess):
    context = browser.new_context(base_url=server.base_url, viewport=PHONE, accept_downloads=True)
    page = context.new_page()
    problems = [PageProblems(page)]
    context.on("page", lambda popup: problems.append(PageProblems(popup)))
    yield page, problems
    context.close()
    for each in problems:
        each.assert_clean()


@pytest.fixture
def phone(browser: Browser, mobile_server: ServerProcess):
    """A phone-sized page of the app (and every popup it opens), checked for problems at teardown."""
    yield from _open_phone(browser, mobile_server)


@pytest.fixture
def phone_small_quota(browser: Browser, small_quota_mobile_server: ServerProcess):
    yield from _open_phone(browser, small_quota_mobile_server)


def by_id(page: Page, name: str):
    return page.get_by_test_id(name)

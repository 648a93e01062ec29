"""Browser tests: Debian's Chromium (the `browser` fixture of tests/support/chromium.py) driven by
Playwright against a real `photosync serve`.

Every page fails its test on a console error, an uncaught page error or a JavaScript dialog
(the app never uses alert/confirm/prompt, so a dialog means injected script ran).
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.library import ApiClient
from tests.support.server import ServerProcess, start_server

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts"
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}
# A quota small enough that a second photo does not fit (200 KB in the app's units).
SMALL_QUOTA_BYTES = 200 * 1024

# Uploads are hashed, stored, finalized and thumbnailed on a small shared machine: wait generously
# for what the page shows (a wait, not a timing assertion).
expect.set_options(timeout=30_000)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> ServerProcess:
    process = start_server(tmp_path_factory.mktemp("browser-server"))
    yield process
    process.stop()


@pytest.fixture(scope="session")
def small_quota_server(tmp_path_factory: pytest.TempPathFactory) -> ServerProcess:
    process = start_server(
        tmp_path_factory.mktemp("browser-small-quota"),
        env={"PHOTOSYNC_DEFAULT_QUOTA_BYTES": str(SMALL_QUOTA_BYTES)},
    )
    yield process
    process.stop()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


class PageProblems:
    """What went wrong inside a page: console errors, uncaught errors, JavaScript dialogs."""

    def __init__(self, page: Page) -> None:
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.dialogs: list[str] = []
        self.expected: list[re.Pattern[str]] = []
        self.failed_responses: list[str] = []
        page.on("console", self._on_console)
        page.on("response", self._on_response)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        page.on("dialog", self._on_dialog)

    def _on_console(self, message) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)

    def _on_response(self, response) -> None:
        # Kept to explain a console error: "status of 400" alone does not say which request.
        if response.status >= 400:
            path = response.url.split("?", 1)[0]
            try:
                body = response.text()[:300]
            except Exception as error:  # the body may be gone once the page moved on
                body = f"<{error}>"
            self.failed_responses.append(f"{response.request.method} {path} -> {response.status} {body}")

    def _on_dialog(self, dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def expect_http_error(self, status: int) -> None:
        """Chromium logs every 4xx response as a console error; allow one the test provokes."""
        self.expected.append(re.compile(rf"status of {status}\b"))

    def unexpected_console_errors(self) -> list[str]:
        return [text for text in self.console_errors if not any(p.search(text) for p in self.expected)]

    def assert_clean(self) -> None:
        assert self.page_errors == [], f"uncaught errors in the page: {self.page_errors}"
        assert self.dialogs == [], f"JavaScript dialogs opened: {self.dialogs}"
        assert self.unexpected_console_errors() == [], (
            f"console errors: {self.unexpected_console_errors()}; failed responses: {self.failed_responses}"
        )


@pytest.fixture
def open_page(browser: Browser):
    """open_page(server, viewport=DESKTOP) -> (page, problems); every page is checked at teardown."""
    opened: list[tuple[object, PageProblems]] = []

    def _open(target: ServerProcess, viewport: dict = DESKTOP) -> tuple[Page, PageProblems]:
        context = browser.new_context(base_url=target.base_url, viewport=viewport, accept_downloads=True)
        page = context.new_page()
        problems = PageProblems(page)
        opened.append((context, problems))
        return page, problems

    yield _open
    for context, problems in opened:
        context.close()
    for _, problems in opened:
        problems.assert_clean()


@pytest.fixture
def email() -> str:
    """A fresh user per test, so tests never see each other's photos."""
    return f"browser-{uuid.uuid4().hex[:12]}@example.com"


@pytest.fixture
def api(server: ServerProcess, email: str) -> ApiClient:
    with ApiClient(server.base_url, email) as client:
        yield client

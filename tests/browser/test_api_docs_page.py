"""The readable API page at `/docs/`: the document rendered in Chromium, under the server's CSP
(any blocked inline script or style would be a console error, which fails the test)."""

from __future__ import annotations

import json
from importlib.resources import files

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

DOCUMENT = json.loads(files("photosync.handlers.http").joinpath("openapi.json").read_text(encoding="utf-8"))


def test_the_docs_page_lists_every_operation_with_its_responses(open_page, server):
    page, _ = open_page(server)
    page.goto("/docs/")

    expect(page.locator("#title")).to_have_text(f"{DOCUMENT['info']['title']} {DOCUMENT['info']['version']}")
    operations = [
        f"{method.upper()} {path}" for path, item in DOCUMENT["paths"].items() for method in item
    ]
    expect(page.locator("section.operation")).to_have_count(len(operations))
    expect(page.locator("nav li")).to_have_text(operations)
    upload = page.locator("section.operation", has=page.get_by_text("/uploads", exact=True))
    expect(upload).to_contain_text("413")
    expect(upload).to_contain_text("quota_exceeded")
    expect(page.locator("section.operation", has=page.get_by_text("/healthz", exact=True))).to_contain_text("no sign-in")

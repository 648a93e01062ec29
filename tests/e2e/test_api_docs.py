"""The contract as the server publishes it: `GET /openapi.json` without signing in, byte for byte the
document in the repository, and the readable page of it at `/docs/` under the strict CSP."""

from __future__ import annotations

import json
from importlib.resources import files

import httpx

from photosync.local.app import WEB_CONTENT_SECURITY_POLICY

DOCUMENT = files("photosync.handlers.http").joinpath("openapi.json").read_text(encoding="utf-8")


def test_the_openapi_document_is_public_and_is_the_one_in_the_repository(server):
    response = httpx.get(f"{server.base_url}/openapi.json")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.text == DOCUMENT
    assert json.loads(response.text)["openapi"].startswith("3.1.")


def test_a_token_is_not_needed_but_a_bad_one_is_not_refused_either(server):
    # A public route ignores the Authorization header, as API Gateway does without an authorizer.
    response = httpx.get(f"{server.base_url}/openapi.json", headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 200


def test_the_docs_page_and_its_script_are_served_under_the_strict_policy(server):
    page = httpx.get(f"{server.base_url}/docs/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"] == WEB_CONTENT_SECURITY_POLICY
    assert "'unsafe-inline'" not in WEB_CONTENT_SECURITY_POLICY and "<script>" not in page.text
    assert 'src="docs.js"' in page.text
    script = httpx.get(f"{server.base_url}/docs/docs.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert "/openapi.json" in script.text
    redirect = httpx.get(f"{server.base_url}/docs")
    assert redirect.status_code in (307, 308) and redirect.headers["location"].endswith("/docs/")

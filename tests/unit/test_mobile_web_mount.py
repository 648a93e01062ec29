"""`photosync serve --mobile-web-dir`: the phone app's web build at /app/, a single-page app under a
strict CSP that admits no inline style with content."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from photosync.local.app import (
    EMPTY_INLINE_STYLE,
    _SinglePageApp,
    mobile_web_content_security_policy,
    web_content_security_policy,
)

MOBILE_WEB_CONTENT_SECURITY_POLICY = mobile_web_content_security_policy()
WEB_CONTENT_SECURITY_POLICY = web_content_security_policy()


def _client(tmp_path: Path) -> TestClient:
    (tmp_path / "index.html").write_text("<!doctype html><div id=root></div>")
    (tmp_path / "_expo").mkdir()
    (tmp_path / "_expo" / "entry.js").write_text("console.log(1)")
    app = Starlette(routes=[Mount("/app", app=_SinglePageApp(
        directory=tmp_path, html=True, content_security_policy=MOBILE_WEB_CONTENT_SECURITY_POLICY,
    ))])
    return TestClient(app)


def test_a_route_of_the_app_gets_its_index_and_a_file_is_served_as_is(tmp_path: Path):
    client = _client(tmp_path)
    for path in ("/app/", "/app/signin", "/app/photo/7f0c4a8e-0000-4000-8000-000000000001"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "<div id=root>" in response.text
        assert response.headers["content-security-policy"] == MOBILE_WEB_CONTENT_SECURITY_POLICY
    assert client.get("/app/_expo/entry.js").text == "console.log(1)"


def test_a_missing_file_stays_a_404(tmp_path: Path):
    client = _client(tmp_path)
    assert client.get("/app/_expo/missing.js").status_code == 404
    assert client.get("/app/../secret.txt").status_code == 404


def test_the_policy_differs_from_the_web_clients_only_by_the_empty_style_element_and_no_webassembly():
    empty = "'sha256-" + base64.b64encode(hashlib.sha256(b"").digest()).decode() + "'"
    assert EMPTY_INLINE_STYLE == empty
    # The web client compiles hash-wasm's SHA-256; the phone app runs no WebAssembly.
    assert MOBILE_WEB_CONTENT_SECURITY_POLICY == WEB_CONTENT_SECURITY_POLICY.replace(
        "script-src 'self' 'wasm-unsafe-eval';", "script-src 'self';"
    ).replace("style-src 'self';", f"style-src 'self' {empty};")
    assert "unsafe-inline" not in MOBILE_WEB_CONTENT_SECURITY_POLICY

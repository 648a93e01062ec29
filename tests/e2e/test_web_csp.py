"""The local server's Content-Security-Policy names where the web client's bytes come from: this
server with the local store, the bucket's origin too with an S3-compatible store (uploads are sent
there and thumbnails come from there, so a same-origin policy would break the web client)."""

from __future__ import annotations

import httpx
import pytest

from tests.support.moto_server import MotoS3
from tests.support.server import start_server


def directives(policy: str) -> dict[str, list[str]]:
    return {name: values for name, *values in (part.split() for part in policy.split(";") if part.strip())}


def test_with_the_local_store_the_web_client_talks_to_this_server_only(server):
    policy = directives(httpx.get(f"{server.base_url}/").headers["content-security-policy"])
    assert policy["connect-src"] == ["'self'"] and policy["img-src"] == ["'self'", "blob:", "data:"]
    # The page's own scripts, which may compile WebAssembly (hash-wasm's SHA-256), and nothing else.
    assert policy["script-src"] == ["'self'", "'wasm-unsafe-eval'"] and policy["frame-ancestors"] == ["'none'"]


def test_with_an_s3_store_the_bucket_s_origin_may_receive_uploads_and_serve_images(
    tmp_path, aws_test_credentials, s3_bucket: str, moto_s3_server: MotoS3
):
    process = start_server(tmp_path / "data", env={
        "PHOTOSYNC_STORE": "s3", "PHOTOSYNC_S3_BUCKET": s3_bucket,
        "PHOTOSYNC_S3_ENDPOINT_URL": moto_s3_server.endpoint_url, "AWS_REGION": moto_s3_server.region,
    })
    try:
        policy = directives(httpx.get(f"{process.base_url}/").headers["content-security-policy"])
    finally:
        process.stop()

    bucket_origin = moto_s3_server.endpoint_url
    for directive in ("connect-src", "img-src", "media-src"):
        assert policy[directive][:2] == ["'self'", bucket_origin], directive
    assert policy["script-src"] == ["'self'", "'wasm-unsafe-eval'"]


def test_a_public_link_page_is_the_web_client_under_the_same_policy(server):
    """/s/{token} is the web client's page (it shows the link's album); its relative script, style
    and config URLs resolve below /s/ to the web client's files, under the same strict policy."""
    home = httpx.get(f"{server.base_url}/")
    page = httpx.get(f"{server.base_url}/s/Zm9vYmFyYmF6cXV4LTEyMzQ1Njc4OQ")
    assert page.status_code == 200 and page.text == home.text
    assert page.headers["content-security-policy"] == home.headers["content-security-policy"]
    assert "'unsafe-inline'" not in page.headers["content-security-policy"]
    for asset, kind in (("js/public.js", "javascript"), ("css/app.css", "css"), ("config.json", "json")):
        response = httpx.get(f"{server.base_url}/s/{asset}")
        assert response.status_code == 200 and kind in response.headers["content-type"], asset
        assert response.content == httpx.get(f"{server.base_url}/{asset}").content
    assert httpx.get(f"{server.base_url}/s/js/missing.js").status_code == 404

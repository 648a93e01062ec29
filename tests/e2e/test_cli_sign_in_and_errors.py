"""Sign-in (dev and browser PKCE) and the one-line explanations of expected failures."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx
import jwt
import pytest
from typer.testing import CliRunner

from photosync.cli.main import app
from photosync.client.auth import Credentials, TokenStore
from tests.support.images import make_jpeg
from tests.support.server import start_server

PHOTOSYNC = Path(sys.executable).with_name("photosync")
QUOTA = 100_000


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    process = start_server(tmp_path_factory.mktemp("server"), env={"PHOTOSYNC_DEFAULT_QUOTA_BYTES": str(QUOTA)})
    yield process
    process.stop()


@pytest.fixture
def config(tmp_path, monkeypatch) -> Path:
    directory = tmp_path / "config"
    monkeypatch.setenv("PHOTOSYNC_CONFIG_DIR", str(directory))
    return directory


def invoke(*args):
    return CliRunner().invoke(app, [str(arg) for arg in args])


def assert_one_line_failure(result, expected: str):
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = result.stderr.strip().splitlines()
    assert lines == [expected] or (len(lines) == 1 and expected in lines[0]), result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def forged_token(exp: float) -> str:
    return jwt.encode({"sub": "someone", "exp": int(exp)}, "a-key-the-server-does-not-know-0123456789", algorithm="HS256")


def test_not_signed_in(config):
    assert_one_line_failure(invoke("me"), "You are not signed in: run `photosync login --server URL`")


def test_server_down(config):
    url = f"http://127.0.0.1:{free_port()}"
    TokenStore(config).save(Credentials(server=url, access_token=forged_token(time.time() + 3600)))
    assert_one_line_failure(invoke("ls"), f"Cannot reach {url}: is `photosync serve` running?")
    assert_one_line_failure(invoke("login", "--server", url, "--email", "a@example.com"), f"Cannot reach {url}: is `photosync serve` running?")


def test_expired_token_file(config, server):
    TokenStore(config).save(Credentials(server=server.base_url, access_token=forged_token(time.time() - 60)))
    assert_one_line_failure(invoke("me"), f"Your sign-in has expired: run `photosync login --server {server.base_url}`")


def test_token_the_server_refuses(config, server):
    TokenStore(config).save(Credentials(server=server.base_url, access_token=forged_token(time.time() + 3600)))
    assert_one_line_failure(invoke("albums", "list"), f"Your sign-in has expired: run `photosync login --server {server.base_url}`")


def test_quota_exceeded_names_the_numbers(config, server, tmp_path):
    assert invoke("login", "--server", server.base_url, "--email", "small-quota@example.com").exit_code == 0
    folder = tmp_path / "photos"
    folder.mkdir()
    big = folder / "big.jpg"
    big.write_bytes(make_jpeg(1600, 1200, taken_at=datetime(2023, 1, 1), quality=95))
    assert big.stat().st_size > QUOTA
    result = invoke("backup", folder)
    assert result.exit_code == 1
    failure = [line for line in result.stderr.splitlines() if line.startswith("failed:")]
    assert failure == [f"failed: {big}: Storage quota exceeded: 0 B used of 97.7 KiB; this file needs {big.stat().st_size / 1024:.1f} KiB"]
    assert "Failed:              1" in result.stdout


def test_browser_sign_in_with_pkce_against_the_local_identity_provider(config, server):
    env = {**os.environ, "PHOTOSYNC_CONFIG_DIR": str(config)}
    login = subprocess.Popen([str(PHOTOSYNC), "login", "--server", server.base_url, "--no-browser", "--timeout", "60"],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = ""
        while not line.startswith("http"):
            line = login.stderr.readline()
            assert line, "the CLI printed no sign-in URL"
        authorize_url = line.strip()
        parameters = dict(parse_qsl(urlsplit(authorize_url).query))
        assert parameters["code_challenge_method"] == "S256"
        assert urlsplit(parameters["redirect_uri"]).hostname == "127.0.0.1"

        # The "browser": the sign-in form, the email, then the redirect to the CLI's loopback listener.
        with httpx.Client() as browser:
            form = browser.get(authorize_url)
            assert form.status_code == 200 and "<form" in form.text
            redirect = browser.post(authorize_url.split("?")[0], data={**parameters, "email": "browser-user@example.com"})
            assert redirect.status_code == 302
            location = redirect.headers["location"]
            assert location.startswith(parameters["redirect_uri"] + "?")
            assert browser.get(location).status_code == 200
        out, err = login.communicate(timeout=60)
    finally:
        if login.poll() is None:
            login.kill()
    assert login.returncode == 0, err
    assert f"Signed in to {server.base_url} as browser-user@example.com." in out
    me = invoke("me")
    assert me.exit_code == 0 and "browser-user@example.com" in me.stdout
    assert invoke("logout").exit_code == 0
    assert_one_line_failure(invoke("me"), "You are not signed in: run `photosync login --server URL`")

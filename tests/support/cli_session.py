"""The `photosync` CLI run in-process against a real server (through a recording, lossy proxy for
the trash and sync tests): fixtures and helpers shared by the CLI's end-to-end tests."""

from __future__ import annotations

import hashlib
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from photosync.cli.main import app
from photosync.client import PhotoSyncClient
from photosync.client.auth import TokenStore
from tests.support.images import make_jpeg
from tests.support.lossy_proxy import LossyProxy
from tests.support.server import start_server


def photo(number: int, *, width: int = 320, height: int = 240) -> bytes:
    """A distinct camera JPEG per number (its EXIF capture time differs)."""
    return make_jpeg(width, height, taken_at=datetime(2021, 6, 1, 8, 0) + timedelta(minutes=number))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    process = start_server(tmp_path_factory.mktemp("server"))
    yield process
    process.stop()


@pytest.fixture
def proxy(server):
    lossy = LossyProxy(server.base_url)
    yield lossy
    lossy.close()


class Cli:
    """`photosync ...` in-process through Typer's runner, signed in (through the proxy) as its own user."""

    def __init__(self, config: Path, base_url: str) -> None:
        self.config = config
        self.runner = CliRunner()
        self.base_url = base_url

    def __call__(self, *args, expect: int = 0, input: str | None = None):
        result = self.runner.invoke(app, [str(arg) for arg in args], input=input)
        assert result.exit_code == expect, (result.stdout, result.stderr, result.exception)
        return result

    def client(self, base_url: str) -> PhotoSyncClient:
        return PhotoSyncClient(base_url, TokenStore(self.config).load().access_token)


@pytest.fixture
def cli(tmp_path, monkeypatch, proxy, request):
    monkeypatch.setenv("PHOTOSYNC_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("PHOTOSYNC_INDEX_MAX_AGE_SECONDS", raising=False)
    run = Cli(tmp_path / "config", proxy.base_url)
    run("login", "--server", proxy.base_url, "--email", f"{request.node.name.replace('_', '-')[:40]}@example.com")
    return run


def library(tmp_path: Path, name: str, photos: dict[str, bytes]) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    for filename, data in photos.items():
        (folder / filename).write_bytes(data)
    return folder


def ids_by_name(client: PhotoSyncClient) -> dict[str, str]:
    return {p.filename: p.id for p in client.iter_photos()}


def wait_for_thumbnails(client: PhotoSyncClient, *, timeout: float = 60) -> None:
    """Until every photo of the timeline has its thumbnail: the renditions worker makes them in the
    background, and each one is a change that a sync started earlier would see later."""
    deadline = time.monotonic() + timeout
    while any(p.thumbnail_url is None for p in client.iter_photos()):
        assert time.monotonic() < deadline, f"photos without a thumbnail after {timeout} s"
        time.sleep(0.1)

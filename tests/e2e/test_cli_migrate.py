"""`photosync migrate` on a data directory: it runs the migrations against the directory's private
PostgreSQL, stops a PostgreSQL it had to start itself, and leaves one a running server uses alone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psutil

from tests.e2e.api import ApiUser
from tests.support.server import start_server


def migrate(data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHOTOSYNC_") and k != "DATABASE_URL"}
    return subprocess.run(
        [sys.executable, "-m", "photosync.cli", "migrate", "--data-dir", str(data_dir)],
        env=env, capture_output=True, text=True, timeout=300,
    )


def test_migrate_leaves_a_running_servers_database_running(tmp_path):
    server = start_server(tmp_path / "data")
    try:
        user = ApiUser(server.base_url)
        album = user.request("POST", "/albums", json={"name": "Before migrate"}).json()
        postgres_pid = server.postgres_pid()

        result = migrate(server.data_dir)

        assert result.returncode == 0, result.stdout + result.stderr
        assert "up to date" in result.stderr
        assert server.postgres_pid() == postgres_pid and psutil.pid_exists(postgres_pid)
        # The server's database still answers: reads, and writes in new transactions.
        assert user.request("GET", f"/albums/{album['id']}").json()["name"] == "Before migrate"
        assert user.request("POST", "/albums", json={"name": "After migrate"}).status_code == 201
        assert ApiUser(server.base_url).me()["storage_used"] == 0  # a first sign-in provisions a row
    finally:
        server.stop()


def test_migrate_stops_the_database_it_started(tmp_path):
    data_dir = tmp_path / "data"

    first = migrate(data_dir)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "Applied: 0001_initial" in first.stderr

    assert not (data_dir / "postgres" / "postmaster.pid").exists()
    again = migrate(data_dir)
    assert again.returncode == 0 and "up to date" in again.stderr, again.stdout + again.stderr
    assert not (data_dir / "postgres" / "postmaster.pid").exists()

"""The README's run command, as a newcomer types it, starts a server that answers /healthz."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx

from tests.support.server import free_port

REPO = Path(__file__).resolve().parents[2]


def test_make_run_starts_a_server_that_answers_healthz(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHOTOSYNC_") and k != "DATABASE_URL"}
    process = subprocess.Popen(
        ["make", "run", f"ARGS=--port {port} --data-dir {tmp_path / 'data'}"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        deadline, healthy = time.monotonic() + 240, False
        while time.monotonic() < deadline and process.poll() is None and not healthy:
            try:
                healthy = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).json() == {"status": "ok"}
            except httpx.HTTPError:
                time.sleep(0.5)
        page = httpx.get(f"http://127.0.0.1:{port}/", timeout=5) if healthy else None
    finally:
        os.killpg(process.pid, signal.SIGINT)  # Ctrl+C, as the README says
        output = process.communicate(timeout=90)[0].decode(errors="replace")
    assert healthy, output
    assert page.status_code == 200 and "<title>" in page.text  # the web app is served at /
    assert "PhotoSync is running at" in output
    assert not (tmp_path / "data" / "postgres" / "postmaster.pid").exists()  # its PostgreSQL stopped with it

"""LocalStack's S3 on 127.0.0.1 for tests, with signature validation on: an S3 that refuses what real
S3 refuses for pre-signed requests (tampered signature, other bytes or length than signed, a changed
signed header, an expired URL, `If-None-Match: *` on an existing key). See
../shared/docs/testing-s3.md for what it checks and what it does not (requests signed in the
`Authorization` header are not verified).

It runs from its own virtual environment, `.venv-localstack/` (`make test` creates it from
tests/support/localstack-requirements.txt), in a process the session starts on a free port and stops.

Fixtures (listed in tests/conftest.py's `pytest_plugins`):
- `localstack_s3` (session): the running server, an `S3Endpoint` (`.endpoint_url`, `.client()`, `.create_bucket()`).
- `localstack_credentials`: the credentials LocalStack signs with, in the environment, so the store's
  own boto3 client signs as a real client would.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.moto_server import S3Endpoint, use_only_these_credentials
from tests.support.server import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
LOCALSTACK_PYTHON = REPO_ROOT / ".venv-localstack" / "bin" / "python"
ACCESS_KEY_ID = "photosync-test"
SECRET_ACCESS_KEY = "test"  # LocalStack's default: with any other, even untampered URLs are refused
# Loading the S3 provider takes a few seconds on an idle machine, far longer on a busy one.
STARTUP_TIMEOUT_SECONDS = 240
STOP_TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class LocalStackS3(S3Endpoint):
    access_key_id: str = ACCESS_KEY_ID
    secret_access_key: str = SECRET_ACCESS_KEY


def _environment(root: Path, port: int) -> dict[str, str]:
    # No HOME, AWS or proxy settings of the machine: the server reads only what is set here.
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(root),
        "TMPDIR": str(root / "tmp"),
        "FILESYSTEM_ROOT": str(root / "filesystem"),
        "SERVICES": "s3",
        "EAGER_SERVICE_LOADING": "1",
        "GATEWAY_LISTEN": f"127.0.0.1:{port}",
        "S3_SKIP_SIGNATURE_VALIDATION": "0",
        "DISABLE_EVENTS": "1",
        "SKIP_SSL_CERT_DOWNLOAD": "1",
        "SKIP_INFRA_DOWNLOADS": "1",
        "LOCALSTACK_TELEMETRY": "0",
        "DNS_ADDRESS": "0",
    }


def _wait_until_ready(process: subprocess.Popen, endpoint_url: str, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"LocalStack exited with {process.returncode}:\n{log_path.read_text(errors='replace')[-5000:]}")
        try:
            health = httpx.get(f"{endpoint_url}/_localstack/health", timeout=2).json()
            if health.get("services", {}).get("s3") in ("running", "available"):
                return
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.5)
    raise RuntimeError(f"LocalStack's S3 was not ready after {STARTUP_TIMEOUT_SECONDS} s:\n{log_path.read_text(errors='replace')[-5000:]}")


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM (LocalStack's clean shutdown), then the whole process group if it hangs."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=STOP_TIMEOUT_SECONDS)


@pytest.fixture(scope="session")
def localstack_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStackS3]:
    if not LOCALSTACK_PYTHON.exists():
        pytest.fail(
            f"LocalStack is not installed at {LOCALSTACK_PYTHON.parent.parent}: run `make test`, or "
            f"`python3 -m venv .venv-localstack && .venv-localstack/bin/pip install -r "
            f"tests/support/localstack-requirements.txt`"
        )
    root = tmp_path_factory.mktemp("localstack")
    (root / "tmp").mkdir()
    port = free_port()
    endpoint_url = f"http://127.0.0.1:{port}"
    log_path = root / "localstack.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(LOCALSTACK_PYTHON), "-m", "localstack.runtime.main"],
            env=_environment(root, port), cwd=root, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        _wait_until_ready(process, endpoint_url, log_path)
        yield LocalStackS3(endpoint_url=endpoint_url)
    finally:
        _stop(process)


@pytest.fixture
def localstack_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    use_only_these_credentials(monkeypatch, tmp_path, ACCESS_KEY_ID, SECRET_ACCESS_KEY)

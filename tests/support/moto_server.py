"""An S3 endpoint on 127.0.0.1 for tests: moto in server mode, reached over real HTTP.

Fixtures (import them into a test module, or list this module in a conftest's `pytest_plugins`):
- `moto_s3_server` (session): the running server; `.endpoint_url`, `.region`, `.client()`.
- `aws_test_credentials`: fake credentials in the environment, and no profile or config file of the
  machine, so boto3 clients built by the code under test can only ever talk to the test endpoint.
- `s3_bucket`: a fresh, empty bucket on that server, for one test.

A store for a test: `S3ObjectStore(s3_bucket, region=moto_s3_server.region,
endpoint_url=moto_s3_server.endpoint_url)`; the same three values are what `PHOTOSYNC_S3_BUCKET`,
`AWS_REGION` and `PHOTOSYNC_S3_ENDPOINT_URL` need for a full-flow test through the services.

moto checks no signature, expiry or checksum: a test that a bad upload is refused cannot rely on it
(tests/support/localstack_server.py is an S3 that checks them).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.config import Config
from moto.server import ThreadedMotoServer

TEST_REGION = "us-east-1"  # elsewhere CreateBucket needs a CreateBucketConfiguration
TEST_ACCESS_KEY_ID = "testing-access-key"
TEST_SECRET_ACCESS_KEY = "testing-secret-key"


@dataclass(frozen=True)
class S3Endpoint:
    """An S3 server on loopback, and the credentials it takes."""

    endpoint_url: str
    region: str = TEST_REGION
    access_key_id: str = TEST_ACCESS_KEY_ID
    secret_access_key: str = TEST_SECRET_ACCESS_KEY

    def client(self) -> Any:
        """A boto3 S3 client for the test's own setup and inspection (not the code under test)."""
        return boto3.client(
            "s3",
            region_name=self.region,
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )

    def create_bucket(self) -> str:
        name = f"photosync-test-{uuid.uuid4().hex[:20]}"
        self.client().create_bucket(Bucket=name)
        return name


class MotoS3(S3Endpoint):
    """moto's S3 server: takes any credentials, checks no signature."""


@pytest.fixture(scope="session")
def moto_s3_server() -> Iterator[MotoS3]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield MotoS3(endpoint_url=f"http://{host}:{port}", region=TEST_REGION)
    finally:
        server.stop()


@pytest.fixture
def aws_test_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    use_only_these_credentials(monkeypatch, tmp_path, TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY)


def use_only_these_credentials(
    monkeypatch: pytest.MonkeyPatch, tmp_path, access_key_id: str, secret_access_key: str
) -> None:
    """Fake credentials in the environment, and no profile, config file or endpoint of the machine.

    boto3's default session resolves credentials once and keeps them: it is dropped here, so clients
    made from now on take these (moto takes any; LocalStack refuses a signature made with another
    secret, which made its tests depend on which tests a process ran before them)."""
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", access_key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret_access_key)
    monkeypatch.setenv("AWS_DEFAULT_REGION", TEST_REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    for name in (
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_S3",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def s3_bucket(moto_s3_server: MotoS3, aws_test_credentials: None) -> str:
    return moto_s3_server.create_bucket()

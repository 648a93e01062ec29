"""The S3 part of the restore procedures of docs/deploy.md, on a versioned bucket (moto over HTTP):
an original deleted through the store is brought back from its noncurrent version by running the
documented `aws s3api` commands, read from the document itself, through boto3."""

from __future__ import annotations

import json
import re
import shlex
from datetime import datetime
from pathlib import Path
from typing import Any

import jmespath
import pytest

from photosync.adapters.objectstore.s3 import S3ObjectStore

DEPLOY_DOC = Path(__file__).resolve().parents[2] / "docs" / "deploy.md"
# `aws s3api` options and the boto3 parameters they are.
PARAMETERS = {"--bucket": "Bucket", "--key": "Key", "--prefix": "Prefix", "--version-id": "VersionId"}


def documented_commands(procedure: str) -> list[str]:
    text = DEPLOY_DOC.read_text()
    block = text.split(f"<!-- {procedure}: start -->", 1)[1].split(f"<!-- {procedure}: end -->", 1)[0]
    return [line for line in block.splitlines() if line.startswith("aws ")]


def run_aws(client: Any, command: str, values: dict[str, str], tmp_path: Path) -> str:
    """One documented `aws s3api` command, placeholders filled in, as the AWS CLI would run it."""
    for placeholder, value in values.items():
        command = command.replace(f"<{placeholder}>", value)
    assert "<" not in command, f"unfilled placeholder in {command}"
    words = shlex.split(command)
    assert words[:2] == ["aws", "s3api"], command
    operation, arguments = words[2].replace("-", "_"), words[3:]
    parameters, query, outfile = {}, None, None
    while arguments:
        option = arguments.pop(0)
        if option in PARAMETERS:
            parameters[PARAMETERS[option]] = arguments.pop(0)
        elif option == "--query":
            query = arguments.pop(0)
        elif option == "--output":
            assert arguments.pop(0) == "text"
        elif not option.startswith("--") and operation == "get_object":
            outfile = tmp_path / option  # get-object's positional outfile
        else:
            raise AssertionError(f"option {option} of {command} is not understood by this test")
    answer = getattr(client, operation)(**parameters)
    if outfile is not None:
        outfile.write_bytes(answer["Body"].read())
        return str(outfile)
    # The CLI queries its JSON output, where timestamps are ISO 8601 strings.
    found = jmespath.search(query, json.loads(json.dumps(answer, default=datetime.isoformat))) if query else None
    if isinstance(found, list):  # --output text: one line per row, tab-separated fields
        return "\n".join("\t".join(map(str, row)) if isinstance(row, list) else str(row) for row in found)
    return str(found)


@pytest.fixture
def versioned_bucket(moto_s3_server, s3_bucket) -> str:
    moto_s3_server.client().put_bucket_versioning(Bucket=s3_bucket, VersioningConfiguration={"Status": "Enabled"})
    return s3_bucket


@pytest.fixture
def store(moto_s3_server, versioned_bucket) -> S3ObjectStore:
    return S3ObjectStore(versioned_bucket, region=moto_s3_server.region, endpoint_url=moto_s3_server.endpoint_url)


KEY = "originals/0b7f2a59-1c38-4f7e-9d8e-5a4b3c2d1e0f/5f0e4d3c-2b1a-4c9d-8e7f-6a5b4c3d2e1f"
ORIGINAL = b"\xff\xd8\xff the original photo bytes"


def test_a_deleted_original_is_downloaded_from_its_noncurrent_version(moto_s3_server, versioned_bucket, store, tmp_path):
    store.put(KEY, ORIGINAL, content_type="image/jpeg")
    store.put(KEY.replace("originals/", "thumbnails/"), b"thumbnail", content_type="image/webp")
    store.delete(KEY)
    assert store.head(KEY) is None
    client = moto_s3_server.client()
    values = {"PhotoBucket": versioned_bucket, "key": KEY, "file": "restored.jpg"}

    find, download = documented_commands("restore-one-original")
    values["version id"] = run_aws(client, find, values, tmp_path)
    restored = run_aws(client, download, values, tmp_path)

    assert Path(restored).read_bytes() == ORIGINAL
    # Only downloaded: the bucket is unchanged (the owner backs the file up again).
    assert store.head(KEY) is None


def test_objects_deleted_since_a_moment_are_undeleted_under_their_keys(moto_s3_server, versioned_bucket, store, tmp_path):
    kept = KEY.replace("5f0e4d3c", "00000000")
    store.put(KEY, ORIGINAL, content_type="image/jpeg")
    store.put(kept, b"never deleted", content_type="image/jpeg")
    store.delete(KEY)
    client = moto_s3_server.client()
    values = {"PhotoBucket": versioned_bucket, "prefix": "originals/", "time": "2000-01-01T00:00:00Z"}

    listing, undelete = documented_commands("undelete-objects")
    rows = run_aws(client, listing, values, tmp_path).splitlines()
    assert len(rows) == 1
    for row in rows:
        key, marker = row.split("\t")
        run_aws(client, undelete, {**values, "key": key, "delete marker version id": marker}, tmp_path)

    assert store.read(KEY) == ORIGINAL
    assert store.read(kept) == b"never deleted"
    # Nothing to undelete any more: no delete marker at all, which the CLI's text output prints as None.
    assert run_aws(client, listing, values, tmp_path) == "None"


def test_the_documented_commands_are_the_ones_tested():
    assert [re.split(r"\s+", c)[2] for c in documented_commands("restore-one-original")] == [
        "list-object-versions", "get-object",
    ]
    assert [re.split(r"\s+", c)[2] for c in documented_commands("undelete-objects")] == [
        "list-object-versions", "delete-object",
    ]

"""X-Ray tracing as it runs in Lambda: the finalize handler, in a fresh interpreter with Lambda's
environment (LAMBDA_TASK_ROOT, a sampled trace id), sends its subsegments to the X-Ray daemon
address, here a UDP socket of the test: the invocation, each SQL statement (real PostgreSQL) and each
S3 call (moto over HTTP) is one."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

from photosync.domain import keys
from photosync.local.events import s3_object_created_event
from tests.support.moto_server import TEST_ACCESS_KEY_ID, TEST_REGION, TEST_SECRET_ACCESS_KEY

REPO = Path(__file__).resolve().parents[2]
CHILD = """
import json, sys
from photosync.handlers import finalize
from photosync.local.lambda_runtime import LocalLambdaContext
print(json.dumps(finalize.handler(json.loads(sys.argv[1]), LocalLambdaContext("finalize"))))
"""


def received_documents(daemon: socket.socket, *, until_quiet: float = 1.5) -> list[dict]:
    """Segment documents as the daemon receives them: a header line, then one JSON document."""
    documents = []
    daemon.settimeout(until_quiet)
    try:
        while True:
            datagram = daemon.recv(65536).decode()
            header, body = datagram.split("\n", 1)
            assert json.loads(header) == {"format": "json", "version": 1}
            documents.append(json.loads(body))
    except socket.timeout:
        return documents


def test_finalize_traces_its_sql_statements_and_s3_calls(database_url, db, moto_s3_server, s3_bucket):
    owner = uuid.uuid4()
    key = keys.original_key(owner, uuid.uuid4())  # no reservation: finalize removes it as an orphan
    moto_s3_server.client().put_object(Bucket=s3_bucket, Key=key, Body=b"bytes nobody reserved")
    event = s3_object_created_event(bucket=s3_bucket, key=key, size=21, etag="e")
    trace_root = f"1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}"

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as daemon:
        daemon.bind(("127.0.0.1", 0))
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("PHOTOSYNC_", "AWS_", "POWERTOOLS_"))},
            "PYTHONPATH": str(REPO / "src"), "DATABASE_URL": database_url,
            "PHOTOSYNC_MODE": "aws", "PHOTOSYNC_STORE": "s3", "PHOTOSYNC_S3_BUCKET": s3_bucket,
            "PHOTOSYNC_S3_ENDPOINT_URL": moto_s3_server.endpoint_url,
            "AWS_REGION": TEST_REGION, "AWS_DEFAULT_REGION": TEST_REGION,
            "AWS_ACCESS_KEY_ID": TEST_ACCESS_KEY_ID, "AWS_SECRET_ACCESS_KEY": TEST_SECRET_ACCESS_KEY,
            "LAMBDA_TASK_ROOT": str(REPO / "src"), "AWS_LAMBDA_FUNCTION_NAME": "photosync-finalize",
            "_X_AMZN_TRACE_ID": f"Root={trace_root};Parent={uuid.uuid4().hex[:16]};Sampled=1",
            "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:%d" % daemon.getsockname()[1],
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        }
        done = subprocess.run([sys.executable, "-c", CHILD, json.dumps(event)], env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout.splitlines()[-1]) == {"outcomes": ["orphan"]}
        documents = received_documents(daemon)

    assert documents and {d["trace_id"] for d in documents} == {trace_root}
    names = [d["name"] for d in documents]
    assert "## handler" in names
    sql = [d for d in documents if d["name"] == "postgresql"]
    assert len(sql) >= 3  # the upload, the photo, the deletion outbox
    assert all(d["namespace"] == "remote" and d["sql"]["database_type"] == "PostgreSQL" for d in sql)
    s3_calls = [d for d in documents if d.get("namespace") == "aws" and d["name"] == "s3"]
    assert {call["aws"]["operation"] for call in s3_calls} >= {"DeleteObject"}

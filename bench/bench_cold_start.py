"""Cold start of each Lambda handler: the time a fresh interpreter takes to import the handler module
(what Lambda's init phase pays), next to a bare interpreter start in the same run; and a whole cold
invocation of the Gallery function (fresh interpreter: import, init, the first `GET /photos` event
with its database connection and the pre-signing of its URLs against moto's S3) next to a minimal
handler written with boto3 and psycopg alone doing the same work (same query, same URLs, same JSON).

Run from the repository root: `.venv/bin/python -m bench.bench_cold_start --runs 9`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

from bench.results import write_section

HANDLERS = [
    "photosync.handlers.http.uploads",
    "photosync.handlers.http.gallery",
    "photosync.handlers.http.download",
    "photosync.handlers.http.delete",
    "photosync.handlers.http.albums",
    "photosync.handlers.http.account",
    "photosync.handlers.http.trash",
    "photosync.handlers.http.sync",
    "photosync.handlers.finalize",
    "photosync.handlers.cleanup",
    "photosync.handlers.post_confirmation",
    "photosync.handlers.migrate",
]
LIBRARIES = "import aws_lambda_powertools.event_handler, aws_lambda_powertools.logging, psycopg, psycopg.rows"
# What the SAM template sets; importing a handler must not connect to anything.
LAMBDA_ENV = {
    "PHOTOSYNC_MODE": "aws", "PHOTOSYNC_STORE": "s3", "PHOTOSYNC_S3_BUCKET": "bench",
    "DATABASE_URL": "postgresql://bench@127.0.0.1:1/bench", "AWS_REGION": "us-east-1",
}


def timed_start(code: str, runs: int) -> list[float]:
    env = {**os.environ, **LAMBDA_ENV, "PYTHONDONTWRITEBYTECODE": "1"}
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], env=env, check=True)
        times.append(time.perf_counter() - started)
    return times


PHOTOS_ON_PAGE = 100  # GET /photos without a limit: the default page

# The deployed Gallery function, invoked once in a fresh interpreter. The context is the handful of
# attributes Lambda's context object has (Powertools reads them).
OURS = """
import json, sys
from photosync.handlers.http.gallery import handler
class Context:
    function_name = "gallery"; function_version = "$LATEST"; memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:gallery"; aws_request_id = "cold-1"
    def get_remaining_time_in_millis(self): return 30000
result = handler(json.load(open(sys.argv[1])), Context())
assert result["statusCode"] == 200 and len(json.loads(result["body"])["items"]) == int(sys.argv[2]), result
"""

# The same work with boto3 and psycopg alone: the caller from the authorizer's claims, one
# connection, the page query, two pre-signed URLs per photo, the same JSON.
MINIMAL = """
import json, os, sys
import boto3, psycopg
from botocore.config import Config
from psycopg.rows import dict_row
event = json.load(open(sys.argv[1]))
owner = event["requestContext"]["authorizer"]["jwt"]["claims"]["sub"]
s3 = boto3.client("s3", region_name=os.environ["AWS_REGION"], endpoint_url=os.environ["PHOTOSYNC_S3_ENDPOINT_URL"],
                  config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
bucket = os.environ["PHOTOSYNC_S3_BUCKET"]
with psycopg.connect(os.environ["DATABASE_URL"], row_factory=dict_row, autocommit=True) as conn:
    conn.execute("SELECT 1 FROM users WHERE id = %s", (owner,)).fetchone()
    rows = conn.execute(
        "SELECT id, filename, content_type, size, sha256, uploaded_at, taken_at, width, height, camera_make, "
        "camera_model, thumbnail_key, preview_key, trashed_at, sort_at FROM photos "
        "WHERE owner_id = %s AND trashed_at IS NULL ORDER BY sort_at DESC, id DESC LIMIT 101", (owner,)
    ).fetchall()
def url(key):
    return s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key, "ResponseContentType": "image/webp"}, ExpiresIn=900)
def stamp(t):
    return t.isoformat().replace("+00:00", "Z") if t else None
items = [{"id": str(r["id"]), "filename": r["filename"], "content_type": r["content_type"], "size": r["size"],
          "sha256": r["sha256"], "uploaded_at": stamp(r["uploaded_at"]), "taken_at": stamp(r["taken_at"]),
          "width": r["width"], "height": r["height"], "camera_make": r["camera_make"], "camera_model": r["camera_model"],
          "thumbnail_url": url(r["thumbnail_key"]), "preview_url": url(r["preview_key"]), "trashed_at": stamp(r["trashed_at"])}
         for r in rows[:100]]
result = {"statusCode": 200, "headers": {"Content-Type": "application/json", "Cache-Control": "no-store"},
          "body": json.dumps({"items": items, "next_cursor": None}, separators=(",", ":"))}
assert len(json.loads(result["body"])["items"]) == int(sys.argv[2]), result
"""


def cold_invocations(runs: int) -> dict[str, list[float]]:
    """Wall time of a fresh interpreter handling one GET /photos, ours and the minimal handler taking
    turns, against a private PostgreSQL and moto's S3 on this machine."""
    import boto3
    import psycopg
    from moto.server import ThreadedMotoServer

    from photosync.adapters.postgres.migrations import apply_migrations
    from photosync.local.events import http_api_event
    from photosync.local.postgres import PrivatePostgres

    owner = uuid.uuid4()
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as scratch:
        server = PrivatePostgres(Path(scratch) / "pgdata")
        server.start()
        moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        moto.start()
        try:
            host, port = moto.get_host_and_port()
            env = {
                **os.environ, **LAMBDA_ENV, "PYTHONDONTWRITEBYTECODE": "1", "DATABASE_URL": server.url,
                "PHOTOSYNC_S3_ENDPOINT_URL": f"http://{host}:{port}", "AWS_ACCESS_KEY_ID": "bench",
                "AWS_SECRET_ACCESS_KEY": "bench", "POWERTOOLS_LOG_LEVEL": "WARNING",
            }
            boto3.client("s3", endpoint_url=env["PHOTOSYNC_S3_ENDPOINT_URL"], region_name="us-east-1",
                         aws_access_key_id="bench", aws_secret_access_key="bench").create_bucket(Bucket="bench")
            with psycopg.connect(server.url, autocommit=True) as conn:
                apply_migrations(conn)
                conn.execute("INSERT INTO users (id, email, storage_quota) VALUES (%s, 'cold@example.com', 0)", (owner,))
                conn.execute(
                    "INSERT INTO photos (id, owner_id, object_key, filename, content_type, size, sha256, taken_at, "
                    "width, height, thumbnail_key, preview_key, renditions) "
                    "SELECT id, %(o)s, 'originals/' || id, 'IMG_' || i || '.JPG', 'image/jpeg', 1000 + i, "
                    "encode(sha256(convert_to(id::text, 'UTF8')), 'hex'), now() - i * interval '1 hour', 4032, 3024, "
                    "'thumbnails/' || id || '.webp', 'previews/' || id || '.webp', 'ready' "
                    "FROM (SELECT i, md5(%(o)s::text || i)::uuid AS id FROM generate_series(1, %(n)s) AS i) numbered",
                    {"o": owner, "n": PHOTOS_ON_PAGE * 5},
                )
            event_file = Path(scratch) / "event.json"
            event_file.write_text(json.dumps(http_api_event(
                method="GET", route_key="GET /photos", path="/photos", raw_query="", query={}, headers={},
                path_parameters={}, body=None, is_base64=False, source_ip="127.0.0.1", host="localhost",
                claims={"sub": str(owner), "username": "cold@example.com", "token_use": "access", "scope": "openid"},
            )))
            times: dict[str, list[float]] = {"ours": [], "minimal": []}
            for run in range(runs + 1):  # the first round warms the page cache and is not counted
                for name, code in (("ours", OURS), ("minimal", MINIMAL)):
                    started = time.perf_counter()
                    subprocess.run([sys.executable, "-c", code, str(event_file), str(PHOTOS_ON_PAGE)], env=env, check=True)
                    if run:
                        times[name].append(time.perf_counter() - started)
            return times
        finally:
            moto.stop()
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=9)
    arguments = parser.parse_args()

    baseline = statistics.median(timed_start("pass", arguments.runs))
    # What any Powertools + psycopg handler pays before a line of PhotoSync runs.
    libraries = statistics.median(timed_start(LIBRARIES, arguments.runs))
    print(f"{'libraries alone':45} {libraries * 1000:7.0f} ms")
    rows = []
    for module in HANDLERS:
        median = statistics.median(timed_start(f"import {module}", arguments.runs))
        rows.append((module, median, median - baseline))
        print(f"{module:45} {median * 1000:7.0f} ms  (+{(median - baseline) * 1000:.0f} ms over a bare interpreter)")

    cold = cold_invocations(arguments.runs)
    ours, minimal = statistics.median(cold["ours"]), statistics.median(cold["minimal"])
    print(f"cold GET /photos: ours {ours * 1000:.0f} ms, minimal boto3 + psycopg {minimal * 1000:.0f} ms")

    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    lines = [
        "## Lambda cold start: handler import time (`bench/bench_cold_start.py`)",
        "",
        f"- Date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC",
        f"- Machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, load average at start {load}. "
        "Shared with other jobs: read the ratios, not the absolute times.",
        f"- Baseline: a bare interpreter (`python -c pass`), median of {arguments.runs} runs: {baseline * 1000:.0f} ms.",
        "",
        f"- Libraries alone (`{LIBRARIES}`): {libraries * 1000:.0f} ms, {libraries / baseline:.1f}x the bare interpreter.",
        "",
        "| handler module | import, median | over the baseline | ratio to the baseline | over the libraries alone |",
        "|---|---|---|---|---|",
        *[
            f"| `{module}` | {median * 1000:.0f} ms | +{extra * 1000:.0f} ms | {median / baseline:.1f}x "
            f"| {(median - libraries) * 1000:+.0f} ms |"
            for module, median, extra in rows
        ],
        "",
        f"### A whole cold invocation: the Gallery function's first `GET /photos` ({PHOTOS_ON_PAGE} photos, "
        f"{2 * PHOTOS_ON_PAGE} pre-signed URLs against moto's S3, a private PostgreSQL), fresh interpreter to exit",
        "",
        "| handler | median | runs |",
        "|---|---|---|",
        f"| `photosync.handlers.http.gallery` (Powertools resolver, services, repositories) | {ours * 1000:.0f} ms "
        f"| {', '.join(f'{t * 1000:.0f}' for t in cold['ours'])} |",
        f"| minimal: boto3 + psycopg alone, same query, URLs and JSON | {minimal * 1000:.0f} ms "
        f"| {', '.join(f'{t * 1000:.0f}' for t in cold['minimal'])} |",
        "",
        f"- Ratio ours / minimal: **{ours / minimal:.2f}** (target 1.2). The two take turns run by run, after one "
        "uncounted round.",
        "",
        "Most of a cold start is the libraries' own import (Powertools' `event_handler` package imports "
        "every resolver it has; psycopg imports asyncio); the HTTP functions do not load Pillow, only "
        "finalize and cleanup do.",
        "",
        "Reproduce: `.venv/bin/python -m bench.bench_cold_start --runs 9` (from the repository root).",
    ]
    write_section("bench_cold_start", "\n".join(lines))


if __name__ == "__main__":
    main()

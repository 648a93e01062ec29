"""Cold start of each Lambda handler: the time a fresh interpreter takes to import the handler module
(what Lambda's init phase pays), next to a bare interpreter start in the same run.

Run from the repository root: `.venv/bin/python -m bench.bench_cold_start --runs 9`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone

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
        "Most of a cold start is the libraries' own import (Powertools' `event_handler` package imports "
        "every resolver it has; psycopg imports asyncio); the HTTP functions do not load Pillow, only "
        "finalize and cleanup do.",
        "",
        "Reproduce: `.venv/bin/python -m bench.bench_cold_start --runs 9` (from the repository root).",
    ]
    write_section("bench_cold_start", "\n".join(lines))


if __name__ == "__main__":
    main()

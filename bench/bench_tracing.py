"""What Tracer (X-Ray) and Metrics (EMF) add to a cold invocation, beside bench_cold_start.py.

A cold invocation: a fresh interpreter in a Lambda-like environment (LAMBDA_TASK_ROOT, a sampled
`_X_AMZN_TRACE_ID`) imports the account function's handler, makes the Secrets Manager client every
function makes on a cold start in AWS (for the database credentials; no request is sent), and
handles one `GET /me` against a real PostgreSQL (provisioning the caller, then reading the account).
Three variants run interleaved, round by round:

- `without`: Powertools Tracer and Metrics replaced by do-nothing stand-ins before PhotoSync is
  imported (what the functions would cost without either);
- `metrics only`: Tracer replaced, Metrics as deployed (one EMF document printed);
- `tracer and metrics`: the code as deployed: the X-Ray SDK imported, botocore patched, the
  invocation a segment and every SQL statement a subsegment, sent over UDP to the X-Ray daemon
  address (nobody listens here; sending is what a function pays).

Run from the repository root: `.venv/bin/python -m bench.bench_tracing --runs 7`. Uses DATABASE_URL
if set, else starts a private PostgreSQL in a temporary directory.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

from bench.results import write_section

REPO = Path(__file__).resolve().parents[1]
EVENT = REPO / "tests" / "fixtures" / "events" / "http_api_get_me.json"

# The child: optionally stands in for Tracer and Metrics, then imports and invokes the handler once,
# printing the time the invocation itself took.
CHILD = textwrap.dedent(
    """
    import json, sys, time, uuid
    variant, event_path = sys.argv[1:]
    import aws_lambda_powertools
    if variant != "tracer and metrics":
        class NoTracer:
            disabled, provider = True, None
            def __init__(self, *args, **kwargs): pass
            def capture_lambda_handler(self, handler, **kwargs): return handler

        aws_lambda_powertools.Tracer = NoTracer
    if variant == "without":
        class NoMetrics:
            metric_set = {}
            def __init__(self, *args, **kwargs): pass
            def add_metric(self, **kwargs): pass
            def flush_metrics(self, **kwargs): pass

        aws_lambda_powertools.Metrics = NoMetrics
    from photosync.handlers.http import account
    from photosync.local.lambda_runtime import LocalLambdaContext
    import boto3
    boto3.client("secretsmanager")
    event = json.load(open(event_path))
    event["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = str(uuid.uuid4())
    started = time.perf_counter()
    response = account.handler(event, LocalLambdaContext("account"))
    elapsed = time.perf_counter() - started
    assert response["statusCode"] == 200, response
    from photosync.observability import tracer
    assert (variant == "tracer and metrics") == (not tracer.disabled)
    print(json.dumps({"invocation": elapsed}))
    """
)
VARIANTS = ("without", "metrics only", "tracer and metrics")


def environment(database_url: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items()
        if not k.startswith(("PHOTOSYNC_", "POWERTOOLS_", "AWS_", "LAMBDA_", "_X_AMZN"))
    }
    env.update(
        PHOTOSYNC_MODE="aws", PHOTOSYNC_STORE="s3", PHOTOSYNC_S3_BUCKET="bench", DATABASE_URL=database_url,
        AWS_REGION="us-east-1", AWS_DEFAULT_REGION="us-east-1", POWERTOOLS_SERVICE_NAME="photosync", POWERTOOLS_LOG_LEVEL="WARNING",
        PYTHONDONTWRITEBYTECODE="1", PYTHONPATH=str(REPO / "src"),
    )
    # Every variant runs as in Lambda; only the stand-ins differ.
    root = f"1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}"
    env.update(
        LAMBDA_TASK_ROOT=str(REPO / "src"), AWS_LAMBDA_FUNCTION_NAME="photosync-account",
        _X_AMZN_TRACE_ID=f"Root={root};Parent={uuid.uuid4().hex[:16]};Sampled=1",
        AWS_XRAY_DAEMON_ADDRESS="127.0.0.1:2000",
    )
    return env


def cold_invocation(variant: str, database_url: str) -> tuple[float, float, float]:
    """(CPU time of the process, process start to answer, the invocation alone), in seconds. CPU
    time is the figure to compare on a shared machine: waiting for a core does not count in it."""
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", CHILD, variant, str(EVENT)], env=environment(database_url),
        capture_output=True, text=True, check=False,
    )
    total = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    if done.returncode != 0:
        raise SystemExit(f"{variant} failed:\n{done.stderr[-3000:]}")
    [line] = [line for line in done.stdout.splitlines() if line.startswith('{"invocation"')]
    return cpu, total, json.loads(line)["invocation"]


def measure(runs: int, database_url: str) -> dict[str, list[tuple[float, float, float]]]:
    timings: dict[str, list[tuple[float, float, float]]] = {variant: [] for variant in VARIANTS}
    for variant in VARIANTS:  # one untimed round: the database and the file cache warm up
        cold_invocation(variant, database_url)
    for _ in range(runs):
        for variant in VARIANTS:
            timings[variant].append(cold_invocation(variant, database_url))
    return timings


def with_database(run) -> None:  # noqa: ANN001
    if os.environ.get("DATABASE_URL"):
        run(os.environ["DATABASE_URL"])
        return
    import psycopg

    from photosync.adapters.postgres.migrations import apply_migrations
    from photosync.local.postgres import PrivatePostgres

    with tempfile.TemporaryDirectory(prefix="bench-tracing-") as scratch:
        postgres = PrivatePostgres(Path(scratch) / "pgdata")
        url = postgres.start()
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                apply_migrations(conn)
            run(url)
        finally:
            postgres.stop()


def report(timings: dict[str, list[tuple[float, float, float]]], runs: int, load: str) -> str:
    cpu = {v: statistics.median(c for c, _, _ in timings[v]) for v in VARIANTS}
    wall = {v: statistics.median(w for _, w, _ in timings[v]) for v in VARIANTS}
    invocation = {v: statistics.median(i for _, _, i in timings[v]) for v in VARIANTS}
    base = cpu["without"]
    rows = [
        f"| {variant} | {cpu[variant] * 1000:.0f} ms | {cpu[variant] / base:.3f} "
        f"| {(cpu[variant] - base) * 1000:+.0f} ms | {wall[variant] * 1000:.0f} ms | {invocation[variant] * 1000:.1f} ms |"
        for variant in VARIANTS
    ]
    return "\n".join([
        "## Tracer and Metrics on a cold invocation (`bench/bench_tracing.py`)",
        "",
        f"- Date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC",
        f"- Machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, load average at start {load}. "
        "Shared with other jobs: read the ratios, not the absolute times.",
        f"- A cold invocation: a fresh interpreter imports the account handler and answers one `GET /me` "
        f"against a real PostgreSQL (4 SQL statements). Variants interleaved, median of {runs} runs each.",
        "",
        "| variant | CPU time of the cold invocation, median | ratio to `without` | over `without` "
        "| wall clock, median | the invocation alone (wall clock, after import) |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
        "- All in a Lambda-like environment (sampled trace id), each making the Secrets Manager client a function "
        "makes on a cold start in AWS. `without`: Tracer and Metrics replaced by do-nothing stand-ins; "
        "`metrics only`: Tracer replaced; `tracer and metrics`: as deployed (X-Ray SDK, botocore patched, "
        "each SQL statement a subsegment sent to the daemon address).",
        f"- Tracing and metrics add **{(cpu['tracer and metrics'] / base - 1) * 100:+.1f} %** to the CPU time of a "
        f"cold invocation here; metrics alone {(cpu['metrics only'] / base - 1) * 100:+.1f} %. CPU time (user + "
        "system of the process) is compared, not wall clock: on this shared machine waiting for a core "
        "swamps the difference.",
        "- Outside Lambda (local runtime, tests) PhotoSync builds no Tracer: there the X-Ray recorder would create "
        "two botocore X-Ray clients on import for centralized sampling (aws-xray-sdk-python#311).",
        "",
        "Reproduce: `.venv/bin/python -m bench.bench_tracing --runs 7` (from the repository root).",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--no-write", action="store_true", help="print the figures, leave bench/RESULTS.md alone")
    arguments = parser.parse_args()
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())

    def run(database_url: str) -> None:
        section = report(measure(arguments.runs, database_url), arguments.runs, load)
        print(section)
        if not arguments.no_write:
            write_section("bench_tracing", section)

    with_database(run)


if __name__ == "__main__":
    main()

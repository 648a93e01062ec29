"""What the functions tell operators: structured logs with the request id, metrics (CloudWatch EMF),
traces (X-Ray). The one place that knows metric names; the services report outcomes, and the
handlers (or an adapter, for traces) hand them to the functions below.

In Lambda the EMF documents printed at the end of each invocation become CloudWatch metrics; the
local runtime collects the same documents and serves them at `/metrics`. Tracing is on only inside
Lambda, and records each AWS call (botocore) and each SQL statement (the PostgreSQL adapter) as a
subsegment.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

from photosync.log import logger

if TYPE_CHECKING:
    from photosync.services.cleanup import CleanupReport
    from photosync.services.finalize import FinalizeResult

SERVICE = "photosync"
NAMESPACE = "PhotoSync"

# Every metric the functions emit, with its unit (the dashboard in infra/template.yaml shows each).
METRICS = {
    **{
        name: MetricUnit.Count
        for name in (
            "UploadsGranted", "QuotaRefusals", "UploadsFinalized", "UploadsRejected", "OrphansRemoved",
            "UploadsReleased", "RenditionsMade", "RenditionsFailed",
        )
    },
    "SweepDuration": MetricUnit.Milliseconds,
}
METRIC_NAMES = tuple(METRICS)

# How an EMF document starts: Powertools prints it as compact JSON with its `_aws` directive first.
EMF_PREFIX = '{"_aws":'

metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
# Tracing happens in Lambda only (Powertools and the X-Ray SDK both go by LAMBDA_TASK_ROOT). Elsewhere
# (the local runtime, the tests, the CLI) there is no Tracer at all: outside Lambda the X-Ray recorder
# builds two botocore X-Ray clients on import, for centralized sampling (aws-xray-sdk-python#311),
# a few hundred milliseconds per process for nothing. botocore is patched only: SQL statements are
# traced by the PostgreSQL adapter (the SDK's psycopg patch sees cursors, not the
# `connection.execute` the repositories use).
tracer: Tracer | None = Tracer(service=SERVICE, patch_modules=["botocore"]) if os.getenv("LAMBDA_TASK_ROOT") else None


def instrumented(correlation_id_path: str | None = None) -> Callable[[Callable], Callable]:
    """A Lambda handler with its request id in every log line (and the caller's correlation id, e.g.
    the API request id of the access log), its invocation traced, and its metrics flushed."""

    def decorate(handler: Callable) -> Callable:
        @functools.wraps(handler)
        def with_metrics(event: Any, context: Any) -> Any:
            try:
                return handler(event, context)
            finally:
                # Most HTTP requests count nothing: no empty document (Powertools would warn).
                if metrics.metric_set:
                    metrics.flush_metrics()

        traced = tracer.capture_lambda_handler(with_metrics, capture_response=False) if tracer else with_metrics
        return logger.inject_lambda_context(correlation_id_path=correlation_id_path)(traced)

    return decorate


def traced_sql(statement: Callable[[], Any], query: Any) -> Any:
    """Runs a SQL statement as a subsegment of the current trace (directly when tracing is off)."""
    if tracer is None or tracer.disabled:
        return statement()
    with tracer.provider.in_subsegment("postgresql") as subsegment:
        subsegment.namespace = "remote"
        subsegment.set_sql({"database_type": "PostgreSQL", "sanitized_query": str(query)})
        return statement()


def _count(name: str, value: int = 1) -> None:
    if value:
        metrics.add_metric(name=name, unit=METRICS[name], value=value)


def upload_granted(count: int = 1) -> None:
    _count("UploadsGranted", count)


def quota_refused(count: int = 1) -> None:
    _count("QuotaRefusals", count)


# What each finalize outcome counts as; the others (duplicates, repeats) are not failures or work.
_FINALIZE_METRICS = {"finalized": "UploadsFinalized", "rejected": "UploadsRejected", "orphan": "OrphansRemoved"}
# A rendition state after a try: made, given up (content cannot be drawn), or to be retried.
_RENDITION_METRICS = {"ready": "RenditionsMade", "failed": "RenditionsFailed", "pending": "RenditionsFailed"}


def finalize_outcome(result: "FinalizeResult") -> None:
    if result.outcome in _FINALIZE_METRICS:
        _count(_FINALIZE_METRICS[result.outcome])


def rendition_tried(state: str) -> None:
    if state in _RENDITION_METRICS:
        _count(_RENDITION_METRICS[state])


def sweep_finished(report: "CleanupReport", seconds: float) -> None:
    metrics.add_metric(name="SweepDuration", unit=METRICS["SweepDuration"], value=round(seconds * 1000, 1))
    _count("UploadsFinalized", report.finalized)
    _count("UploadsReleased", report.released)
    _count("RenditionsMade", report.renditions_retried)
    _count("RenditionsFailed", report.renditions_failed)


def emf_documents(lines: list[str]) -> list[dict[str, Any]]:
    """The EMF documents among printed lines (what CloudWatch picks out of a function's output)."""
    return [json.loads(line) for line in lines if line.startswith(EMF_PREFIX)]

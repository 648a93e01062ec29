"""The metrics operators see: emitted by the real handlers as CloudWatch EMF documents on stdout
(what Lambda turns into metrics), counted on a scripted run against the real database and store."""

from __future__ import annotations

import hashlib
import io
import json
import uuid
from collections import Counter
from typing import Any

from photosync import observability
from photosync.domain import keys
from photosync.adapters.queues import LocalQueue
from photosync.config import settings
from photosync.handlers import cleanup, environment, finalize, renditions
from photosync.handlers.http import uploads
from photosync.local.events import http_api_event, s3_object_created_event, scheduled_event, sqs_event
from photosync.local.lambda_runtime import LocalLambdaContext
from photosync.services.finalize import FinalizeResult
from tests.conftest import new_user
from tests.integration.test_uploads import distinct_jpeg


def request_upload(owner: uuid.UUID, data: bytes, *, declared_sha256: str | None = None) -> dict[str, Any]:
    body = {
        "filename": "IMG_0001.JPG", "content_type": "image/jpeg", "size": len(data),
        "sha256": declared_sha256 or hashlib.sha256(data).hexdigest(),
    }
    event = http_api_event(
        method="POST", route_key="POST /uploads", path="/uploads", raw_query="", query={},
        headers={"content-type": ["application/json"]}, path_parameters={}, body=json.dumps(body),
        is_base64=False, source_ip="203.0.113.7", claims={"sub": str(owner), "scope": "openid"}, host="api.test",
    )
    return uploads.handler(event, LocalLambdaContext("request-upload"))


def deliver(store, key: str, data: bytes) -> str:
    """The object lands in the store and S3 notifies finalize; the outcome it reports."""
    store.put(key, data, content_type="image/jpeg")
    event = s3_object_created_event(bucket="photos", key=key, size=len(data), etag="etag")
    [outcome] = finalize.handler(event, LocalLambdaContext("finalize"))["outcomes"]
    return outcome


def render_queued() -> dict[str, Any]:
    """The renditions function's invocation on what finalize queued, as the event source mapping delivers it."""
    messages = LocalQueue(environment.local_renditions_queue_dir(settings().data_dir)).receive(max_messages=10)
    event = sqs_event(
        queue_name="renditions", messages=[(m.message_id, m.body, m.sent_at_ms, m.receive_count) for m in messages]
    )
    return renditions.handler(event, LocalLambdaContext("renditions"))


def emitted(printed: str) -> list[dict[str, Any]]:
    return observability.emf_documents(printed.splitlines())


def totals(documents: list[dict[str, Any]]) -> Counter:
    counted: Counter = Counter()
    for document in documents:
        [directive] = document["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == "PhotoSync"
        assert directive["Dimensions"] == [["service"]] and document["service"] == "photosync"
        for metric in directive["Metrics"]:
            values = document[metric["Name"]]
            counted[metric["Name"]] += sum(values) if isinstance(values, list) else values
    return counted


def test_a_scripted_run_is_counted_exactly(uow, store, lambda_env, capsys):
    photos = [distinct_jpeg(n, width=640, height=480) for n in range(3)]
    owner = new_user(uow, quota=sum(len(p) for p in photos) + 100)
    capsys.readouterr()

    # Three uploads granted; a fourth does not fit in the quota.
    grants = [request_upload(owner, data) for data in photos[:2]]
    grants.append(request_upload(owner, photos[2], declared_sha256=hashlib.sha256(b"other").hexdigest()))
    assert [g["statusCode"] for g in grants] == [201, 201, 201]
    assert request_upload(owner, distinct_jpeg(9, width=640, height=480))["statusCode"] == 413
    upload_ids = [json.loads(g["body"])["upload_id"] for g in grants]

    # Two arrive as declared; the third's content is not the one declared: rejected.
    outcomes = [deliver(store, keys.original_key(owner, uuid.UUID(u)), data) for u, data in zip(upload_ids, photos)]
    assert outcomes == ["finalized", "finalized", "rejected"]
    # An object nobody reserved: removed as an orphan.
    assert deliver(store, keys.original_key(owner, uuid.uuid4()), photos[0]) == "orphan"
    # The renditions function makes the renditions of the two photos.
    assert render_queued() == {"batchItemFailures": []}

    counted = totals(emitted(capsys.readouterr().out))
    assert counted == {
        "UploadsGranted": 3, "QuotaRefusals": 1, "UploadsFinalized": 2, "UploadsRejected": 1,
        "OrphansRemoved": 1, "RenditionsMade": 2,
    }


def test_each_invocation_publishes_its_own_metrics_once(uow, store, lambda_env, capsys):
    owner = new_user(uow)
    capsys.readouterr()
    request_upload(owner, distinct_jpeg(1, width=320, height=240))
    request_upload(owner, distinct_jpeg(2, width=320, height=240))
    documents = emitted(capsys.readouterr().out)
    assert [totals([d]) for d in documents] == [{"UploadsGranted": 1}, {"UploadsGranted": 1}]


def test_the_sweep_reports_its_duration_and_what_it_did(uow, store, lambda_env, capsys):
    capsys.readouterr()
    report = cleanup.handler(scheduled_event(rule_name="photosync-cleanup"), LocalLambdaContext("cleanup"))
    [document] = emitted(capsys.readouterr().out)
    [directive] = document["_aws"]["CloudWatchMetrics"]
    assert {m["Name"]: m["Unit"] for m in directive["Metrics"]} == {"SweepDuration": "Milliseconds"}
    assert 0 < totals([document])["SweepDuration"] < 60_000
    assert report["errors"] == []


def test_renditions_that_fail_are_counted_as_failed(capsys):
    observability.finalize_outcome(FinalizeResult("finalized", renditions="queued"))
    observability.finalize_outcome(FinalizeResult("finalized", renditions="none"))  # a video: nothing to make
    observability.finalize_outcome(FinalizeResult("duplicate_content"))
    observability.rendition_tried("failed")  # the content cannot be drawn
    observability.rendition_tried("pending")  # the store failed: retried
    observability.rendition_tried("ready")
    observability.metrics.flush_metrics()
    assert totals(emitted(capsys.readouterr().out)) == {"UploadsFinalized": 2, "RenditionsFailed": 2, "RenditionsMade": 1}


def test_service_logs_carry_the_request_id_of_the_invocation(uow, store, lambda_env):
    """Stdlib loggers of the services write through the Powertools logger: one JSON line each, with
    the Lambda request id and the correlation id (S3's request id here; the API request id, which
    the access log shows too, in the HTTP functions)."""
    owner = new_user(uow)
    data = distinct_jpeg(3, width=320, height=240)
    key = keys.original_key(owner, uuid.UUID(json.loads(request_upload(owner, data)["body"])["upload_id"]))
    store.put(key, b"x" * len(data), content_type="image/jpeg")
    event = s3_object_created_event(bucket="photos", key=key, size=len(data), etag="e")
    context = LocalLambdaContext("finalize")
    printed = io.StringIO()
    handler = observability.logger.registered_handler
    previous_stream, previous_level = handler.setStream(printed), observability.logger.log_level
    observability.logger.setLevel("INFO")
    try:
        finalize.handler(event, context)
    finally:
        handler.setStream(previous_stream)
        observability.logger.setLevel(previous_level)
    lines = [json.loads(line) for line in printed.getvalue().splitlines()]
    [rejected] = [line for line in lines if line["message"] == "upload rejected"]
    assert rejected["location"].startswith("_reject")  # logged by the service, not the handler
    assert rejected["function_request_id"] == context.aws_request_id
    assert rejected["correlation_id"] == event["Records"][0]["responseElements"]["x-amz-request-id"]

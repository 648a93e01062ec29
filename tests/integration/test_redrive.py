"""`photosync admin redrive`: dead letters from an SQS queue (moto, over real HTTP) replayed through
the finalize handler against the real database and store; a message leaves the queue only once its
replay succeeded."""

from __future__ import annotations

import hashlib
import json
import uuid

import boto3
import pytest
from typer.testing import CliRunner

from photosync.cli.main import app
from photosync.domain import keys
from photosync.local.events import s3_object_created_event
from photosync.services import redrive, uploads
from photosync.domain.validation import UploadRequest
from tests.conftest import new_user
from tests.integration.test_uploads import distinct_jpeg
from tests.support.moto_server import TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY


@pytest.fixture
def sqs(moto_s3_server, aws_test_credentials, monkeypatch):
    """An SQS client on the moto server; the command under test finds it through the standard
    service endpoint variable."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", moto_s3_server.endpoint_url)
    return boto3.client(
        "sqs", region_name=moto_s3_server.region, endpoint_url=moto_s3_server.endpoint_url,
        aws_access_key_id=TEST_ACCESS_KEY_ID, aws_secret_access_key=TEST_SECRET_ACCESS_KEY,
    )


@pytest.fixture
def dead_letter_queue(sqs) -> str:
    return sqs.create_queue(QueueName=f"finalize-dlq-{uuid.uuid4().hex[:12]}")["QueueUrl"]


def destination_record(event: dict) -> dict:
    """What a Lambda on-failure destination sends to SQS after the last retry failed."""
    return {
        "version": "1.0",
        "timestamp": "2026-12-01T10:00:00.000Z",
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:photosync-FinalizeFunction:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 3,
        },
        "requestPayload": event,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": {"errorMessage": "connection to server failed", "errorType": "OperationalError"},
    }


def arrived_upload(uow, store, owner, n: int) -> tuple[uuid.UUID, dict]:
    """An upload whose file is in the store, and the S3 event finalize never managed to handle."""
    data = distinct_jpeg(n, width=320, height=240)
    request = UploadRequest("IMG.JPG", "image/jpeg", len(data), hashlib.sha256(data).hexdigest())
    granted = uploads.request_upload(uow, store, owner_id=owner, request=request, url_ttl_seconds=900)
    key = keys.original_key(owner, granted.upload_id)
    store.put(key, data, content_type="image/jpeg")
    return granted.upload_id, s3_object_created_event(bucket="photos", key=key, size=len(data), etag="e")


def messages_left(sqs, queue_url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return sum(int(value) for value in attributes.values())


def run_redrive(queue_url: str):
    return CliRunner().invoke(app, ["admin", "redrive", "--queue-url", queue_url, "--function", "finalize"])


def test_a_dead_lettered_s3_event_is_replayed_through_finalize_and_leaves_the_queue(
    uow, store, lambda_env, sqs, dead_letter_queue
):
    owner = new_user(uow)
    wrapped_id, wrapped_event = arrived_upload(uow, store, owner, 1)
    raw_id, raw_event = arrived_upload(uow, store, owner, 2)
    sqs.send_message(QueueUrl=dead_letter_queue, MessageBody=json.dumps(destination_record(wrapped_event)))
    sqs.send_message(QueueUrl=dead_letter_queue, MessageBody=json.dumps(raw_event))  # a plain DLQ's shape

    result = run_redrive(dead_letter_queue)

    assert result.exit_code == 0, result.output
    assert "Replayed 2 event(s); 0 failed" in result.output
    for upload_id in (wrapped_id, raw_id):
        assert uow.photos.exists(upload_id, owner_id=owner)
    assert uow.users.get(owner).storage_pending == 0
    assert messages_left(sqs, dead_letter_queue) == 0


def test_a_replay_that_fails_again_keeps_its_message_and_the_others_go_on(
    uow, store, lambda_env, sqs, dead_letter_queue
):
    owner = new_user(uow)
    upload_id, event = arrived_upload(uow, store, owner, 3)
    sqs.send_message(QueueUrl=dead_letter_queue, MessageBody="not json at all")
    sqs.send_message(QueueUrl=dead_letter_queue, MessageBody=json.dumps(destination_record({"detail": "no records"})))
    sqs.send_message(QueueUrl=dead_letter_queue, MessageBody=json.dumps(destination_record(event)))

    result = run_redrive(dead_letter_queue)

    assert result.exit_code == 1
    assert "Replayed 1 event(s); 2 failed and stay in the queue" in result.output
    assert "not JSON" in result.output and "run redrive again" in result.output
    assert uow.photos.exists(upload_id, owner_id=owner)
    assert messages_left(sqs, dead_letter_queue) == 2


def test_replaying_twice_is_harmless():
    """Finalize is idempotent, so a message replayed after a crash between replay and delete is fine;
    the parser gives the same event for a record and for the raw event."""
    event = s3_object_created_event(bucket="photos", key="originals/a/b", size=1, etag="e")
    assert redrive.original_event(json.dumps(destination_record(event))) == event
    assert redrive.original_event(json.dumps(event)) == event
    with pytest.raises(redrive.NotAnEvent):
        redrive.original_event("[1, 2]")

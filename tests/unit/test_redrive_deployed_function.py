"""Replaying through the deployed function: a synchronous invoke whose function error counts as a
failed replay (botocore's Stubber answers as the Lambda API would)."""

from __future__ import annotations

import io
import json

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from photosync.adapters.dead_letters import DeployedFunction, ReplayFailed

EVENT = {"Records": [{"s3": {"object": {"key": "originals/a/b"}}}]}


def answer(payload: dict, function_error: str | None = None) -> dict:
    body = json.dumps(payload).encode()
    response = {"StatusCode": 200, "Payload": StreamingBody(io.BytesIO(body), len(body))}
    if function_error:
        response["FunctionError"] = function_error
    return response


@pytest.fixture
def lambda_client():
    return boto3.client("lambda", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s")


def expected_request(name: str) -> dict:
    return {"FunctionName": name, "InvocationType": "RequestResponse", "Payload": json.dumps(EVENT).encode()}


def test_the_event_is_sent_synchronously_and_the_answer_returned(lambda_client):
    with Stubber(lambda_client) as stub:
        stub.add_response("invoke", answer({"outcomes": ["finalized"]}), expected_request("photosync-finalize"))
        assert DeployedFunction("photosync-finalize", client=lambda_client)(EVENT) == {"outcomes": ["finalized"]}


def test_a_function_error_is_a_failed_replay_with_its_message(lambda_client):
    with Stubber(lambda_client) as stub:
        stub.add_response(
            "invoke", answer({"errorMessage": "connection refused", "errorType": "OperationalError"}, "Unhandled"),
            expected_request("photosync-finalize"),
        )
        with pytest.raises(ReplayFailed, match="photosync-finalize failed again: connection refused"):
            DeployedFunction("photosync-finalize", client=lambda_client)(EVENT)

"""The SQS dead-letter queues of the asynchronously invoked functions, and the functions a dead
letter is replayed through: the handler in this process, or the deployed Lambda function."""

from __future__ import annotations

import contextlib
import importlib
import io
import json
from typing import Any

from photosync.services.redrive import DeadLetter

# SQS waits this long for a message before answering "none" (long polling: no false empties).
RECEIVE_WAIT_SECONDS = 2


class SqsDeadLetterQueue:
    def __init__(self, queue_url: str, *, client: Any | None = None) -> None:
        if client is None:
            import boto3

            client = boto3.client("sqs")
        self._client = client
        self._url = queue_url

    def receive(self, *, max_messages: int, hide_for_seconds: int) -> list[DeadLetter]:
        answer = self._client.receive_message(
            QueueUrl=self._url, MaxNumberOfMessages=max_messages, VisibilityTimeout=hide_for_seconds,
            WaitTimeSeconds=RECEIVE_WAIT_SECONDS,
        )
        return [DeadLetter(m["MessageId"], m["ReceiptHandle"], m["Body"]) for m in answer.get("Messages", [])]

    def delete(self, letter: DeadLetter) -> None:
        self._client.delete_message(QueueUrl=self._url, ReceiptHandle=letter.receipt)


class ReplayFailed(RuntimeError):
    """The function failed on the event again."""


class HandlerInThisProcess:
    """The function's handler, run here with this machine's settings (the local runtime's database
    and store, or any environment the deployed functions' variables describe)."""

    def __init__(self, function_name: str, handler: str) -> None:
        module_name, attribute = handler.rsplit(".", 1)
        self._handler = getattr(importlib.import_module(module_name), attribute)
        self._function_name = function_name

    def __call__(self, event: dict[str, Any]) -> Any:
        from photosync.local.lambda_runtime import LocalLambdaContext

        # The handler prints its metrics (EMF) for CloudWatch; on an operator's terminal they are noise.
        with contextlib.redirect_stdout(io.StringIO()):
            return self._handler(event, LocalLambdaContext(self._function_name))


class DeployedFunction:
    """The deployed Lambda function, invoked synchronously with the event (it runs inside the VPC,
    next to the database, which an operator's machine cannot reach)."""

    def __init__(self, function_name: str, *, client: Any | None = None) -> None:
        if client is None:
            import boto3

            client = boto3.client("lambda")
        self._client = client
        self._name = function_name

    def __call__(self, event: dict[str, Any]) -> Any:
        answer = self._client.invoke(
            FunctionName=self._name, InvocationType="RequestResponse", Payload=json.dumps(event).encode()
        )
        payload = json.loads(answer["Payload"].read() or b"null")
        if answer.get("FunctionError"):
            message = payload.get("errorMessage") if isinstance(payload, dict) else payload
            raise ReplayFailed(f"{self._name} failed again: {message}")
        return payload

"""CloudFormation custom resource: applies the database migrations at deploy time.

Create and Update apply every pending migration; Delete does nothing (the data outlives the
resource). CloudFormation waits for an answer on `ResponseURL` for up to an hour, so this handler
always answers: SUCCESS, FAILED with the reason, or FAILED just before the function would time out.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from typing import Any

from photosync.adapters.postgres.connection import connect
from photosync.adapters.postgres.migrations import apply_migrations
from photosync.log import logger


# Stable, so an Update never replaces the resource (which would send a Delete for the old one).
PHYSICAL_RESOURCE_ID = "photosync-database-migrations"
# Time kept back to send FAILED when the migrations have not finished before the Lambda timeout.
_TIMEOUT_MARGIN_SECONDS = 10
_RESPONSE_TIMEOUT_SECONDS = 30
# CloudFormation rejects a response body over 4 KiB; the reason is the only unbounded part.
_MAX_REASON_CHARS = 1500


class _Responder:
    """Sends the one answer CloudFormation gets; later attempts are ignored."""

    def __init__(self, event: dict[str, Any], log_stream: str) -> None:
        self._event = event
        self._log_stream = log_stream
        self._lock = threading.Lock()
        self._sent = False

    def send(self, status: str, reason: str = "", data: dict[str, str] | None = None) -> None:
        with self._lock:
            if self._sent:
                return
            self._sent = True
        body = {
            "Status": status,
            "Reason": (reason or f"See CloudWatch log stream {self._log_stream}")[:_MAX_REASON_CHARS],
            "PhysicalResourceId": self._event.get("PhysicalResourceId") or PHYSICAL_RESOURCE_ID,
            "StackId": self._event["StackId"],
            "RequestId": self._event["RequestId"],
            "LogicalResourceId": self._event["LogicalResourceId"],
            "NoEcho": False,
            "Data": data or {},
        }
        payload = json.dumps(body).encode("utf-8")
        # The pre-signed S3 URL was signed without a content type: send an empty one.
        request = urllib.request.Request(
            self._event["ResponseURL"],
            data=payload,
            method="PUT",
            headers={"Content-Type": "", "Content-Length": str(len(payload))},
        )
        with urllib.request.urlopen(request, timeout=_RESPONSE_TIMEOUT_SECONDS) as response:
            logger.info("answered CloudFormation", status=status, http_status=response.status)


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> None:
    responder = _Responder(event, getattr(context, "log_stream_name", "unknown"))
    seconds_left = context.get_remaining_time_in_millis() / 1000 - _TIMEOUT_MARGIN_SECONDS
    watchdog = threading.Timer(
        max(seconds_left, 0),
        responder.send,
        args=("FAILED", "The migrations did not finish before the function timed out"),
    )
    watchdog.daemon = True
    watchdog.start()
    try:
        request_type = event["RequestType"]
        if request_type == "Delete":
            responder.send("SUCCESS")
            return
        with connect() as connection:
            applied = apply_migrations(connection)
        logger.info("migrations applied", request_type=request_type, applied=applied)
        responder.send("SUCCESS", data={"AppliedCount": str(len(applied))})
    except Exception as error:  # every failure must reach CloudFormation, or the stack hangs
        logger.exception("migrations failed")
        responder.send("FAILED", f"{type(error).__name__}: {error}")
    finally:
        watchdog.cancel()

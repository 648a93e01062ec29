"""The event shapes AWS delivers to each function, built for the local runtime."""

from __future__ import annotations

import hashlib
import time
import uuid
from datetime import datetime, timezone
from typing import Any, Mapping
from urllib.parse import quote_plus

LOCAL_REGION = "local"
LOCAL_ACCOUNT = "000000000000"


def _now() -> datetime:
    return datetime.now(timezone.utc)


def http_api_event(
    *,
    method: str,
    route_key: str,
    path: str,
    raw_query: str,
    query: Mapping[str, list[str]],
    headers: Mapping[str, list[str]],
    path_parameters: Mapping[str, str],
    body: str | None,
    is_base64: bool,
    source_ip: str,
    claims: Mapping[str, Any] | None,
    host: str,
) -> dict[str, Any]:
    """An API Gateway HTTP API payload, version 2.0, as the JWT authorizer leaves it."""
    now = _now()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": raw_query,
        # HTTP APIs join repeated headers and query parameters with commas.
        "headers": {name.lower(): ",".join(values) for name, values in headers.items()},
        "requestContext": {
            "accountId": LOCAL_ACCOUNT,
            "apiId": "local",
            "domainName": host,
            "domainPrefix": host.split(".")[0],
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": ",".join(headers.get("user-agent", [])),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route_key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": is_base64,
    }
    if query:
        event["queryStringParameters"] = {name: ",".join(values) for name, values in query.items()}
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    if body is not None:
        event["body"] = body
    if "cookie" in headers:
        event["cookies"] = [c.strip() for v in headers["cookie"] for c in v.split(";")]
    if claims is not None:
        scope = str(claims.get("scope", ""))
        event["requestContext"]["authorizer"] = {
            # The JWT authorizer hands claims over as strings.
            "jwt": {"claims": {k: _claim_text(v) for k, v in claims.items()}, "scopes": scope.split() or None}
        }
    return event


def _claim_text(value: Any) -> str:
    if isinstance(value, list):
        return "[" + " ".join(str(v) for v in value) + "]"
    return str(value)


def s3_object_created_event(
    *, bucket: str, key: str, size: int, etag: str, sequencer: int | None = None, event_name: str = "ObjectCreated:Put"
) -> dict[str, Any]:
    """An S3 `ObjectCreated` notification (`:Put`, or `:CompleteMultipartUpload` for an assembled
    multipart upload) with one record; the key URL-encoded as S3 sends it."""
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": LOCAL_REGION,
                "eventTime": _now().isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "eventName": event_name,
                "userIdentity": {"principalId": "AWS:LOCAL"},
                "requestParameters": {"sourceIPAddress": "127.0.0.1"},
                "responseElements": {"x-amz-request-id": uuid.uuid4().hex[:16].upper(), "x-amz-id-2": uuid.uuid4().hex},
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "photosync-finalize",
                    "bucket": {
                        "name": bucket,
                        "ownerIdentity": {"principalId": "LOCAL"},
                        "arn": f"arn:aws:s3:::{bucket}",
                    },
                    "object": {
                        "key": quote_plus(key, safe="/"),
                        "size": size,
                        "eTag": etag,
                        "sequencer": f"{sequencer or time.time_ns():016X}",
                    },
                },
            }
        ]
    }


def scheduled_event(*, rule_name: str) -> dict[str, Any]:
    """An EventBridge `Scheduled Event`."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": LOCAL_ACCOUNT,
        "time": _now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": LOCAL_REGION,
        "resources": [f"arn:aws:events:{LOCAL_REGION}:{LOCAL_ACCOUNT}:rule/{rule_name}"],
        "detail": {},
    }


def post_confirmation_event(*, user_pool_id: str, client_id: str, sub: str, email: str) -> dict[str, Any]:
    """A Cognito `PostConfirmation_ConfirmSignUp` trigger event."""
    return {
        "version": "1",
        "region": LOCAL_REGION,
        "userPoolId": user_pool_id,
        "userName": email,
        "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": client_id},
        "triggerSource": "PostConfirmation_ConfirmSignUp",
        "request": {
            "userAttributes": {
                "sub": sub,
                "email": email,
                "email_verified": "true",
                "cognito:user_status": "CONFIRMED",
            }
        },
        "response": {},
    }


def sqs_event(*, queue_name: str, messages: list[tuple[str, str, int, int]]) -> dict[str, Any]:
    """An SQS event source mapping's batch: one record per (message id, body, sent at in ms, receive
    count), as Lambda's poller delivers them."""
    return {
        "Records": [
            {
                "messageId": message_id,
                "receiptHandle": message_id,
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": str(receive_count),
                    "SentTimestamp": str(sent_at_ms),
                    "SenderId": LOCAL_ACCOUNT,
                    "ApproximateFirstReceiveTimestamp": str(int(time.time() * 1000)),
                },
                "messageAttributes": {},
                "md5OfBody": hashlib.md5(body.encode(), usedforsecurity=False).hexdigest(),
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:{LOCAL_REGION}:{LOCAL_ACCOUNT}:{queue_name}",
                "awsRegion": LOCAL_REGION,
            }
            for message_id, body, sent_at_ms, receive_count in messages
        ]
    }

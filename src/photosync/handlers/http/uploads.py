"""Request-upload function: POST /uploads, GET /uploads/{upload_id}."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.utilities.typing import LambdaContext

from photosync import observability
from photosync.domain.errors import QuotaExceeded
from photosync.domain.validation import parse_upload_request
from photosync.handlers import environment
from photosync.handlers.http.common import (
    caller_id, create_app, http_handler, json_body, json_response, path_uuid, rfc3339,
)
from photosync.services import uploads

router = Router()


@router.post("/uploads")
def request_upload() -> Response:
    owner_id = caller_id(router)
    config = environment.config()
    request = parse_upload_request(json_body(router), max_upload_bytes=config.max_upload_bytes)
    try:
        result = uploads.request_upload(
            environment.unit_of_work(), environment.object_store(), owner_id=owner_id, request=request,
            url_ttl_seconds=config.upload_url_ttl_seconds,
        )
    except QuotaExceeded:
        observability.quota_refused()
        raise
    if isinstance(result, uploads.AlreadyBackedUp):
        body = {"status": "duplicate", "photo_id": str(result.photo_id)}
        if result.in_trash:
            body["in_trash"] = True  # restoring it brings it back; a new upload would not
        return json_response(200, body)
    observability.upload_granted()
    return json_response(201, {
        "upload_id": str(result.upload_id),
        "status": "pending",
        "method": result.request.method,
        "url": result.request.url,
        "headers": result.request.headers,
        "expires_at": rfc3339(result.request.expires_at),
    })


@router.get("/uploads/<upload_id>")
def upload_status(upload_id: str) -> Response:
    owner_id = caller_id(router)
    status = uploads.upload_status(
        environment.unit_of_work(), owner_id=owner_id, upload_id=path_uuid(upload_id, "upload id")
    )
    body = {"upload_id": str(status.upload_id), "status": status.status}
    if status.photo_id is not None:
        body["photo_id"] = str(status.photo_id)
    if status.reason is not None:
        body["reason"] = status.reason
    return json_response(200, body)


@router.delete("/uploads/<upload_id>")
def cancel_upload(upload_id: str) -> Response:
    owner_id = caller_id(router)
    uploads.cancel_upload(
        environment.unit_of_work(), environment.object_store(), owner_id=owner_id,
        upload_id=path_uuid(upload_id, "upload id"),
    )
    return json_response(204)


app = create_app(router)


@http_handler
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)

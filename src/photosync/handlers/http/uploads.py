"""Request-upload function: POST /uploads, POST /uploads/batch, GET and DELETE /uploads/{upload_id}, and the
multipart routes (POST and GET /uploads/{upload_id}/parts, POST /uploads/{upload_id}/complete)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.utilities.typing import LambdaContext

from photosync import observability
from photosync.domain.errors import DomainError, QuotaExceeded, error_body
from photosync.domain.validation import (
    UploadRequest, parse_completed_parts, parse_part_requests, parse_upload_batch, parse_upload_request,
)
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
            url_ttl_seconds=config.upload_url_ttl_seconds, multipart_ttl_seconds=config.multipart_ttl_seconds,
        )
    except QuotaExceeded:
        observability.quota_refused()
        raise
    if isinstance(result, uploads.AlreadyBackedUp):
        return json_response(200, _duplicate_json(result))
    observability.upload_granted()
    return json_response(201, _grant_json(result))


@router.post("/uploads/batch")
def request_uploads() -> Response:
    owner_id = caller_id(router)
    config = environment.config()
    files = parse_upload_batch(json_body(router), max_upload_bytes=config.max_upload_bytes)
    positions = [position for position, file in enumerate(files) if isinstance(file, UploadRequest)]
    outcomes = uploads.request_uploads(
        environment.unit_of_work(), environment.object_store(), owner_id=owner_id,
        requests=[files[position] for position in positions], url_ttl_seconds=config.upload_url_ttl_seconds,
        multipart_ttl_seconds=config.multipart_ttl_seconds,
    )
    outcome_at = dict(zip(positions, outcomes))
    results = [
        _error_json(file) if isinstance(file, DomainError) else _outcome_json(outcome_at[position], positions)
        for position, file in enumerate(files)
    ]
    observability.upload_granted(
        sum(isinstance(outcome, (uploads.UploadGranted, uploads.MultipartGranted)) for outcome in outcomes)
    )
    observability.quota_refused(sum(isinstance(outcome, QuotaExceeded) for outcome in outcomes))
    return json_response(200, {"results": results})


def _outcome_json(outcome: uploads.BatchOutcome, positions: list[int]) -> dict:
    if isinstance(outcome, DomainError):
        return _error_json(outcome)
    if isinstance(outcome, uploads.AlreadyBackedUp):
        return _duplicate_json(outcome)
    if isinstance(outcome, uploads.SameAsEarlierFile):
        # The earlier file's own grant: the bytes go once, through that file.
        return {**_grant_json(outcome.granted), "duplicate_of": positions[outcome.index]}
    return _grant_json(outcome)


def _error_json(error: DomainError) -> dict:
    """A file's own refusal, in the shape `POST /uploads` would have answered it."""
    return error_body(error.code, error.message, **error.details)


def _duplicate_json(result: uploads.AlreadyBackedUp) -> dict:
    body = {"status": "duplicate", "photo_id": str(result.photo_id)}
    if result.in_trash:
        body["in_trash"] = True  # restoring it brings it back; a new upload would not
    return body


def _grant_json(result: uploads.UploadGranted | uploads.MultipartGranted) -> dict:
    if isinstance(result, uploads.MultipartGranted):
        return {
            "upload_id": str(result.upload_id),
            "status": "pending",
            "method": "MULTIPART",
            "part_size": result.part_size,
            "part_count": result.part_count,
            "expires_at": rfc3339(result.expires_at),
        }
    return {
        "upload_id": str(result.upload_id),
        "status": "pending",
        "method": result.request.method,
        "url": result.request.url,
        "headers": result.request.headers,
        "expires_at": rfc3339(result.request.expires_at),
    }


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


@router.post("/uploads/<upload_id>/parts")
def request_part_urls(upload_id: str) -> Response:
    owner_id = caller_id(router)
    config = environment.config()
    parsed_id = path_uuid(upload_id, "upload id")
    parts = parse_part_requests(json_body(router))
    urls = uploads.request_part_urls(
        environment.unit_of_work(), environment.object_store(), owner_id=owner_id, upload_id=parsed_id, parts=parts,
        url_ttl_seconds=config.upload_url_ttl_seconds, multipart_ttl_seconds=config.multipart_ttl_seconds,
    )
    return json_response(200, {"parts": [
        {
            "number": part.number,
            "method": part.request.method,
            "url": part.request.url,
            "headers": part.request.headers,
            "expires_at": rfc3339(part.request.expires_at),
        }
        for part in urls
    ]})


@router.get("/uploads/<upload_id>/parts")
def stored_parts(upload_id: str) -> Response:
    owner_id = caller_id(router)
    parts = uploads.stored_parts(
        environment.unit_of_work(), environment.object_store(), owner_id=owner_id,
        upload_id=path_uuid(upload_id, "upload id"),
    )
    return json_response(200, {"parts": [{"number": p.number, "size": p.size, "etag": p.etag} for p in parts]})


@router.post("/uploads/<upload_id>/complete")
def complete_multipart(upload_id: str) -> Response:
    owner_id = caller_id(router)
    config = environment.config()
    parsed_id = path_uuid(upload_id, "upload id")
    uploads.complete_multipart(
        environment.unit_of_work(), environment.object_store(), owner_id=owner_id, upload_id=parsed_id,
        parts=parse_completed_parts(json_body(router)), multipart_ttl_seconds=config.multipart_ttl_seconds,
    )
    return json_response(202, {"upload_id": str(parsed_id), "status": "pending"})


app = create_app(router)


@http_handler
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)

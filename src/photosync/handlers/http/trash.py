"""Trash function: GET /trash, POST /trash/restore, DELETE /trash/{photo_id}, POST /trash/empty."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.utilities.typing import LambdaContext

from photosync.domain.validation import parse_limit, parse_uuid_list
from photosync.handlers import environment
from photosync.handlers.http.common import (
    caller_id, create_app, json_body, json_response, logger, path_uuid, photo_json, rfc3339,
)
from photosync.services import trash

router = Router()
MAX_PHOTOS_PER_REQUEST = 1000


@router.get("/trash")
def list_trash() -> Response:
    owner_id = caller_id(router)
    event = router.current_event
    config = environment.config()
    page = trash.list_trash(
        environment.unit_of_work(), environment.object_store(), owner_id=owner_id,
        limit=parse_limit(event.get_query_string_value("limit")),
        cursor=event.get_query_string_value("cursor"),
        retention_days=config.trash_retention_days,
        url_ttl_seconds=config.download_url_ttl_seconds,
    )
    items = [{**photo_json(item.view), "purge_at": rfc3339(item.purge_at)} for item in page.items]
    return json_response(200, {"items": items, "next_cursor": page.next_cursor})


@router.post("/trash/restore")
def restore() -> Response:
    owner_id = caller_id(router)
    photo_ids = parse_uuid_list(json_body(router), "photo_ids", max_items=MAX_PHOTOS_PER_REQUEST)
    restored = trash.restore(environment.unit_of_work(), owner_id=owner_id, photo_ids=photo_ids)
    return json_response(200, {"restored": restored})


@router.delete("/trash/<photo_id>")
def delete_forever(photo_id: str) -> Response:
    owner_id = caller_id(router)
    trash.delete_forever(
        environment.unit_of_work(), environment.object_store(), owner_id=owner_id,
        photo_id=path_uuid(photo_id, "photo id"),
    )
    return json_response(204)


@router.post("/trash/empty")
def empty() -> Response:
    owner_id = caller_id(router)
    if router.current_event.body:
        json_body(router)  # takes no fields, but a body that is not a JSON object is the client's mistake
    emptied = trash.empty(environment.unit_of_work(), environment.object_store(), owner_id=owner_id)
    return json_response(200, {"deleted": emptied.deleted, "freed_bytes": emptied.freed_bytes})


app = create_app(router)


@logger.inject_lambda_context
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)

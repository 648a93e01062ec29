"""Sync function: GET /sync, the change feed that keeps a client's copy of the library current."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.utilities.typing import LambdaContext

from photosync.domain.validation import parse_limit
from photosync.handlers import environment
from photosync.handlers.http.common import album_json, caller_id, create_app, http_handler, json_response, photo_json
from photosync.services import sync

router = Router()
MAX_SYNC_PAGE = 1000
DEFAULT_SYNC_PAGE = 500


def change_json(change: sync.Change) -> dict[str, Any]:
    if isinstance(change, sync.PhotoUpsert):
        return {"type": "photo", "op": "upsert", "photo": photo_json(change.view)}
    if isinstance(change, sync.PhotoDelete):
        return {"type": "photo", "op": "delete", "id": str(change.photo_id)}
    if isinstance(change, sync.AlbumUpsert):
        return {"type": "album", "op": "upsert", "album": album_json(change.view)}
    if isinstance(change, sync.AlbumDelete):
        return {"type": "album", "op": "delete", "id": str(change.album_id)}
    return {"type": "album_photo", "op": change.op, "album_id": str(change.album_id), "photo_id": str(change.photo_id)}


@router.get("/sync")
def get_changes() -> Response:
    owner_id = caller_id(router)
    event = router.current_event
    page = sync.sync(
        environment.unit_of_work(), environment.object_store(), owner_id=owner_id,
        cursor=event.get_query_string_value("cursor"),
        limit=parse_limit(event.get_query_string_value("limit"), maximum=MAX_SYNC_PAGE, default=DEFAULT_SYNC_PAGE),
        url_ttl_seconds=environment.config().download_url_ttl_seconds,
    )
    return json_response(200, {
        "changes": [change_json(c) for c in page.changes],
        "next_cursor": page.next_cursor,
        "has_more": page.has_more,
        "reset": page.reset,
    })


app = create_app(router)


@http_handler
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)

"""Gallery function: GET /photos, GET /photos/{photo_id}."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.utilities.typing import LambdaContext

from photosync.domain.validation import parse_limit, parse_uuid
from photosync.handlers import environment
from photosync.handlers.http.common import (
    caller_id, create_app, http_handler, json_response, path_uuid, photo_json,
)
from photosync.services import photos

router = Router()


@router.get("/photos")
def list_photos() -> Response:
    caller = caller_id(router)
    event = router.current_event
    album = event.get_query_string_value("album_id")
    page = photos.list_photos(
        environment.unit_of_work(), environment.object_store(), caller=caller,
        limit=parse_limit(event.get_query_string_value("limit")),
        cursor=event.get_query_string_value("cursor"),
        album_id=parse_uuid(album, "album_id") if album is not None else None,
        url_ttl_seconds=environment.config().download_url_ttl_seconds,
    )
    return json_response(200, {"items": [photo_json(v) for v in page.items], "next_cursor": page.next_cursor})


@router.get("/photos/<photo_id>")
def get_photo(photo_id: str) -> Response:
    caller = caller_id(router)
    view = photos.get_photo(
        environment.unit_of_work(), environment.object_store(), caller=caller,
        photo_id=path_uuid(photo_id, "photo id"),
        url_ttl_seconds=environment.config().download_url_ttl_seconds,
    )
    return json_response(200, photo_json(view))


app = create_app(router)


@http_handler
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)

"""Download function: GET /photos/{photo_id}/download."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.utilities.typing import LambdaContext

from photosync.handlers import environment
from photosync.handlers.http.common import (
    caller_id, create_app, http_handler, json_response, path_uuid, rfc3339,
)
from photosync.services import photos

router = Router()


@router.get("/photos/<photo_id>/download")
def download(photo_id: str) -> Response:
    caller = caller_id(router)
    link = photos.download_photo(
        environment.unit_of_work(), environment.object_store(), caller=caller,
        photo_id=path_uuid(photo_id, "photo id"),
        url_ttl_seconds=environment.config().download_url_ttl_seconds,
    )
    return json_response(200, {"url": link.url, "expires_at": rfc3339(link.expires_at)})


app = create_app(router)


@http_handler
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)

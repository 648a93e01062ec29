"""Delete function: DELETE /photos/{photo_id} moves the photo to the trash (nothing is freed yet)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.utilities.typing import LambdaContext

from photosync.handlers import environment
from photosync.handlers.http.common import caller_id, create_app, json_response, logger, path_uuid
from photosync.services import trash

router = Router()


@router.delete("/photos/<photo_id>")
def delete_photo(photo_id: str) -> Response:
    owner_id = caller_id(router)
    trash.move_to_trash(environment.unit_of_work(), owner_id=owner_id, photo_id=path_uuid(photo_id, "photo id"))
    return json_response(204)


app = create_app(router)


@logger.inject_lambda_context
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)

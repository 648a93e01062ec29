"""Public function: the pages of public album links, GET /public/{token} and its downloads. These
routes have no JWT authorizer; the token in the path is the whole credential (and the password in
`X-Link-Password` when the link has one). Nothing here reads or trusts a caller identity."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.utilities.typing import LambdaContext

from photosync.domain.validation import parse_limit
from photosync.handlers import environment
from photosync.handlers.http.common import (
    create_app, http_handler, json_response, path_uuid, public_photo_json, rfc3339,
)
from photosync.services import sharing

router = Router()
PASSWORD_HEADER = "x-link-password"


def _password() -> str | None:
    return router.current_event.get_header_value(PASSWORD_HEADER, case_sensitive=False)


@router.get("/public/<token>")
def public_album(token: str) -> Response:
    event = router.current_event
    page = sharing.public_page(
        environment.unit_of_work(), environment.object_store(), token=token, password=_password(),
        limit=parse_limit(event.get_query_string_value("limit")),
        cursor=event.get_query_string_value("cursor"),
        url_ttl_seconds=environment.config().download_url_ttl_seconds,
    )
    return json_response(200, {
        "album": {"name": page.album_name, "photo_count": page.photo_count},
        "items": [public_photo_json(v) for v in page.items],
        "next_cursor": page.next_cursor,
    })


@router.get("/public/<token>/photos/<photo_id>/download")
def public_download(token: str, photo_id: str) -> Response:
    link = sharing.public_download(
        environment.unit_of_work(), environment.object_store(), token=token, password=_password(),
        photo_id=path_uuid(photo_id, "photo id"),
        url_ttl_seconds=environment.config().download_url_ttl_seconds,
    )
    return json_response(200, {"url": link.url, "expires_at": rfc3339(link.expires_at)})


app = create_app(router)


@http_handler
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)

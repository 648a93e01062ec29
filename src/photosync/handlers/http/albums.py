"""Albums function: every /albums route, sharing (members, links) included."""

from __future__ import annotations

from datetime import datetime, timezone

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.utilities.typing import LambdaContext

from photosync.domain.validation import (
    parse_album_name, parse_email, parse_link_request, parse_role, parse_uuid_list,
)
from photosync.handlers import environment
from photosync.handlers.http.common import (
    album_json, caller_id, create_app, http_handler, json_body, json_response, link_json, member_json, path_uuid,
)
from photosync.domain.model import Album
from photosync.services import albums, sharing

router = Router()
MAX_PHOTOS_PER_REQUEST = 1000


def albums_json(items: list[Album]) -> list[dict]:
    """Album objects, each with its cover's signed thumbnail URL."""
    views = albums.album_views(environment.object_store(), items, environment.config().download_url_ttl_seconds)
    return [album_json(v) for v in views]


@router.post("/albums")
def create_album() -> Response:
    caller = caller_id(router)
    album = albums.create_album(environment.unit_of_work(), owner_id=caller, name=parse_album_name(json_body(router)))
    return json_response(201, albums_json([album])[0])


@router.get("/albums")
def list_albums() -> Response:
    caller = caller_id(router)
    return json_response(200, {"items": albums_json(albums.list_albums(environment.unit_of_work(), caller=caller))})


@router.get("/albums/<album_id>")
def get_album(album_id: str) -> Response:
    caller = caller_id(router)
    album = albums.get_album(environment.unit_of_work(), caller=caller, album_id=path_uuid(album_id, "album id"))
    return json_response(200, albums_json([album])[0])


@router.patch("/albums/<album_id>")
def rename_album(album_id: str) -> Response:
    caller = caller_id(router)
    album_uuid = path_uuid(album_id, "album id")
    album = albums.rename_album(
        environment.unit_of_work(), caller=caller, album_id=album_uuid, name=parse_album_name(json_body(router))
    )
    return json_response(200, albums_json([album])[0])


@router.delete("/albums/<album_id>")
def delete_album(album_id: str) -> Response:
    caller = caller_id(router)
    albums.delete_album(environment.unit_of_work(), caller=caller, album_id=path_uuid(album_id, "album id"))
    return json_response(204)


@router.post("/albums/<album_id>/photos")
def add_photos(album_id: str) -> Response:
    caller = caller_id(router)
    album_uuid = path_uuid(album_id, "album id")
    photo_ids = parse_uuid_list(json_body(router), "photo_ids", max_items=MAX_PHOTOS_PER_REQUEST)
    added = albums.add_photos(environment.unit_of_work(), caller=caller, album_id=album_uuid, photo_ids=photo_ids)
    return json_response(200, {"added": added})


@router.delete("/albums/<album_id>/photos/<photo_id>")
def remove_photo(album_id: str, photo_id: str) -> Response:
    caller = caller_id(router)
    albums.remove_photo(
        environment.unit_of_work(), caller=caller,
        album_id=path_uuid(album_id, "album id"), photo_id=path_uuid(photo_id, "photo id"),
    )
    return json_response(204)


@router.post("/albums/<album_id>/members")
def add_member(album_id: str) -> Response:
    caller = caller_id(router)
    album_uuid = path_uuid(album_id, "album id")
    body = json_body(router)
    member = sharing.add_member(
        environment.unit_of_work(), caller=caller, album_id=album_uuid,
        email=parse_email(body), role=parse_role(body),
    )
    return json_response(201, member_json(member))


@router.get("/albums/<album_id>/members")
def list_members(album_id: str) -> Response:
    caller = caller_id(router)
    members = sharing.list_members(environment.unit_of_work(), caller=caller, album_id=path_uuid(album_id, "album id"))
    return json_response(200, {"items": [member_json(m) for m in members]})


@router.patch("/albums/<album_id>/members/<member_id>")
def change_role(album_id: str, member_id: str) -> Response:
    caller = caller_id(router)
    album_uuid, member_uuid = path_uuid(album_id, "album id"), path_uuid(member_id, "member id")
    member = sharing.change_role(
        environment.unit_of_work(), caller=caller, album_id=album_uuid, member_id=member_uuid,
        role=parse_role(json_body(router)),
    )
    return json_response(200, member_json(member))


@router.delete("/albums/<album_id>/members/<member_id>")
def remove_member(album_id: str, member_id: str) -> Response:
    caller = caller_id(router)
    sharing.remove_member(
        environment.unit_of_work(), caller=caller,
        album_id=path_uuid(album_id, "album id"), member_id=path_uuid(member_id, "member id"),
    )
    return json_response(204)


@router.post("/albums/<album_id>/links")
def create_link(album_id: str) -> Response:
    caller = caller_id(router)
    album_uuid = path_uuid(album_id, "album id")
    request = parse_link_request(json_body(router), now=datetime.now(timezone.utc))
    link = sharing.create_link(environment.unit_of_work(), caller=caller, album_id=album_uuid, request=request)
    return json_response(201, link_json(link, web_url=environment.config().web_url))


@router.get("/albums/<album_id>/links")
def list_links(album_id: str) -> Response:
    caller = caller_id(router)
    links = sharing.list_links(environment.unit_of_work(), caller=caller, album_id=path_uuid(album_id, "album id"))
    web_url = environment.config().web_url
    return json_response(200, {"items": [link_json(link, web_url=web_url) for link in links]})


@router.delete("/albums/<album_id>/links/<link_id>")
def delete_link(album_id: str, link_id: str) -> Response:
    caller = caller_id(router)
    sharing.delete_link(
        environment.unit_of_work(), caller=caller,
        album_id=path_uuid(album_id, "album id"), link_id=path_uuid(link_id, "link id"),
    )
    return json_response(204)


app = create_app(router)


@http_handler
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)

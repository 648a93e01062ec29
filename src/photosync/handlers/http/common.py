"""What every HTTP function shares: the resolver set-up, the error shape of the API contract, the
caller taken from the JWT authorizer's claims, and the JSON shapes of the resources."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime, timezone
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.logging import correlation_paths

from photosync import observability
from photosync.domain.errors import DomainError, Unauthorized, error_body
from photosync.domain.model import Account, Link, Member
from photosync.domain.validation import parse_json_object, parse_uuid
from photosync.handlers import environment
from photosync.log import logger
from photosync.services import accounts
from photosync.services.albums import AlbumView
from photosync.services.photos import PhotoView

# Every HTTP function's entry point: logs carry the API request id, as the API access log does.
http_handler = observability.instrumented(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)


def json_response(status: int, body: Any | None = None) -> Response:
    if body is None:
        # No content type: Powertools would otherwise serialise "no body" as the JSON `null`.
        return Response(status_code=status, body="", headers={"Cache-Control": "no-store"})
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(body, separators=(",", ":")),
        headers={"Cache-Control": "no-store"},
    )


def create_app(router: Router) -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver()
    app.include_router(router)

    @app.exception_handler(DomainError)
    def domain_error(error: DomainError) -> Response:
        return json_response(error.status, error_body(error.code, error.message, **error.details))

    @app.not_found
    def no_route(_: Exception) -> Response:
        return json_response(404, error_body("not_found", "no such route"))

    @app.exception_handler(Exception)
    def server_fault(error: Exception) -> Response:
        # A server fault, never the client's: logged in full, answered without internals.
        logger.exception("unhandled error")
        return json_response(500, error_body("internal_error", "something went wrong on our side; try again"))

    return app


def caller_id(router: Router) -> uuid.UUID:
    """The signed-in user, as the JWT authorizer vouched for them; provisioned if the post-confirmation
    trigger never ran for them."""
    claims = router.current_event.request_context.authorizer.jwt_claim or {}
    try:
        user_id = uuid.UUID(str(claims.get("sub", "")))
    except ValueError:
        raise Unauthorized("the access token does not name a user") from None
    config = environment.config()
    email = str(claims.get("email") or claims.get("username") or "")
    accounts.ensure_provisioned(
        environment.unit_of_work(), user_id=user_id, email=email, quota=config.default_quota_bytes
    )
    return user_id


def json_body(router: Router) -> dict[str, Any]:
    event = router.current_event
    # Not `decoded_body`: it decodes a base64 body as UTF-8 and raises on bytes that are not, which
    # is the client's mistake for parse_json_object to answer.
    body = base64.b64decode(event.body or "") if event.is_base64_encoded else event.body
    return parse_json_object(body)


def path_uuid(value: str, what: str) -> uuid.UUID:
    return parse_uuid(value, what)


def rfc3339(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def photo_json(view: PhotoView) -> dict[str, Any]:
    photo = view.photo
    return {
        "id": str(photo.id),
        "owner_id": str(photo.owner_id),
        "filename": photo.filename,
        "content_type": photo.content_type,
        "size": photo.size,
        "sha256": photo.sha256,
        "uploaded_at": rfc3339(photo.uploaded_at),
        "taken_at": rfc3339(photo.taken_at),
        "width": photo.width,
        "height": photo.height,
        "duration_ms": photo.duration_ms,
        "camera_make": photo.camera_make,
        "camera_model": photo.camera_model,
        "thumbnail_url": view.thumbnail_url,
        "preview_url": view.preview_url,
        "playback_url": view.playback_url,
        "trashed_at": rfc3339(photo.trashed_at),
    }


def album_json(view: AlbumView) -> dict[str, Any]:
    album = view.album
    return {
        "id": str(album.id),
        "name": album.name,
        "created_at": rfc3339(album.created_at),
        "photo_count": album.photo_count,
        "cover_thumbnail_url": view.cover_thumbnail_url,
        "owner": {"id": str(album.owner_id), "email": album.owner_email},
        "role": album.role,
    }


def member_json(member: Member) -> dict[str, Any]:
    return {
        "id": str(member.id),
        "email": member.email,
        "role": member.role,
        "user_id": str(member.user_id) if member.user_id is not None else None,
        "added_at": rfc3339(member.added_at),
    }


def link_json(link: Link, *, web_url: str | None) -> dict[str, Any]:
    """`url` is the web client's page for the link; without a configured web address it is that
    page's path."""
    return {
        "id": str(link.id),
        "url": f"{web_url or ''}/s/{link.token}",
        "token": link.token,
        "expires_at": rfc3339(link.expires_at),
        "has_password": link.password_hash is not None,
        "allow_download": link.allow_download,
        "created_at": rfc3339(link.created_at),
    }


def public_photo_json(view: PhotoView) -> dict[str, Any]:
    """What a public link shows of a photo: no filename, hash, owner, camera or place."""
    photo = view.photo
    return {
        "id": str(photo.id),
        "content_type": photo.content_type,
        "taken_at": rfc3339(photo.taken_at),
        "width": photo.width,
        "height": photo.height,
        "duration_ms": photo.duration_ms,
        "thumbnail_url": view.thumbnail_url,
        "preview_url": view.preview_url,
    }


def account_json(account: Account) -> dict[str, Any]:
    return {
        "id": str(account.id),
        "email": account.email,
        "storage_quota": account.storage_quota,
        "storage_used": account.storage_used,
        "storage_pending": account.storage_pending,
        "storage_trash": account.storage_trash,
    }

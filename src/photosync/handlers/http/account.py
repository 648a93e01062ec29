"""Account function: GET /me, POST /photos/lookup, and the unauthenticated GET /healthz and
GET /openapi.json (the contract, kept beside the handlers as package data)."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.utilities.typing import LambdaContext

from photosync.domain.validation import parse_sha256_list
from photosync.handlers import environment
from photosync.handlers.http.common import account_json, caller_id, create_app, json_body, json_response, logger
from photosync.services import accounts, photos

router = Router()


@router.get("/healthz")
def healthz() -> Response:
    return json_response(200, {"status": "ok"})


@cache
def openapi_document() -> str:
    return files("photosync.handlers.http").joinpath("openapi.json").read_text(encoding="utf-8")


@router.get("/openapi.json")
def openapi() -> Response:
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=openapi_document(),
        headers={"Cache-Control": "public, max-age=300"},
    )


@router.get("/me")
def me() -> Response:
    user_id = caller_id(router)
    return json_response(200, account_json(accounts.get_account(environment.unit_of_work(), user_id=user_id)))


@router.post("/photos/lookup")
def lookup() -> Response:
    owner_id = caller_id(router)
    result = photos.lookup(environment.unit_of_work(), owner_id=owner_id, hashes=parse_sha256_list(json_body(router)))
    return json_response(200, {
        "found": {sha: str(photo_id) for sha, photo_id in result.found.items()},
        "trashed": {sha: str(photo_id) for sha, photo_id in result.trashed.items()},
        "deleted": result.deleted,
    })


app = create_app(router)


@logger.inject_lambda_context
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)

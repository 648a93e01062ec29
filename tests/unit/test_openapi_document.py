"""The OpenAPI document (`src/photosync/handlers/http/openapi.json`) against the code: the routes the
local gateway serves and the routes the SAM template deploys are exactly the document's operations,
public exactly where the document says so, and every answer a route gives is described in the
contract's shapes. What the server really sends is checked by the Schemathesis run
(tests/contract/test_schemathesis.py)."""

from __future__ import annotations

import json
import re
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import cfn_yaml
from jsonschema.validators import Draft202012Validator

from photosync.local.gateway import PUBLIC_ROUTES, ROUTES

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "infra" / "template.yaml"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
ERROR_CODES_BY_STATUS = {
    400: {"invalid_request"},
    401: {"unauthorized", "password_required"},
    403: {"forbidden"},
    404: {"not_found"},
    409: {"conflict"},
    413: {"quota_exceeded", "file_too_large"},
    415: {"unsupported_media_type"},
    429: {"too_many_requests"},
}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return json.loads(files("photosync.handlers.http").joinpath("openapi.json").read_text(encoding="utf-8"))


def documented_routes(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        f"{method.upper()} {path}": operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    }


def gateway_routes() -> set[str]:
    return {key for keys in ROUTES.values() for key in keys}


def template_routes() -> dict[str, bool]:
    """Every HttpApi event of the template: route key -> whether it skips the JWT authorizer."""
    template = json.loads(json.dumps(cfn_yaml.load(str(TEMPLATE))))
    routes = {}
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        for event in resource["Properties"].get("Events", {}).values():
            if event["Type"] == "HttpApi":
                properties = event["Properties"]
                public = properties.get("Auth", {}).get("Authorizer") == "NONE"
                routes[f"{properties['Method'].upper()} {properties['Path']}"] = public
    return routes


def resolve(document: dict[str, Any], value: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in value:
        node: Any = document
        for part in value["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        value = node
    return value


def test_the_document_is_openapi_3_1() -> None:
    document = json.loads(files("photosync.handlers.http").joinpath("openapi.json").read_text(encoding="utf-8"))
    assert document["openapi"].startswith("3.1.")
    assert document["info"]["title"] and document["info"]["version"]


def test_every_route_of_the_gateway_is_documented_and_nothing_else(document: dict[str, Any]) -> None:
    assert set(documented_routes(document)) == gateway_routes()


def test_every_route_of_the_template_is_documented_and_nothing_else(document: dict[str, Any]) -> None:
    assert set(documented_routes(document)) == set(template_routes())


def test_public_routes_are_the_same_in_the_document_the_gateway_and_the_template(document: dict[str, Any]) -> None:
    public_in_document = {key for key, operation in documented_routes(document).items() if operation.get("security") == []}
    public_in_template = {key for key, public in template_routes().items() if public}
    assert public_in_document == set(PUBLIC_ROUTES) == public_in_template
    assert document["security"] == [{"bearerAuth": []}]
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        **document["components"]["securitySchemes"]["bearerAuth"], "type": "http", "scheme": "bearer",
    }


def test_every_reference_resolves_and_every_schema_is_valid_json_schema(document: dict[str, Any]) -> None:
    text = json.dumps(document)
    for reference in set(re.findall(r'"\$ref": "([^"]+)"', text)):
        resolve(document, {"$ref": reference})
    for name, schema in document["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema)


def test_operations_have_unique_ids_and_their_path_parameters(document: dict[str, Any]) -> None:
    ids = [operation["operationId"] for operation in documented_routes(document).values()]
    assert len(ids) == len(set(ids))
    for key, operation in documented_routes(document).items():
        in_path = set(re.findall(r"\{(\w+)\}", key))
        declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
        assert declared == in_path, key


def test_every_error_answer_has_the_contract_shape_and_the_codes_of_its_status(document: dict[str, Any]) -> None:
    for key, operation in documented_routes(document).items():
        responses = operation["responses"]
        assert any(200 <= int(status) < 300 for status in responses), key
        assert not [status for status in responses if int(status) >= 500], key
        if operation.get("security") != []:
            assert "401" in responses, key
        for status, response in responses.items():
            if int(status) < 400:
                continue
            schema = resolve(document, resolve(document, response)["content"]["application/json"]["schema"])
            contract_shapes = [resolve(document, s) for s in schema.get("anyOf", [schema]) if "error" in resolve(document, s).get("properties", {})]
            assert len(contract_shapes) == 1, (key, status)
            codes = set(contract_shapes[0]["properties"]["error"]["properties"]["code"]["enum"])
            assert codes <= ERROR_CODES_BY_STATUS[int(status)], (key, status, codes)


def test_json_bodies_go_with_json_routes(document: dict[str, Any]) -> None:
    for key, operation in documented_routes(document).items():
        method = key.split(" ", 1)[0]
        body = operation.get("requestBody")
        if method in ("POST", "PATCH", "PUT"):
            assert body is not None and set(body["content"]) == {"application/json"}, key
            assert "400" in operation["responses"], key
        else:
            assert body is None, key
        for status, response in operation["responses"].items():
            content = resolve(document, response).get("content")
            if status == "204":
                assert content is None, key
            else:
                assert content is not None and set(content) == {"application/json"}, (key, status)

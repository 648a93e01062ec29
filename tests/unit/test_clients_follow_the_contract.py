"""The clients against the OpenAPI document: the Python SDK parses only fields the document defines,
with compatible types, and needs only what it marks required; the web client calls only routes the
document has, with its query parameters and body fields. A client that drifts from the contract fails
here, before it meets a server."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import json
import re
import textwrap
import types
import typing
from datetime import datetime
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest

from photosync.client import api as client_api
from photosync.client import models

REPO = Path(__file__).resolve().parents[2]
WEB_API = REPO / "web" / "js" / "api.js"
DOCUMENT = json.loads(files("photosync.handlers.http").joinpath("openapi.json").read_text(encoding="utf-8"))
SCHEMAS = DOCUMENT["components"]["schemas"]

# Each SDK model (by name) and the schema of the JSON it reads.
SCHEMA_OF_MODEL = {
    "Me": "Account",
    "Photo": "Photo",
    "TrashedPhoto": "TrashedPhoto",
    "PhotoPage": "PhotoPage",
    "TrashPage": "TrashPage",
    "Album": "Album",
    "UploadGrant": "UploadGrant",
    "UploadStatus": "UploadStatus",
    "DownloadLink": "DownloadLink",
    "Lookup": "LookupResult",
    "Change": "Change",
    "SyncPage": "SyncPage",
    "EmptiedTrash": "Emptied",
    "Member": "Member",
    "Link": "Link",
    "PublicPhoto": "PublicPhoto",
    "PublicAlbumPage": "PublicPage",
}
OUTSIDE_THE_DOCUMENT = {"Token"}  # sign-in answers: Cognito's or the local identity provider's
MODELS = {
    name: cls
    for name, cls in vars(models).items()
    if isinstance(cls, type) and cls.__module__ == models.__name__ and "from_json" in vars(cls)
}
MODEL_SCHEMAS = {MODELS[name]: schema for name, schema in SCHEMA_OF_MODEL.items() if name in MODELS}
# Answers the SDK reads in client/api.py without a model: (schema, the field it reads by index).
READ_IN_API = [
    ("DuplicateUpload", "photo_id"), ("LookupResult", "found"), ("Added", "added"), ("AlbumList", "items"),
    ("Restored", "restored"), ("UploadBatchResults", "results"), ("MemberList", "items"), ("LinkList", "items"),
]
JSON_TYPES = {
    str: {"string"}, int: {"integer"}, bool: {"boolean"}, datetime: {"string"}, dict: {"object"},
    list: {"array"}, set: {"array"},
}


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema behind references, with `allOf` parts merged and `oneOf` variants united (a field
    is required when every variant requires it)."""
    while "$ref" in schema:
        schema = SCHEMAS[schema["$ref"].rsplit("/", 1)[-1]]
    for combinator in ("allOf", "oneOf"):
        if combinator in schema:
            parts = [resolve(part) for part in schema[combinator]]
            required = [set(part.get("required", [])) for part in parts]
            return {
                "type": "object",
                "properties": {name: value for part in parts for name, value in part.get("properties", {}).items()},
                "required": sorted(set().union(*required) if combinator == "allOf" else set.intersection(*required)),
                "variants": parts if combinator == "oneOf" else None,
            }
    return schema


def json_types(schema: dict[str, Any]) -> set[str]:
    schema = resolve(schema)
    if "anyOf" in schema:
        return set().union(*(json_types(option) for option in schema["anyOf"]))
    if "const" in schema:
        return {"string" if isinstance(schema["const"], str) else type(schema["const"]).__name__}
    return {schema["type"]} if isinstance(schema.get("type"), str) else set(schema.get("type", []))


def fields_read(model: type) -> dict[str, bool]:
    """The JSON fields `model.from_json` reads: name -> read by index (so the SDK needs it)."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(model.from_json)))
    read: dict[str, bool] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == "data":
            read[node.slice.value] = True  # type: ignore[attr-defined]
        elif (
            isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
            and isinstance(node.func.value, ast.Name) and node.func.value.id == "data"
        ):
            read.setdefault(node.args[0].value, False)  # type: ignore[attr-defined]
    return read


def annotation_types(annotation: Any) -> tuple[set[str], bool]:
    """JSON types a field annotation takes, and whether it takes null."""
    options = typing.get_args(annotation) if isinstance(annotation, types.UnionType) else (annotation,)
    nullable = type(None) in options
    names = set()
    for option in options:
        if option is not type(None):
            names |= {"object"} if dataclasses.is_dataclass(option) else JSON_TYPES[typing.get_origin(option) or option]
    return names, nullable


def instance(schema: dict[str, Any], *, every_field: bool) -> Any:
    """A value the schema allows: only the required fields and nulls where allowed, or every field."""
    schema = resolve(schema)
    if schema.get("variants"):
        return instance(schema["variants"][0], every_field=every_field)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    if "anyOf" in schema:
        options = [resolve(option) for option in schema["anyOf"]]
        nulls = [o for o in options if o.get("type") == "null"]
        return None if nulls and not every_field else instance(next(o for o in options if o not in nulls), every_field=every_field)
    kind = schema.get("type")
    if kind == "object":
        names = schema.get("properties", {}) if every_field else schema.get("required", [])
        value = {name: instance(schema["properties"][name], every_field=every_field) for name in names}
        if every_field and isinstance(schema.get("additionalProperties"), dict):
            value["extra-key"] = instance(schema["additionalProperties"], every_field=True)
        return value
    if kind == "array":
        return [instance(schema["items"], every_field=every_field)]
    if kind == "string":
        return {
            "date-time": "2026-12-01T19:40:43.123456Z", "uuid": "0b6e8a52-3c1f-4f0e-9c55-8d5b8b8f6a11",
        }.get(schema.get("format"), "a" * 64 if schema.get("pattern") else "text")
    if kind == "integer":
        return max(schema.get("minimum", 0), 1)
    if kind == "boolean":
        return True
    raise AssertionError(f"no instance for {schema}")


@pytest.mark.parametrize("model", MODEL_SCHEMAS, ids=lambda m: m.__name__)
def test_every_field_the_sdk_reads_is_in_the_schema_with_a_compatible_type(model: type) -> None:
    schema = resolve(SCHEMAS[MODEL_SCHEMAS[model]])
    hints = typing.get_type_hints(model)
    for field, by_index in fields_read(model).items():
        assert field in schema["properties"], f"{model.__name__} reads {field!r}, which the document does not define"
        if by_index:
            assert field in schema.get("required", []), f"{model.__name__} needs {field!r}, which the server may omit"
        if field not in hints:
            continue  # stored under another name (Change.kind is "type"): presence is what counts
        document_types = json_types(schema["properties"][field])
        sdk_types, sdk_takes_null = annotation_types(hints[field])
        assert document_types - {"null"} <= sdk_types, (model.__name__, field, document_types, sdk_types)
        if "null" in document_types or field not in schema.get("required", []):
            assert sdk_takes_null or not by_index, f"{model.__name__}.{field} cannot hold the null the server may send"


@pytest.mark.parametrize("model", MODEL_SCHEMAS, ids=lambda m: m.__name__)
@pytest.mark.parametrize("every_field", [False, True], ids=["required-only", "every-field"])
def test_the_sdk_parses_what_the_schema_allows(model: type, every_field: bool) -> None:
    parsed = model.from_json(instance(SCHEMAS[MODEL_SCHEMAS[model]], every_field=every_field))
    assert isinstance(parsed, model)


def test_every_model_of_the_sdk_is_checked_here() -> None:
    assert set(MODELS) - OUTSIDE_THE_DOCUMENT == {model.__name__ for model in MODEL_SCHEMAS}


@pytest.mark.parametrize("model", MODEL_SCHEMAS, ids=lambda m: m.__name__)
def test_the_sdk_parses_every_variant_the_schema_allows(model: type) -> None:
    for variant in resolve(SCHEMAS[MODEL_SCHEMAS[model]]).get("variants") or []:
        for every_field in (False, True):
            assert isinstance(model.from_json(instance(variant, every_field=every_field)), model)


def test_the_fields_the_sdk_reads_without_a_model_are_required() -> None:
    source = inspect.getsource(client_api)
    read = [(schema, field) for schema, field in READ_IN_API if f'.json()["{field}"]' in source]
    assert read, "client/api.py reads no answer field by index any more: update READ_IN_API"
    for schema, field in read:
        assert field in SCHEMAS[schema]["required"], (schema, field)


def web_client_calls() -> list[tuple[str, str, str]]:
    """(method, path template with {} for each parameter, the call's options) of web/js/api.js."""
    source = WEB_API.read_text(encoding="utf-8")
    calls = []
    for method, path, options in re.findall(r'request\("([A-Z]+)",\s*[`"]([^`"]+)[`"]\s*(?:,\s*(\{[^\n]*\}))?\)', source):
        calls.append((method, re.sub(r"\$\{[^}]+\}", "{}", path), options))
    return calls


def documented_operations() -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), re.sub(r"\{[^}]+\}", "{}", path)): operation
        for path, item in DOCUMENT["paths"].items()
        for method, operation in item.items()
    }


def test_the_web_client_calls_only_documented_routes() -> None:
    calls = web_client_calls()
    assert len(calls) >= 13  # every call of api.js was read, not an empty match
    operations = documented_operations()
    for method, path, _ in calls:
        assert (method, path) in operations, f"web/js/api.js calls {method} {path}, which the document does not have"


def test_the_web_client_sends_documented_query_parameters_and_body_fields() -> None:
    operations = documented_operations()
    for method, path, options in web_client_calls():
        operation = operations[(method, path)]
        query = re.search(r"query:\s*\{([^}]*)\}", options)
        if query:
            names = {part.split(":")[0].strip() for part in query.group(1).split(",")}
            documented = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
            assert names <= documented, (method, path, names - documented)
        body = re.search(r"json:\s*\{([^}]*)\}", options)
        if body:
            names = {part.split(":")[0].strip() for part in body.group(1).split(",")}
            documented = set(resolve(operation["requestBody"]["content"]["application/json"]["schema"])["properties"])
            assert names <= documented, (method, path, names - documented)

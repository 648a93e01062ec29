"""The Lambda entry points with real AWS event shapes: the Cognito trigger, the first-request
fallback when the trigger never ran, and the HTTP API payload as API Gateway sends it."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path

import pytest

from photosync.config import settings
from photosync.handlers import post_confirmation
from photosync.handlers.http import account
from photosync.local.lambda_runtime import LocalLambdaContext

EVENTS = Path(__file__).resolve().parents[1] / "fixtures" / "events"


def event(name: str, sub: uuid.UUID) -> dict:
    loaded = json.loads((EVENTS / name).read_text())
    if "requestContext" in loaded:
        loaded["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = str(sub)
    else:
        loaded["request"]["userAttributes"]["sub"] = str(sub)
    return loaded


def test_post_confirmation_provisions_once_with_the_default_quota_and_returns_the_event(uow, lambda_env):
    sub = uuid.uuid4()
    trigger = event("cognito_post_confirmation.json", sub)

    answers = [post_confirmation.handler(copy.deepcopy(trigger), LocalLambdaContext("post-confirmation")) for _ in range(2)]

    assert answers == [trigger, trigger]  # Cognito needs its event back, unchanged
    account_row = uow.users.get(sub)
    assert (account_row.email, account_row.storage_quota, account_row.storage_used) == (
        "alice@example.com", settings().default_quota_bytes, 0,
    )
    assert uow.conn.execute("SELECT count(*) AS n FROM users").fetchone()["n"] == 1


def test_post_confirmation_never_blocks_a_sign_in_when_the_database_is_down(lambda_env, monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"postgresql://nobody@/photosync?host={tmp_path}&connect_timeout=2")
    settings.cache_clear()
    trigger = event("cognito_post_confirmation.json", uuid.uuid4())
    assert post_confirmation.handler(copy.deepcopy(trigger), LocalLambdaContext("post-confirmation")) == trigger


def test_a_signed_in_user_whose_trigger_never_ran_is_provisioned_on_first_request(uow, lambda_env):
    sub = uuid.uuid4()

    response = account.handler(event("http_api_get_me.json", sub), LocalLambdaContext("account"))

    assert response["statusCode"] == 200
    body = json.loads(response["body"])
    assert body == {
        "id": str(sub), "email": "Google_117412345678901234567",
        "storage_quota": settings().default_quota_bytes, "storage_used": 0, "storage_pending": 0,
        "storage_trash": 0,
    }
    assert uow.users.get(sub) is not None


@pytest.mark.parametrize("sub", ["", "not-a-uuid"])
def test_claims_without_a_usable_subject_are_refused(lambda_env, sub):
    request = event("http_api_get_me.json", uuid.uuid4())
    request["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = sub
    response = account.handler(request, LocalLambdaContext("account"))
    assert response["statusCode"] == 401
    assert json.loads(response["body"])["error"]["code"] == "unauthorized"

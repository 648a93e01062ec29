"""Schemathesis against a real `photosync serve`: every operation of the OpenAPI document the server
publishes (`GET /openapi.json`), called as a signed-in user with generated valid and invalid input,
and chains of calls along the document's links (create album -> add photos -> list them).

Each answer must pass `not_a_server_error`, `status_code_conformance`, `content_type_conformance`
and `response_schema_conformance`: no 5xx for any input, and only the statuses, media types and
shapes the document promises.

Bounded for a small machine: the examples per operation and the stateful scenarios are set below
(raise them with PHOTOSYNC_SCHEMATHESIS_EXAMPLES for a longer exploration), and the seed is fixed so
a run on main repeats exactly; PHOTOSYNC_SCHEMATHESIS_SEED picks another one. Hypothesis replays
scenarios to shrink a failure, so they must find the server as they left it: no link of the document
deletes a photo, and the seeded photos stay for every scenario.
"""

from __future__ import annotations

import os
from importlib.resources import files

import hypothesis
import pytest
import schemathesis
from hypothesis import strategies as st

from tests.e2e.api import ApiUser
from tests.support.images import make_png
from tests.support.server import ServerProcess

EXAMPLES_PER_OPERATION = int(os.environ.get("PHOTOSYNC_SCHEMATHESIS_EXAMPLES", "40"))
STATEFUL_SCENARIOS = int(os.environ.get("PHOTOSYNC_SCHEMATHESIS_SCENARIOS", "25"))
STATEFUL_MAX_STEPS = 6
SEED = int(os.environ.get("PHOTOSYNC_SCHEMATHESIS_SEED", "20261201"))
SEEDED_PHOTOS = 4
CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance", "response_schema_conformance")


# Every operation of the document in the repository; the server publishes exactly this file
# (tests/e2e/test_api_docs.py), so what is fuzzed is what clients read.
schema = schemathesis.openapi.from_path(
    str(files("photosync.handlers.http").joinpath("openapi.json")),
    config=schemathesis.Config.from_dict({
        "seed": SEED,
        "request-timeout": 30,
        "generation": {
            "mode": "all",
            "max-examples": EXAMPLES_PER_OPERATION,
            # The signed-in user's token is sent with every call; generated ones would only be 401s.
            "with-security-parameters": False,
            # TEMPORARY, until the input hardening of issue 9 (defect 1) is merged: lone surrogates
            # and NUL bytes answer 500 on this branch. Its tests in tests/security/test_bad_input.py
            # cover exactly those inputs; remove these two lines then (and `filter_body` below).
            "codec": "utf-8",
            "allow-x00": False,
        },
        "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
        "phases": {"stateful": {"max-steps": STATEFUL_MAX_STEPS}},
    }),
)


@schema.hook
def filter_body(context: schemathesis.HookContext, body: object) -> bool:
    # TEMPORARY, like "codec" above: a body that is not valid UTF-8 answers 500 until the input
    # hardening of issue 9 (defect 1, tests/security/test_bad_input.py) is merged; remove it then.
    if isinstance(body, (bytes, bytearray)):
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            return False
    return True


# The ids of the signed-in user's photos, known once the fixture has uploaded them.
owned_photo_ids: list[str] = []


@schema.hook.apply_to(name="POST /albums/{album_id}/photos")
def before_generate_body(context: schemathesis.HookContext, strategy: st.SearchStrategy) -> st.SearchStrategy:
    # Random UUIDs never name the user's photos: also send ids that do, so adding succeeds.
    owned = st.lists(st.sampled_from(owned_photo_ids), min_size=1, unique=True).map(lambda ids: {"photo_ids": ids})
    return strategy | owned


@pytest.fixture(scope="module")
def signed_in_user(server: ServerProcess) -> ApiUser:
    """A user with a few photos, so album operations can be given ids that exist."""
    user = ApiUser(server.base_url)
    owned_photo_ids[:] = [
        user.upload(make_png(16 + n, 16), filename=f"seed-{n}.png", content_type="image/png")
        for n in range(SEEDED_PHOTOS)
    ]
    return user


@pytest.fixture(scope="module")
def call_kwargs(server: ServerProcess, signed_in_user: ApiUser) -> dict:
    return {"base_url": server.base_url, "headers": {"Authorization": f"Bearer {signed_in_user.token}"}}


@schema.parametrize()
def test_every_operation_answers_as_documented(case: schemathesis.Case, call_kwargs: dict) -> None:
    case.call_and_validate(**call_kwargs)


def test_chained_operations_answer_as_documented(call_kwargs: dict) -> None:
    class Machine(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: schemathesis.Case) -> dict:
            return call_kwargs

    machine = Machine
    machine.run(settings=hypothesis.settings(
        max_examples=STATEFUL_SCENARIOS,
        stateful_step_count=STATEFUL_MAX_STEPS,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(hypothesis.HealthCheck),
    ))

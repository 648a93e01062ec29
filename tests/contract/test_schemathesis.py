"""Schemathesis against a real `photosync serve`: every operation of the OpenAPI document the server
publishes (`GET /openapi.json`), called as a signed-in user with generated valid and invalid input,
and chains of calls along the document's links (create album -> add photos -> list them).

Each answer must pass `not_a_server_error`, `status_code_conformance`, `content_type_conformance`
and `response_schema_conformance`: no 5xx for any input, and only the statuses, media types and
shapes the document promises.

Bounded for a small machine: the examples per operation and the stateful scenarios are set below
(raise them with PHOTOSYNC_SCHEMATHESIS_EXAMPLES for a longer exploration), and the seed is fixed so
a run on main repeats exactly; PHOTOSYNC_SCHEMATHESIS_SEED picks another one.

Hypothesis requires a scenario's choices not to depend on outside state, so every scenario starts
from the same server state: the seeded photos stay (no link of the document deletes a photo), each
scenario starts without albums, and the quota is too large for the generated reservations to exhaust
(quota refusals are proven in tests/security and tests/e2e).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from importlib.resources import files

import hypothesis
import pytest
import schemathesis
from hypothesis import strategies as st

from tests.e2e.api import ApiUser
from tests.support.images import make_png
from tests.support.server import ServerProcess, start_server

EXAMPLES_PER_OPERATION = int(os.environ.get("PHOTOSYNC_SCHEMATHESIS_EXAMPLES", "40"))
STATEFUL_SCENARIOS = int(os.environ.get("PHOTOSYNC_SCHEMATHESIS_SCENARIOS", "25"))
STATEFUL_MAX_STEPS = 6
SEED = int(os.environ.get("PHOTOSYNC_SCHEMATHESIS_SEED", "20261201"))
SEEDED_PHOTOS = 4
UNEXHAUSTIBLE_QUOTA = 10**15  # a petabyte: tens of thousands of the largest uploads
CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance", "response_schema_conformance")


# Ids drawn from Hypothesis' choices alone (the built-in UUID format takes true randomness), so that
# a scenario Hypothesis replays sends the same ids and gets the same answers.
schemathesis.openapi.format("uuid", st.integers(0, 2**128 - 1).map(lambda n: str(uuid.UUID(int=n, version=4))))

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
        },
        "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
        # Chains along the document's own links, with valid input: invalid input is the single
        # operations' business above, and its answers would make which links apply vary from one
        # replay of a scenario to the next. Inferred links are off: they would delete the photos.
        "phases": {"stateful": {
            "max-steps": STATEFUL_MAX_STEPS,
            "generation": {"mode": "positive"},
            "inference": {"algorithms": []},
        }},
    }),
)


# The ids of the signed-in user's photos, known once the fixture has uploaded them.
owned_photo_ids: list[str] = []


@schema.hook.apply_to(name="POST /albums/{album_id}/photos")
def before_generate_body(context: schemathesis.HookContext, strategy: st.SearchStrategy) -> st.SearchStrategy:
    # Random UUIDs never name the user's photos: also send ids that do, so adding succeeds.
    owned = st.lists(st.sampled_from(owned_photo_ids), min_size=1, unique=True).map(lambda ids: {"photo_ids": ids})
    return strategy | owned


@pytest.fixture(scope="module")
def contract_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = start_server(
        tmp_path_factory.mktemp("contract") / "data", env={"PHOTOSYNC_DEFAULT_QUOTA_BYTES": str(UNEXHAUSTIBLE_QUOTA)}
    )
    yield process
    process.stop()


@pytest.fixture(scope="module")
def signed_in_user(contract_server: ServerProcess) -> ApiUser:
    """A user with a few photos, so album operations can be given ids that exist."""
    user = ApiUser(contract_server.base_url)
    owned_photo_ids[:] = [
        user.upload(make_png(16 + n, 16), filename=f"seed-{n}.png", content_type="image/png")
        for n in range(SEEDED_PHOTOS)
    ]
    return user


@pytest.fixture(scope="module")
def call_kwargs(contract_server: ServerProcess, signed_in_user: ApiUser) -> dict:
    return {"base_url": contract_server.base_url, "headers": {"Authorization": f"Bearer {signed_in_user.token}"}}


@schema.parametrize()
def test_every_operation_answers_as_documented(case: schemathesis.Case, call_kwargs: dict) -> None:
    case.call_and_validate(**call_kwargs)


def test_chained_operations_answer_as_documented(call_kwargs: dict, signed_in_user: ApiUser) -> None:
    class Machine(schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            for album in signed_in_user.request("GET", "/albums").json()["items"]:
                assert signed_in_user.request("DELETE", f"/albums/{album['id']}").status_code == 204

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

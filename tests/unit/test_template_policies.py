"""Policy as code: checkov's CloudFormation checks pass on the SAM template, and every check the
template opts out of says why, next to the resource (`Metadata: checkov: skip: [{id, comment}]`), so
a reviewer sees each decision where it is made.

checkov runs from its own virtual environment (`make test` creates `.venv-tools`): it pins boto3 and
packaging to old versions, which must not become the ones the project is tested with. Set CHECKOV
to use another installation.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import cfn_yaml

from tests.unit.test_template import REPO, TEMPLATE, plain

CHECKOV = Path(os.environ.get("CHECKOV", REPO / ".venv-tools" / "bin" / "checkov"))

CHECK_ID = re.compile(r"^CKV_AWS_\d+$")
# A reason says what was decided and why; a word or two ("n/a", "not needed") does not.
SHORTEST_REASON_WORDS = 6


@pytest.fixture(scope="module")
def checkov_report() -> dict[str, Any]:
    """checkov's JSON report on the template; offline (`--skip-download`: no policy metadata fetched)."""
    assert CHECKOV.exists(), f"checkov not found at {CHECKOV}: run `make test` (or set CHECKOV)"
    done = subprocess.run(
        [str(CHECKOV), "--file", str(TEMPLATE), "--framework", "cloudformation", "--skip-download",
         "--output", "json", "--soft-fail"],
        capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)["results"]


def declared_skips(template: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(resource, skip entry) for every checkov skip in the template's resource metadata."""
    return [
        (name, skip)
        for name, resource in template["Resources"].items()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]


def lacking_a_reason(skips: list[tuple[str, dict[str, Any]]]) -> list[str]:
    return [
        f"{resource}: {skip.get('id')}"
        for resource, skip in skips
        if not CHECK_ID.match(str(skip.get("id", "")))
        or len(str(skip.get("comment", "")).split()) < SHORTEST_REASON_WORDS
    ]


def test_checkov_finds_no_failure_in_the_template(checkov_report: dict[str, Any]) -> None:
    assert checkov_report["parsing_errors"] == []
    assert len(checkov_report["passed_checks"]) > 50  # it did read the template's resources
    failures = [f"{c['check_id']} {c['resource']}: {c['check_name']}" for c in checkov_report["failed_checks"]]
    assert failures == []


def test_every_skip_in_the_template_gives_its_reason() -> None:
    skips = declared_skips(plain(cfn_yaml.load(str(TEMPLATE))))
    assert skips, "the template declares its checkov skips"
    assert lacking_a_reason(skips) == []


def test_a_skip_without_a_reason_is_caught() -> None:
    skips = [
        ("PhotoBucket", {"id": "CKV_AWS_18", "comment": "Server access logs would need a second bucket"}),
        ("Database", {"id": "CKV_AWS_157"}),
        ("AlarmTopic", {"id": "CKV_AWS_26", "comment": "not needed"}),
        ("Vpc", {"comment": "a reason for a check that is not named at all"}),
    ]
    assert lacking_a_reason(skips) == ["Database: CKV_AWS_157", "AlarmTopic: CKV_AWS_26", "Vpc: None"]


def test_every_skip_is_one_checkov_applied_with_that_reason(checkov_report: dict[str, Any]) -> None:
    """No stale skip: each one in the template silences a check that would otherwise run."""
    declared = {
        (resource, skip["id"]): skip["comment"]
        for resource, skip in declared_skips(plain(cfn_yaml.load(str(TEMPLATE))))
    }
    applied = {
        (check["resource"].split(".", 1)[1], check["check_id"]): check["check_result"].get("suppress_comment")
        for check in checkov_report["skipped_checks"]
    }
    assert applied == declared

"""Services log through Powertools' logger: in Lambda only its JSON lines on stdout are kept, a
line from a stdlib logger nobody configured is lost (or printed as bare text without the request)."""

from __future__ import annotations

import json
import subprocess
import sys

SERVICE_LOGS_ALONE = """
from photosync.services import finalize
finalize.finalize_object(None, None, "not/an/original")
"""


def test_a_service_line_is_structured_json_even_when_no_handler_set_up_logging():
    run = subprocess.run(
        [sys.executable, "-c", SERVICE_LOGS_ALONE], capture_output=True, text=True, timeout=60, check=True,
        env={"POWERTOOLS_LOG_LEVEL": "INFO", "PATH": "/usr/bin:/bin"},
    )
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    assert [(line["service"], line["level"], line["message"], line["key"]) for line in lines] == [
        ("photosync", "WARNING", "ignoring object outside the originals layout", "not/an/original")
    ]
    assert run.stderr == ""

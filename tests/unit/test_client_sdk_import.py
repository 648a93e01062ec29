"""The SDK must work for programs that do not install the command line's typer and rich."""

from __future__ import annotations

import subprocess
import sys

BLOCK_CLI_LIBRARIES = """
import sys
for name in ("typer", "rich"):
    sys.modules[name] = None  # makes any `import typer` / `import rich` fail
from photosync.client import PhotoSyncClient, QuotaExceeded
from photosync.client.auth import TokenStore
from photosync.client.backup import backup
from photosync.client.freeup import free_up
print(PhotoSyncClient.__name__)
"""


def test_sdk_imports_without_typer_or_rich():
    result = subprocess.run([sys.executable, "-c", BLOCK_CLI_LIBRARIES], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "PhotoSyncClient"

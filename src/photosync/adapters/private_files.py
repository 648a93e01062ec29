"""Files and directories that only the account running PhotoSync may reach: originals, renditions,
keys and secrets are 0600 in 0700 directories, whatever the process's umask."""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def make_private_dirs(directory: Path) -> None:
    """Create `directory` and any missing parent 0700 (`mkdir -p` would make parents 0777 - umask);
    an existing `directory` is made 0700 too, existing parents are left as they are."""
    missing = []
    for level in (directory, *directory.parents):
        if level.exists():
            break
        missing.append(level)
    for level in reversed(missing):
        try:
            level.mkdir(mode=PRIVATE_DIR_MODE)
        except FileExistsError:
            pass  # another process made it meanwhile
    os.chmod(directory, PRIVATE_DIR_MODE)


def create_private_file(path: Path) -> None:
    """Create `path` empty and 0600; it must not exist yet (FileExistsError otherwise)."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE))

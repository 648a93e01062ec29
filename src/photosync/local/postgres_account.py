"""The operating-system account the private PostgreSQL runs as, and what it may reach.

Run by a normal user, PostgreSQL runs as that user. Run as root, it runs as the system account
`photosync-pg` (initdb and postgres refuse root, and a database server should not have root's powers
anyway), which is created on first use, owns the cluster, and is let through the private directories
above it by a POSIX ACL entry for it alone: nothing is opened to any other account.
"""

from __future__ import annotations

import logging
import os
import pwd
import shutil
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

SERVER_ACCOUNT_WHEN_ROOT = "photosync-pg"


class PostgresError(Exception):
    """The private PostgreSQL server cannot be found, created, started or stopped.

    The message says what went wrong and what the user can do about it.
    """


@dataclass(frozen=True)
class ServerAccount:
    """The operating-system account the server runs as."""

    name: str
    uid: int
    gid: int

    @property
    def is_current(self) -> bool:
        return self.uid == os.geteuid()

    def process_identity(self) -> dict[str, Any]:
        """`subprocess` options that run a program as this account."""
        if self.is_current:
            return {}
        # Drops root's supplementary groups too, not only its user and group ids.
        return {"user": self.uid, "group": self.gid, "extra_groups": []}

    def take_over(self, path: Path) -> None:
        """As root, hand `path` to this account; as anyone else, it is the current user's already."""
        if os.geteuid() == 0 and os.lstat(path).st_uid != self.uid:
            os.lchown(path, self.uid, self.gid)

    def take_over_tree(self, root: Path) -> None:
        """As root, hand a cluster created by another account (e.g. a normal user) to this one."""
        if os.geteuid() != 0 or (root / "PG_VERSION").stat().st_uid == self.uid:
            return
        logger.info("Handing %s over to the %s account", root, self.name)
        for directory, dirs, files in os.walk(root):
            for name in (*dirs, *files):
                os.lchown(os.path.join(directory, name), self.uid, self.gid)


def server_account() -> ServerAccount:
    """The current user, or the dedicated unprivileged account when running as root."""
    if os.geteuid() != 0:
        entry = pwd.getpwuid(os.geteuid())
    else:
        entry = _ensure_system_account(SERVER_ACCOUNT_WHEN_ROOT)
    return ServerAccount(name=entry.pw_name, uid=entry.pw_uid, gid=entry.pw_gid)


def _ensure_system_account(name: str) -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    command = [useradd, "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent",
               "--shell", "/usr/sbin/nologin", name]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    except OSError as error:
        raise PostgresError(
            f"Running as root, PostgreSQL needs an unprivileged account, and `useradd` is not "
            f"available to create it ({error}). Create a system user named {name!r}, or run "
            "photosync as a normal user."
        ) from error
    try:
        # Another process may have created it meanwhile: that is as good as creating it.
        return pwd.getpwnam(name)
    except KeyError:
        raise PostgresError(
            f"Could not create the system user {name!r} for PostgreSQL: {result.stderr.strip()}. "
            f"Create it yourself (useradd --system {name}), or run photosync as a normal user."
        ) from None


def allow_traverse(path: Path, account: ServerAccount) -> None:
    """Let the server account, and no one else, reach `path` from the root directory.

    A directory that every account may traverse, or that the server account owns, is left as it
    is. Any other (a 0700 home directory, the 0700 data directory) gets a POSIX ACL entry granting
    the server account traverse (x) only: no listing, no reading, and the directory's mode still
    lets no other account in. Adding o+x instead would open a home directory to every local user;
    moving the cluster out of the data directory would split what a backup of it must hold.
    """
    for directory in (path.resolve(), *path.resolve().parents):
        info = directory.stat()
        if info.st_mode & stat.S_IXOTH or info.st_uid == account.uid:
            continue
        _grant_traverse(directory, account)


def _grant_traverse(directory: Path, account: ServerAccount) -> None:
    """A POSIX ACL entry letting `account` traverse `directory`, with Debian's `setfacl` (package acl)."""
    setfacl = shutil.which("setfacl")
    if setfacl is None:
        raise PostgresError(
            f"Running as root, PostgreSQL runs as {account.name!r}, which must reach {directory}: "
            "PhotoSync grants that with a POSIX ACL, and setfacl is missing. Install it "
            "(apt-get install acl), or run photosync as a normal user."
        )
    result = subprocess.run(
        [setfacl, "--modify", f"user:{account.uid}:--x", str(directory)], capture_output=True, text=True, timeout=60
    )
    if result.returncode != 0:
        raise PostgresError(
            f"Could not let {account.name!r} traverse {directory} (setfacl: {result.stderr.strip()}). "
            "Use a data directory on a file system with POSIX ACLs, or run photosync as a normal user."
        )

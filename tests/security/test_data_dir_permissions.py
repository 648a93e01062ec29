"""The data directory is the running account's alone: after a real `photosync serve` has taken an
upload (original, renditions, keys, secrets, identity, database), no other local account can read
anything in it, and the directories above it are not opened to everyone. When run as root, the
database's own account reaches its cluster through an ACL that grants it traversal only."""

from __future__ import annotations

import os
import pwd
import stat
import subprocess
from pathlib import Path

import pytest

from photosync.local.postgres_account import SERVER_ACCOUNT_WHEN_ROOT
from tests.e2e.api import ApiUser
from tests.support.images import make_jpeg
from tests.support.server import start_server


def acl_entries(path: Path) -> set[str]:
    output = subprocess.run(["getfacl", "--omit-header", "--numeric", str(path)], capture_output=True, text=True, check=True)
    return {line.strip() for line in output.stdout.splitlines() if line.strip() and not line.startswith("#")}


def expected_traversal_acl(path: Path, owner_bits: str) -> set[str]:
    """The ACL of a 0700 directory whose only extra entry lets the database account traverse it."""
    pg_uid = pwd.getpwnam(SERVER_ACCOUNT_WHEN_ROOT).pw_uid
    return {f"user::{owner_bits}", f"user:{pg_uid}:--x", "group::---", "mask::--x", "other::---"}


@pytest.fixture
def home(tmp_path) -> Path:
    """A private home directory, as /root or /home/<user> is."""
    home = tmp_path / "home"
    home.mkdir()
    os.chmod(home, 0o700)
    return home


def test_everything_in_the_data_directory_is_private_after_an_upload(home):
    data_dir = home / "photosync-data"
    server = start_server(data_dir)
    try:
        user = ApiUser(server.base_url)
        photo_id = user.upload(make_jpeg(width=800, height=600))
        assert user.wait_for_renditions(photo_id)["thumbnail_url"]  # renditions were written
    finally:
        server.stop()

    me = os.geteuid()
    pgdata = data_dir / "postgres"
    checked = {"objects": 0, "secrets": 0, "identity": 0, "postgres": 0}
    for root, dirs, files in os.walk(data_dir):
        for name in (*dirs, *files):
            path = Path(root) / name
            info = path.lstat()
            mode = stat.S_IMODE(info.st_mode)
            top = path.relative_to(data_dir).parts[0]
            checked[top] = checked.get(top, 0) + 1
            if path == pgdata or pgdata in path.parents:
                # The cluster belongs to the database's account, which PostgreSQL keeps private.
                assert mode & 0o077 == 0, (path, oct(mode))
                continue
            assert info.st_uid == me, path
            if stat.S_ISDIR(info.st_mode):
                assert mode == 0o700, (path, oct(mode))
            else:
                assert mode == 0o600, (path, oct(mode))
    assert all(checked.values()), checked  # originals, renditions, secrets, keys, database all looked at

    assert stat.S_IMODE(home.stat().st_mode) & 0o007 == 0, "the home directory was opened to everyone"
    if me == 0:
        assert pgdata.stat().st_uid == pwd.getpwnam(SERVER_ACCOUNT_WHEN_ROOT).pw_uid
        assert acl_entries(home) == expected_traversal_acl(home, "rwx")
        assert acl_entries(data_dir) == expected_traversal_acl(data_dir, "rwx")
    else:
        assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700


def test_a_data_directory_made_before_is_closed_at_start(home):
    data_dir = home / "photosync-data"
    (data_dir / "objects").mkdir(parents=True)
    os.chmod(data_dir, 0o755)
    server = start_server(data_dir)
    server.stop()
    assert stat.S_IMODE(data_dir.stat().st_mode) & 0o077 in (0, 0o010), oct(data_dir.stat().st_mode)
    assert stat.S_IMODE(data_dir.stat().st_mode) & 0o007 == 0

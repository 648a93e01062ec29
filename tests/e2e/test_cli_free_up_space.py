"""`photosync free-up-space` against a real server: only confirmed, unchanged, backed-up copies go."""

from __future__ import annotations

import hashlib
import json
import os
import select
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from photosync.client import PhotoSyncClient
from photosync.client.freeup import IN_TRASH_REASON
from tests.support.images import make_jpeg
from tests.support.server import start_server

PHOTOSYNC = Path(sys.executable).with_name("photosync")


def photo(number: int) -> bytes:
    return make_jpeg(480, 360, taken_at=datetime(2022, 3, 1, 9, 0) + timedelta(minutes=number))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    process = start_server(tmp_path_factory.mktemp("server"))
    yield process
    process.stop()


def run(env, *args, **kwargs):
    return subprocess.run([str(PHOTOSYNC), *map(str, args)], env=env, capture_output=True, text=True, timeout=120, **kwargs)


def answer_prompt(env, args, before_answer) -> subprocess.CompletedProcess:
    """Run a command that asks for confirmation; call `before_answer()` while it waits, then say yes."""
    process = subprocess.Popen([str(PHOTOSYNC), *map(str, args)], env=env, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    shown = b""
    while b"[y/N]" not in shown:
        ready, _, _ = select.select([process.stdout], [], [], 60)
        assert ready, f"no confirmation prompt; got {shown!r}"
        chunk = os.read(process.stdout.fileno(), 4096)
        assert chunk, f"exited without asking; got {shown!r}, {process.stderr.read()!r}"
        shown += chunk
    before_answer()
    rest, errors = process.communicate(b"y\n", timeout=120)
    return subprocess.CompletedProcess(process.args, process.returncode, (shown + rest).decode(), errors.decode())


def test_free_up_space_removes_exactly_the_backed_up_copies(tmp_path, server):
    env = {**os.environ, "PHOTOSYNC_CONFIG_DIR": str(tmp_path / "config"), "XDG_DATA_HOME": str(tmp_path / "xdg")}
    assert run(env, "login", "--server", server.base_url, "--email", "camera-roll@example.com").returncode == 0
    library = tmp_path / "library"
    library.mkdir()
    backed_up = {name: photo(n) for n, name in enumerate(["beach.jpg", "dinner.jpg", "cat.jpg", "dog.jpg"])}
    for name, data in backed_up.items():
        (library / name).write_bytes(data)
    assert run(env, "backup", library).returncode == 0

    roll = tmp_path / "DCIM"
    (roll / "2022").mkdir(parents=True)
    files = {
        "IMG_0001.jpg": backed_up["beach.jpg"],  # backed-up copy, other name
        "2022/IMG_0002.jpg": backed_up["dinner.jpg"],  # backed-up copy, other name, in a subfolder
        "IMG_0003.jpg": photo(50),  # new, never backed up
        "cat.jpg": photo(51),  # the name of a backed-up photo, other bytes
        "IMG_0004.jpg": backed_up["dog.jpg"],  # moved to the server's trash while the command runs
        "notes.txt": b"shopping list",
    }
    for name, data in files.items():
        (roll / name).write_bytes(data)

    dry = run(env, "free-up-space", roll, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    listed = {line.split()[2] for line in dry.stdout.splitlines() if line.startswith("would remove")}
    assert listed == {str(roll / "IMG_0001.jpg"), str(roll / "2022" / "IMG_0002.jpg"), str(roll / "IMG_0004.jpg")}
    assert "3 file(s) backed up" in dry.stdout
    assert sorted(p.relative_to(roll).as_posix() for p in roll.rglob("*") if p.is_file()) == sorted(files)

    token = json.loads((tmp_path / "config" / "credentials.json").read_text())["access_token"]
    with PhotoSyncClient(server.base_url, token) as client:
        dog = client.lookup([hashlib.sha256(backed_up["dog.jpg"]).hexdigest()]).found
        assert len(dog) == 1

        def delete_dog_meanwhile():
            client.delete_photo(next(iter(dog.values())))  # to the trash: no longer a backup

        result = answer_prompt(env, ["free-up-space", roll], delete_dog_meanwhile)
    assert result.returncode == 0, result.stderr
    assert "Remove 3 backed-up file(s)" in result.stdout
    remaining = sorted(p.relative_to(roll).as_posix() for p in roll.rglob("*") if p.is_file())
    assert remaining == ["IMG_0003.jpg", "IMG_0004.jpg", "cat.jpg", "notes.txt"]
    for name in remaining:
        assert (roll / name).read_bytes() == files[name]
    assert f"kept {roll / 'IMG_0004.jpg'}: {IN_TRASH_REASON}" in result.stdout
    assert "Removed 2 file(s)" in result.stdout
    trash = tmp_path / "xdg" / "Trash" / "files"
    assert sorted(p.read_bytes() for p in trash.iterdir()) == sorted([backed_up["beach.jpg"], backed_up["dinner.jpg"]])


def test_free_up_space_keeps_a_file_that_changed_after_planning(tmp_path, server, monkeypatch):
    """The file is hashed again right before removal: a copy edited in between is kept."""
    from typer.testing import CliRunner

    from photosync.cli.main import app
    from photosync.client import freeup

    monkeypatch.setenv("PHOTOSYNC_CONFIG_DIR", str(tmp_path / "config"))
    runner = CliRunner()
    assert runner.invoke(app, ["login", "--server", server.base_url, "--email", "edits@example.com"]).exit_code == 0
    library = tmp_path / "library"
    library.mkdir()
    (library / "a.jpg").write_bytes(photo(70))
    (library / "b.jpg").write_bytes(photo(71))
    assert runner.invoke(app, ["backup", str(library)]).exit_code == 0
    roll = tmp_path / "roll"
    roll.mkdir()
    (roll / "a.jpg").write_bytes(photo(70))
    (roll / "b.jpg").write_bytes(photo(71))
    planned = freeup.plan_free_up

    def plan_then_edit(*args, **kwargs):
        plan = planned(*args, **kwargs)
        edited = roll / "b.jpg"
        stat = edited.stat()
        edited.write_bytes(photo(72)[: stat.st_size].ljust(stat.st_size, b"\0"))
        os.utime(edited, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same size and mtime: only bytes tell
        return plan

    monkeypatch.setattr("photosync.cli.client_commands.plan_free_up", plan_then_edit)
    result = runner.invoke(app, ["free-up-space", str(roll), "--yes", "--no-trash"])
    assert result.exit_code == 0, result.stdout
    assert not (roll / "a.jpg").exists()
    assert (roll / "b.jpg").exists()
    assert f"deleted: {roll / 'a.jpg'}" in result.stdout
    assert f"kept {roll / 'b.jpg'}: changed since it was checked" in result.stdout

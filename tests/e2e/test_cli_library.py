"""The `photosync` client commands against a real `photosync serve`: backup, listing, albums, download.

Commands run in-process through Typer's runner on the real app; the interrupted backup runs as a
subprocess so that it can be killed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from photosync.cli.main import app
from photosync.client import PhotoSyncClient
from photosync.client.auth import TokenStore
from tests.support.cli_session import photo, server, sha256  # noqa: F401 - fixtures

PHOTOSYNC = Path(sys.executable).with_name("photosync")


@pytest.fixture
def cli(tmp_path, monkeypatch, server, request):
    """Runs `photosync ...` in-process, signed in as a user of its own."""
    config = tmp_path / "config"
    monkeypatch.setenv("PHOTOSYNC_CONFIG_DIR", str(config))
    runner = CliRunner()

    def run(*args: str, expect: int = 0):
        result = runner.invoke(app, [str(arg) for arg in args])
        assert result.exit_code == expect, (result.stdout, result.stderr, result.exception)
        return result

    email = f"{request.node.name.replace('_', '-')[:40]}@example.com"
    run("login", "--server", server.base_url, "--email", email)
    run.config = config
    return run


def gallery(server, config: Path) -> list:
    credentials = TokenStore(config).load()
    with PhotoSyncClient(server.base_url, credentials.access_token) as client:
        return list(client.iter_photos())


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_backup_uploads_each_distinct_photo_once_and_reruns_upload_only_new_files(tmp_path, cli, server):
    library = tmp_path / "library"
    originals = {
        "a.jpg": photo(1),
        "2021/b.jpeg": photo(2),
        "2021/06/c.JPG": photo(3),
        "2021/06/deeper/d.jpg": photo(4),
    }
    for name, data in originals.items():
        write(library / name, data)
    write(library / "copies" / "a-copy.jpg", originals["a.jpg"])  # same bytes, another name
    write(library / "notes.txt", b"not a photo")
    write(library / "fake.jpg", b"text pretending to be a jpeg")
    write(library / "2021" / "photo.jpg.json", b"{}")

    first = cli("backup", library)
    assert "Uploaded:            4" in first.stdout
    assert "Skipped (not media): 3" in first.stdout
    assert "Same as another file: 1" in first.stdout
    photos = gallery(server, cli.config)
    assert sorted(p.sha256 for p in photos) == sorted(sha256(data) for data in originals.values())
    assert {p.filename for p in photos} == {"a.jpg", "b.jpeg", "c.JPG", "d.jpg"}

    second = cli("backup", library)
    assert "Uploaded:            0" in second.stdout
    assert "Already backed up:   4" in second.stdout

    write(library / "new" / "e.jpg", photo(5))
    write(library / "2021" / "g.jpg", photo(6))
    third = cli("backup", library)
    assert "Uploaded:            2" in third.stdout
    assert "Already backed up:   4" in third.stdout
    assert sorted(p.sha256 for p in gallery(server, cli.config)) == sorted(
        [sha256(data) for data in originals.values()] + [sha256(photo(5)), sha256(photo(6))]
    )


def test_backup_killed_midway_completes_on_rerun_without_duplicates(tmp_path, cli, server):
    library = tmp_path / "library"
    expected = {write(library / f"IMG_{n:04}.jpg", photo(100 + n, width=1200, height=900)).name: n for n in range(30)}
    env = {**os.environ, "PHOTOSYNC_CONFIG_DIR": str(cli.config)}
    process = subprocess.Popen([str(PHOTOSYNC), "backup", str(library), "--jobs", "1"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while len(gallery(server, cli.config)) < 3:
            assert process.poll() is None, "the backup finished before it could be interrupted"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    interrupted = gallery(server, cli.config)
    assert 3 <= len(interrupted) < len(expected)

    rerun = cli("backup", library)
    assert "Failed:              0" in rerun.stdout
    photos = gallery(server, cli.config)
    assert len(photos) == len(expected)
    assert sorted(p.sha256 for p in photos) == sorted(sha256((library / name).read_bytes()) for name in expected)


def test_download_all_reproduces_the_library_byte_for_byte(tmp_path, cli, server):
    library = tmp_path / "library"
    files = [
        write(library / "x.jpg", photo(201)),
        write(library / "trip" / "y.jpg", photo(202)),
        write(library / "trip" / "day2" / "z.jpg", photo(203, width=800, height=600)),
        write(library / "other" / "x.jpg", photo(204)),  # same name as another photo, other bytes
    ]
    cli("backup", library)

    target = tmp_path / "restore"
    result = cli("download", "--all", target)
    assert "Downloaded:      4" in result.stdout
    restored = {path.name: path.read_bytes() for path in target.iterdir()}
    assert sorted(sha256(data) for data in restored.values()) == sorted(sha256(f.read_bytes()) for f in files)
    assert set(restored) == {"x.jpg", "x (1).jpg", "y.jpg", "z.jpg"}
    assert restored["y.jpg"] == files[1].read_bytes()
    assert restored["z.jpg"] == files[2].read_bytes()

    again = cli("download", "--all", target)
    assert "Downloaded:      0" in again.stdout and "Already present: 4" in again.stdout
    assert len(list(target.iterdir())) == 4

    one = gallery(server, cli.config)[0]
    single = cli("download", one.id, "-o", tmp_path / "single.jpg")
    assert sha256((tmp_path / "single.jpg").read_bytes()) == one.sha256
    assert "Downloaded" in single.stdout


def test_ls_albums_rm_and_me(tmp_path, cli, server):
    library = tmp_path / "library"
    write(library / "one.jpg", photo(301))
    write(library / "two.jpg", photo(302))
    cli("backup", library)
    photos = {p.filename: p for p in gallery(server, cli.config)}

    listing = cli("ls").stdout
    assert photos["one.jpg"].id in listing and "two.jpg" in listing and "2 photo(s)" in listing
    assert "1 photo(s)" in cli("ls", "--limit", "1").stdout

    created = cli("albums", "create", "Summer").stdout
    album_id = created.split()[2]
    cli("albums", "add", album_id, photos["one.jpg"].id, photos["two.jpg"].id)
    in_album = cli("ls", "--album", album_id).stdout
    assert "2 photo(s)" in in_album
    cli("albums", "remove", album_id, photos["two.jpg"].id)
    assert "one.jpg" in cli("ls", "--album", album_id).stdout and "two.jpg" not in cli("ls", "--album", album_id).stdout
    cli("albums", "rename", album_id, "Summer 2021")
    albums = cli("albums", "list").stdout
    assert "Summer 2021" in albums and album_id in albums

    me = cli("me").stdout
    total = photos["one.jpg"].size + photos["two.jpg"].size
    assert f"{total / 1024:.1f} KiB of 15.0 GiB" in me

    cli("rm", photos["one.jpg"].id)
    assert [p.filename for p in gallery(server, cli.config)] == ["two.jpg"]
    cli("rm", photos["one.jpg"].id)  # already in the trash: still success
    cli("rm", "--permanent", photos["one.jpg"].id)
    missing = cli("rm", photos["one.jpg"].id, expect=1)
    assert f"{photos['one.jpg'].id}: no such photo" in missing.stderr
    cli("albums", "delete", album_id)
    assert album_id not in cli("albums", "list").stdout

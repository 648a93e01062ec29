"""`photosync sync` and the local library index against a real `photosync serve` (issue 10).

`sync` builds a local index that `ls` and backup use while it is fresh, updated incrementally, and
rebuilt when the server resets the cursor. The CLI talks through a recording proxy, so the tests see
which calls a command made (none to /photos while the index is fresh).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from photosync.client.auth import token_subject
from photosync.client.index import INDEX_FILE, LibraryIndex
from photosync.services import sync as sync_service
from tests.support.cli_session import (  # noqa: F401 - fixtures
    Cli, cli, ids_by_name, library, photo, proxy, server, wait_for_thumbnails,
)
from tests.support.server import start_server


def test_sync_builds_an_index_that_ls_and_backup_use_and_updates_it_incrementally(tmp_path, cli, server, proxy, monkeypatch):
    originals = {f"p{n}.jpg": photo(50 + n) for n in range(3)}
    folder = library(tmp_path, "library", originals)
    cli("backup", folder)
    with cli.client(server.base_url) as client:
        wait_for_thumbnails(client)
    built = cli("sync").stdout
    assert "Built the local index: 3 photo(s) added or changed" in built
    assert "Index: 3 photo(s)" in built

    # Fresh: ls and backup's lookups are answered from the index alone.
    proxy.requests.clear()
    listing = cli("ls").stdout
    assert all(name in listing for name in originals) and "3 photo(s) (from the local index" in listing
    assert "Already backed up:   3" in cli("backup", folder).stdout
    assert proxy.paths("GET").count("/photos") == 0 and "/photos/lookup" not in proxy.paths("POST")
    assert "/sync" not in proxy.paths()

    # Changes made elsewhere reach the index through an incremental sync.
    with cli.client(server.base_url) as client:
        ids = ids_by_name(client)
        client.delete_photo(ids["p0.jpg"])
    (folder / "new.jpg").write_bytes(photo(60))
    with cli.client(server.base_url) as client:
        client.upload_file(folder / "new.jpg")
        wait_for_thumbnails(client)
    proxy.requests.clear()
    updated = cli("sync").stdout
    assert "Updated the local index: 2 photo(s) added or changed, 0 deleted" in updated
    assert "Index: 3 photo(s)" in updated and "1 in the trash" in updated
    [sync_call] = [path for method, path in proxy.requests if path.startswith("/sync")]
    assert "cursor=" in sync_call  # incremental, not a replay
    listing = cli("ls").stdout
    assert "new.jpg" in listing and "p0.jpg" not in listing

    # Deleted for good: the index drops it; stale, ls brings the index current first.
    with cli.client(server.base_url) as client:
        client.delete_from_trash(ids["p0.jpg"])
        client.delete_photo(ids["p1.jpg"])
    monkeypatch.setenv("PHOTOSYNC_INDEX_MAX_AGE_SECONDS", "0")
    proxy.requests.clear()
    listing = cli("ls").stdout
    assert "p1.jpg" not in listing and "2 photo(s) (from the local index" in listing
    assert "/sync" in proxy.paths("GET") and "/photos" not in proxy.paths("GET")
    # Stale and the server out of reach: ls says so and shows the index as it was.
    proxy.unreachable = True
    offline = cli("ls")
    assert "Cannot reach" in offline.stderr and "showing the local index as it was" in offline.stderr
    assert "2 photo(s) (from the local index" in offline.stdout
    proxy.unreachable = False
    # Content deleted for good is unknown to the index: backup asks the server about it alone.
    proxy.requests.clear()
    again = cli("backup", folder).stdout
    assert "In the trash (skipped): 1" in again and "Deleted on the server (skipped): 1" in again
    assert proxy.paths("POST").count("/photos/lookup") == 1


def test_ls_without_an_index_asks_the_server(tmp_path, cli, proxy):
    cli("backup", library(tmp_path, "library", {"x.jpg": photo(70)}))
    proxy.requests.clear()
    listing = cli("ls").stdout
    assert "x.jpg" in listing and "1 photo(s)" in listing and "local index" not in listing
    assert "/photos" in proxy.paths("GET")


def test_sync_rebuilds_the_index_when_the_server_resets_the_cursor(tmp_path, monkeypatch, database_url, uow):
    """The sweep compacts the change log past the index's cursor: the server answers `reset` and the
    index is rebuilt from the start (a server on the suite's PostgreSQL, whose sweep is then run as
    if the log's retention had passed)."""
    server = start_server(tmp_path / "server", env={"DATABASE_URL": database_url})
    try:
        monkeypatch.setenv("PHOTOSYNC_CONFIG_DIR", str(tmp_path / "config"))
        cli = Cli(tmp_path / "config", server.base_url)
        cli("login", "--server", server.base_url, "--email", "reset@example.com")
        folder = library(tmp_path, "library", {"a.jpg": photo(80), "b.jpg": photo(81)})
        cli("backup", folder)
        assert "Index: 2 photo(s)" in cli("sync").stdout
        with cli.client(server.base_url) as client:
            trashed = ids_by_name(client)["a.jpg"]
            client.delete_photo(trashed)
            client.delete_from_trash(trashed)
            with LibraryIndex(tmp_path / "config" / INDEX_FILE, server=server.base_url,
                              account=token_subject(client.access_token), max_age=600) as index:
                old_cursor = index.cursor
            assert not client.sync(cursor=old_cursor).reset
            removed, _ = sync_service.compact(uow, created_before=datetime.now(timezone.utc) + timedelta(days=1), limit=1000)
            assert removed > 0
            assert client.sync(cursor=old_cursor).reset
        result = cli("sync").stdout
        assert "rebuilt from the start" in result
        assert "Index: 1 photo(s)" in result
        listing = cli("ls").stdout
        assert "b.jpg" in listing and "a.jpg" not in listing
        assert "Updated the local index: 0 photo(s)" in cli("sync").stdout  # and incremental again
    finally:
        server.stop()

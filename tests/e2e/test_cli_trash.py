"""The CLI's trash and tombstones against a real `photosync serve` (issue 10, item 6).

- free-up-space never counts a photo in the server's trash as a backup;
- backup does not bring back what the user deleted (trash or for good) unless --include-deleted;
- `rm` retried after a lost answer reports success;
- `trash ls | restore | empty`.

The CLI talks to the server through a proxy that records requests and can lose answers, so the tests
see which calls a command made. The local index (`photosync sync`) is tested in test_cli_sync_index.py.
"""

from __future__ import annotations

from tests.support.cli_session import cli, ids_by_name, library, photo, proxy, server, sha256  # noqa: F401 - fixtures


def test_free_up_space_removes_nothing_for_a_photo_in_the_trash(tmp_path, cli, server):
    originals = {"kept.jpg": photo(1), "trashed.jpg": photo(2)}
    cli("backup", library(tmp_path, "library", originals))
    with cli.client(server.base_url) as client:
        cli("rm", ids_by_name(client)["trashed.jpg"])
    roll = library(tmp_path, "DCIM", {"IMG_1.jpg": originals["kept.jpg"], "IMG_2.jpg": originals["trashed.jpg"]})

    dry = cli("free-up-space", roll, "--dry-run")
    assert [line for line in dry.stdout.splitlines() if line.startswith("would remove")] == [
        f"would remove {roll / 'IMG_1.jpg'} ({len(originals['kept.jpg']) / 1024:.1f} KiB)"
    ]
    assert "1 file(s) are only in the server's trash: they are kept" in dry.stdout

    done = cli("free-up-space", roll, "--yes", "--no-trash")
    assert not (roll / "IMG_1.jpg").exists()
    assert (roll / "IMG_2.jpg").read_bytes() == originals["trashed.jpg"]
    assert "Removed 1 file(s)" in done.stdout


def test_backup_skips_trashed_and_deleted_photos_unless_asked(tmp_path, cli, server):
    originals = {"stays.jpg": photo(21), "trashed.jpg": photo(22), "deleted.jpg": photo(23)}
    folder = library(tmp_path, "library", originals)
    assert "Uploaded:            3" in cli("backup", folder).stdout
    with cli.client(server.base_url) as client:
        ids = ids_by_name(client)
    cli("rm", ids["trashed.jpg"])
    cli("rm", "--permanent", ids["deleted.jpg"])

    again = cli("backup", folder)
    assert "Uploaded:            0" in again.stdout
    assert "Already backed up:   1" in again.stdout
    assert "In the trash (skipped): 1" in again.stdout
    assert "Deleted on the server (skipped): 1; --include-deleted uploads them again" in again.stdout
    with cli.client(server.base_url) as client:
        assert set(ids_by_name(client)) == {"stays.jpg"}
        state = client.lookup([sha256(data) for data in originals.values()])
        assert set(state.trashed) == {sha256(originals["trashed.jpg"])}
        assert state.deleted == {sha256(originals["deleted.jpg"])}

    included = cli("backup", folder, "--include-deleted")
    assert "Uploaded:            1" in included.stdout
    assert "Restored from trash: 1" in included.stdout
    with cli.client(server.base_url) as client:
        assert set(ids_by_name(client)) == set(originals)
        state = client.lookup([sha256(data) for data in originals.values()])
        assert set(state.found) == {sha256(data) for data in originals.values()}
        assert ids_by_name(client)["trashed.jpg"] == ids["trashed.jpg"]  # restored, not uploaded anew
    assert "Already backed up:   3" in cli("backup", folder).stdout


def test_rm_retried_after_a_lost_answer_reports_success(tmp_path, cli, server, proxy):
    cli("backup", library(tmp_path, "library", {"one.jpg": photo(31), "two.jpg": photo(32)}))
    with cli.client(server.base_url) as client:
        ids = ids_by_name(client)

    proxy.lose_answer("DELETE", f"/photos/{ids['one.jpg']}")
    moved = cli("rm", ids["one.jpg"])
    assert f"Moved {ids['one.jpg']} to the trash" in moved.stdout
    assert proxy.paths("DELETE") == [f"/photos/{ids['one.jpg']}"] * 2 and len(proxy.lost) == 1

    proxy.lose_answer("DELETE", f"/trash/{ids['two.jpg']}")
    deleted = cli("rm", "--permanent", ids["two.jpg"])
    assert f"Deleted {ids['two.jpg']} for good" in deleted.stdout
    assert proxy.paths("DELETE")[-2:] == [f"/trash/{ids['two.jpg']}"] * 2 and len(proxy.lost) == 2

    with cli.client(server.base_url) as client:
        assert [p.id for p in client.iter_trash()] == [ids["one.jpg"]]
        assert list(client.iter_photos()) == []
        assert client.lookup([sha256(photo(32))]).deleted == {sha256(photo(32))}
    # A photo that is already in the trash: moving it there again is fine too.
    assert f"Moved {ids['one.jpg']} to the trash" in cli("rm", ids["one.jpg"]).stdout
    assert "Restored 1 photo(s)." in cli("trash", "restore", "--all").stdout
    assert "The trash is empty: nothing to restore." in cli("trash", "restore", "--all").stdout


def test_trash_ls_restore_and_empty(tmp_path, cli, server):
    originals = {"a.jpg": photo(41), "b.jpg": photo(42), "c.jpg": photo(43)}
    cli("backup", library(tmp_path, "library", originals))
    with cli.client(server.base_url) as client:
        ids = ids_by_name(client)
    cli("rm", ids["a.jpg"], ids["b.jpg"])

    listing = cli("trash", "ls").stdout
    assert ids["a.jpg"] in listing and ids["b.jpg"] in listing and ids["c.jpg"] not in listing
    assert listing.count("30 days left") == 2
    trash_size = len(originals["a.jpg"]) + len(originals["b.jpg"])
    assert f"the trash holds {trash_size / 1024:.1f} KiB" in listing
    assert f"Trash:    {trash_size / 1024:.1f} KiB" in cli("me").stdout

    assert "Restored 1 photo(s)." in cli("trash", "restore", ids["a.jpg"]).stdout
    assert "a.jpg" in cli("ls").stdout
    unknown = cli("trash", "restore", ids["c.jpg"], expect=1)  # not in the trash
    assert "Nothing was restored" in unknown.stderr

    declined = cli("trash", "empty", input="n\n", expect=1)
    assert "Delete 1 photo(s) in the trash" in declined.stdout and "Nothing was deleted." in declined.stdout
    emptied = cli("trash", "empty", "--yes").stdout
    assert f"Deleted 1 photo(s) for good, freed {len(originals['b.jpg']) / 1024:.1f} KiB." in emptied
    assert "The trash is already empty." in cli("trash", "empty", "--yes").stdout
    with cli.client(server.base_url) as client:
        assert client.me().storage_used == len(originals["a.jpg"]) + len(originals["c.jpg"])
        assert client.me().storage_trash == 0
        assert set(ids_by_name(client)) == {"a.jpg", "c.jpg"}

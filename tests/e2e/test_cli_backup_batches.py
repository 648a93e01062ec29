"""`photosync backup` of a folder of many small files against a real server, through a proxy that
records every API call: grants go 100 files per `POST /uploads/batch` (never one `POST /uploads` per
file), finalization is confirmed by lookups rather than a poll per file, and the library ends up
exactly the folder's distinct contents."""

from __future__ import annotations

from collections import Counter

from tests.support.cli_session import cli, ids_by_name, library, photo, proxy, server, sha256  # noqa: F401 - fixtures

FILES = 130


def routes(requests: list[tuple[str, str]]) -> Counter:
    counted: Counter = Counter()
    for method, path in requests:
        path = path.split("?", 1)[0]
        if path.startswith("/uploads/") and path != "/uploads/batch":
            path = "/uploads/{id}"
        counted[f"{method} {path}"] += 1
    return counted


def test_backup_grants_in_batches_and_confirms_by_lookup(tmp_path, cli, proxy):
    photos = {f"IMG_{n:04}.jpg": photo(2000 + n) for n in range(FILES)}
    photos["copy of IMG_0000.jpg"] = photos["IMG_0000.jpg"]
    folder = library(tmp_path, "small-files", photos)
    with cli.client(proxy.base_url) as client:
        # One of them is on the server already.
        assert client.upload_file(folder / "IMG_0001.jpg").duplicate is False
    proxy.requests.clear()

    result = cli("backup", folder)

    assert f"Uploaded:            {FILES - 1}" in result.stdout
    assert "Already backed up:   1" in result.stdout
    assert "Same as another file: 1" in result.stdout
    assert "Failed:              0" in result.stdout
    calls = routes(proxy.requests)
    assert calls["POST /uploads"] == 0
    assert calls["POST /uploads/batch"] == 2  # 129 files to grant: 100, then 29
    # One lookup before granting; the rest confirm finalization, many uploads per call.
    assert 2 <= calls["POST /photos/lookup"] < FILES // 4, calls
    assert calls["GET /uploads/{id}"] < FILES // 4, calls
    with cli.client(proxy.base_url) as client:
        by_name = ids_by_name(client)
        assert sorted(p.sha256 for p in client.iter_photos()) == sorted({sha256(data) for data in photos.values()})
        me = client.me()
    assert len(by_name) == FILES
    assert me.storage_pending == 0 and me.storage_used == sum(len(data) for name, data in photos.items() if not name.startswith("copy"))

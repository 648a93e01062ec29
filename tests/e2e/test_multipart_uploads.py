"""Issue 13, acceptance 4: a 1 GiB video through the CLI against a real `photosync serve`, the CLI
killed (`kill -9`) halfway, run again: only the missing parts are sent (the store counts every byte it
receives), the photo's bytes are the file's, and the CLI's peak memory stays under 200 MiB."""

from __future__ import annotations

import hashlib
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from photosync.adapters.objectstore.local_disk import LocalDiskStore
from photosync.client.api import PhotoSyncClient
from photosync.client.multipart import MULTIPART_STATE_FILE
from tests.support.server import start_server

GIB = 1024**3
MIB = 1024**2
PEAK_RSS_LIMIT = 200 * MIB
RECEIVED_METRIC = re.compile(r"^photosync_store_bytes_received_total (\S+)$", re.MULTILINE)


def write_video(path: Path, size: int) -> str:
    """An MP4 as finalize sniffs it (an `ftyp` box), then one `mdat` box of filler up to `size`: each
    MiB is the same random block stamped with its index, so every part differs. Its SHA-256."""
    ftyp = (24).to_bytes(4, "big") + b"ftypisom" + (0x200).to_bytes(4, "big") + b"isommp41"
    mdat = (1).to_bytes(4, "big") + b"mdat" + (size - len(ftyp)).to_bytes(8, "big")
    block = bytearray(os.urandom(MIB))
    digest = hashlib.sha256()
    with path.open("wb") as f:
        head = ftyp + mdat
        f.write(head)
        digest.update(head)
        written, index = len(head), 0
        while written < size:
            block[:8] = index.to_bytes(8, "big")
            chunk = memoryview(block)[: min(MIB, size - written)]
            f.write(chunk)
            digest.update(chunk)
            written += len(chunk)
            index += 1
    return digest.hexdigest()


def bytes_received(server) -> int:
    match = RECEIVED_METRIC.search(httpx.get(f"{server.base_url}/metrics", timeout=10).text)
    return int(float(match[1])) if match else 0


def received_once_quiet(server, quiet_seconds: float = 1.0, timeout: float = 60) -> int:
    """The bytes received, once the server has read what a killed client left in its sockets
    (a busy server may still be reading it well after the kill)."""
    deadline = time.monotonic() + timeout
    last = bytes_received(server)
    while time.monotonic() < deadline:
        time.sleep(quiet_seconds)
        now = bytes_received(server)
        if now == last:
            return now
        last = now
    raise AssertionError("the server kept receiving bytes after the client was killed")


def cli(env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "photosync.cli", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


def peak_rss(pid: int) -> int:
    """The process's peak resident memory so far (VmHWM), 0 once it has exited. Not wait4's
    ru_maxrss: after fork and exec that starts from the forking process's own size (pytest's here)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return 0
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
    return int(match[1]) * 1024 if match else 0


def wait_with_peak_rss(process: subprocess.Popen, timeout: float, peak: int = 0) -> tuple[int, int]:
    """(exit status, peak resident memory in bytes) of a child, watched until it exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        peak = max(peak, peak_rss(process.pid))
        pid, status, _ = os.wait4(process.pid, os.WNOHANG)
        if pid:
            process.returncode = os.waitstatus_to_exitcode(status)
            return process.returncode, peak
        time.sleep(0.05)
    process.kill()
    raise AssertionError("the CLI did not finish in time")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    process = start_server(tmp_path_factory.mktemp("multipart-server"))
    yield process
    process.stop()


# About a minute on an idle 2-core machine; a shared one can take several times that.
@pytest.mark.timeout(1200)
def test_an_interrupted_backup_of_a_1_gib_video_sends_only_the_missing_parts(server, tmp_path):
    library = tmp_path / "library"
    library.mkdir()
    video = library / "long-take.mp4"
    sha256 = write_video(video, GIB)
    env = {**os.environ, "PHOTOSYNC_CONFIG_DIR": str(tmp_path / "config")}
    login = cli(env, "login", "--server", server.base_url, "--email", "multipart@example.com")
    assert login.wait(timeout=60) == 0, login.stderr.read()

    before = bytes_received(server)
    first = cli(env, "backup", str(library))
    first_peak = 0
    while bytes_received(server) - before < GIB // 2:
        assert first.poll() is None, first.stderr.read()
        first_peak = max(first_peak, peak_rss(first.pid))
        time.sleep(0.02)
    first_peak = max(first_peak, peak_rss(first.pid))
    first.send_signal(signal.SIGKILL)
    status, first_peak = wait_with_peak_rss(first, timeout=30, peak=first_peak)
    assert status == -signal.SIGKILL
    received_before_resume = received_once_quiet(server)

    with sqlite3.connect(tmp_path / "config" / MULTIPART_STATE_FILE) as state:
        (upload_id,) = state.execute("SELECT upload_id FROM multipart_upload").fetchone()
    # The same email signs in as the same user: the test looks at the upload through the SDK.
    client = PhotoSyncClient(server.base_url, PhotoSyncClient(server.base_url).dev_login("multipart@example.com").access_token)
    held = client.stored_parts(upload_id)
    assert held, "the killed run stored no part"
    held_bytes = sum(part.size for part in held)
    assert held_bytes < GIB, "the killed run sent everything: it was not interrupted"
    assert client.me().storage_used == 0 and client.me().storage_pending == GIB

    second = cli(env, "backup", str(library))
    status, second_peak = wait_with_peak_rss(second, timeout=600)
    assert status == 0, second.stderr.read().decode(errors="replace")
    assert bytes_received(server) - received_before_resume == GIB - held_bytes  # only the missing parts

    photo = client.get_photo(upload_id)
    assert (photo.size, photo.sha256, photo.content_type) == (GIB, sha256, "video/mp4")
    # The stored original itself, byte for byte (hashed where the store keeps it).
    digest = hashlib.sha256()
    with (server.data_dir / "objects" / "originals" / client.me().id / upload_id).open("rb") as stored:
        while chunk := stored.read(8 * MIB):
            digest.update(chunk)
    assert digest.hexdigest() == sha256
    assert client.me().storage_used == GIB and client.me().storage_pending == 0
    assert max(first_peak, second_peak) < PEAK_RSS_LIMIT, (first_peak, second_peak)


# --- acceptance 5: what the store refuses, over HTTP -------------------------------------------------


def small_grant(server, email: str, size: int = 10 * MIB) -> tuple[PhotoSyncClient, dict, bytes]:
    client = PhotoSyncClient(server.base_url, PhotoSyncClient(server.base_url).dev_login(email).access_token)
    ftyp = (24).to_bytes(4, "big") + b"ftypisom" + (0x200).to_bytes(4, "big") + b"isommp41"
    data = ftyp + os.urandom(size - len(ftyp))
    granted = httpx.post(f"{server.base_url}/uploads", headers=auth(client), json={
        "filename": "clip.mp4", "content_type": "video/mp4", "size": size,
        "sha256": hashlib.sha256(data).hexdigest(), "multipart": True,
    }).json()
    return client, granted, data


def auth(client: PhotoSyncClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {client.access_token}"}


def part_url(server, client, upload_id: str, number: int, data: bytes) -> dict:
    (part,) = httpx.post(f"{server.base_url}/uploads/{upload_id}/parts", headers=auth(client), json={
        "parts": [{"number": number, "sha256": hashlib.sha256(data).hexdigest()}],
    }).json()["parts"]
    return part


def test_parts_of_the_wrong_size_with_other_bytes_or_an_expired_url_are_refused_and_nothing_is_charged(server):
    client, granted, data = small_grant(server, "refusals@example.com")
    upload_id, part_size = granted["upload_id"], granted["part_size"]
    first = data[:part_size]
    url = part_url(server, client, upload_id, 1, first)

    shorter = httpx.put(url["url"], content=first[:-1])
    other_bytes = httpx.put(url["url"], content=bytes(reversed(first)))

    # The same URL as the server signs it, but already expired (the store's own key signs it).
    query = dict(httpx.URL(url["url"]).params)
    key = httpx.URL(url["url"]).path.split("/_store/parts/", 1)[1]
    expired = LocalDiskStore(server.data_dir, public_url=server.base_url).presign_part(
        key, query["upload"], number=1, size=len(first), sha256=query["sha256"], expires_in=-1,
    )
    late = httpx.put(expired.url, content=first)
    tampered = httpx.put(url["url"].replace("part=1", "part=2"), content=first)

    assert (shorter.status_code, other_bytes.status_code, late.status_code, tampered.status_code) == (400, 400, 403, 403)
    assert "expired" in late.json()["error"]["message"]
    assert client.stored_parts(upload_id) == []
    me = client.me()
    assert (me.storage_used, me.storage_pending) == (0, len(data))

    assert httpx.put(url["url"], content=first).status_code == 200  # the untampered part is taken
    assert [p.number for p in client.stored_parts(upload_id)] == [1]
    complete = httpx.post(f"{server.base_url}/uploads/{upload_id}/complete", headers=auth(client),
                          json={"parts": [{"number": 1, "etag": client.stored_parts(upload_id)[0].etag}]})
    assert complete.status_code == 400  # part 2 is missing
    client.cancel_upload(upload_id)
    assert client.me().storage_pending == 0
    assert not any((server.data_dir / "parts").iterdir())


def test_a_small_multipart_upload_completes_through_the_api(server):
    client, granted, data = small_grant(server, "complete@example.com")
    upload_id, part_size = granted["upload_id"], granted["part_size"]
    etags = []
    for number in range(1, granted["part_count"] + 1):
        chunk = data[(number - 1) * part_size : number * part_size]
        url = part_url(server, client, upload_id, number, chunk)
        answer = httpx.put(url["url"], content=chunk, headers=url["headers"])
        assert answer.status_code == 200
        etags.append({"number": number, "etag": answer.headers["ETag"]})

    complete = httpx.post(f"{server.base_url}/uploads/{upload_id}/complete", headers=auth(client), json={"parts": etags})
    assert complete.status_code == 202 and complete.json() == {"upload_id": upload_id, "status": "pending"}
    again = httpx.post(f"{server.base_url}/uploads/{upload_id}/complete", headers=auth(client), json={"parts": etags})
    assert again.status_code in (202, 409)  # assembled already: still being finalized, or a photo

    assert client.wait_for_upload(upload_id).status == "complete"
    photo = client.get_photo(upload_id)
    assert (photo.size, photo.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    assert httpx.get(client.download_link(upload_id).url).content == data
    assert client.me().storage_used == len(data)

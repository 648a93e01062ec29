"""Restarts keep everything; a `kill -9` of the server and of its PostgreSQL in the middle of uploads
loses or alters no photo whose finalize had committed."""

from __future__ import annotations

import os
import signal
import threading
import time

import httpx
import psutil
import pytest

from tests.e2e.api import ApiUser
from tests.support.images import make_jpeg
from tests.support.server import start_server


@pytest.fixture
def own_server(tmp_path):
    process = start_server(tmp_path / "data")
    yield process
    process.stop()


def library(user: ApiUser) -> dict[str, bytes]:
    photos = {}
    for item in user.all_photos():
        link = user.request("GET", f"/photos/{item['id']}/download").json()
        photos[item["id"]] = httpx.get(link["url"]).content
    return photos


def test_stop_and_start_on_the_same_data_directory_keeps_everything(own_server):
    user = ApiUser(own_server.base_url, email="keeper@example.com")
    uploaded = {user.upload(make_jpeg(model=f"keep {n}")): None for n in range(3)}
    album = user.request("POST", "/albums", json={"name": "Kept"}).json()
    before, me_before = library(user), user.me()

    own_server.restart()

    again = ApiUser(own_server.base_url, email="keeper@example.com")
    assert library(again) == before and set(before) == set(uploaded)
    assert again.me() == me_before
    assert again.request("GET", f"/albums/{album['id']}").json()["name"] == "Kept"


def test_kill_9_of_server_and_database_mid_upload_loses_no_committed_photo(own_server):
    user = ApiUser(own_server.base_url, email="crash@example.com")
    committed: dict[str, bytes] = {}
    stop = threading.Event()

    def keep_uploading(worker: int) -> None:
        n = 0
        while not stop.is_set():
            data = make_jpeg(width=320, height=240, model=f"crash {worker}-{n}")
            n += 1
            try:
                photo_id = user.upload(data)
            except (httpx.HTTPError, AssertionError):
                return  # the server died under us: this one was never acknowledged as complete
            committed[photo_id] = data

    workers = [threading.Thread(target=keep_uploading, args=(w,)) for w in range(3)]
    for worker in workers:
        worker.start()
    deadline = time.monotonic() + 120
    while len(committed) < 8 and time.monotonic() < deadline:
        time.sleep(0.1)
    postgres_pid = own_server.postgres_pid()
    assert postgres_pid is not None and len(committed) >= 8
    environments = [p for p in psutil.Process(own_server.process.pid).children() if p.pid != postgres_pid]
    assert environments, "the handlers run in environment processes"

    own_server.kill()  # kill -9 of `photosync serve`, mid-upload
    os.kill(postgres_pid, signal.SIGKILL)  # and of its PostgreSQL
    stop.set()
    for worker in workers:
        worker.join(timeout=120)
    acknowledged = dict(committed)
    _, alive = psutil.wait_procs(environments, timeout=15)
    assert alive == [], "execution environments outlived their killed server"

    own_server.start()

    survivor = ApiUser(own_server.base_url, email="crash@example.com")
    stored = library(survivor)
    for photo_id, data in acknowledged.items():
        assert stored.get(photo_id) == data, f"photo {photo_id} was lost or altered"
    me = survivor.me()
    assert me["storage_used"] == sum(item["size"] for item in survivor.all_photos())
    # The server still works after the crash.
    new_id = survivor.upload(make_jpeg(model="after the crash"))
    assert new_id in {item["id"] for item in survivor.all_photos()}

"""`photosync serve` exposes the functions' metrics at `/metrics` in Prometheus text format: the EMF
documents its worker processes print, counted as CloudWatch would count them."""

from __future__ import annotations

import os
import time

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.api import ApiUser, assert_error
from tests.support.images import make_jpeg

COUNTERS = (
    "photosync_uploads_granted", "photosync_uploads_finalized", "photosync_uploads_rejected",
    "photosync_renditions_made", "photosync_quota_refusals", "photosync_orphans_removed",
)


def scrape(server) -> dict[str, float]:
    response = httpx.get(f"{server.base_url}/metrics", timeout=30)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def renditions_queued(server) -> list:
    return list((server.data_dir / "queues" / "renditions" / "ready").glob("*.json"))


def wait_until(condition, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_metrics_count_what_the_functions_did(server):
    # Renditions of other tests' uploads, still being made, would be counted here too.
    wait_until(lambda: not renditions_queued(server))
    before = scrape(server)
    # Every metric is exposed before it first happens (at zero on a fresh server).
    assert {f"{name}_total" for name in COUNTERS} <= set(before)
    assert "photosync_sweep_duration_seconds_count" in before
    user = ApiUser(server.base_url)

    for photo_id in [user.upload(make_jpeg(640, 480, model=f"metrics {n}")) for n in range(2)]:
        user.wait_for_renditions(photo_id)
    wait_until(lambda: not renditions_queued(server))  # handled, and so counted
    # Content the store accepts (size and hash as granted) but finalize refuses: not an image.
    not_an_image = os.urandom(4096)
    granted = user.grant(not_an_image).json()
    put = httpx.request(granted["method"], granted["url"], headers=granted["headers"], content=not_an_image, timeout=60)
    assert put.status_code == 200
    assert user.wait_for(granted["upload_id"])["status"] == "failed"

    after = scrape(server)
    changes = {name: after[f"{name}_total"] - before[f"{name}_total"] for name in COUNTERS}
    assert changes == {
        "photosync_uploads_granted": 3, "photosync_uploads_finalized": 2, "photosync_uploads_rejected": 1,
        "photosync_renditions_made": 2, "photosync_quota_refusals": 0, "photosync_orphans_removed": 0,
    }


def test_the_sweep_duration_is_a_summary_in_seconds(server):
    # The schedule sweeps right after start: at least one run is recorded.
    scraped = scrape(server)
    assert scraped["photosync_sweep_duration_seconds_count"] >= 1
    assert 0 < scraped["photosync_sweep_duration_seconds_sum"] < 60 * scraped["photosync_sweep_duration_seconds_count"]


def test_a_quota_refusal_is_counted(server):
    before = scrape(server)["photosync_quota_refusals_total"]
    user = ApiUser(server.base_url)
    quota = user.me()["storage_quota"]
    response = user.http.post("/uploads", json={
        "filename": "huge.mp4", "content_type": "video/mp4", "size": quota + 1, "sha256": "ab" * 32,
    })
    if response.status_code == 413 and response.json()["error"]["code"] == "file_too_large":
        # The largest upload is below the quota: fill the quota first with reservations instead.
        largest = response.json()["error"]["max_upload_bytes"]
        while True:
            granted = user.http.post("/uploads", json={
                "filename": "big.mp4", "content_type": "video/mp4", "size": largest, "sha256": os.urandom(32).hex(),
            })
            if granted.status_code != 201:
                response = granted
                break
    assert_error(response, 413, "quota_exceeded")
    assert scrape(server)["photosync_quota_refusals_total"] == before + 1

"""GET /sync: a first sync of a large library (changes/s), and an incremental sync of 10 changes in a
small and in a huge library, whose ratio says whether the incremental call grows with the library.

Run from the repository root (defaults are the sizes of issue #10; the machine is shared, so pass
smaller ones for a quick run):

    .venv/bin/python -m bench.bench_sync [--full-photos 100000] [--small 1000] [--large 1000000] [--runs 7]

Libraries are made directly in a private PostgreSQL with generate_series (photos with renditions,
albums, memberships, and a change log as long as the library's history). Every call goes through the
real Sync Lambda handler with the API Gateway event it gets, JSON and signed rendition URLs included.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import psycopg
from psycopg.rows import dict_row

from bench.results import write_section

ALBUMS = 20
MEMBERS_PER_ALBUM = 50


def make_library(conn: psycopg.Connection, photos: int) -> uuid.UUID:
    """A user with `photos` photos (all with renditions), albums holding some of them, and a change
    log of one entry per photo (its history), as if every photo had been uploaded since the log began."""
    owner = uuid.uuid4()
    params = {"owner": owner, "n": photos, "albums": ALBUMS, "members": MEMBERS_PER_ALBUM}
    with conn.transaction():
        conn.execute("INSERT INTO users (id, email, storage_quota) VALUES (%(owner)s, 'bench@example.com', 0)", params)
        conn.execute(
            """
            INSERT INTO photos (id, owner_id, object_key, filename, content_type, size, sha256, uploaded_at,
                                taken_at, width, height, camera_make, camera_model, thumbnail_key, preview_key, renditions)
            SELECT id, %(owner)s, 'originals/' || %(owner)s || '/' || id, 'IMG_' || i || '.JPG', 'image/jpeg',
                   2000000 + i, encode(sha256(convert_to(id::text, 'UTF8')), 'hex'), now() - i * interval '1 minute',
                   now() - i * interval '1 hour', 4032, 3024, 'Apple', 'iPhone 13 Pro',
                   'thumbnails/' || %(owner)s || '/' || id || '.webp', 'previews/' || %(owner)s || '/' || id || '.webp', 'ready'
            FROM (SELECT i, md5(%(owner)s::text || i)::uuid AS id FROM generate_series(1, %(n)s) AS i) numbered
            """,
            params,
        )
        conn.execute(
            "INSERT INTO albums (id, owner_id, name) SELECT md5(%(owner)s::text || 'album' || a)::uuid, %(owner)s, "
            "'Album ' || a FROM generate_series(1, %(albums)s) AS a",
            params,
        )
        conn.execute(
            "INSERT INTO album_photos (album_id, photo_id, sort_at) SELECT md5(%(owner)s::text || 'album' || a)::uuid, "
            "p.id, p.sort_at FROM generate_series(1, %(albums)s) AS a CROSS JOIN generate_series(1, %(members)s) AS m "
            "JOIN photos p ON p.id = md5(%(owner)s::text || ((a * %(members)s + m) %% %(n)s + 1))::uuid "
            "ON CONFLICT DO NOTHING",
            params,
        )
        conn.execute(
            "UPDATE albums a SET photo_count = (SELECT count(*) FROM album_photos ap WHERE ap.album_id = a.id) "
            "WHERE owner_id = %(owner)s",
            params,
        )
        conn.execute(
            "INSERT INTO changes (owner_id, seq, kind, photo_id) SELECT %(owner)s, i, 'photo', md5(%(owner)s::text || i)::uuid "
            "FROM generate_series(1, %(n)s) AS i",
            params,
        )
        conn.execute(
            "UPDATE users SET change_seq = %(n)s, storage_quota = (SELECT sum(size) FROM photos WHERE owner_id = %(owner)s), "
            "storage_used = (SELECT sum(size) FROM photos WHERE owner_id = %(owner)s) WHERE id = %(owner)s",
            params,
        )
    conn.execute("ANALYZE")
    return owner


def first_sync(api) -> tuple[int, float, int]:
    """(changes, seconds, calls) of a sync from no cursor to the end."""
    changes, calls, cursor = 0, 0, None
    started = time.perf_counter()
    while True:
        page = api.ok("GET", "/sync", query={"cursor": cursor, "limit": "1000"})
        changes += len(page["changes"])
        calls += 1
        cursor = page["next_cursor"]
        if not page["has_more"]:
            return changes, time.perf_counter() - started, calls


def incremental_syncs(apis: list, conn: psycopg.Connection, runs: int) -> list[list[float]]:
    """Seconds of one /sync call bringing a current copy up to date after 10 changes, per run and
    library. The libraries take turns run by run, so a change in the machine's load hits both."""
    from photosync.adapters.postgres.unit_of_work import UnitOfWork
    from photosync.domain.cursor import SyncPosition, encode_sync_cursor
    from photosync.services import trash

    uow = UnitOfWork(conn)
    cursors, photo_ids, timings = [], [], [[] for _ in apis]
    for api in apis:
        seq = conn.execute("SELECT change_seq FROM users WHERE id = %s", (api.user_id,)).fetchone()["change_seq"]
        cursors.append(encode_sync_cursor(SyncPosition(seq)))  # a copy that is complete up to now
        photo_ids.append([row["id"] for row in conn.execute(
            "SELECT id FROM photos WHERE owner_id = %s ORDER BY id LIMIT %s", (api.user_id, 10 * (runs + 1))
        )])
    for run in range(runs + 1):  # the first run warms the caches and is not counted
        for n, api in enumerate(apis):
            for photo_id in photo_ids[n][run * 10:(run + 1) * 10]:
                trash.move_to_trash(uow, owner_id=api.user_id, photo_id=photo_id)
            started = time.perf_counter()
            page = api.ok("GET", "/sync", query={"cursor": cursors[n]})
            elapsed = time.perf_counter() - started
            # Ten photo upserts (and the albums whose counts changed), and nothing more.
            assert sum(c["type"] == "photo" for c in page["changes"]) == 10 and not page["has_more"], page
            cursors[n] = page["next_cursor"]
            if run:
                timings[n].append(elapsed)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--full-photos", type=int, default=100_000, help="library size for the first sync")
    parser.add_argument("--small", type=int, default=1_000, help="small library for the incremental sync")
    parser.add_argument("--large", type=int, default=1_000_000, help="large library for the incremental sync")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--no-write", action="store_true", help="print only; leave bench/RESULTS.md alone")
    args = parser.parse_args()

    from photosync.adapters.postgres.migrations import apply_migrations
    from photosync.local.postgres import PrivatePostgres

    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-sync-") as scratch:
        server = PrivatePostgres(Path(scratch) / "pgdata")
        server.start()
        try:
            os.environ.update({
                "PHOTOSYNC_MODE": "local", "PHOTOSYNC_STORE": "local", "DATABASE_URL": server.url,
                "PHOTOSYNC_DATA_DIR": str(Path(scratch) / "data"), "PHOTOSYNC_PUBLIC_URL": "http://127.0.0.1:9",
                "POWERTOOLS_LOG_LEVEL": "WARNING",
            })
            from tests.support.lambda_api import LambdaApi

            # Configured as the application's own connections are (dict rows, no prepared statements).
            with psycopg.connect(server.url, autocommit=True, row_factory=dict_row, prepare_threshold=None) as conn:
                apply_migrations(conn)
                started = time.perf_counter()
                full_owner = make_library(conn, args.full_photos)
                small_owner, large_owner = make_library(conn, args.small), make_library(conn, args.large)
                built = time.perf_counter() - started
                changes, seconds, calls = first_sync(LambdaApi(full_owner))
                small, large = incremental_syncs([LambdaApi(small_owner), LambdaApi(large_owner)], conn, args.runs)
        finally:
            server.stop()

    expected = args.full_photos + ALBUMS + ALBUMS * MEMBERS_PER_ALBUM
    assert changes == expected, (changes, expected)
    small_median, large_median = statistics.median(small), statistics.median(large)
    ratio = large_median / small_median
    date = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    section = f"""## Sync (`bench/bench_sync.py`)

- Date: {date}
- Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, load average at start {load[0]:.1f}, {load[1]:.1f}, {load[2]:.1f}. Shared with other jobs: read the ratio, not the absolute times.
- Sizes run: first sync over **{args.full_photos:,} photos**; incremental at **{args.small:,}** and **{args.large:,} photos**{"" if (args.full_photos, args.large) == (100_000, 1_000_000) else " (smaller than issue #10's 100k / 1M: the machine is shared; rerun with the defaults for those)"}. Libraries built with generate_series in {built:.1f} s: photos with renditions, {ALBUMS} albums of {MEMBERS_PER_ALBUM} photos, a change log of one entry per photo.
- Every call goes through the Sync Lambda handler (API Gateway v2 event, JSON, signed thumbnail and preview URLs), against a private PostgreSQL on this machine.

| what | result |
|---|---|
| first sync (no cursor), limit 1000 | {changes:,} changes in {calls} calls, {seconds:.2f} s: **{changes / seconds:,.0f} changes/s** |
| incremental sync of 10 changes, {args.small:,} photos (the two libraries take turns, after one warm-up run each) | median {small_median * 1000:.1f} ms (runs: {", ".join(f"{t * 1000:.1f}" for t in small)}) |
| incremental sync of 10 changes, {args.large:,} photos | median {large_median * 1000:.1f} ms (runs: {", ".join(f"{t * 1000:.1f}" for t in large)}) |

- Ratio incremental {args.large:,} / {args.small:,}: **{ratio:.2f}** (1 means the call does not grow with the library). It reads the log by its primary key (owner, seq) from the cursor on, and the changed photos by id; nothing scans the library.
- A first sync reads the current state in key order ((owner_id, sha256) for photos), one index range per page, then follows the log from where it began.

Reproduce: `.venv/bin/python -m bench.bench_sync --full-photos {args.full_photos} --small {args.small} --large {args.large} --runs {args.runs}` (from the repository root).
"""
    print(section)
    if not args.no_write:
        write_section("bench_sync", section)


if __name__ == "__main__":
    sys.exit(main())

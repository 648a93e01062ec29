"""Batch grants: how `POST /uploads/batch` reserves (one transaction per file or one for the batch),
what a batch saves over one `POST /uploads` per file, and `photosync backup` of a folder of small
files with batch grants against the one-file-at-a-time backup it replaces.

Run from the repository root:

    .venv/bin/python -m bench.bench_batch_grants [--rounds 7] [--files 500] [--jobs 4] [--no-write]

1. Transactions: 100-file batches granted by the services on a private PostgreSQL with the settings
   `photosync serve` uses (fsync and synchronous commit on), four ways side by side, rounds taking
   turns: 100 single grants (`request_upload`, what 100 `POST /uploads` do on the server), a batch
   with a transaction per file, a batch in one transaction with two statements per file, and
   `request_uploads` (one transaction: the user's row locked, one update, one pipelined insert).
   Then the same with 4 batches of one user at once, where the row lock serialises them.
2. Round trips: 100 `POST /uploads` against 1 `POST /uploads/batch` on a real `photosync serve`.
3. Backup: a folder of small camera JPEGs (320 x 240, about 20 kB), `backup()` of the SDK as the CLI
   runs it, against the previous algorithm (hash, look up, then per file: grant, send, wait for
   finalize, `--jobs` files at a time), each into a fresh account of the same server, and
   `sha256sum` + `cp -r` of the folder.
Figures go into bench/RESULTS.md, in this benchmark's own section.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import psycopg
from psycopg.rows import dict_row

from bench.results import write_section
from photosync.adapters.objectstore.local_disk import LocalDiskStore
from photosync.adapters.postgres.migrations import apply_migrations
from photosync.adapters.postgres.unit_of_work import UnitOfWork
from photosync.domain import keys
from photosync.domain.model import PendingUpload
from photosync.domain.validation import UploadRequest
from photosync.local.postgres import PrivatePostgres
from photosync.services import uploads

BATCH = 100
URL_TTL = 900


def requests_for(tag: str, count: int = BATCH) -> list[UploadRequest]:
    return [
        UploadRequest(f"IMG_{n:04}.JPG", "image/jpeg", 20_000 + n, hashlib.sha256(f"{tag}/{n}".encode()).hexdigest())
        for n in range(count)
    ]


def pending(owner: uuid.UUID, request: UploadRequest, now: datetime) -> PendingUpload:
    upload_id = uuid.uuid4()
    return PendingUpload(
        id=upload_id, owner_id=owner, object_key=keys.original_key(owner, upload_id), filename=request.filename,
        content_type=request.content_type, size=request.size, sha256=request.sha256, status="pending", reason=None,
        created_at=now, url_expires_at=now + timedelta(seconds=URL_TTL),
    )


# The four ways of granting a batch. Each looks up existing photos and signs every URL as the real
# service does, so that only the transactions differ.

def single_grants(uow: UnitOfWork, store: LocalDiskStore, owner: uuid.UUID, requests: list[UploadRequest]) -> None:
    for request in requests:
        uploads.request_upload(uow, store, owner_id=owner, request=request, url_ttl_seconds=URL_TTL)


def _signed(uow: UnitOfWork, store: LocalDiskStore, owner: uuid.UUID, requests: list[UploadRequest]) -> list[PendingUpload]:
    uow.photos.by_sha256([r.sha256 for r in requests], owner_id=owner)
    now = datetime.now(timezone.utc)
    rows = [pending(owner, request, now) for request in requests]
    for row in rows:
        store.presign_upload(row.object_key, size=row.size, sha256=row.sha256, content_type=row.content_type, expires_in=URL_TTL)
    return rows


def batch_transaction_per_file(uow: UnitOfWork, store: LocalDiskStore, owner: uuid.UUID, requests: list[UploadRequest]) -> None:
    for row in _signed(uow, store, owner, requests):
        with uow.transaction():
            if uow.users.reserve(owner, row.size):
                uow.uploads.add(row)


def batch_one_transaction_statements_per_file(
    uow: UnitOfWork, store: LocalDiskStore, owner: uuid.UUID, requests: list[UploadRequest]
) -> None:
    rows = _signed(uow, store, owner, requests)
    with uow.transaction():
        for row in rows:
            if uow.users.reserve(owner, row.size):
                uow.uploads.add(row)


def batch_service(uow: UnitOfWork, store: LocalDiskStore, owner: uuid.UUID, requests: list[UploadRequest]) -> None:
    outcomes = uploads.request_uploads(uow, store, owner_id=owner, requests=requests, url_ttl_seconds=URL_TTL)
    assert all(isinstance(o, uploads.UploadGranted) for o in outcomes)


STRATEGIES: dict[str, Callable] = {
    "100 single grants (`request_upload` x 100: 100 transactions)": single_grants,
    "batch, a transaction per file (100 commits, 200 statements)": batch_transaction_per_file,
    "batch, one transaction, two statements per file (1 commit, 200 statements)": batch_one_transaction_statements_per_file,
    "**`request_uploads`**: one transaction (lock, 1 update, 1 pipelined insert)": batch_service,
}


def new_owner(conn: psycopg.Connection) -> uuid.UUID:
    owner = uuid.uuid4()
    conn.execute("INSERT INTO users (id, email, storage_quota) VALUES (%s, %s, %s)", (owner, f"{owner}@bench", 10**15))
    return owner


def measure_transactions(database_url: str, store: LocalDiskStore, rounds: int) -> tuple[dict, dict]:
    """Median seconds per 100-file batch, alone and with 4 batches of the same user at once."""
    alone: dict[str, list[float]] = {name: [] for name in STRATEGIES}
    contended: dict[str, list[float]] = {name: [] for name in STRATEGIES}
    connections = [psycopg.connect(database_url, autocommit=True, row_factory=dict_row, prepare_threshold=None) for _ in range(4)]
    try:
        for round_number in range(rounds + 1):  # the first round warms up and is not counted
            for name, strategy in STRATEGIES.items():
                owner = new_owner(connections[0])
                started = time.perf_counter()
                strategy(UnitOfWork(connections[0]), store, owner, requests_for(f"{round_number}/{name}/alone"))
                elapsed = time.perf_counter() - started
                owner = new_owner(connections[0])
                barrier = threading.Barrier(4)

                def one(index: int, owner=owner, name=name, strategy=strategy) -> None:
                    batch = requests_for(f"{round_number}/{name}/{index}")
                    barrier.wait()
                    strategy(UnitOfWork(connections[index]), store, owner, batch)

                started = time.perf_counter()
                with ThreadPoolExecutor(4) as pool:
                    list(pool.map(one, range(4)))
                together = time.perf_counter() - started
                if round_number:
                    alone[name].append(elapsed)
                    contended[name].append(together)
    finally:
        for conn in connections:
            conn.close()
    return alone, contended


def measure_round_trips(base_url: str, rounds: int) -> tuple[list[float], list[float]]:
    """Seconds for 100 grants: one POST /uploads each, and one POST /uploads/batch."""
    singles, batches = [], []
    with httpx.Client(base_url=base_url, timeout=60) as http:
        token = http.post("/auth/dev/login", json={"email": "bench-round-trips@example.com"}).json()["access_token"]
        http.headers["Authorization"] = f"Bearer {token}"
        for round_number in range(rounds + 1):
            files = [{"filename": r.filename, "content_type": r.content_type, "size": r.size, "sha256": r.sha256}
                     for r in requests_for(f"http/{round_number}/single")]
            started = time.perf_counter()
            for body in files:
                assert http.post("/uploads", json=body).status_code == 201
            single = time.perf_counter() - started
            files = [{"filename": r.filename, "content_type": r.content_type, "size": r.size, "sha256": r.sha256}
                     for r in requests_for(f"http/{round_number}/batch")]
            started = time.perf_counter()
            answer = http.post("/uploads/batch", json={"files": files})
            batch = time.perf_counter() - started
            assert answer.status_code == 200 and all(r["status"] == "pending" for r in answer.json()["results"])
            if round_number:
                singles.append(single)
                batches.append(batch)
    return singles, batches


def make_small_photos(folder: Path, count: int) -> int:
    """`count` distinct 320 x 240 camera JPEGs (EXIF capture times differ); returns total bytes."""
    from tests.support.images import make_jpeg

    folder.mkdir(parents=True)
    total = 0
    for n in range(count):
        data = make_jpeg(320, 240, taken_at=datetime(2021, 6, 1, 8, 0) + timedelta(minutes=n))
        (folder / f"IMG_{n:05}.jpg").write_bytes(data)
        total += len(data)
    return total


def one_file_at_a_time(client, folder: Path, cache, jobs: int) -> None:
    """The backup before batch grants: hash every file, one lookup, then `jobs` workers each taking
    a file through `POST /uploads`, its PUT and polling `GET /uploads/{id}` until it is finalized."""
    from photosync.client.library import scan

    by_hash = {}
    for file in scan([folder]).media:
        by_hash.setdefault(cache.sha256(file), file)
    on_server = client.lookup(list(by_hash))
    to_upload = [(digest, file) for digest, file in by_hash.items() if digest not in on_server.found]
    with ThreadPoolExecutor(jobs) as pool:
        results = list(pool.map(
            lambda item: client.upload_file(item[1].path, content_type=item[1].content_type, sha256=item[0]), to_upload
        ))
    assert not any(result.duplicate for result in results)


def with_batch_grants(client, folder: Path, cache, jobs: int) -> None:
    from photosync.client.backup import backup

    report = backup(client, [folder], cache, jobs=jobs)
    assert report.ok and not report.already_backed_up, report.failed[:3]


def server_floor(client, folder: Path, cache, jobs: int) -> float:
    """What no backup can skip on this server: the grants (in batches), the PUTs (`jobs` at a time)
    and the server finalizing them, hashes known beforehand; lookups until all are complete."""
    from photosync.client import FileToUpload
    from photosync.client.library import scan

    media = scan([folder]).media
    files = [(FileToUpload(f.path.name, f.content_type, f.size, cache.sha256(f)), f) for f in media]
    started = time.perf_counter()
    grants = []
    for start in range(0, len(files), BATCH):
        grants += client.request_uploads([request for request, _ in files[start:start + BATCH]])
    with ThreadPoolExecutor(jobs) as pool:
        list(pool.map(lambda pair: client.send_upload(pair[0], pair[1][1].path, pair[1][1].size), zip(grants, files)))
    while len(client.lookup([request.sha256 for request, _ in files]).found) < len(files):
        time.sleep(0.05)
    return time.perf_counter() - started


BACKUPS = {
    "one file at a time (before: grant, send, wait for finalize per file)": one_file_at_a_time,
    "**`backup()` with batch grants** (pipelined)": with_batch_grants,
    "floor: batch grants, PUTs and finalize alone (hashes known, nothing else)": server_floor,
}


def measure_backups(base_url: str, folder: Path, scratch: Path, jobs: int, rounds: int) -> dict[str, list[float]]:
    """Seconds until every file is acknowledged complete, each run into a fresh account."""
    from photosync.client import PhotoSyncClient
    from photosync.client.library import HashCache

    timings: dict[str, list[float]] = {name: [] for name in BACKUPS}
    for round_number in range(rounds):
        for name, run in BACKUPS.items():
            with PhotoSyncClient(base_url) as client:
                client.access_token = client.dev_login(f"bench-backup-{uuid.uuid4().hex[:12]}@example.com").access_token
                with HashCache(scratch / f"hashes-{uuid.uuid4().hex}.sqlite3") as cache:  # every run hashes
                    started = time.perf_counter()
                    floor = run(client, folder, cache, jobs)
                    timings[name].append(floor if floor is not None else time.perf_counter() - started)
                assert len(list(client.iter_photos())) == len(list(folder.iterdir()))
    return timings


def timed_command(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--files", type=int, default=500, help="small photos in the backed-up folder")
    parser.add_argument("--jobs", type=int, default=4)
    parser.add_argument("--backup-rounds", type=int, default=1)
    parser.add_argument("--no-write", action="store_true", help="print the figures only")
    args = parser.parse_args()
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())

    from tests.support.server import start_server

    with tempfile.TemporaryDirectory(prefix="bench-batch-grants-") as scratch:
        root = Path(scratch)
        database = PrivatePostgres(root / "pgdata")
        database.start()
        try:
            with psycopg.connect(database.url, autocommit=True) as conn:
                apply_migrations(conn)
            store = LocalDiskStore(root / "data", public_url="http://127.0.0.1:9")
            alone, contended = measure_transactions(database.url, store, args.rounds)
        finally:
            database.stop()
        folder = root / "small-photos"
        total_bytes = make_small_photos(folder, args.files)
        hash_seconds = timed_command(["sha256sum", *sorted(map(str, folder.iterdir()))])
        copy_seconds = timed_command(["cp", "-r", str(folder), str(root / "copy")])
        server = start_server(root / "server")
        try:
            singles, batches = measure_round_trips(server.base_url, args.rounds)
            backups = measure_backups(server.base_url, folder, root, args.jobs, args.backup_rounds)
        finally:
            server.stop()

    fastest = min(alone, key=lambda name: statistics.median(alone[name]))
    before, after, floor = (statistics.median(backups[name]) for name in BACKUPS)
    backup_rows = "\n".join(
        f"| {name} | {statistics.median(times):.2f} s | {args.files / statistics.median(times):.0f} |" for name, times in backups.items()
    )
    rows = "\n".join(
        f"| {name} | {ms(alone[name])} | {BATCH / statistics.median(alone[name]):,.0f} | {ms(contended[name])} | "
        f"{4 * BATCH / statistics.median(contended[name]):,.0f} |"
        for name in STRATEGIES
    )
    section = f"""## Batch grants (`bench/bench_batch_grants.py`)

- Date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC
- Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, load average at start {load}. Shared with other jobs: read the ratios, not the absolute times.
- PostgreSQL: a private server with `photosync serve`'s settings (fsync and synchronous commit on), on this machine's disk; the local store signs the URLs. Medians of {args.rounds} rounds (after one warm-up), the ways taking turns in each round.

### One transaction per file, or one for the batch

| 100 files granted by | one batch | files/s | 4 batches of one user at once | files/s |
|---|---|---|---|---|
{rows}

- Fastest alone: {fastest.replace("**", "")}. One transaction per file pays a commit (a WAL flush) per file; one transaction with a statement pair per file still pays 200 round trips to the database while it holds the user's row lock, which is what serialises concurrent batches of one user.
- Chosen: `request_uploads`. Its transaction is three statements long whatever the batch size, so the row lock it takes (which also orders the reservations: a quota running out refuses the later files) is held for the shortest time.

### Round trips: 100 grants over HTTP (`photosync serve`, one client, keep-alive)

| what | time for 100 grants |
|---|---|
| 100 x `POST /uploads` | {ms(singles)} |
| 1 x `POST /uploads/batch` | {ms(batches)} |

- Ratio: **{statistics.median(singles) / statistics.median(batches):.1f}x** fewer seconds per grant with a batch.

### Backup of a folder of small files

{args.files} distinct camera JPEGs of 320 x 240 ({total_bytes / args.files / 1024:.0f} kB each, {total_bytes / 1024**2:.1f} MiB in all), `--jobs {args.jobs}`, each run into a fresh account of one `photosync serve` on this machine (the server makes each photo's renditions as it finalizes it), hashes not cached. Timed until every file is acknowledged `complete`{"" if args.backup_rounds == 1 else f"; median of {args.backup_rounds} rounds"}.

| what | time | photos/s |
|---|---|---|
{backup_rows}
| baseline: `sha256sum` + `cp -r` of the folder | {hash_seconds + copy_seconds:.2f} s ({hash_seconds:.2f} + {copy_seconds:.2f}) | {args.files / (hash_seconds + copy_seconds):.0f} |

- Ratio before / after: **{before / after:.1f}x**; after / floor: {after / floor:.2f}x; after / baseline: {after / (hash_seconds + copy_seconds):.0f}x.
- Before, each worker spent a grant, a PUT and at least one status poll (50 ms first wait) per file, one file after another. After, 100 files take one grant request, the workers only send bytes, and one lookup confirms up to 1000 finalized uploads. The floor row is the server alone (grant, PUT, finalize) with nothing of the client's: the backup takes {after / floor:.2f}x its time, so what remains is the server's finalize (checks, metadata, and until renditions leave it, the thumbnail and preview), which the renditions queue of issue 12 takes out.

Reproduce: `.venv/bin/python -m bench.bench_batch_grants --rounds {args.rounds} --files {args.files} --jobs {args.jobs} --backup-rounds {args.backup_rounds}` (from the repository root).
"""
    print(section)
    if not args.no_write:
        write_section("bench_batch_grants", section)


if __name__ == "__main__":
    if shutil.which("sha256sum") is None:
        sys.exit("sha256sum (coreutils) is needed for the baseline")
    main()

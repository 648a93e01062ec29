"""Albums at scale (issue #12, target 3): album pages of a 500k-photo album next to a 1k-photo album
in the same 1M-photo library, `GET /albums` with 1,000 albums (one of 500k photos) next to a
library of 10 small albums and one of 1,000 small albums, `GET /photos?limit=500`, and what
pre-signing two URLs per photo costs on a 500-photo page (S3 store against moto, and the local
store), the client's generate_presigned_url next to the store's signer.

Run from the repository root (defaults are the issue's sizes; pass smaller ones for a quick run):

    .venv/bin/python -m bench.bench_albums [--photos 1000000] [--huge 500000] [--runs 200]

Libraries are made directly in a private PostgreSQL with generate_series. Every call goes through the
real Lambda handler with the API Gateway event it gets, JSON and signed URLs included.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
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

SMALL_ALBUM = 1_000
FILLER_ALBUMS = 998  # with the huge and the 1k album: 1,000 albums
FILLER_SIZE = 5
FEW_ALBUMS, FEW_SIZE = 10, 100


def make_photos(conn: psycopg.Connection, owner: uuid.UUID, photos: int) -> None:
    """`photos` photos with renditions; one in ten has no date taken (sorted by upload time)."""
    conn.execute("INSERT INTO users (id, email, storage_quota) VALUES (%s, 'bench@example.com', 0)", (owner,))
    conn.execute(
        """
        INSERT INTO photos (id, owner_id, object_key, filename, content_type, size, sha256, uploaded_at,
                            taken_at, width, height, camera_make, camera_model, thumbnail_key, preview_key, renditions)
        SELECT id, %(owner)s, 'originals/' || %(owner)s || '/' || id, 'IMG_' || i || '.JPG', 'image/jpeg',
               2000000 + i, encode(sha256(convert_to(id::text, 'UTF8')), 'hex'), now() - i * interval '1 minute',
               CASE WHEN i %% 10 <> 0 THEN now() - i * interval '1 hour' END, 4032, 3024, 'Apple', 'iPhone 13 Pro',
               'thumbnails/' || %(owner)s || '/' || id || '.webp', 'previews/' || %(owner)s || '/' || id || '.webp', 'ready'
        FROM (SELECT i, md5(%(owner)s::text || i)::uuid AS id FROM generate_series(1, %(n)s) AS i) numbered
        """,
        {"owner": owner, "n": photos},
    )
    conn.execute(
        "UPDATE users SET storage_quota = (SELECT sum(size) FROM photos WHERE owner_id = %(owner)s), "
        "storage_used = (SELECT sum(size) FROM photos WHERE owner_id = %(owner)s) WHERE id = %(owner)s",
        {"owner": owner},
    )


def make_album(conn: psycopg.Connection, owner: uuid.UUID, name: str, first: int, step: int, count: int) -> uuid.UUID:
    """An album of photos number first, first + step, ... (`count` of them), as the application
    stores memberships (the photo's timeline key copied) and counts them."""
    album = uuid.uuid4()
    conn.execute("INSERT INTO albums (id, owner_id, name) VALUES (%s, %s, %s)", (album, owner, name))
    conn.execute(
        "INSERT INTO album_photos (album_id, photo_id, sort_at) SELECT %(album)s, p.id, p.sort_at "
        "FROM generate_series(0, %(count)s - 1) AS k JOIN photos p ON p.id = md5(%(owner)s::text || (%(first)s + k * %(step)s))::uuid",
        {"album": album, "owner": owner, "first": first, "step": step, "count": count},
    )
    conn.execute(
        "UPDATE albums SET photo_count = (SELECT count(*) FROM album_photos WHERE album_id = %(album)s) WHERE id = %(album)s",
        {"album": album},
    )
    return album


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def timed(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def member_cursors(conn: psycopg.Connection, album: uuid.UUID, samples: int, rng: random.Random) -> list[str | None]:
    """Cursors at random places of the album (and its first page), as a user scrolling anywhere."""
    from photosync.domain.cursor import TimelinePosition, encode_cursor

    rows = conn.execute(
        "SELECT sort_at, photo_id FROM album_photos WHERE album_id = %s AND NOT hidden", (album,)
    ).fetchall()
    picked = [rng.choice(rows) for _ in range(samples - 1)]
    return [None, *(encode_cursor(TimelinePosition(r["sort_at"], r["photo_id"])) for r in picked)]


def old_album_page(conn: psycopg.Connection, owner: uuid.UUID, album: uuid.UUID, cursor: str | None) -> float:
    """The album page query before this change (join, then sort by the photos' key), for scale."""
    from photosync.domain.cursor import decode_cursor

    after = decode_cursor(cursor) if cursor else None
    resume = "AND (p.sort_at, p.id) < (%(sort_at)s, %(id)s)" if after else ""
    return timed(lambda: conn.execute(
        "SELECT p.* FROM photos p JOIN album_photos ap ON ap.photo_id = p.id AND ap.album_id = %(album)s "
        f"WHERE p.owner_id = %(owner)s AND p.trashed_at IS NULL {resume} ORDER BY p.sort_at DESC, p.id DESC LIMIT 101",
        {"album": album, "owner": owner, "sort_at": after.sort_at if after else None, "id": after.photo_id if after else None},
    ).fetchall())


def use_store(kind: str, moto_url: str | None = None, bucket: str | None = None) -> None:
    """Point the handlers' environment at the local store or at S3 (moto)."""
    from photosync.config import settings
    from photosync.handlers import environment

    if kind == "s3":
        os.environ.update({"PHOTOSYNC_STORE": "s3", "PHOTOSYNC_S3_BUCKET": bucket, "PHOTOSYNC_S3_ENDPOINT_URL": moto_url})
    else:
        os.environ["PHOTOSYNC_STORE"] = "local"
    settings.cache_clear()
    environment.object_store.cache_clear()


def signing_costs(conn: psycopg.Connection, owner: uuid.UUID, runs: int) -> dict[str, list[float]]:
    """Seconds per 500-photo page: reading the rows, and making its 1,000 URLs each way."""
    from photosync.adapters.postgres.unit_of_work import UnitOfWork
    from photosync.handlers import environment
    from photosync.services.photos import photo_views

    ttl = environment.config().download_url_ttl_seconds
    uow = UnitOfWork(conn)
    page = uow.photos.page(owner_id=owner, limit=500, after=None)
    keys = [k for p in page for k in (p.thumbnail_key, p.preview_key)]
    s3_store = environment.object_store()
    use_store("local")
    local_store = environment.object_store()
    out: dict[str, list[float]] = {"rows": [], "botocore": [], "direct": [], "local": []}
    for _ in range(runs):
        out["rows"].append(timed(lambda: uow.photos.page(owner_id=owner, limit=501, after=None)))
        # What presign_download did before: botocore's generate_presigned_url for each URL.
        out["botocore"].append(timed(lambda: [
            s3_store._presign("get_object", {"Bucket": s3_store._bucket, "Key": k, "ResponseContentType": "image/webp"}, ttl)
            for k in keys
        ]))
        out["direct"].append(timed(lambda: photo_views(s3_store, page, ttl)))
        out["local"].append(timed(lambda: photo_views(local_store, page, ttl)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=int, default=1_000_000, help="photos in the library")
    parser.add_argument("--huge", type=int, default=500_000, help="photos in the large album")
    parser.add_argument("--runs", type=int, default=200, help="album pages per album")
    parser.add_argument("--list-runs", type=int, default=40, help="calls per GET /albums and GET /photos?limit=500 case")
    parser.add_argument("--sign-runs", type=int, default=10, help="500-photo pages signed each way")
    parser.add_argument("--no-write", action="store_true", help="print only; leave bench/RESULTS.md alone")
    args = parser.parse_args()
    assert args.huge * 2 <= args.photos, "the large album takes every other photo"

    from moto.server import ThreadedMotoServer

    from photosync.adapters.postgres.migrations import apply_migrations
    from photosync.local.postgres import PrivatePostgres

    load = os.getloadavg()
    rng = random.Random(12)
    with tempfile.TemporaryDirectory(prefix="bench-albums-") as scratch:
        server = PrivatePostgres(Path(scratch) / "pgdata")
        server.start()
        moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        moto.start()
        try:
            host, port = moto.get_host_and_port()
            moto_url = f"http://{host}:{port}"
            os.environ.update({
                "PHOTOSYNC_MODE": "local", "PHOTOSYNC_STORE": "local", "DATABASE_URL": server.url,
                "PHOTOSYNC_DATA_DIR": str(Path(scratch) / "data"), "PHOTOSYNC_PUBLIC_URL": "http://127.0.0.1:9",
                "POWERTOOLS_LOG_LEVEL": "WARNING", "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                "AWS_REGION": "us-east-1",
            })
            import boto3

            boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1").create_bucket(Bucket="bench")
            from tests.support.lambda_api import LambdaApi

            with psycopg.connect(server.url, autocommit=True, row_factory=dict_row, prepare_threshold=None) as conn:
                apply_migrations(conn)
                started = time.perf_counter()
                large, few, many = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
                make_photos(conn, large, args.photos)
                huge = make_album(conn, large, "Everything, every other", 2, 2, args.huge)
                small = make_album(conn, large, "A thousand", 1, args.photos // SMALL_ALBUM, SMALL_ALBUM)
                for n in range(FILLER_ALBUMS):
                    make_album(conn, large, f"Filler {n}", 3 + 2 * n * FILLER_SIZE, 2, FILLER_SIZE)
                make_photos(conn, few, FEW_ALBUMS * FEW_SIZE)
                for n in range(FEW_ALBUMS):
                    make_album(conn, few, f"Few {n}", 1 + n * FEW_SIZE, 1, FEW_SIZE)
                make_photos(conn, many, (FILLER_ALBUMS + 2) * FILLER_SIZE)
                for n in range(FILLER_ALBUMS + 2):
                    make_album(conn, many, f"Many {n}", 1 + n * FILLER_SIZE, 1, FILLER_SIZE)
                conn.execute("VACUUM ANALYZE")
                built = time.perf_counter() - started

                apis = {"large": LambdaApi(large), "few": LambdaApi(few), "many": LambdaApi(many)}
                for api in apis.values():
                    api.ok("GET", "/me")  # provisioned already; warms the handler modules

                # Album pages: the two albums take turns, so a change in the machine's load hits both.
                cursors = {a: member_cursors(conn, a, args.runs, rng) for a in (huge, small)}
                pages: dict[uuid.UUID, list[float]] = {huge: [], small: []}
                for album in (huge, small):  # one warm-up call each
                    apis["large"].ok("GET", "/photos", query={"album_id": str(album)})
                for k in range(args.runs):
                    for album in (huge, small):
                        query = {"album_id": str(album), "cursor": cursors[album][k]}
                        pages[album].append(timed(lambda: apis["large"].ok("GET", "/photos", query=query)))
                old_runs = min(args.runs, 20)
                old = [old_album_page(conn, large, huge, cursors[huge][k]) for k in range(old_runs)]

                # GET /albums: the three libraries take turns.
                listing: dict[str, list[float]] = {name: [] for name in apis}
                for name, api in apis.items():
                    assert len(api.ok("GET", "/albums")["items"]) == {"large": 1000, "few": FEW_ALBUMS, "many": 1000}[name]
                for _ in range(args.list_runs):
                    for name, api in apis.items():
                        listing[name].append(timed(lambda: api.ok("GET", "/albums")))

                # GET /photos?limit=500, local store then S3 (moto), from random places of the timeline.
                timeline = conn.execute(
                    "SELECT sort_at, id FROM photos WHERE owner_id = %s ORDER BY random() LIMIT %s", (large, args.list_runs)
                ).fetchall()
                from photosync.domain.cursor import TimelinePosition, encode_cursor

                starts = [None, *(encode_cursor(TimelinePosition(r["sort_at"], r["id"])) for r in timeline[1:])]
                big_pages: dict[str, list[float]] = {"local": [], "s3": []}
                for store in ("local", "s3"):
                    use_store(store, moto_url, "bench")
                    apis["large"].ok("GET", "/photos", query={"limit": "500"})
                    for cursor in starts:
                        query = {"limit": "500", "cursor": cursor}
                        big_pages[store].append(timed(lambda: apis["large"].ok("GET", "/photos", query=query)))
                use_store("s3", moto_url, "bench")
                costs = signing_costs(conn, large, args.sign_runs)
                # One of the store signer's URLs fetched from moto: it names a real object.
                from photosync.handlers import environment

                use_store("s3", moto_url, "bench")
                s3_store = environment.object_store()
                s3_store.put("thumbnails/check.webp", b"RIFF", content_type="image/webp")
                import httpx

                check_url = s3_store.presign_download("thumbnails/check.webp", expires_in=60).url
                assert httpx.get(check_url).content == b"RIFF", check_url
        finally:
            moto.stop()
            server.stop()

    p50 = {a: statistics.median(v) for a, v in pages.items()}
    p95 = {a: percentile(v, 0.95) for a, v in pages.items()}
    album_ratio, tail_ratio = p50[huge] / p50[small], p95[huge] / p50[huge]
    lists = {name: statistics.median(v) for name, v in listing.items()}
    med = {name: statistics.median(v) for name, v in costs.items()}
    page_s3, page_local = statistics.median(big_pages["s3"]), statistics.median(big_pages["local"])
    verdict = lambda ok: "met" if ok else "**not met**"  # noqa: E731
    date = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    full = (args.photos, args.huge) == (1_000_000, 500_000)
    section = f"""## Albums at scale (`bench/bench_albums.py`)

- Date: {date}
- Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, load average at start {load[0]:.1f}, {load[1]:.1f}, {load[2]:.1f}. Shared with other jobs: read the ratios, not the absolute times.
- Library: **{args.photos:,} photos**{"" if full else " (smaller than issue #12's 1M / 500k: rerun with the defaults)"} (one in ten without a date taken), 1,000 albums: one of **{args.huge:,}** photos, one of {SMALL_ALBUM:,} spread over the library, {FILLER_ALBUMS} of {FILLER_SIZE}. Also a library of {FEW_ALBUMS} albums of {FEW_SIZE} photos and one of 1,000 albums of {FILLER_SIZE}. Built with generate_series in {built:.0f} s, then VACUUM ANALYZE.
- Every call goes through the Lambda handler (API Gateway v2 event, JSON, signed URLs), local store unless said otherwise, against a private PostgreSQL on this machine.

| what | p50 | p95 | target | |
|---|---|---|---|---|
| album page (100 photos) of the {args.huge:,}-photo album, {args.runs} calls from random places | {ms(p50[huge])} | {ms(p95[huge])} | p95 within 3x of its p50: **{tail_ratio:.2f}x** | {verdict(tail_ratio <= 3)} |
| album page of the {SMALL_ALBUM:,}-photo album, same library, taking turns | {ms(p50[small])} | {ms(p95[small])} | large / small p50 within 1.5x: **{album_ratio:.2f}x** | {verdict(album_ratio <= 1.5)} |
| the former album query (join, sort by the photos' key) on the {args.huge:,}-photo album, SQL alone, {old_runs} calls | {ms(statistics.median(old))} | {ms(percentile(old, 0.95))} | for scale | |
| `GET /albums`, 1,000 albums, one of {args.huge:,} | {ms(lists["large"])} | {ms(percentile(listing["large"], 0.95))} | within 1.5x of 10 small albums: **{lists["large"] / lists["few"]:.2f}x** | {verdict(lists["large"] / lists["few"] <= 1.5)} |
| `GET /albums`, 10 albums of {FEW_SIZE} | {ms(lists["few"])} | {ms(percentile(listing["few"], 0.95))} | | |
| `GET /albums`, 1,000 albums of {FILLER_SIZE} | {ms(lists["many"])} | {ms(percentile(listing["many"], 0.95))} | the 500k album's effect: **{lists["large"] / lists["many"]:.2f}x** of this | |
| `GET /photos?limit=500`, local store, {args.list_runs} calls from random places | {ms(page_local)} | {ms(percentile(big_pages["local"], 0.95))} | reported | |
| `GET /photos?limit=500`, S3 store (moto) | {ms(page_s3)} | {ms(percentile(big_pages["s3"], 0.95))} | reported | |

Pre-signing on a 500-photo page (1,000 URLs), medians of {args.sign_runs}, next to reading the page's rows:

| part | time per page | per URL |
|---|---|---|
| the page's rows from PostgreSQL | {ms(med["rows"])} | |
| S3: botocore `generate_presigned_url` per URL (what the store did before) | {ms(med["botocore"])} | {med["botocore"] * 1000:.1f} µs |
| S3: the store's signer (botocore's SigV4 query signer, `S3SigV4QueryAuth`, without the client's per-request pipeline) | {ms(med["direct"])} | {med["direct"] * 1000:.1f} µs |
| local store (HMAC) | {ms(med["local"])} | {med["local"] * 1000:.1f} µs |

- Signing with botocore was {med["botocore"] / med["rows"]:.0f}x the database's share of a 500-photo page; the store's signer is {med["botocore"] / med["direct"]:.0f}x faster than the client's `generate_presigned_url` and makes the same URLs (tests/unit/test_s3_signing.py; LocalStack accepts them and refuses altered ones, tests/integration/test_s3_integrity.py).
- The handler rows include everything a call does: 200 signed URLs and the JSON of 100 photos; the former query's row is its SQL alone, so it is no baseline for them (with half the library in that album, walking the timeline finds 100 members quickly).
- An album page reads one range of `album_photos_timeline_idx` (album_id, sort_at desc, photo_id desc; trashed members are not in it) and each photo by its key; `GET /albums` reads each album's kept `photo_count` and its cover as the first entry of that index, so neither grows with album sizes. Listing 1,000 albums against 10 costs what 100 times the albums cost (rows, JSON and a signed cover URL each): the 1.5x target holds against the library of 1,000 small albums (the 500k album's effect), not against 10 albums.

Reproduce: `.venv/bin/python -m bench.bench_albums --photos {args.photos} --huge {args.huge} --runs {args.runs} --list-runs {args.list_runs} --sign-runs {args.sign_runs}` (from the repository root).
"""
    print(section)
    if not args.no_write:
        write_section("bench_albums", section)


if __name__ == "__main__":
    sys.exit(main())

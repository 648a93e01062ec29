"""Fixtures shared by every layer of tests: one throwaway PostgreSQL for the session (started by the
suite itself, never mocked), a clean schema per test, and the local object store on a temp dir."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.rows import dict_row

from photosync.adapters.objectstore.local_disk import LocalDiskStore
from photosync.adapters.postgres.migrations import apply_migrations
from photosync.adapters.postgres.unit_of_work import UnitOfWork
from photosync.local.postgres import PrivatePostgres
from tests.support.server import ServerProcess, start_server

# The moto S3 server fixtures, for the S3 store and full-flow tests; LocalStack's S3, for what S3
# itself must refuse; the one Chromium of the browser tests.
pytest_plugins = ["tests.support.moto_server", "tests.support.localstack_server", "tests.support.chromium"]

REPO_ROOT = Path(__file__).resolve().parents[1]
REAL_PHOTOS = Path(os.environ.get("PHOTOSYNC_REAL_PHOTOS", REPO_ROOT.parent / "shared" / "testdata" / "real-photos"))
TABLES = "changes, deleted_content, object_deletions, album_photos, albums, photos, pending_uploads, users"


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivatePostgres]:
    server = PrivatePostgres(tmp_path_factory.mktemp("session-postgres") / "pgdata")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def database_url(postgres_server: PrivatePostgres) -> str:
    with psycopg.connect(postgres_server.url, autocommit=True) as conn:
        apply_migrations(conn)
    return postgres_server.url


@pytest.fixture
def db(database_url: str) -> Iterator[psycopg.Connection]:
    """A connection to a database emptied before the test; after it, the money rules must hold."""
    conn = psycopg.connect(database_url, autocommit=True, row_factory=dict_row, prepare_threshold=None)
    conn.execute(f"TRUNCATE {TABLES} CASCADE")
    yield conn
    try:
        assert_money_invariants(conn)
        assert_album_invariants(conn)
    finally:
        conn.close()


@pytest.fixture
def uow(db: psycopg.Connection) -> UnitOfWork:
    return UnitOfWork(db)


@pytest.fixture
def store(tmp_path: Path) -> LocalDiskStore:
    return LocalDiskStore(tmp_path / "data", public_url="http://127.0.0.1:9")


@pytest.fixture
def real_photos() -> Path:
    assert REAL_PHOTOS.is_dir(), f"real test photos not found at {REAL_PHOTOS} (set PHOTOSYNC_REAL_PHOTOS)"
    return REAL_PHOTOS


def new_user(uow: UnitOfWork, *, quota: int = 10**9, email: str | None = None) -> uuid.UUID:
    user_id = uuid.uuid4()
    with uow.transaction():
        uow.users.insert_if_missing(user_id, email or f"{user_id}@example.com", quota)
    return user_id


def assert_money_invariants(conn: psycopg.Connection) -> None:
    """storage_used is the sum of the user's photo sizes, trash included; storage_pending the sum of
    live reservations; no change number beyond the user's counter."""
    broken = conn.execute(
        """
        SELECT u.id, u.storage_quota, u.storage_used, u.storage_pending, u.change_seq,
               COALESCE((SELECT sum(size) FROM photos p WHERE p.owner_id = u.id), 0) AS photo_bytes,
               COALESCE((SELECT sum(size) FROM photos p
                         WHERE p.owner_id = u.id AND p.trashed_at IS NOT NULL), 0) AS trash_bytes,
               COALESCE((SELECT sum(size) FROM pending_uploads q
                         WHERE q.owner_id = u.id AND q.status = 'pending'), 0) AS pending_bytes,
               COALESCE((SELECT max(seq) FROM changes c WHERE c.owner_id = u.id), 0) AS last_change
        FROM users u
        """
    ).fetchall()
    for row in broken:
        assert row["storage_used"] == row["photo_bytes"], row
        assert row["trash_bytes"] <= row["storage_used"], row
        assert row["storage_pending"] == row["pending_bytes"], row
        assert row["storage_used"] + row["storage_pending"] <= row["storage_quota"], row
        assert row["last_change"] <= row["change_seq"], row


def assert_album_invariants(conn: psycopg.Connection) -> None:
    """Each album's kept photo_count is a recount of its memberships whose photo is outside the
    trash, and each membership's copies of its photo's timeline key and trash state match the photo."""
    miscounted = conn.execute(
        "SELECT a.id, a.photo_count, (SELECT count(*) FROM album_photos ap JOIN photos p ON p.id = ap.photo_id "
        " WHERE ap.album_id = a.id AND p.trashed_at IS NULL) AS recount FROM albums a"
    ).fetchall()
    assert [row for row in miscounted if row["photo_count"] != row["recount"]] == []
    stale = conn.execute(
        "SELECT ap.album_id, ap.photo_id, ap.sort_at, p.sort_at AS photo_sort_at, ap.hidden, p.trashed_at "
        "FROM album_photos ap JOIN photos p ON p.id = ap.photo_id "
        "WHERE ap.sort_at <> p.sort_at OR ap.hidden <> (p.trashed_at IS NOT NULL)"
    ).fetchall()
    assert stale == []


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One real `photosync serve` with its own PostgreSQL and data directory, shared by the end-to-end
    and security suites; each test signs in as its own user."""
    process = start_server(tmp_path_factory.mktemp("e2e") / "data")
    yield process
    process.stop()

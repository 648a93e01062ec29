"""The deploy-time migrations: the CloudFormation custom resource handler, end to end.

Each test sends the handler the event CloudFormation sends, on a database of its own that starts
empty, and reads the answer where CloudFormation would: a PUT to the event's pre-signed
`ResponseURL`, here served by a small HTTP server on 127.0.0.1.
"""

from __future__ import annotations

import json
import queue
import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import quote

import psycopg
import pytest
from psycopg import sql
from psycopg.rows import dict_row

from photosync.adapters.postgres.migrations import MIGRATION_LOCK_ID, apply_migrations, available_migrations
from photosync.adapters.postgres.unit_of_work import UnitOfWork
from photosync.config import settings
from photosync.handlers import migrate
from photosync.local.lambda_runtime import LocalLambdaContext
from photosync.local.postgres import PrivatePostgres
from photosync.services import trash

REGION = "us-east-1"
ACCOUNT = "123456789012"
STACK_ID = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/photosync/4f1d7a60-8c2b-11ef-9c3e-0affd3b6c1a5"
SERVICE_TOKEN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:photosync-MigrateFunction-Xc81QjR2b7Lm"
LOGICAL_ID = "DatabaseMigrations"
APP_TABLES = {
    "users", "pending_uploads", "photos", "albums", "album_photos", "object_deletions", "deleted_content", "changes",
    "album_members", "album_links",
}
# Long enough for any answer on this machine; a missing answer fails the test instead of hanging it.
ANSWER_WAIT_SECONDS = 60


@dataclass(frozen=True)
class CloudFormationAnswer:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


class _ResponseBucket(BaseHTTPRequestHandler):
    """Stands in for the S3 bucket behind CloudFormation's pre-signed response URLs."""

    answers: queue.Queue[CloudFormationAnswer]

    def do_PUT(self) -> None:  # noqa: N802 - the name http.server dispatches to
        raw = self.rfile.read(int(self.headers["Content-Length"]))
        self.answers.put(CloudFormationAnswer("PUT", self.path, dict(self.headers.items()), json.loads(raw)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


class ResponseEndpoint:
    def __init__(self) -> None:
        self.answers: queue.Queue[CloudFormationAnswer] = queue.Queue()
        handler = type("ResponseBucket", (_ResponseBucket,), {"answers": self.answers})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> ResponseEndpoint:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def response_url(self, request_id: str) -> str:
        """Shaped like CloudFormation's: the stack, resource and request in the key, SigV4 in the query."""
        host, port = self._server.server_address[:2]
        key = quote(f"{STACK_ID}|{LOGICAL_ID}|{request_id}", safe="")
        return (
            f"http://{host}:{port}/cloudformation-custom-resource-response-useast1/{key}"
            "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20250114T101500Z&X-Amz-SignedHeaders=host"
            f"&X-Amz-Expires=7200&X-Amz-Credential=AKIA6EXAMPLE%2F20250114%2F{REGION}%2Fs3%2Faws4_request"
            "&X-Amz-Signature=" + "0f" * 32
        )

    def next_answer(self) -> CloudFormationAnswer:
        return self.answers.get(timeout=ANSWER_WAIT_SECONDS)

    def assert_no_more_answers(self) -> None:
        assert self.answers.empty(), self.answers.get_nowait()


@pytest.fixture
def cloudformation() -> Iterator[ResponseEndpoint]:
    with ResponseEndpoint() as endpoint:
        yield endpoint


@pytest.fixture
def fresh_database(postgres_server: PrivatePostgres) -> Iterator[str]:
    """A new, empty database on the session's server, as a new deployment's RDS instance has."""
    name = f"migrate_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(postgres_server.url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield psycopg.conninfo.make_conninfo(postgres_server.url, dbname=name)
    with psycopg.connect(postgres_server.url, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def migrate_function(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """The migrate function's environment as deployed; each test sets DATABASE_URL through it."""
    monkeypatch.setenv("PHOTOSYNC_MODE", "aws")
    monkeypatch.setenv("PHOTOSYNC_STORE", "s3")
    monkeypatch.setenv("PHOTOSYNC_S3_BUCKET", f"photosync-photos-{ACCOUNT}")
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "WARNING")
    for name in ("PHOTOSYNC_DB_SECRET_ARN", "PHOTOSYNC_DB_HOST", "PHOTOSYNC_DATA_DIR", "PHOTOSYNC_PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)
    settings.cache_clear()
    yield monkeypatch
    settings.cache_clear()


def use_database(function_env: pytest.MonkeyPatch, url: str) -> None:
    function_env.setenv("DATABASE_URL", url)
    settings.cache_clear()


def custom_resource_event(
    endpoint: ResponseEndpoint, request_type: str, *, physical_id: str | None = None, code_version: str = "1"
) -> dict[str, Any]:
    request_id = str(uuid.uuid4())
    properties = {"ServiceToken": SERVICE_TOKEN, "ServiceTimeout": "600", "CodeVersion": code_version}
    event: dict[str, Any] = {
        "RequestType": request_type,
        "ServiceToken": SERVICE_TOKEN,
        "ResponseURL": endpoint.response_url(request_id),
        "StackId": STACK_ID,
        "RequestId": request_id,
        "LogicalResourceId": LOGICAL_ID,
        "ResourceType": "Custom::DatabaseMigrations",
        "ResourceProperties": properties,
    }
    if physical_id is not None:
        event["PhysicalResourceId"] = physical_id
    if request_type == "Update":
        event["OldResourceProperties"] = {**properties, "CodeVersion": str(int(code_version) - 1)}
    return event


def invoke(event: dict[str, Any], *, timeout_seconds: int = 300) -> None:
    assert migrate.handler(event, LocalLambdaContext("photosync-MigrateFunction", timeout_seconds)) is None


def assert_answers(answer: CloudFormationAnswer, event: dict[str, Any], status: str) -> None:
    """The response CloudFormation accepts: to the URL it gave, for this request, about this resource."""
    assert answer.method == "PUT"
    assert event["ResponseURL"].endswith(answer.path)
    # The pre-signed URL was signed without a content type; any other value would break the signature.
    assert answer.headers.get("Content-Type") == ""
    body = answer.body
    assert body["Status"] == status, body
    assert body["StackId"] == event["StackId"]
    assert body["RequestId"] == event["RequestId"]
    assert body["LogicalResourceId"] == event["LogicalResourceId"]
    assert body["PhysicalResourceId"] == event.get("PhysicalResourceId", migrate.PHYSICAL_RESOURCE_ID)
    assert body["Reason"]
    assert len(json.dumps(body).encode("utf-8")) <= 4096


def schema_of(url: str) -> tuple[set[str], list[tuple[str, Any]]]:
    """(tables in the public schema, the schema_migrations rows)."""
    with psycopg.connect(url, autocommit=True) as conn:
        tables = {row[0] for row in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        )}
        migrations = []
        if "schema_migrations" in tables:
            migrations = conn.execute("SELECT name, applied_at FROM schema_migrations ORDER BY name").fetchall()
    return tables, migrations


def test_create_applies_every_migration_to_an_empty_database(
    cloudformation: ResponseEndpoint, fresh_database: str, migrate_function: pytest.MonkeyPatch
) -> None:
    use_database(migrate_function, fresh_database)
    assert schema_of(fresh_database) == (set(), [])
    event = custom_resource_event(cloudformation, "Create")

    invoke(event)

    answer = cloudformation.next_answer()
    assert_answers(answer, event, "SUCCESS")
    expected = [name for name, _ in available_migrations()]
    assert answer.body["PhysicalResourceId"] == "photosync-database-migrations"
    assert answer.body["Data"] == {"AppliedCount": str(len(expected))}
    tables, migrations = schema_of(fresh_database)
    assert tables == APP_TABLES | {"schema_migrations"}
    assert [name for name, _ in migrations] == expected
    cloudformation.assert_no_more_answers()


def test_a_repeated_create_and_an_update_change_nothing_and_succeed(
    cloudformation: ResponseEndpoint, fresh_database: str, migrate_function: pytest.MonkeyPatch
) -> None:
    use_database(migrate_function, fresh_database)
    invoke(custom_resource_event(cloudformation, "Create"))
    assert cloudformation.next_answer().body["Status"] == "SUCCESS"
    after_create = schema_of(fresh_database)
    with psycopg.connect(fresh_database, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO users (id, email, storage_quota) VALUES (%s, %s, %s)",
            (uuid.uuid4(), "kept@example.com", 10**9),
        )

    # CloudFormation retries a Create whose answer it did not see; a code change sends an Update.
    retried = custom_resource_event(cloudformation, "Create")
    invoke(retried)
    assert_answers(cloudformation.next_answer(), retried, "SUCCESS")
    update = custom_resource_event(
        cloudformation, "Update", physical_id=migrate.PHYSICAL_RESOURCE_ID, code_version="2"
    )
    invoke(update)
    answer = cloudformation.next_answer()

    assert_answers(answer, update, "SUCCESS")
    # The same physical id: CloudFormation must not see a replacement (it would send a Delete).
    assert answer.body["PhysicalResourceId"] == migrate.PHYSICAL_RESOURCE_ID
    assert answer.body["Data"] == {"AppliedCount": "0"}
    assert schema_of(fresh_database) == after_create
    with psycopg.connect(fresh_database, autocommit=True) as conn:
        assert conn.execute("SELECT email FROM users").fetchall() == [("kept@example.com",)]
    cloudformation.assert_no_more_answers()


def test_delete_leaves_the_database_alone_and_succeeds(
    cloudformation: ResponseEndpoint, fresh_database: str, migrate_function: pytest.MonkeyPatch
) -> None:
    use_database(migrate_function, fresh_database)
    event = custom_resource_event(cloudformation, "Delete", physical_id=migrate.PHYSICAL_RESOURCE_ID)

    invoke(event)

    answer = cloudformation.next_answer()
    assert_answers(answer, event, "SUCCESS")
    assert answer.body["Data"] == {}
    assert schema_of(fresh_database) == (set(), [])
    cloudformation.assert_no_more_answers()


def unused_local_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("request_type", ["Create", "Update"])
@pytest.mark.parametrize("broken", ["missing database", "nothing listening"])
def test_an_unreachable_database_answers_failed_with_the_reason(
    cloudformation: ResponseEndpoint, postgres_server: PrivatePostgres, migrate_function: pytest.MonkeyPatch,
    broken: str, request_type: str,
) -> None:
    if broken == "missing database":
        url, expected_in_reason = (
            psycopg.conninfo.make_conninfo(postgres_server.url, dbname="photosync_never_created"),
            'database "photosync_never_created" does not exist',
        )
    else:
        url, expected_in_reason = f"postgresql://photosync@127.0.0.1:{unused_local_port()}/photosync", "127.0.0.1"
    use_database(migrate_function, url)
    physical_id = migrate.PHYSICAL_RESOURCE_ID if request_type == "Update" else None
    event = custom_resource_event(cloudformation, request_type, physical_id=physical_id, code_version="2")

    invoke(event)

    answer = cloudformation.next_answer()
    assert_answers(answer, event, "FAILED")
    assert answer.body["Reason"].startswith("OperationalError: ")
    assert expected_in_reason in answer.body["Reason"]
    assert answer.body["Data"] == {}
    cloudformation.assert_no_more_answers()


@pytest.mark.timeout(120)
def test_migrations_still_running_near_the_function_timeout_answer_failed_once(
    cloudformation: ResponseEndpoint, fresh_database: str, migrate_function: pytest.MonkeyPatch
) -> None:
    use_database(migrate_function, fresh_database)
    event = custom_resource_event(cloudformation, "Create")
    blocker = psycopg.connect(fresh_database)
    # Another migrator holds the migrations lock, so this run waits past the function's deadline.
    blocker.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK_ID,))
    # Eleven seconds of Lambda time keep one second for work before the ten-second answer margin.
    running = threading.Thread(target=invoke, args=(event,), kwargs={"timeout_seconds": 11})
    running.start()
    try:
        answer = cloudformation.next_answer()
    finally:
        blocker.rollback()
        blocker.close()
        running.join(ANSWER_WAIT_SECONDS)

    assert not running.is_alive()
    assert_answers(answer, event, "FAILED")
    assert answer.body["Reason"] == "The migrations did not finish before the function timed out"
    # The run finished once the lock was free; CloudFormation already has its one answer.
    cloudformation.assert_no_more_answers()
    assert schema_of(fresh_database)[0] == APP_TABLES | {"schema_migrations"}


def test_a_database_on_the_first_schema_upgrades_in_place_and_keeps_every_row(fresh_database: str) -> None:
    """A deployment made before the trash existed: migrate it, its data must all be there, and the
    new features must work on it."""
    first, *later = available_migrations()
    assert first[0] == "0001_initial" and "0003_trash_and_changes" in [name for name, _ in later]
    owner, album, photos = uuid.uuid4(), uuid.uuid4(), [uuid.uuid4() for _ in range(3)]
    with psycopg.connect(fresh_database, autocommit=True, row_factory=dict_row) as conn:
        conn.execute("CREATE TABLE schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())")
        conn.execute(first[1])
        conn.execute("INSERT INTO schema_migrations (name) VALUES (%s)", (first[0],))
        conn.execute(
            "INSERT INTO users (id, email, storage_quota, storage_used, storage_pending) VALUES (%s, 'old@example.com', 10000, 600, 50)",
            (owner,),
        )
        for n, photo_id in enumerate(photos):
            conn.execute(
                "INSERT INTO photos (id, owner_id, object_key, filename, content_type, size, sha256, taken_at) "
                "VALUES (%s, %s, %s, %s, 'image/jpeg', 200, %s, %s)",
                (photo_id, owner, f"originals/{owner}/{photo_id}", f"IMG_{n}.JPG", f"{n:064x}",
                 None if n == 0 else f"2020-0{n}-01T00:00:00Z"),
            )
        conn.execute("INSERT INTO albums (id, owner_id, name) VALUES (%s, %s, 'Kept')", (album, owner))
        conn.execute("INSERT INTO album_photos (album_id, photo_id) VALUES (%s, %s)", (album, photos[1]))
        conn.execute(
            "INSERT INTO pending_uploads (id, owner_id, object_key, filename, content_type, size, sha256, url_expires_at) "
            "VALUES (%s, %s, 'originals/x/y', 'pending.jpg', 'image/jpeg', 50, %s, now() + interval '1 hour')",
            (uuid.uuid4(), owner, "f" * 64),
        )
        conn.execute("INSERT INTO object_deletions (object_key) VALUES ('originals/gone/1')")
        old_tables = ("users", "pending_uploads", "photos", "albums", "album_photos", "object_deletions")
        before = {table: conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall() for table in old_tables}

        assert apply_migrations(conn) == [name for name, _ in later]

        for table in old_tables:
            after = conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
            assert [{k: row[k] for k in before[table][0]} for row in after] == before[table], table
        assert {row["trashed_at"] for row in conn.execute("SELECT trashed_at FROM photos")} == {None}
        assert conn.execute("SELECT change_seq, changes_compacted_through FROM users").fetchone() == {
            "change_seq": 0, "changes_compacted_through": 0,
        }

        # The upgraded database serves the new features.
        uow = UnitOfWork(conn)
        timeline = uow.photos.page(owner_id=owner, limit=10, after=None)
        assert [p.id for p in timeline] == [photos[0], photos[2], photos[1]]  # no taken_at: uploaded now
        assert uow.albums.get(album, caller=owner).photo_count == 1
        trash.move_to_trash(uow, owner_id=owner, photo_id=photos[1])
        assert uow.albums.get(album, caller=owner).photo_count == 0
        assert uow.users.get(owner).storage_trash == 200
        assert conn.execute("SELECT seq, kind FROM changes ORDER BY seq").fetchall() == [
            {"seq": 1, "kind": "photo"}, {"seq": 2, "kind": "album"},
        ]


def test_upgrading_from_the_third_schema_backfills_album_order_counts_and_hidden_members(fresh_database: str) -> None:
    """Albums made before version 4, holding photos in and out of the trash: the migration copies
    each photo's timeline key and trash state onto its memberships and counts each album."""
    migrations = available_migrations()
    upto_three = [m for m in migrations if m[0][:4] <= "0003"]
    assert [name for name, _ in migrations[len(upto_three):]][:1] == ["0004_album_timeline_and_counts"]
    owner, albums_made = uuid.uuid4(), [uuid.uuid4() for _ in range(2)]
    photos = [uuid.uuid4() for _ in range(4)]
    with psycopg.connect(fresh_database, autocommit=True, row_factory=dict_row) as conn:
        conn.execute("CREATE TABLE schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())")
        for name, text in upto_three:
            conn.execute(text)
            conn.execute("INSERT INTO schema_migrations (name) VALUES (%s)", (name,))
        conn.execute("INSERT INTO users (id, email, storage_quota, storage_used) VALUES (%s, 'v3@example.com', 10000, 800)", (owner,))
        for n, photo_id in enumerate(photos):
            conn.execute(
                "INSERT INTO photos (id, owner_id, object_key, filename, content_type, size, sha256, taken_at, trashed_at) "
                "VALUES (%s, %s, %s, 'IMG.JPG', 'image/jpeg', 200, %s, %s, CASE WHEN %s THEN now() END)",
                (photo_id, owner, f"originals/{owner}/{photo_id}", f"{n:064x}", f"2019-0{n + 1}-01T00:00:00Z", n == 3),
            )
        for album_id in albums_made:
            conn.execute("INSERT INTO albums (id, owner_id, name) VALUES (%s, %s, 'Old')", (album_id, owner))
        conn.execute(
            "INSERT INTO album_photos (album_id, photo_id) SELECT %s, unnest(%s::uuid[])", (albums_made[0], photos)
        )

        apply_migrations(conn)

        uow = UnitOfWork(conn)
        assert [uow.albums.get(a, caller=owner).photo_count for a in albums_made] == [3, 0]
        page = uow.photos.album_page(albums_made[0], caller=owner, limit=10, after=None)
        assert [p.id for p in page] == [photos[2], photos[1], photos[0]]  # newest taken first, trashed hidden
        trash.restore(uow, owner_id=owner, photo_ids=[photos[3]])
        assert uow.albums.get(albums_made[0], caller=owner).photo_count == 4
        assert uow.photos.album_page(albums_made[0], caller=owner, limit=1, after=None)[0].id == photos[3]

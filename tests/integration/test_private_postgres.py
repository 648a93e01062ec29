"""The private PostgreSQL server: creation, reuse, crash recovery, isolation, and its errors.

Every test starts real servers in its own temporary directory and stops them in teardown.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import psycopg
import pytest

from photosync.local.postgres import PostgresError, PrivatePostgres, find_bin_dir

# Generous: only reached when something is broken, never a measure of speed.
PROCESS_EXIT_TIMEOUT_SECONDS = 60


@pytest.fixture
def data_root() -> Iterator[Path]:
    """A fresh directory for the test's data directories.

    Not pytest's tmp_path: every pytest session starting on the machine resets
    /tmp/pytest-of-<user> to 0700, and when running as root that would lock the server account
    out of a data directory below it if another session started during this test.
    """
    root = Path(tempfile.mkdtemp(prefix="photosync-pg-test-"))
    yield root
    shutil.rmtree(root)


@pytest.fixture
def make_server(data_root: Path) -> Iterator[Callable[[Path], PrivatePostgres]]:
    """Build PrivatePostgres objects, and stop every one of them after the test."""
    servers: list[PrivatePostgres] = []

    def make(pgdata: Path) -> PrivatePostgres:
        server = PrivatePostgres(pgdata)
        servers.append(server)
        return server

    yield make
    for server in reversed(servers):
        server.stop()
    for server in servers:
        assert not (server.pgdata / "postmaster.pid").exists()


def postmaster_pid(pgdata: Path) -> int:
    return int((pgdata / "postmaster.pid").read_text().splitlines()[0])


def is_running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def kill_and_wait(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + PROCESS_EXIT_TIMEOUT_SECONDS
    while is_running(pid):
        assert time.monotonic() < deadline, f"process {pid} survived SIGKILL"
        time.sleep(0.05)


def insert_note(url: str, text: str) -> None:
    with psycopg.connect(url) as connection:
        connection.execute("CREATE TABLE IF NOT EXISTS notes (text text NOT NULL)")
        connection.execute("INSERT INTO notes (text) VALUES (%s)", (text,))


def notes(url: str) -> list[str]:
    with psycopg.connect(url) as connection:
        return [row[0] for row in connection.execute("SELECT text FROM notes ORDER BY text")]


def test_first_start_creates_the_cluster_and_the_database(data_root: Path, make_server) -> None:
    pgdata = data_root / "a" / "deeply" / "nested" / "data" / "directory" / "for" / "postgres" / "pgdata"
    server = make_server(pgdata)

    url = server.start()

    assert server.url == url
    assert (pgdata / "PG_VERSION").is_file()
    assert stat.S_IMODE(pgdata.stat().st_mode) == 0o700
    with psycopg.connect(url) as connection:
        database, encoding, fsync = connection.execute(
            "SELECT current_database(), pg_encoding_to_char(encoding), current_setting('fsync') "
            "FROM pg_database WHERE datname = current_database()"
        ).fetchone()
    assert (database, encoding, fsync) == ("photosync", "UTF8", "on")
    assert list((pgdata / "log").glob("*.log")), "the server logs into the data directory"


def test_context_manager_starts_and_stops(data_root: Path) -> None:
    pgdata = data_root / "pgdata"
    with PrivatePostgres(pgdata, database="albums") as server:
        pid = postmaster_pid(pgdata)
        with psycopg.connect(server.url) as connection:
            assert connection.execute("SELECT current_database()").fetchone() == ("albums",)
    assert not (pgdata / "postmaster.pid").exists()
    assert not is_running(pid)


def test_stop_then_start_reuses_the_cluster(data_root: Path, make_server) -> None:
    pgdata = data_root / "pgdata"
    server = make_server(pgdata)
    url = server.start()
    insert_note(url, "kept")
    with psycopg.connect(url) as connection:
        (system_id,) = connection.execute("SELECT system_identifier FROM pg_control_system()").fetchone()

    server.stop()
    server.stop()  # idempotent
    assert not (pgdata / "postmaster.pid").exists()
    url = make_server(pgdata).start()

    assert notes(url) == ["kept"]
    with psycopg.connect(url) as connection:
        assert connection.execute("SELECT system_identifier FROM pg_control_system()").fetchone() == (system_id,)


def test_start_recovers_after_the_postmaster_was_killed(data_root: Path, make_server) -> None:
    pgdata = data_root / "pgdata"
    url = make_server(pgdata).start()
    insert_note(url, "committed before the crash")
    kill_and_wait(postmaster_pid(pgdata))
    assert (pgdata / "postmaster.pid").exists(), "a killed server leaves its pid file behind"

    url = make_server(pgdata).start()

    assert notes(url) == ["committed before the crash"]


def test_start_ignores_lock_files_whose_pid_now_belongs_to_another_process(data_root: Path, make_server) -> None:
    pgdata = data_root / "pgdata"
    first = make_server(pgdata)
    url = first.start()
    insert_note(url, "committed before the crash")
    kill_and_wait(postmaster_pid(pgdata))
    unrelated = subprocess.Popen(["sleep", "600"])
    try:
        lock_files = [pgdata / "postmaster.pid", *first.socket_dir.glob(".s.PGSQL.*.lock")]
        assert len(lock_files) == 2, "the pid file and the socket lock file are left behind"
        for lock_file in lock_files:
            lines = lock_file.read_text().splitlines()
            lock_file.write_text("\n".join([str(unrelated.pid), *lines[1:]]) + "\n")

        url = make_server(pgdata).start()

        assert notes(url) == ["committed before the crash"]
        assert unrelated.poll() is None, "the process that reused the PID must not be signalled"
    finally:
        unrelated.kill()
        unrelated.wait()


def test_new_object_takes_over_a_server_whose_parent_was_killed(data_root: Path, make_server) -> None:
    pgdata = data_root / "pgdata"
    parent_script = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from photosync.local.postgres import PrivatePostgres
        print(PrivatePostgres(Path({str(pgdata)!r})).start(), flush=True)
        time.sleep(600)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", parent_script], stdout=subprocess.PIPE, text=True)
    try:
        orphan_url = parent.stdout.readline().strip()
        assert orphan_url, "the parent process did not start its server"
        insert_note(orphan_url, "written through the first parent")
    finally:
        parent.kill()
        parent.wait()
        parent.stdout.close()
    orphan_pid = postmaster_pid(pgdata)
    assert is_running(orphan_pid), "the server outlives its killed parent"

    url = make_server(pgdata).start()

    assert notes(url) == ["written through the first parent"]
    insert_note(url, "written through the new object")
    assert notes(url) == ["written through the first parent", "written through the new object"]


def test_two_servers_run_at_once(data_root: Path, make_server) -> None:
    url_a = make_server(data_root / "a" / "pgdata").start()
    url_b = make_server(data_root / "b" / "pgdata").start()

    assert url_a != url_b
    insert_note(url_a, "only in a")
    insert_note(url_b, "only in b")
    assert notes(url_a) == ["only in a"]
    assert notes(url_b) == ["only in b"]


def test_the_database_is_private_to_the_server_account(data_root: Path, make_server) -> None:
    pgdata = data_root / "pgdata"
    server = make_server(pgdata)
    url = server.start()

    with psycopg.connect(url) as connection:
        assert connection.execute("SHOW listen_addresses").fetchone() == ("",)
        rule_types = {row[0] for row in connection.execute("SELECT type FROM pg_hba_file_rules")}
    assert rule_types == {"local"}, "no rule may admit TCP connections"
    assert psutil.Process(postmaster_pid(pgdata)).net_connections(kind="inet") == []
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(host="127.0.0.1", port=5432, dbname="photosync", user="photosync", connect_timeout=5)

    socket_dir = server.socket_dir.stat()
    assert stat.S_IMODE(socket_dir.st_mode) == 0o700
    assert socket_dir.st_uid == pgdata.stat().st_uid
    if os.geteuid() == 0:
        # Root can switch to another local account and show it is turned away.
        other = pwd.getpwnam("nobody")
        attempt = subprocess.run(
            [str(find_bin_dir() / "psql"), "--no-psqlrc", "--command", "SELECT 1", url],
            user=other.pw_uid, group=other.pw_gid, extra_groups=[], cwd="/",
            capture_output=True, text=True, timeout=120,
        )
        assert attempt.returncode != 0
        assert "Permission denied" in attempt.stderr, attempt.stderr


def test_missing_binaries_give_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PHOTOSYNC_PG_BIN", "/nonexistent")

    with pytest.raises(PostgresError, match="PHOTOSYNC_PG_BIN=/nonexistent does not contain initdb"):
        PrivatePostgres(tmp_path / "pgdata").start()
    assert not (tmp_path / "pgdata").exists()

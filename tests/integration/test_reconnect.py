"""The environment's connection after the server side closed it while idle (RDS Proxy ends idle
client connections; here the backend is terminated for real): the next event must still succeed."""

from __future__ import annotations

import json
import threading
import time
import uuid

import psycopg
import pytest

from photosync.adapters.postgres import connection
from photosync.adapters.postgres.unit_of_work import UnitOfWork
from photosync.handlers.http import account
from photosync.local.lambda_runtime import LocalLambdaContext
from tests.conftest import new_user
from tests.integration.test_handlers import event


def terminate_backend(db: psycopg.Connection, victim: psycopg.Connection) -> None:
    pid = victim.info.backend_pid
    assert db.execute("SELECT pg_terminate_backend(%s) AS ok", (pid,)).fetchone()["ok"]
    # Wait until the server has really ended it, as an idle timeout would have.
    deadline = time.monotonic() + 10
    while db.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone():
        assert time.monotonic() < deadline, "the backend did not end"
        time.sleep(0.01)


@pytest.fixture
def fresh_environment_connection(monkeypatch):
    """This test's own environment connection (the real one is per thread)."""
    monkeypatch.setattr(connection, "_environment", threading.local())
    yield
    conn = getattr(connection._environment, "conn", None)
    if conn is not None:
        conn.close()


def test_the_first_request_after_the_server_closed_the_idle_connection_succeeds(
    uow, db, lambda_env, fresh_environment_connection
):
    sub = uuid.uuid4()
    assert account.handler(event("http_api_get_me.json", sub), LocalLambdaContext("account"))["statusCode"] == 200
    terminate_backend(db, connection.environment_connection())

    response = account.handler(event("http_api_get_me.json", sub), LocalLambdaContext("account"))

    assert response["statusCode"] == 200, response["body"]
    assert json.loads(response["body"])["id"] == str(sub)


def test_a_transaction_that_fails_to_start_on_a_dead_connection_is_started_again_on_a_new_one(
    db, database_url, lambda_env
):
    dead = connection.connect()
    terminate_backend(db, dead)
    work = UnitOfWork(dead, reconnect=connection.connect)
    user_id = new_user(work)

    assert work.conn is not dead and not work.conn.closed
    assert UnitOfWork(db).users.exists(user_id)
    work.conn.close()


def test_a_transaction_that_fails_after_it_started_is_not_retried(db, lambda_env):
    conn = connection.connect()
    opened = []

    def reconnect():
        opened.append(connection.connect())
        return opened[-1]

    work = UnitOfWork(conn, reconnect=reconnect)
    with pytest.raises(psycopg.OperationalError):
        with work.transaction():
            work.users.insert_if_missing(uuid.uuid4(), "x@example.com", 1)
            terminate_backend(db, conn)
            work.users.insert_if_missing(uuid.uuid4(), "y@example.com", 1)

    assert opened == []  # the commit may or may not have happened: never replayed
    assert db.execute("SELECT count(*) AS n FROM users").fetchone()["n"] == 0

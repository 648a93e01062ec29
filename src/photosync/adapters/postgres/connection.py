"""One PostgreSQL connection per execution environment, opened lazily and reused.

A Lambda environment runs one event at a time, so one connection per environment is exactly what
the psycopg docs recommend there. The local runtime runs handlers on several threads at once; each
thread plays the part of one Lambda environment, so the connection is kept per thread.
Prepared statements are off: RDS Proxy would otherwise pin every session.

RDS Proxy closes client connections that stay idle (and a database restart ends them all), so a
connection kept between events may be dead when the next event comes. Before handing it out again
it is checked without a round trip (has the server sent anything since?) and replaced if dead. A
close that races with the first statement is caught by the unit of work, which starts a failed
transaction again, once, on a new connection (see UnitOfWork.transaction).
"""

from __future__ import annotations

import json
import select
import threading
from pathlib import Path

import psycopg
from psycopg.rows import dict_row

from photosync.config import Settings, settings

_environment = threading.local()
# Shipped with the code (see the file's header for why these roots).
RDS_PROXY_CA_BUNDLE = Path(__file__).with_name("rds-proxy-ca-bundle.pem")


def connect(config: Settings | None = None) -> psycopg.Connection:
    """A new autocommit connection; transactions are opened explicitly with `conn.transaction()`."""
    config = config or settings()
    return psycopg.connect(
        _conninfo(config),
        autocommit=True,
        prepare_threshold=None,
        row_factory=dict_row,
        connect_timeout=config.database_connect_timeout_seconds,
        application_name="photosync",
    )


def environment_connection() -> psycopg.Connection:
    """This environment's connection, reopened if the server closed it since the last event."""
    conn: psycopg.Connection | None = getattr(_environment, "conn", None)
    if conn is None or not _still_open(conn):
        if conn is not None:
            conn.close()
        conn = reconnect_environment()
    return conn


def reconnect_environment() -> psycopg.Connection:
    """Replace this environment's connection with a new one (its old one is dead)."""
    conn = connect()
    _environment.conn = conn
    return conn


def _still_open(conn: psycopg.Connection) -> bool:
    if conn.closed or conn.broken:
        return False
    # Between events the server has nothing to say (no LISTEN, no query running): anything to read
    # now is its "terminating connection" message or the end of the stream.
    readable, _, _ = select.select([conn.fileno()], [], [], 0)
    return not readable


def _conninfo(config: Settings) -> str:
    if config.database_url:
        return config.database_url
    # In AWS the credentials live in Secrets Manager; the host is the RDS Proxy endpoint.
    import boto3

    secret = boto3.client("secretsmanager").get_secret_value(SecretId=config.database_secret_arn)
    credentials = json.loads(secret["SecretString"])
    return psycopg.conninfo.make_conninfo(
        host=config.database_host,
        port=credentials.get("port", 5432),
        dbname=config.database_name,
        user=credentials["username"],
        password=credentials["password"],
        # Encrypted and the proxy's identity checked: certificate chain and host name.
        sslmode="verify-full",
        sslrootcert=str(RDS_PROXY_CA_BUNDLE),
    )

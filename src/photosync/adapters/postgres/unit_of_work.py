"""A unit of work over one connection: the repositories, and the transaction that binds them."""

from __future__ import annotations

from contextlib import ExitStack, contextmanager
from typing import Callable, Iterator

import psycopg

from photosync.adapters.postgres.repositories import (
    Albums,
    Changes,
    DeletedContent,
    Links,
    Members,
    ObjectDeletions,
    PendingUploads,
    Photos,
    Users,
)


class UnitOfWork:
    def __init__(self, conn: psycopg.Connection, *, reconnect: Callable[[], psycopg.Connection] | None = None) -> None:
        """`reconnect` opens a replacement when the connection turns out dead as a transaction starts."""
        self._reconnect = reconnect
        self._bind(conn)

    def _bind(self, conn: psycopg.Connection) -> None:
        self.conn = conn
        self.users = Users(conn)
        self.uploads = PendingUploads(conn)
        self.photos = Photos(conn)
        self.albums = Albums(conn)
        self.deletions = ObjectDeletions(conn)
        self.deleted_content = DeletedContent(conn)
        self.changes = Changes(conn)
        self.members = Members(conn)
        self.links = Links(conn)

    @contextmanager
    def transaction(self) -> Iterator["UnitOfWork"]:
        """Commit on success, roll back on any exception. Keep these short: no network calls inside.

        A transaction whose BEGIN fails because the server closed the connection did nothing, so it
        is started again, once, on a new connection. A failure after BEGIN is never retried: the
        commit may have happened."""
        with ExitStack() as stack:
            try:
                stack.enter_context(self.conn.transaction())
            except psycopg.OperationalError:
                if self._reconnect is None or not self.conn.broken:
                    raise
                self.conn.close()
                self._bind(self._reconnect())
                stack.enter_context(self.conn.transaction())
            yield self

    @contextmanager
    def read_only_snapshot(self) -> Iterator["UnitOfWork"]:
        """A read-only transaction that sees one snapshot of the database for all its statements."""
        with self.conn.transaction():
            self.conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield self

"""Sharing rules at the service level, on a real PostgreSQL: the first-request provisioning fallback
claims invitations too, and concurrent wrong passwords cannot get past a link's attempt limit."""

from __future__ import annotations

import threading
import uuid
from datetime import datetime, timezone

import psycopg
from psycopg.rows import dict_row

from photosync.adapters.postgres.unit_of_work import UnitOfWork
from photosync.domain.errors import PasswordRequired, TooManyRequests
from photosync.domain.validation import LinkRequest
from photosync.services import accounts, albums, sharing
from tests.conftest import new_user


def test_the_first_request_fallback_claims_invitations_once(uow):
    owner = new_user(uow)
    album = albums.create_album(uow, owner_id=owner, name="Shared early")
    sharing.add_member(uow, caller=owner, album_id=album.id, email="late@example.com", role="contributor")
    newcomer = uuid.uuid4()
    # The post-confirmation trigger never ran: the first API request provisions the user.
    accounts.ensure_provisioned(uow, user_id=newcomer, email="Late@Example.com", quota=10**9)
    accounts.ensure_provisioned(uow, user_id=newcomer, email="Late@Example.com", quota=10**9)
    [seen] = albums.list_albums(uow, caller=newcomer)
    assert (seen.id, seen.role, seen.owner_id) == (album.id, "contributor", owner)
    rows = uow.changes.after(0, owner_id=newcomer, limit=10)
    assert [(r.kind, r.album_id) for r in rows] == [("album", album.id)]


def test_concurrent_wrong_passwords_get_no_more_than_the_limit(uow, database_url):
    owner = new_user(uow)
    album = albums.create_album(uow, owner_id=owner, name="Guarded")
    link = sharing.create_link(
        uow, caller=owner, album_id=album.id,
        request=LinkRequest(expires_at=None, password="right one", allow_download=True),
    )
    outcomes: list[str] = []
    start = threading.Barrier(8)

    def guess() -> None:
        conn = psycopg.connect(database_url, autocommit=True, row_factory=dict_row)
        try:
            start.wait()
            for _ in range(3):
                try:
                    sharing.open_link(UnitOfWork(conn), token=link.token, password="wrong")
                    outcomes.append("opened")
                except PasswordRequired:
                    outcomes.append("wrong")
                except TooManyRequests:
                    outcomes.append("locked")
        finally:
            conn.close()

    threads = [threading.Thread(target=guess) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("wrong") == sharing.PASSWORD_ATTEMPTS
    assert outcomes.count("locked") == 24 - sharing.PASSWORD_ATTEMPTS
    # The right password does not open a locked link either, until the window is over.
    try:
        sharing.open_link(uow, token=link.token, password="right one")
        raise AssertionError("a locked link opened")
    except TooManyRequests:
        pass
    uow.conn.execute(
        "UPDATE album_links SET failures_since = %s WHERE id = %s",
        (datetime(2000, 1, 1, tzinfo=timezone.utc), link.id),
    )
    assert sharing.open_link(uow, token=link.token, password="right one").id == link.id

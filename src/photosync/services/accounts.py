"""F1.1 provisioning and the account view with its quota (F1.7)."""

from __future__ import annotations

import uuid

from photosync.adapters.postgres.unit_of_work import UnitOfWork
from photosync.domain.errors import NotFound
from photosync.domain.model import Account
from photosync.services import changes


def provision_user(uow: UnitOfWork, *, user_id: uuid.UUID, email: str, quota: int) -> bool:
    """Create the user's row with the default quota; True if it was new. Idempotent: Cognito may
    run the trigger again, and the first-request fallback may race it.

    In the same transaction, albums shared with this email before the account existed become the
    new user's (the invitation is claimed exactly once, by whichever path created the row)."""
    with uow.transaction():
        created = uow.users.insert_if_missing(user_id, email, quota)
        if created and "@" in email:
            # The new row is this transaction's, so its lock is held: the change numbers are ours.
            shared = uow.members.claim(email, user_id=user_id)
            changes.albums_changed_for(uow, user_id=user_id, album_ids=shared)
        return created


def ensure_provisioned(uow: UnitOfWork, *, user_id: uuid.UUID, email: str, quota: int) -> None:
    """The fallback for a signed-in user whose post-confirmation trigger did not run."""
    if not uow.users.exists(user_id):
        provision_user(uow, user_id=user_id, email=email, quota=quota)


def get_account(uow: UnitOfWork, *, user_id: uuid.UUID) -> Account:
    account = uow.users.get(user_id)
    if account is None:
        raise NotFound("account")
    return account

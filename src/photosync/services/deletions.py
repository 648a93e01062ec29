"""Removing objects through the outbox: the database records the keys in the same transaction as the
change that orphaned them, and this removes the bytes afterwards, retrying what failed."""

from __future__ import annotations

from photosync.adapters.objectstore import ObjectStore
from photosync.adapters.postgres.unit_of_work import UnitOfWork
from photosync.domain.model import ObjectDeletion
from photosync.log import logger


def drain(uow: UnitOfWork, store: ObjectStore, deletions: list[ObjectDeletion]) -> int:
    """Delete each object and clear its outbox row; a failure is recorded and retried later.
    Returns how many were removed."""
    removed = 0
    for deletion in deletions:
        try:
            store.delete(deletion.object_key)
        except Exception as error:  # noqa: BLE001 - any failure is retried by the sweep, none is lost
            logger.warning(
                "object deletion failed; will retry",
                extra={"key": deletion.object_key, "attempts": deletion.attempts + 1, "error": str(error)},
            )
            uow.deletions.failed(deletion.id, f"{type(error).__name__}: {error}")
            continue
        uow.deletions.done(deletion.id)
        removed += 1
    return removed

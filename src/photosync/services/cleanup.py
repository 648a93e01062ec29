"""The scheduled sweep (F1.2 cleanup): release expired reservations (finalizing those whose file did
arrive), retry object deletions and renditions, purge old tombstones. Batched and bounded per run,
so it keeps up with any number of rows over successive runs."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from photosync.adapters.objectstore import ObjectStore
from photosync.adapters.postgres.unit_of_work import UnitOfWork
from photosync.services import deletions, finalize, renditions

log = logging.getLogger(__name__)

BATCH_SIZE = 500
MAX_BATCHES_PER_RUN = 40
TOMBSTONE_RETENTION = timedelta(days=7)
# Renditions are normally made by finalize itself; only older stragglers are retried here.
RENDITION_RETRY_AFTER = timedelta(minutes=10)
RENDITION_RETRY_BATCH = 50


@dataclass
class CleanupReport:
    released: int = 0
    finalized: int = 0
    deleted_objects: int = 0
    renditions_retried: int = 0
    renditions_failed: int = 0
    tombstones_purged: int = 0
    errors: list[str] = field(default_factory=list)


def run_cleanup(
    uow: UnitOfWork, store: ObjectStore, *, pending_ttl_seconds: int, now: datetime | None = None
) -> CleanupReport:
    now = now or datetime.now(timezone.utc)
    report = CleanupReport()
    _sweep_expired(uow, store, now - timedelta(seconds=pending_ttl_seconds), report)
    _drain_outbox(uow, store, report)
    _retry_renditions(uow, store, now - RENDITION_RETRY_AFTER, report)
    with uow.transaction():
        report.tombstones_purged = uow.uploads.purge_tombstones(
            created_before=now - TOMBSTONE_RETENTION, limit=BATCH_SIZE * MAX_BATCHES_PER_RUN
        )
    log.info("cleanup finished", extra={"report": report.__dict__})
    return report


def _sweep_expired(uow: UnitOfWork, store: ObjectStore, created_before: datetime, report: CleanupReport) -> None:
    after = None
    for _ in range(MAX_BATCHES_PER_RUN):
        batch = uow.uploads.expired(created_before=created_before, after=after, limit=BATCH_SIZE)
        if not batch:
            return
        after = batch[-1]
        for upload in batch:
            try:
                if store.head(upload.object_key) is not None:
                    # The file arrived but its event was lost or is late: finalize it now.
                    result = finalize.finalize_object(uow, store, upload.object_key)
                    report.finalized += result.outcome == "finalized"
                elif finalize.release_expired(uow, upload):
                    report.released += 1
            except Exception as error:  # noqa: BLE001 - one bad row must not stop the sweep
                log.exception("sweeping an expired upload failed", extra={"upload_id": str(upload.id)})
                report.errors.append(f"upload {upload.id}: {error}")


def _drain_outbox(uow: UnitOfWork, store: ObjectStore, report: CleanupReport) -> None:
    for _ in range(MAX_BATCHES_PER_RUN):
        due = uow.deletions.due(limit=BATCH_SIZE)
        if not due:
            return
        removed = deletions.drain(uow, store, due)
        report.deleted_objects += removed
        if removed < len(due):
            # Failures were rescheduled with backoff; the rest of the outbox waits for the next run.
            report.errors.append(f"{len(due) - removed} object deletions failed and will be retried")
            return


def _retry_renditions(uow: UnitOfWork, store: ObjectStore, uploaded_before: datetime, report: CleanupReport) -> None:
    for photo in uow.photos.awaiting_renditions(uploaded_before=uploaded_before, limit=RENDITION_RETRY_BATCH):
        if renditions.retry_pending(uow, store, photo):
            report.renditions_retried += 1
        else:
            report.renditions_failed += 1

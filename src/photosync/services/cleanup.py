"""The scheduled sweep (F1.2 cleanup): release expired reservations (finalizing those whose file did
arrive), retry object deletions and renditions, purge old tombstones, delete permanently what has
been in the trash past its retention, and compact the change log.

A run has a deadline (the function's remaining time, less a margin) and stops there; whatever is
left waits for the next run. The phases take turns, a small batch each, so a backlog in one (say,
20,000 expired reservations to check one by one) never starves the others. A run takes up each row
at most once, and expired reservations go least-tried first, so rows whose check keeps failing
cannot hold back the rest either."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from photosync.adapters.objectstore import ObjectStore
from photosync.adapters.postgres.unit_of_work import UnitOfWork
from photosync.adapters.queues import RenditionQueue
from photosync.domain.model import Photo
from photosync.log import logger
from photosync.services import deletions, finalize, renditions, sync, trash, uploads

# Rows per phase per turn: small enough that every phase gets a turn early in a run.
TURN_SIZE = 50
TOMBSTONE_RETENTION = timedelta(days=7)
TOMBSTONE_PURGE_LIMIT = 20_000
# Renditions are normally made by the renditions function from its queue; only stragglers (a message
# that was never sent, or failed every delivery) are retried here.
RENDITION_RETRY_AFTER = timedelta(minutes=10)
# Log entries are small rows removed by one statement: many per turn.
COMPACTION_TURN_SIZE = 2000


@dataclass(frozen=True)
class Deadline:
    """When a run must stop, on a monotonic clock (injectable, so tests control time)."""

    at: float
    clock: Callable[[], float] = time.monotonic

    @classmethod
    def after(cls, seconds: float, clock: Callable[[], float] = time.monotonic) -> "Deadline":
        return cls(clock() + seconds, clock)

    def passed(self) -> bool:
        return self.clock() >= self.at


@dataclass
class CleanupReport:
    released: int = 0
    finalized: int = 0
    parts_aborted: int = 0  # abandoned multipart uploads whose parts the store dropped
    deleted_objects: int = 0
    renditions_retried: int = 0
    renditions_failed: int = 0
    tombstones_purged: int = 0
    trash_purged: int = 0
    changes_compacted: int = 0
    # True when the deadline came with work left: the next run goes on.
    stopped_at_deadline: bool = False
    errors: list[str] = field(default_factory=list)


def run_cleanup(
    uow: UnitOfWork,
    store: ObjectStore,
    *,
    pending_ttl_seconds: int,
    trash_retention_days: int = 30,
    change_log_retention_days: int = 90,
    deadline: Deadline | None = None,
    now: datetime | None = None,
    turn_size: int = TURN_SIZE,
    renditions_queue: RenditionQueue | None = None,
) -> CleanupReport:
    now = now or datetime.now(timezone.utc)
    deadline = deadline or Deadline(float("inf"))
    report = CleanupReport()
    with uow.transaction():
        report.tombstones_purged = uow.uploads.purge_tombstones(
            created_before=now - TOMBSTONE_RETENTION, limit=TOMBSTONE_PURGE_LIMIT
        )
    phases: list[Callable[[], bool]] = [
        _ExpiredReservations(
            uow, store, now - timedelta(seconds=pending_ttl_seconds), now, report, deadline, turn_size, renditions_queue
        ),
        _PartAborts(uow, store, report, turn_size),
        _Outbox(uow, store, report, turn_size),
        _RenditionRetries(uow, store, now - RENDITION_RETRY_AFTER, report, deadline, turn_size),
        _TrashPurge(uow, store, now - timedelta(days=trash_retention_days), report, turn_size),
        _ChangeLogCompaction(uow, now - timedelta(days=change_log_retention_days), report),
    ]
    while phases:
        for phase in list(phases):
            if deadline.passed():
                report.stopped_at_deadline = True
                logger.warning("cleanup stopped at its deadline; the next run goes on", extra={"report": report.__dict__})
                return report
            if not phase():
                phases.remove(phase)
    logger.info("cleanup finished", extra={"report": report.__dict__})
    return report


# Each phase is called once per turn; it does up to one batch and answers whether work is left.


@dataclass
class _ExpiredReservations:
    uow: UnitOfWork
    store: ObjectStore
    created_before: datetime
    run_started: datetime
    report: CleanupReport
    deadline: Deadline
    turn_size: int
    renditions_queue: RenditionQueue | None

    def __call__(self) -> bool:
        batch = self.uow.uploads.expired(
            created_before=self.created_before, lapsed_before=self.run_started, not_swept_since=self.run_started,
            limit=self.turn_size,
        )
        for upload in batch:
            if self.deadline.passed():
                return True
            attempts = self.uow.uploads.count_sweep_attempt(upload.id, at=self.run_started)
            if attempts is None:
                continue
            try:
                if self.store.head(upload.object_key) is not None:
                    # The file arrived but its event was lost or is late: finalize it now.
                    result = finalize.finalize_object(
                        self.uow, self.store, upload.object_key, queue=self.renditions_queue
                    )
                    self.report.finalized += result.outcome == "finalized"
                elif finalize.release_expired(self.uow, upload):
                    self.report.released += 1
                    if upload.is_multipart and uploads.abort_parts(self.uow, self.store, upload):
                        self.report.parts_aborted += 1
            except Exception as error:  # noqa: BLE001 - one bad row must not stop the sweep
                logger.exception(
                    "sweeping an expired upload failed", extra={"upload_id": str(upload.id), "attempts": attempts}
                )
                self.report.errors.append(f"upload {upload.id} (attempt {attempts}): {error}")
        return len(batch) == self.turn_size


@dataclass
class _PartAborts:
    """Multipart uploads whose reservation ended (cancelled, expired) while an abort of their parts
    failed: retried until the store drops them, so no part outlives its reservation."""

    uow: UnitOfWork
    store: ObjectStore
    report: CleanupReport
    turn_size: int
    after: object = None

    def __call__(self) -> bool:
        batch = self.uow.uploads.aborts_due(after=self.after, limit=self.turn_size)
        for upload in batch:
            self.after = upload.id
            if uploads.abort_parts(self.uow, self.store, upload):
                self.report.parts_aborted += 1
            else:
                self.report.errors.append(f"aborting the parts of upload {upload.id} failed and will be retried")
        return len(batch) == self.turn_size


@dataclass
class _Outbox:
    uow: UnitOfWork
    store: ObjectStore
    report: CleanupReport
    turn_size: int

    def __call__(self) -> bool:
        due = self.uow.deletions.due(limit=self.turn_size)
        removed = deletions.drain(self.uow, self.store, due)
        self.report.deleted_objects += removed
        if removed < len(due):
            # Failures were rescheduled with backoff; the rest of the outbox waits for the next run.
            self.report.errors.append(f"{len(due) - removed} object deletions failed and will be retried")
            return False
        return len(due) == self.turn_size


@dataclass
class _RenditionRetries:
    uow: UnitOfWork
    store: ObjectStore
    uploaded_before: datetime
    report: CleanupReport
    deadline: Deadline
    turn_size: int
    after: Photo | None = None

    def __call__(self) -> bool:
        batch = self.uow.photos.awaiting_renditions(
            uploaded_before=self.uploaded_before, after=self.after, limit=self.turn_size
        )
        for photo in batch:
            if self.deadline.passed():
                return True
            self.after = photo
            if renditions.retry_pending(self.uow, self.store, photo):
                self.report.renditions_retried += 1
            else:
                self.report.renditions_failed += 1
        return len(batch) == self.turn_size


@dataclass
class _TrashPurge:
    uow: UnitOfWork
    store: ObjectStore
    trashed_before: datetime
    report: CleanupReport
    turn_size: int

    def __call__(self) -> bool:
        purged, more = trash.purge_due(self.uow, self.store, trashed_before=self.trashed_before, limit=self.turn_size)
        self.report.trash_purged += purged
        return more


@dataclass
class _ChangeLogCompaction:
    uow: UnitOfWork
    created_before: datetime
    report: CleanupReport

    def __call__(self) -> bool:
        removed, more = sync.compact(self.uow, created_before=self.created_before, limit=COMPACTION_TURN_SIZE)
        self.report.changes_compacted += removed
        return more

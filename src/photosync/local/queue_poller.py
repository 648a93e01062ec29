"""The local SQS event source mapping: takes batches from a local queue and invokes a function with
SQS-shaped events, one poller thread per execution environment, as Lambda scales its pollers.

The function answers with `batchItemFailures` (ReportBatchItemFailures): the messages it names, or
the whole batch when the invocation itself fails, become visible again after a back-off, and are
dead-lettered after the queue's maximum receives.
"""

from __future__ import annotations

import logging
import threading

from photosync.adapters.queues import LocalQueue, QueuedMessage
from photosync.local.events import sqs_event
from photosync.local.lambda_runtime import LocalFunction

log = logging.getLogger(__name__)

# As the template's event source mapping.
BATCH_SIZE = 10
# How often an idle poller looks for new messages: what a thumbnail waits at most, beyond its making.
IDLE_POLL_SECONDS = 0.1
# A failed message waits this long times its receive count before it is delivered again.
RETRY_BACKOFF_SECONDS = 2.0


class QueuePoller:
    def __init__(self, queue: LocalQueue, function: LocalFunction, *, queue_name: str, pollers: int) -> None:
        self._queue = queue
        self._function = function
        self._queue_name = queue_name
        self._stopped = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, name=f"poll-{queue_name}-{n}", daemon=True) for n in range(pollers)
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stopped.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stopped.is_set():
            try:
                batch = self._queue.receive(max_messages=BATCH_SIZE)
            except Exception:  # noqa: BLE001 - a failed poll is logged; the next one retries
                log.exception("polling the %s queue failed", self._queue_name)
                batch = []
            if not batch:
                self._stopped.wait(IDLE_POLL_SECONDS)
                continue
            self._deliver(batch)

    def _deliver(self, batch: list[QueuedMessage]) -> None:
        event = sqs_event(
            queue_name=self._queue_name,
            messages=[(m.message_id, m.body, m.sent_at_ms, m.receive_count) for m in batch],
        )
        try:
            response = self._function.invoke(event) or {}
            failed = {item["itemIdentifier"] for item in response.get("batchItemFailures", [])}
        except Exception:  # noqa: BLE001 - the whole batch is delivered again, as SQS does
            log.exception("the %s function failed on a batch", self._function.name)
            failed = {m.message_id for m in batch}
        for message in batch:
            if message.message_id in failed:
                self._queue.release(message, hide_for_seconds=RETRY_BACKOFF_SECONDS * message.receive_count)
            else:
                self._queue.delete(message)

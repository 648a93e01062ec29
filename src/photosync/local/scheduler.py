"""The local EventBridge schedule: invokes the cleanup function every interval."""

from __future__ import annotations

import logging
import threading

from photosync.local.events import scheduled_event
from photosync.local.lambda_runtime import LocalFunction

log = logging.getLogger(__name__)


class Schedule:
    def __init__(self, function: LocalFunction, *, every_seconds: int, rule_name: str = "photosync-cleanup") -> None:
        self._function = function
        self._every = every_seconds
        self._rule_name = rule_name
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="schedule-" + rule_name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        # The first run comes right after start, so a restart sweeps what a crash left behind.
        while not self._stopped.is_set():
            try:
                self._function.invoke(scheduled_event(rule_name=self._rule_name))
            except Exception:  # noqa: BLE001 - a failed run is logged; the next one retries
                log.exception("scheduled cleanup failed")
            self._stopped.wait(self._every)

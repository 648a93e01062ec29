"""The queue between finalize and the renditions function: SQS in AWS, a directory of message files
in the local runtime. Both only carry work that can be found again: a message lost on the way costs
time, never a photo, because the sweep retries every photo whose renditions are still pending."""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from photosync.adapters.private_files import make_private_dirs


class RenditionQueue(Protocol):
    def send(self, message: dict[str, Any]) -> None: ...


class SqsQueue:
    def __init__(self, queue_url: str, *, client: Any | None = None) -> None:
        if client is None:
            import boto3

            client = boto3.client("sqs")
        self._client = client
        self._url = queue_url

    def send(self, message: dict[str, Any]) -> None:
        self._client.send_message(QueueUrl=self._url, MessageBody=json.dumps(message, separators=(",", ":")))


@dataclass(frozen=True)
class QueuedMessage:
    message_id: str
    body: str
    sent_at_ms: int
    receive_count: int


class LocalQueue:
    """A durable queue in a directory, for one machine: any process may send (a handler environment),
    one process receives (the server's poller, in threads). A message is a file; it is deleted when
    handled, hidden while in flight, and moved to `dead-letter/` after `max_receives` failed
    deliveries, as an SQS redrive policy does. After a restart every message is visible again
    (at least once, like SQS)."""

    def __init__(self, directory: Path, *, max_receives: int = 3) -> None:
        self._ready = directory / "ready"
        self._dead = directory / "dead-letter"
        self._max_receives = max_receives
        self._lock = threading.Lock()
        # Only the receiving process keeps these: message id -> (receive count, visible again at).
        self._in_flight: set[str] = set()
        self._receives: dict[str, int] = {}
        self._hidden_until: dict[str, float] = {}

    def send(self, message: dict[str, Any]) -> None:
        make_private_dirs(self._ready)
        # Named by time, so receiving in name order is first in, first out.
        message_id = f"{time.time_ns():020d}-{uuid.uuid4().hex}"
        temp = self._ready / f".{message_id}.tmp"
        temp.write_text(json.dumps(message, separators=(",", ":")))
        # Renaming makes a message appear whole or not at all. No fsync: a message lost in a crash is
        # made by the sweep instead.
        os.replace(temp, self._ready / f"{message_id}.json")

    def receive(self, *, max_messages: int) -> list[QueuedMessage]:
        now = time.monotonic()
        taken: list[QueuedMessage] = []
        with self._lock:
            try:
                names = sorted(n for n in os.listdir(self._ready) if n.endswith(".json"))
            except FileNotFoundError:
                return []
            for name in names:
                message_id = name[: -len(".json")]
                if message_id in self._in_flight or self._hidden_until.get(message_id, 0) > now:
                    continue
                try:
                    body = (self._ready / name).read_text()
                except FileNotFoundError:
                    continue
                count = self._receives.get(message_id, 0) + 1
                self._receives[message_id] = count
                self._in_flight.add(message_id)
                taken.append(QueuedMessage(message_id, body, int(message_id.split("-")[0]) // 1_000_000, count))
                if len(taken) == max_messages:
                    break
        return taken

    def delete(self, message: QueuedMessage) -> None:
        with self._lock:
            (self._ready / f"{message.message_id}.json").unlink(missing_ok=True)
            self._forget(message.message_id)

    def release(self, message: QueuedMessage, *, hide_for_seconds: float) -> None:
        """A failed delivery: visible again after `hide_for_seconds`, or dead-lettered."""
        with self._lock:
            self._in_flight.discard(message.message_id)
            if message.receive_count < self._max_receives:
                self._hidden_until[message.message_id] = time.monotonic() + hide_for_seconds
                return
            make_private_dirs(self._dead)
            try:
                os.replace(self._ready / f"{message.message_id}.json", self._dead / f"{message.message_id}.json")
            except FileNotFoundError:
                pass
            self._forget(message.message_id)

    def dead_letters(self) -> list[str]:
        try:
            return sorted((self._dead / name).read_text() for name in os.listdir(self._dead))
        except FileNotFoundError:
            return []

    def _forget(self, message_id: str) -> None:
        self._in_flight.discard(message_id)
        self._receives.pop(message_id, None)
        self._hidden_until.pop(message_id, None)

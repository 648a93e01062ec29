"""Replaying dead letters: events an asynchronously invoked function failed on every retry, kept in
its SQS dead-letter queue (infra/template.yaml), sent again through the same handler.

A message leaves the queue only once its replay succeeded: a replay that fails again stays there,
for the next attempt or a closer look, and is reported.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class DeadLetter:
    message_id: str
    receipt: str
    body: str


class DeadLetterQueue(Protocol):
    def receive(self, *, max_messages: int, hide_for_seconds: int) -> list[DeadLetter]: ...

    def delete(self, letter: DeadLetter) -> None: ...


class NotAnEvent(ValueError):
    """The message holds no event that could be replayed."""


@dataclass
class RedriveReport:
    replayed: int = 0
    failed: list[str] = field(default_factory=list)


def original_event(body: str) -> dict[str, Any]:
    """The event the function failed on. A Lambda on-failure destination wraps it in an invocation
    record (`requestContext`, `requestPayload`, `responsePayload`...); a plain dead-letter queue or
    an operator's own message holds the event itself."""
    try:
        message = json.loads(body)
    except json.JSONDecodeError as error:
        raise NotAnEvent(f"the message is not JSON ({error.msg})") from None
    if not isinstance(message, dict):
        raise NotAnEvent("the message is not a JSON object")
    if "requestPayload" in message and "requestContext" in message:
        event = message["requestPayload"]
        if not isinstance(event, dict):
            raise NotAnEvent("the invocation record's requestPayload is not an event object")
        return event
    return message


def redrive(
    queue: DeadLetterQueue,
    replay: Callable[[dict[str, Any]], Any],
    *,
    limit: int,
    hide_for_seconds: int = 900,
    on_letter: Callable[[DeadLetter, str | None], None] = lambda letter, error: None,
) -> RedriveReport:
    """Replay up to `limit` dead letters. Received messages stay hidden for `hide_for_seconds`, so a
    failed one is not received again in this run; `on_letter` hears of each one (error or None)."""
    report = RedriveReport()
    for letter in _letters(queue, limit=limit, hide_for_seconds=hide_for_seconds):
        try:
            replay(original_event(letter.body))
        except Exception as error:  # noqa: BLE001 - one bad letter must not stop the others
            problem = f"{type(error).__name__}: {error}"
            report.failed.append(f"message {letter.message_id}: {problem}")
            on_letter(letter, problem)
            continue
        queue.delete(letter)
        report.replayed += 1
        on_letter(letter, None)
    return report


def _letters(queue: DeadLetterQueue, *, limit: int, hide_for_seconds: int) -> Iterator[DeadLetter]:
    taken = 0
    while taken < limit:
        batch = queue.receive(max_messages=min(10, limit - taken), hide_for_seconds=hide_for_seconds)
        if not batch:
            return
        for letter in batch:
            taken += 1
            yield letter

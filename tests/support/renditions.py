"""The renditions queue in tests: messages kept in memory, handled when the test says so (as the
renditions function would handle them from SQS), so a test can look at a photo before and after."""

from __future__ import annotations

from typing import Any

from photosync.services import renditions


class MemoryQueue:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    def send(self, message: dict[str, Any]) -> None:
        self.messages.append(message)


class FailingQueue:
    """SQS unreachable: every send fails."""

    def send(self, message: dict[str, Any]) -> None:
        raise ConnectionError("the queue cannot be reached")


def handle_queued(uow, store, queue: MemoryQueue) -> list[str]:
    """Handle every queued message once; the states afterwards, in order."""
    taken, queue.messages = queue.messages, []
    return [renditions.make_queued(uow, store, message) for message in taken]


def finalize_and_render(uow, store, key: str):
    """Finalize `key` and make its renditions at once, as a prompt renditions function would."""
    from photosync.services import finalize

    queue = MemoryQueue()
    result = finalize.finalize_object(uow, store, key, queue=queue)
    handle_queued(uow, store, queue)
    return result

"""Cleanup function, run by an EventBridge schedule: the sweep of F1.2."""

from __future__ import annotations

import time

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from photosync import observability
from photosync.handlers import environment
from photosync.services import cleanup

# The share of the remaining time kept back: the slowest single step of the sweep (finalizing a
# late upload: reading the original, making its renditions) must still fit after the deadline.
SAFETY_SHARE = 0.2


@observability.instrumented(correlation_id_path=correlation_paths.EVENT_BRIDGE)
@event_source(data_class=EventBridgeEvent)
def handler(event: EventBridgeEvent, context: LambdaContext) -> dict:
    started = time.perf_counter()
    deadline = cleanup.Deadline.after(context.get_remaining_time_in_millis() / 1000 * (1 - SAFETY_SHARE))
    config = environment.config()
    report = cleanup.run_cleanup(
        environment.unit_of_work(), environment.object_store(),
        pending_ttl_seconds=config.pending_ttl_seconds, trash_retention_days=config.trash_retention_days,
        change_log_retention_days=config.change_log_retention_days, deadline=deadline,
        renditions_queue=environment.renditions_queue(),
    )
    observability.sweep_finished(report, time.perf_counter() - started)
    return report.__dict__

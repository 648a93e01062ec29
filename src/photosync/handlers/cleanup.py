"""Cleanup function, run by an EventBridge schedule: the sweep of F1.2."""

from __future__ import annotations

import time

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from photosync.handlers import environment
from photosync.services import cleanup

logger = Logger(service="photosync")
# The share of the function's remaining time the batched work may use; the rest finishes the batch
# under way and the parts that are not time-bounded.
TIME_BUDGET_SHARE = 0.8


@logger.inject_lambda_context
@event_source(data_class=EventBridgeEvent)
def handler(event: EventBridgeEvent, context: LambdaContext) -> dict:
    config = environment.config()
    budget_seconds = context.get_remaining_time_in_millis() / 1000 * TIME_BUDGET_SHARE
    report = cleanup.run_cleanup(
        environment.unit_of_work(), environment.object_store(),
        pending_ttl_seconds=config.pending_ttl_seconds,
        trash_retention_days=config.trash_retention_days,
        change_log_retention_days=config.change_log_retention_days,
        deadline=time.monotonic() + budget_seconds,
    )
    return report.__dict__

"""Cleanup function, run by an EventBridge schedule: the sweep of F1.2."""

from __future__ import annotations

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from photosync.handlers import environment
from photosync.services import cleanup

logger = Logger(service="photosync")


@logger.inject_lambda_context
@event_source(data_class=EventBridgeEvent)
def handler(event: EventBridgeEvent, context: LambdaContext) -> dict:
    report = cleanup.run_cleanup(
        environment.unit_of_work(), environment.object_store(),
        pending_ttl_seconds=environment.config().pending_ttl_seconds,
    )
    return report.__dict__

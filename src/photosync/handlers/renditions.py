"""Renditions function: SQS messages from finalize -> each photo's thumbnail and preview.

A batch reports its failures item by item (Powertools' batch utility, `ReportBatchItemFailures` on
the event source mapping): SQS deletes the messages that succeeded and delivers only the failed
ones again, until the queue's redrive policy moves them to the dead-letter queue. The sweep retries
whatever is still pending after that, so a photo never waits on a message forever.
"""

from __future__ import annotations

import json

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from photosync import observability
from photosync.handlers import environment
from photosync.log import logger
from photosync.services import renditions

processor = BatchProcessor(event_type=EventType.SQS)


def make_renditions(record: SQSRecord) -> str:
    try:
        message = json.loads(record.body)
    except ValueError:
        message = {}
    if not isinstance(message, dict):
        message = {}
    try:
        state = renditions.make_queued(environment.unit_of_work(), environment.object_store(), message)
    except renditions.RenditionsNotStored:
        observability.rendition_tried("pending")
        raise
    observability.rendition_tried(state)
    logger.info("renditions", extra={"message_id": record.message_id, "state": state})
    return state


@observability.instrumented()
def handler(event: dict, context: LambdaContext) -> dict:
    return process_partial_response(event=event, record_handler=make_renditions, processor=processor, context=context)

"""Finalize function: S3 `ObjectCreated` records -> photos (F1.2 step 3), and their rendition work
onto the renditions queue."""

from __future__ import annotations

from aws_lambda_powertools.utilities.data_classes import S3Event, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from photosync import observability
from photosync.handlers import environment
from photosync.log import logger
from photosync.services import finalize

# S3's own request id for the PUT that created the object: it ties the logs to S3's records.
S3_REQUEST_ID = 'Records[0].responseElements."x-amz-request-id"'


@observability.instrumented(correlation_id_path=S3_REQUEST_ID)
@event_source(data_class=S3Event)
def handler(event: S3Event, context: LambdaContext) -> dict:
    outcomes = []
    for record in event.records:
        # `object_key` is URL-decoded by the data class, as S3 sends keys URL-encoded.
        result = finalize.finalize_object(
            environment.unit_of_work(), environment.object_store(), record.s3.get_object.key,
            queue=environment.renditions_queue(),
        )
        logger.info("finalize", extra={"key": record.s3.get_object.key, "outcome": result.outcome, "detail": result.detail})
        observability.finalize_outcome(result)
        outcomes.append(result.outcome)
    return {"outcomes": outcomes}

"""Cognito PostConfirmation trigger: the new user's row with the default quota (F1.1)."""

from __future__ import annotations

import uuid

from aws_lambda_powertools.utilities.data_classes import event_source
from aws_lambda_powertools.utilities.data_classes.cognito_user_pool_event import PostConfirmationTriggerEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from photosync.handlers import environment
from photosync.log import logger
from photosync.services import accounts


@logger.inject_lambda_context
@event_source(data_class=PostConfirmationTriggerEvent)
def handler(event: PostConfirmationTriggerEvent, context: LambdaContext) -> dict:
    attributes = event.request.user_attributes
    try:
        created = accounts.provision_user(
            environment.unit_of_work(),
            user_id=uuid.UUID(attributes["sub"]),
            email=attributes.get("email", event.user_name),
            quota=environment.config().default_quota_bytes,
        )
        logger.info("user provisioned" if created else "user already provisioned", extra={"sub": attributes["sub"]})
    except Exception:  # noqa: BLE001
        # A failing trigger would fail the user's sign-in; the API provisions on first request instead.
        logger.exception("provisioning failed; the first API request will provision the user")
    # Cognito requires the event back, unchanged.
    return event.raw_event

"""The one logger of every layer: Powertools' structured JSON logger, which Lambda keeps (lines of
a stdlib logger nobody configured vanish there). Handlers add the Lambda context to it with
`logger.inject_lambda_context`; services and adapters log through the same instance."""

from __future__ import annotations

from aws_lambda_powertools import Logger

logger = Logger(service="photosync")

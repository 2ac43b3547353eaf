"""Lambda handler for the offer sweep, run by an EventBridge schedule (every minute on AWS; the
local stack runs it every TURNSTILE_OFFER_SWEEP_SECONDS): queue the expiry of every waitlist
offer that is due into its event's group. A run that fails is simply done again by the next."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from chalicelib.bootstrap import services
from chalicelib.shared import observability

logger = Logger(service="turnstile-offer-sweep")


@observability.lambda_handler(logger)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    queued = services().offer_sweep.run()
    if queued:
        logger.info("queued offer expiries", extra={"queued": queued})
    return {"queued": queued}

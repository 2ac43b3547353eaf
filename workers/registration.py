"""Lambda handler for `registrations.fifo`: decide each event's commands, report failures.

Records arrive in batches of up to 10, in order within each message group (one group per
event). Each group's commands are decided together and committed in one transaction. If a
group fails, every record of that group is reported in `batchItemFailures` (so the group's order
holds on redelivery, and committed requests are skipped as already completed). A malformed
message is moved to the dead-letter queue at once instead of blocking its group. (Powertools'
batch processing reports records one by one; here a group fails or succeeds whole, so this
worker reports its failures itself.)
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from chalicelib.bootstrap import services
from chalicelib.registrations.decisions import TimeLeft
from chalicelib.registrations.messages import CommandMessage, MalformedMessage, parse_message
from chalicelib.shared import observability
from workers.context import remaining_time

logger = Logger(service="turnstile-registration-worker")


@observability.lambda_handler(logger)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_records(event.get("Records", []), remaining_time(context))


def process_records(records: list[dict[str, Any]], time_left: TimeLeft | None = None) -> dict[str, Any]:
    failures: list[str] = []
    for group_id, group in _by_group(records).items():
        failures += _process_group(group_id, group, time_left)
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failures]}


def _by_group(records: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        groups.setdefault(record["attributes"].get("MessageGroupId", ""), []).append(record)
    return groups


def _process_group(group_id: str, records: list[dict[str, Any]], time_left: TimeLeft | None) -> list[str]:
    """Returns the message ids to report failed (all of the group's, or none). Work that did not
    fit the invocation continues in new messages at the back of the group, in order."""
    try:
        messages = [m for m in (_parse_or_dead_letter(group_id, r) for r in records) if m is not None]
        with observability.Stopwatch() as watch:
            decided = services().decisions.process(group_id, messages, time_left)
        for message in decided.unfinished:
            services().commands.send(message.continued())
        outcomes = decided.outcomes
    except Exception:
        logger.exception("group failed; reporting its records for redelivery", extra={"eventId": group_id})
        return [record["messageId"] for record in records]
    observability.record_decision_latency(watch.ms)
    observability.record_outcomes(outcomes.values())
    for request_id, outcome in outcomes.items():
        logger.info("decided", extra={"eventId": group_id, "requestId": request_id, "outcome": outcome.kind})
    if decided.unfinished:
        logger.info(
            "continued", extra={"eventId": group_id, "requests": [m.requestId for m in decided.unfinished]}
        )
    return []


def _parse_or_dead_letter(group_id: str, record: dict[str, Any]) -> CommandMessage | None:
    try:
        message = parse_message(record["body"])
        if message.eventId != group_id:
            raise MalformedMessage(f"eventId {message.eventId!r} is not the message group {group_id!r}")
        return message
    except MalformedMessage as error:
        logger.error("malformed message moved to the DLQ", extra={"messageId": record["messageId"]})
        services().dead_letters.send(record, str(error))
        return None

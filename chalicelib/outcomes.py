"""Outcomes as stored on the request item and shown by `GET /requests/{id}` (camelCase)."""

from __future__ import annotations

from typing import Any

from chalicelib.domain.registration import Outcome


def outcome_to_wire(outcome: Outcome) -> dict[str, Any]:
    body: dict[str, Any] = {"type": outcome.kind}
    if outcome.position is not None:
        body["position"] = outcome.position
    if outcome.reason is not None:
        body["reason"] = outcome.reason
    if outcome.current_status is not None:
        body["currentStatus"] = outcome.current_status
    if outcome.kind == "cancelled" and outcome.promoted_user_ids:
        body["promotedUserId"] = outcome.promoted_user_ids[0]
    if outcome.kind == "capacity_changed":
        body["capacity"] = outcome.capacity
    return body

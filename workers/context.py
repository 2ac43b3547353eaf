"""What the workers read from the Lambda context: how long the invocation has left."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def remaining_time(context: Any) -> Callable[[], float] | None:
    """Seconds this invocation has left, read afresh on each call; None when the context does
    not say (a handler called directly: a test, the local stack's runner)."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return None
    return lambda: float(remaining()) / 1000

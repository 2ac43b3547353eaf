"""What the benchmarks share: emulators on free ports, FIFO-shaped records, a results table."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Sequence
from typing import Any, Self

from devstack.emulators import ROOT, Emulators, free_port


def start_emulators() -> tuple[Emulators, dict[str, str]]:
    """DynamoDB Local and LocalStack on free ports, with the resources created and the env set."""
    from chalicelib import bootstrap
    from devstack.stack import configure_environment

    logs = ROOT / ".cache" / "logs" / f"bench-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    emulators = Emulators.on_ports(free_port(), free_port(), logs / "localstack")
    emulators.start(logs)
    environment = configure_environment(emulators)
    bootstrap.reset()  # an earlier benchmark's emulators are gone: use the new endpoints
    return emulators, environment


def fifo_record(body: dict[str, Any], sequence: int) -> dict[str, Any]:
    return {
        "messageId": str(uuid.uuid4()),
        "receiptHandle": uuid.uuid4().hex,
        "body": json.dumps(body),
        "attributes": {
            "ApproximateReceiveCount": "1",
            "MessageGroupId": body["eventId"],
            "MessageDeduplicationId": body["requestId"],
            "SequenceNumber": str(sequence),
            "SentTimestamp": "0",
        },
        "messageAttributes": {},
        "eventSource": "aws:sqs",
    }


class DynamoCalls:
    """Listens to every DynamoDB call while open (a context manager): `_before(params, model)`
    as a call is made, `_after(parsed, model)` once answered. botocore shares event handlers
    between clients, so it listens only while open."""

    def __init__(self, client: Any) -> None:
        self._events = client.meta.events

    def __enter__(self) -> Self:
        self._events.register("provide-client-params.dynamodb.*", self._before)
        self._events.register("after-call.dynamodb.*", self._after)
        return self

    def __exit__(self, *_: object) -> None:
        self._events.unregister("provide-client-params.dynamodb.*", self._before)
        self._events.unregister("after-call.dynamodb.*", self._after)

    def _before(self, params: dict[str, Any], model: Any, **_: Any) -> None: ...

    def _after(self, parsed: dict[str, Any], model: Any, **_: Any) -> None: ...


Summary = list[tuple[str, str, str]]  # (what, figure, ratio to the baseline or "")


def table(rows: Sequence[tuple[str, ...]]) -> str:
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(str(c).rjust(w) for c, w in zip(row, widths, strict=True)) for row in rows)


def admin_session() -> Any:
    """A requests.Session calling the local stack as an admin (a token from its local signer)."""
    import requests

    from devstack import keys

    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {keys.token('bench-admin', ['admins'])}"
    return http

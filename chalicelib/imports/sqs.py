"""The imports queue, and the feed of import rows into `registrations.fifo`."""

from __future__ import annotations

import json
import time
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.registrations.messages import CommandMessage
from chalicelib.registrations.ports import QueueUnavailable


class SqsImportQueue:
    def __init__(self, client: Any, queue_url: str) -> None:
        self._client = client
        self._url = queue_url

    def send(self, message: dict[str, Any], delay_seconds: int = 0) -> None:
        try:
            self._client.send_message(
                QueueUrl=self._url, MessageBody=json.dumps(message), DelaySeconds=delay_seconds
            )
        except (ClientError, BotoCoreError) as error:
            raise QueueUnavailable(str(error)) from error


class SqsRegistrationFeed:
    """Import rows into registrations.fifo: the event's group, deduplicated by import and row."""

    def __init__(self, client: Any, queue_url: str, attempts: int = 5) -> None:
        self._client = client
        self._url = queue_url
        self._attempts = attempts

    def send(self, messages: list[CommandMessage]) -> None:
        entries = {
            str(i): {
                "Id": str(i),
                "MessageBody": m.body(),
                "MessageGroupId": m.eventId,
                "MessageDeduplicationId": f"import:{m.importId}:{m.row}",
            }
            for i, m in enumerate(messages)
        }
        for attempt in range(self._attempts):
            response = self._client.send_message_batch(QueueUrl=self._url, Entries=list(entries.values()))
            failed = response.get("Failed", [])
            if not failed:
                return
            if any(f.get("SenderFault") for f in failed):
                raise QueueUnavailable(f"registrations.fifo refused import rows: {failed}")
            entries = {f["Id"]: entries[f["Id"]] for f in failed}
            time.sleep(min(0.1 * 2**attempt, 2.0))
        raise QueueUnavailable(f"registrations.fifo did not take {len(entries)} import rows")

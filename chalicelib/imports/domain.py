"""What an import is: its record, statuses and progress counters (values only; pure)."""

from __future__ import annotations

from dataclasses import dataclass

QUEUED, VALIDATING, RUNNING, COMPLETED, FAILED = "queued", "validating", "running", "completed", "failed"
AWAITING_UPLOAD = "awaiting_upload"  # a presigned upload was handed out; the object starts it
UPLOADS_PREFIX = "uploads/"  # where presigned uploads land in the bucket (their event starts them)
FINISHED = (COMPLETED, FAILED)


@dataclass(frozen=True)
class ImportRecord:
    """The import item (`IMPORT#{importId}`, `META`). Outcome counters are the registration
    worker's (ADDed in the transaction that decides rows); `enqueued` is the checkpoint: rows of
    the plan before it are in the queue; `pending` marks a batch being sent."""

    import_id: str
    event_id: str
    status: str
    created_at: str
    dry_run: bool = False
    media_type: str = "text/csv"
    payload_key: str = ""
    fingerprint: str = ""
    total: int = 0
    valid: int = 0
    invalid: int = 0
    enqueued: int = 0
    pending: int | None = None
    users_created: int = 0
    decided: int = 0
    confirmed: int = 0
    waitlisted: int = 0
    rejected: int = 0
    already_registered: int = 0
    updated_at: str = ""
    completed_at: str | None = None
    failure: str | None = None
    owner_id: str = ""  # the event's owner when the import was made: they and admins may read it

    @property
    def in_flight(self) -> int:
        return self.enqueued - self.decided

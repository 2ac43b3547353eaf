"""Use cases of bulk imports: accept a payload (API) and process an import (worker).

The processor validates the rows once (errors stored, the plan of valid rows stored next to
the payload; an import never creates or changes a user profile: a row registers the user id it
names, and whoever signs up with that id later makes their own profile), then feeds the plan
into `registrations.fifo` in batches of 10, keeping at most `max_in_flight` of this import's
rows enqueued but undecided. Before a batch is sent, the import item records it as pending;
after, the checkpoint (`enqueued`) moves past it.
A restarted worker therefore re-sends at most the one pending batch, minus its rows that the
registration worker already decided. Each run works for a bounded time, then re-queues itself.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from chalicelib.imports import rows as rowcheck
from chalicelib.imports.domain import (
    AWAITING_UPLOAD,
    COMPLETED,
    FAILED,
    FINISHED,
    QUEUED,
    RUNNING,
    UPLOADS_PREFIX,
    ImportRecord,
)
from chalicelib.imports.ports import (
    EventLookup,
    ImportQueue,
    ImportRepository,
    PayloadStore,
    RegistrationFeed,
    RequestLookup,
)
from chalicelib.imports.rows import CSV, RowError
from chalicelib.registrations.domain import RequestType
from chalicelib.registrations.messages import CommandMessage
from chalicelib.registrations.ports import QueueUnavailable
from chalicelib.shared.caller import Caller
from chalicelib.shared.clock import Clock, IdGenerator
from chalicelib.shared.cursor import Position
from chalicelib.shared.problems import (
    FieldError,
    IdempotencyKeyReused,
    NotFound,
    ServiceUnavailable,
    TurnstileError,
    ValidationFailed,
)

logger = logging.getLogger("turnstile.imports")

BATCH = 10  # SendMessageBatch takes at most 10 entries


def request_id(import_id: str, row: int) -> str:
    return f"import-{import_id}-{row}"


def payload_key(import_id: str, kind: str, fingerprint: str) -> str:
    """Where an upload is kept: named by its content too, so two uploads racing for one import
    id (the same Idempotency-Key, different files) never overwrite each other's bytes."""
    return f"imports/{import_id}/{fingerprint[:16]}.{_extension(kind)}"


def upload_key(import_id: str, kind: str) -> str:
    """Where a presigned upload lands; its ObjectCreated event starts the import."""
    return f"{UPLOADS_PREFIX}{import_id}.{_extension(kind)}"


def _extension(kind: str) -> str:
    return "csv" if kind == CSV else "json"


def import_id_of_upload(key: str) -> str | None:
    """The import an uploaded object belongs to (None: not an upload of ours)."""
    if not key.startswith(UPLOADS_PREFIX):
        return None
    import_id, _, extension = key[len(UPLOADS_PREFIX) :].partition(".")
    return import_id if import_id and extension in ("csv", "json") else None


UPLOAD_FORM_SECONDS = 900  # how long a presigned upload form is good for


def plan_key(import_id: str) -> str:
    return f"imports/{import_id}/plan.json"


@dataclass
class ImportService:
    """The API's side: accept an import, report on it."""

    imports: ImportRepository
    payloads: PayloadStore
    queue: ImportQueue
    events: EventLookup
    clock: Clock
    ids: IdGenerator

    def submit(
        self,
        caller: Caller,
        event_id: str,
        content_type: str | None,
        body: bytes,
        dry_run: bool = False,
        idempotency_key: str | None = None,
    ) -> ImportRecord:
        event = self.events.owned(caller, event_id)  # 401, 404 or 403 before anything is read
        kind = rowcheck.media_type(content_type)
        total = len(rowcheck.parse_payload(kind, body))  # 413 / 400 / 422 before anything is stored
        if total == 0:
            raise ValidationFailed("The import has no rows.", [FieldError("rows", "must not be empty")])
        fingerprint = hashlib.sha256(f"{event_id}\n{kind}\n{dry_run}\n".encode() + body).hexdigest()
        import_id = self._import_id(caller, idempotency_key)
        if idempotency_key is not None:
            earlier = self.imports.get(import_id)
            if earlier is not None:
                return self._repeat(earlier, fingerprint)
        now = self.clock.now()
        record = ImportRecord(
            import_id=import_id,
            event_id=event_id,
            status=QUEUED,
            created_at=now,
            updated_at=now,
            dry_run=dry_run,
            media_type=kind,
            payload_key=payload_key(import_id, kind, fingerprint),
            fingerprint=fingerprint,
            total=total,
            owner_id=event.owner_id,
        )
        self.payloads.put(record.payload_key, body, kind)
        if not self.imports.create(record):
            earlier = self.imports.get(import_id)
            assert earlier is not None
            return self._repeat(earlier, fingerprint)
        try:
            self.queue.send({"action": "start", "importId": import_id})
        except QueueUnavailable as error:
            self.imports.fail(import_id, "the import could not be queued", self.clock.now())
            raise ServiceUnavailable("The import could not be queued; try again.") from error
        return record

    def request_upload(
        self,
        caller: Caller,
        event_id: str,
        content_type: str | None,
        dry_run: bool = False,
        idempotency_key: str | None = None,
    ) -> tuple[ImportRecord, dict[str, Any] | None]:
        """For a file too large to send through the API: an import awaiting its file, and a
        presigned form to upload it to S3 (at most rows.MAX_UPLOAD_BYTES). The upload starts it.
        A repeat with the same Idempotency-Key gets the same import (and a fresh form while it
        still waits for its file)."""
        event = self.events.owned(caller, event_id)
        kind = rowcheck.media_type(content_type)
        fingerprint = hashlib.sha256(f"{event_id}\n{kind}\n{dry_run}\nupload".encode()).hexdigest()
        import_id = self._import_id(caller, idempotency_key)
        record = self.imports.get(import_id)
        if record is not None:
            self._repeat(record, fingerprint)
        else:
            now = self.clock.now()
            record = ImportRecord(
                import_id=import_id,
                event_id=event_id,
                status=AWAITING_UPLOAD,
                created_at=now,
                updated_at=now,
                dry_run=dry_run,
                media_type=kind,
                payload_key=upload_key(import_id, kind),
                fingerprint=fingerprint,
                owner_id=event.owner_id,
            )
            if not self.imports.create(record):
                record = self.imports.get(import_id)
                assert record is not None
        if record.status != AWAITING_UPLOAD:
            return record, None
        form = self.payloads.upload_form(
            record.payload_key, kind, rowcheck.MAX_UPLOAD_BYTES, UPLOAD_FORM_SECONDS
        )
        return record, form

    def _import_id(self, caller: Caller, idempotency_key: str | None) -> str:
        """A new id; or, with an Idempotency-Key, the one that key (scoped to the caller: two
        callers' keys never meet) always names."""
        if idempotency_key is None:
            return self.ids.new_id()
        scoped = f"import\n{caller.subject}\n{idempotency_key}"
        return hashlib.sha256(scoped.encode()).hexdigest()[:32]

    @staticmethod
    def _repeat(earlier: ImportRecord, fingerprint: str) -> ImportRecord:
        if earlier.fingerprint != fingerprint:
            raise IdempotencyKeyReused("This Idempotency-Key was used for a different import.")
        return earlier

    def get(self, caller: Caller, import_id: str) -> ImportRecord:
        """The import, for the owner of its event and admins (404 to anyone else)."""
        caller.require()
        record = self.imports.get(import_id)
        if record is None or not caller.owns(record.owner_id):
            raise NotFound(f"No import with importId '{import_id}'.")
        return record

    def errors(
        self, caller: Caller, import_id: str, limit: int, after: Position | None
    ) -> tuple[list[RowError], Any]:
        self.get(caller, import_id)
        return self.imports.errors(import_id, limit, after)


@dataclass(frozen=True)
class ImportLimits:
    # This import's rows enqueued but not yet decided. A FIFO group is decided one batch (10) at
    # a time, so a few batches ahead keep its worker busy; more only delays the event's other
    # commands behind the import.
    max_in_flight: int = 30
    slice_seconds: float = 60.0  # one run's working time before it re-queues itself
    poll_seconds: float = 0.1  # how often a waiting run re-reads the import item
    stall_seconds: float = 900.0  # no row decided for this long while rows are in flight: failed
    lease_margin_seconds: int = 60


@dataclass
class ImportProcessor:
    """The import worker's side: one run of one import, for at most `budget` seconds."""

    imports: ImportRepository
    payloads: PayloadStore
    queue: ImportQueue
    feed: RegistrationFeed
    requests: RequestLookup
    clock: Clock
    limits: ImportLimits = field(default_factory=ImportLimits)
    timer: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    _plans: dict[str, list[list[Any]]] = field(default_factory=dict, repr=False)

    def run(self, message: dict[str, Any], owner: str, budget: float | None = None) -> None:
        import_id = str(message.get("importId", ""))
        record = self.imports.get(import_id)
        if record is None or record.status in FINISHED:
            return
        if self._stalled(record, message):
            return
        budget = min(budget or self.limits.slice_seconds, self.limits.slice_seconds)
        epoch = self.clock.epoch_seconds()
        lease_until = epoch + int(budget) + self.limits.lease_margin_seconds
        if not self.imports.acquire(import_id, owner, epoch, lease_until):
            logger.info("import %s is leased to another run; this message is dropped", import_id)
            return
        try:
            finished = self._work(record, self.timer() + budget)
        finally:
            self.imports.release(import_id, owner)
        if not finished:
            self._continue(import_id, message)

    def _stalled(self, record: ImportRecord, message: dict[str, Any]) -> bool:
        if record.status != RUNNING or message.get("decided") != record.decided or record.in_flight <= 0:
            return False
        since = message.get("since")
        if not isinstance(since, int) or self.clock.epoch_seconds() - since < self.limits.stall_seconds:
            return False
        reason = f"no row was decided for {int(self.limits.stall_seconds)} s ({record.in_flight} in flight)"
        logger.error("import %s failed: %s", record.import_id, reason)
        self.imports.fail(record.import_id, reason, self.clock.now())
        return True

    def _continue(self, import_id: str, message: dict[str, Any]) -> None:
        record = self.imports.get(import_id)
        if record is None or record.status in FINISHED:
            return
        progressed = message.get("decided") != record.decided or not isinstance(message.get("since"), int)
        since = self.clock.epoch_seconds() if progressed else message["since"]
        waiting = record.enqueued >= record.valid or record.in_flight >= self.limits.max_in_flight
        self.queue.send(
            {"action": "continue", "importId": import_id, "decided": record.decided, "since": since},
            delay_seconds=1 if waiting else 0,
        )

    def _work(self, record: ImportRecord, deadline: float) -> bool:
        if record.status not in (RUNNING, COMPLETED, FAILED):
            record = self._validate(record)
        if record.status != RUNNING:
            return True
        return self._feed(record.import_id, deadline)

    # --- validation -----------------------------------------------------------------------------

    def _validate(self, record: ImportRecord) -> ImportRecord:
        import_id = record.import_id
        if not self.imports.start_validation(import_id, self.clock.now()):
            current = self.imports.get(import_id)
            assert current is not None
            return current
        uploaded = record.payload_key.startswith(UPLOADS_PREFIX)
        limit = rowcheck.MAX_UPLOAD_BYTES if uploaded else rowcheck.MAX_BYTES
        try:
            body = self.payloads.get(record.payload_key)
            checked = rowcheck.check_rows(rowcheck.parse_payload(record.media_type, body, limit))
        except KeyError:
            return self._failed(record, "the payload is missing")
        except TurnstileError as error:  # an upload the API never saw, or a corrupt payload
            return self._failed(record, f"the payload is not valid: {error}")
        total = checked.total if uploaded else None
        # Whether a user id has a profile is never looked up: the answer is the same for every id.
        valid, errors = checked.rows, checked.errors
        invalid = len({e.row for e in errors})
        self.imports.add_errors(import_id, errors)
        now = self.clock.now()
        if record.dry_run:
            self.imports.validated(import_id, len(valid), invalid, 0, COMPLETED, now, total)
            return replace(record, status=COMPLETED)
        plan = [[row.row, row.user_id] for row in valid]
        self.payloads.put(plan_key(import_id), json.dumps(plan).encode(), "application/json")
        self._plans[import_id] = plan
        status = RUNNING if valid else COMPLETED
        self.imports.validated(import_id, len(valid), invalid, 0, status, now, total)
        logger.info("import %s validated: %s valid, %s invalid", import_id, len(valid), invalid)
        return replace(record, status=status, valid=len(valid), invalid=invalid)

    def _failed(self, record: ImportRecord, reason: str) -> ImportRecord:
        self.imports.fail(record.import_id, reason, self.clock.now())
        return replace(record, status=FAILED, failure=reason)

    # --- feeding the registrations queue --------------------------------------------------------

    def _plan(self, import_id: str) -> list[list[Any]]:
        if import_id not in self._plans:
            self._plans.clear()  # one plan cached per process is enough
            self._plans[import_id] = json.loads(self.payloads.get(plan_key(import_id)))
        return self._plans[import_id]

    def _feed(self, import_id: str, deadline: float) -> bool:
        """Feed the plan until every row is decided (True) or the time is up (False)."""
        plan = self._plan(import_id)
        while True:
            record = self.imports.get(import_id)
            if record is None or record.status != RUNNING:
                return True
            if record.pending is not None:
                self._resend_pending(record, plan)
                continue
            if record.enqueued < record.valid:
                room = self.limits.max_in_flight - record.in_flight
                left = record.valid - record.enqueued
                if room >= min(BATCH, left):
                    self._send(record, plan, min(room, left), deadline)
                    continue
            elif record.decided >= record.valid and self.imports.complete(import_id, self.clock.now()):
                logger.info("import %s completed", import_id)
                return True
            if self.timer() >= deadline:
                return False
            self.sleep(self.limits.poll_seconds)

    def _send(self, record: ImportRecord, plan: list[list[Any]], count: int, deadline: float) -> None:
        """Send `count` rows from the checkpoint on, one checkpointed batch of 10 at a time."""
        start, stop = record.enqueued, record.enqueued + count
        while start < stop:
            end = min(start + BATCH, stop)
            if not self.imports.begin_batch(record.import_id, start, end, self.clock.now()):
                return  # another run moved the checkpoint: re-read
            self.feed.send([self._command(record, row, user) for row, user in plan[start:end]])
            self.imports.end_batch(record.import_id, end)
            start = end
            if self.timer() >= deadline:
                return

    def _resend_pending(self, record: ImportRecord, plan: list[list[Any]]) -> None:
        """A run stopped while sending rows [enqueued, pending): send again what is not decided."""
        assert record.pending is not None
        window = plan[record.enqueued : record.pending]
        decided = self.requests.existing([request_id(record.import_id, row) for row, _ in window])
        resend = [(row, user) for row, user in window if request_id(record.import_id, row) not in decided]
        if resend:
            logger.info("import %s: re-sending %s undecided rows of a batch", record.import_id, len(resend))
            self.feed.send([self._command(record, row, user) for row, user in resend])
        self.imports.end_batch(record.import_id, record.pending)

    def _command(self, record: ImportRecord, row: int, user_id: str) -> CommandMessage:
        """A row's command, accepted into the event's lane now (its place in line counts it)."""
        return CommandMessage(
            type=RequestType.REGISTER,
            requestId=request_id(record.import_id, row),
            eventId=record.event_id,
            userId=user_id,
            importId=record.import_id,
            row=row,
            createdAt=self.clock.now(),
        )

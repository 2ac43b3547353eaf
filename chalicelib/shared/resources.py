"""The one definition of Turnstile's table and queues.

The local bootstrap (`devstack.bootstrap`) and the CDK stack (`infrastructure/`) both build
their resources from these values, so the local stack and AWS cannot drift apart.

Single-table design (partition key `PK`, sort key `SK`):

    item               PK                     SK                  indexes
    event              EVENT#{eventId}        META                GSI1 by date, GSI2 by status+date
    user               USER#{userId}          META
    a user's mark      USER#{userId}          REG#{eventId}       (their list of events; their
                       for an event                               pending register or cancel)
    registration       EVENT#{eventId}        REG#{userId}        GSI2 event's offered list,
                                                                  by expiry (the confirmed list
                                                                  is the base table's, filtered),
                                                                  LSI1 waitlist order (waitSeq),
                                                                  GSI3 open offers by expiry
    request            REQUEST#{requestId}    META                TTL expiresAt
    idempotency key    IDEMPOTENCY#{key}      META                TTL expiresAt
"""

from __future__ import annotations

from dataclasses import dataclass, field

TTL_ATTRIBUTE = "expiresAt"


@dataclass(frozen=True)
class Index:
    name: str
    partition_key: str
    sort_key: str
    sort_key_type: str = "S"
    local: bool = False


@dataclass(frozen=True)
class TableDefinition:
    name: str
    partition_key: str = "PK"
    sort_key: str = "SK"
    indexes: tuple[Index, ...] = ()
    ttl_attribute: str = TTL_ATTRIBUTE
    stream_view: str = "NEW_AND_OLD_IMAGES"

    def attribute_types(self) -> dict[str, str]:
        types = {self.partition_key: "S", self.sort_key: "S"}
        for index in self.indexes:
            types.setdefault(index.partition_key, "S")
            types[index.sort_key] = index.sort_key_type
        return types


@dataclass(frozen=True)
class QueueDefinition:
    name: str
    fifo: bool = False
    visibility_timeout: int = 60
    dead_letter: str | None = None
    max_receives: int = 5
    content_based_deduplication: bool = False
    extra: dict[str, str] = field(default_factory=dict)


TABLE = TableDefinition(
    name="turnstile",
    indexes=(
        Index("GSI1", "GSI1PK", "GSI1SK"),
        Index("GSI2", "GSI2PK", "GSI2SK"),
        Index("LSI1", "PK", "waitSeq", sort_key_type="N", local=True),
        Index("GSI3", "GSI3PK", "GSI3SK"),
    ),
)

# Worker timeout is 30 s in AWS; SQS visibility must be at least six times that.
WORKER_TIMEOUT_SECONDS = 30
# The registration worker decides a group's batch in well under a second, so its timeout is
# short: a crashed batch (a timeout, out of memory, a kill) holds its event's group only until
# the visibility timeout, 6 x 5 s = 30 s. Longer work (a big capacity raise, a purge) stops in
# time and continues in a new message in the same group (registrations.decisions).
REGISTRATION_WORKER_TIMEOUT_SECONDS = 5

# The offer sweep (workers/offer_sweep.py) runs this often on AWS (an EventBridge schedule's
# shortest rate): a lapsed offer is queued for expiry at most this long after `offerExpiresAt`.
OFFER_SWEEP_MINUTES = 1

REGISTRATIONS_DLQ = QueueDefinition(name="registrations-dlq.fifo", fifo=True)
REGISTRATIONS = QueueDefinition(
    name="registrations.fifo",
    fifo=True,
    visibility_timeout=6 * REGISTRATION_WORKER_TIMEOUT_SECONDS,
    dead_letter=REGISTRATIONS_DLQ.name,
    max_receives=5,
)

WEBHOOKS_DLQ = QueueDefinition(name="webhooks-dlq")
WEBHOOKS = QueueDefinition(
    name="webhooks",
    visibility_timeout=6 * WORKER_TIMEOUT_SECONDS,
    dead_letter=WEBHOOKS_DLQ.name,
    max_receives=5,
)

# Changes the webhook relay could not turn into deliveries, parked whole (old and new images):
# the stream's own failure destination keeps only pointers into the stream, which expire after
# 24 hours. The relay consumes this queue too; what still fails lands in its DLQ for a redrive.
WEBHOOK_RELAY_DLQ = QueueDefinition(name="webhook-relay-dlq")
WEBHOOK_RELAY = QueueDefinition(
    name="webhook-relay-retries",
    visibility_timeout=6 * WORKER_TIMEOUT_SECONDS,
    dead_letter=WEBHOOK_RELAY_DLQ.name,
    max_receives=5,
)

IMPORTS_DLQ = QueueDefinition(name="imports-dlq")
IMPORTS = QueueDefinition(
    name="imports",
    visibility_timeout=6 * 300,  # the import worker may run up to 5 minutes per message
    dead_letter=IMPORTS_DLQ.name,
    max_receives=5,
)

QUEUES: tuple[QueueDefinition, ...] = (
    REGISTRATIONS_DLQ,
    REGISTRATIONS,
    WEBHOOKS_DLQ,
    WEBHOOKS,
    WEBHOOK_RELAY_DLQ,
    WEBHOOK_RELAY,
    IMPORTS_DLQ,
    IMPORTS,
)

# Bulk-import payloads (CSV or JSON) are stored here before the import worker reads them.
IMPORTS_BUCKET = "turnstile-imports"


def queue_named(name: str) -> QueueDefinition:
    for queue in QUEUES:
        if queue.name == name:
            return queue
    raise KeyError(name)

"""The composition root: settings -> adapters -> services, in one place.

`services()` builds the AWS-backed services once per process (Lambda reuses them across
invocations); the API (app.py), every worker, the local stack and the tests all get them here.
`in_memory()` builds the same services on the in-memory adapters, for fast tests. Tests swap
what `services()` returns with `use(...)`.

Clients come from `shared.aws.client`, which reads boto3's own `AWS_ENDPOINT_URL_<SERVICE>`, so
the same wiring runs against the local emulators (DynamoDB Local, LocalStack) or AWS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from chalicelib.events.dynamodb import DynamoEventRepository
from chalicelib.events.memory import MemoryEventRepository
from chalicelib.events.ports import EventRepository
from chalicelib.events.recent import RecentEvents
from chalicelib.events.service import EventService
from chalicelib.imports.dynamodb import DynamoImportRepository, ImportProgress
from chalicelib.imports.memory import MemoryFeed, MemoryImportQueue, MemoryImports, MemoryPayloads
from chalicelib.imports.ports import ImportQueue, ImportRepository, PayloadStore, RegistrationFeed
from chalicelib.imports.s3 import S3PayloadStore
from chalicelib.imports.service import ImportLimits, ImportProcessor, ImportService
from chalicelib.imports.sqs import SqsImportQueue, SqsRegistrationFeed
from chalicelib.registrations.decisions import DecisionService
from chalicelib.registrations.dynamodb import (
    DynamoLanes,
    DynamoOpenOffers,
    DynamoRegistrationQueries,
    DynamoRequestRepository,
    DynamoWaitHolds,
)
from chalicelib.registrations.memory import (
    MemoryCommandQueue,
    MemoryDeadLetters,
    MemoryLanes,
    MemoryRegistrationQueries,
    MemoryRequestRepository,
    MemorySeatStore,
    MemoryWaitHolds,
)
from chalicelib.registrations.offers import OfferSweep
from chalicelib.registrations.ports import (
    CommandQueue,
    DeadLetters,
    Lanes,
    OpenOffers,
    RegistrationQueries,
    RequestRepository,
    SeatStore,
    WaitHolds,
)
from chalicelib.registrations.seat_store import DynamoSeatStore
from chalicelib.registrations.service import RegistrationService, RequestSubmitter, SeatChanges
from chalicelib.registrations.sqs import SqsCommandQueue, SqsDeadLetters
from chalicelib.shared.auth import TokenVerifier, jwks_keys
from chalicelib.shared.aws import client
from chalicelib.shared.caller import Caller
from chalicelib.shared.clock import (
    Clock,
    IdGenerator,
    Randomness,
    SystemClock,
    SystemRandomness,
    UuidGenerator,
)
from chalicelib.shared.config import Settings, on_aws, require_deployed_keys, settings
from chalicelib.shared.secrets import secret_string
from chalicelib.users.dynamodb import DynamoUserRepository
from chalicelib.users.memory import MemoryUserRepository
from chalicelib.users.ports import UserRepository
from chalicelib.users.service import UserService
from chalicelib.webhooks.directory import CognitoGroupDirectory
from chalicelib.webhooks.dynamodb import DynamoDeliveryRepository, DynamoSubscriptionRepository
from chalicelib.webhooks.http import HttpSender, SocketResolver
from chalicelib.webhooks.memory import (
    MemoryDeliveryQueue,
    MemoryDeliveryRepository,
    MemoryGroupDirectory,
    MemoryParkedChanges,
    MemorySubscriptionRepository,
    StaticResolver,
)
from chalicelib.webhooks.ports import (
    DeliveryQueue,
    DeliveryRepository,
    GroupDirectory,
    ParkedChanges,
    Resolver,
    Sender,
    SubscriptionRepository,
)
from chalicelib.webhooks.schedule import parse_schedule
from chalicelib.webhooks.sealing import sealer_for
from chalicelib.webhooks.service import Dispatcher, Relay, UrlGuard, WebhookService
from chalicelib.webhooks.sqs import SqsDeliveryQueue, SqsParkedChanges


@dataclass
class Services:
    """Every use case, wired. API routes and workers reach features only through these."""

    settings: Settings
    auth: TokenVerifier
    events: EventService
    users: UserService
    registrations: RegistrationService
    seat_changes: SeatChanges
    decisions: DecisionService  # the registration worker
    offer_sweep: OfferSweep  # queues the expiry of due waitlist offers (on a schedule)
    commands: CommandQueue  # registrations.fifo: the worker continues unfinished work there
    dead_letters: DeadLetters  # the registration worker's poison messages
    webhooks: WebhookService
    relay: Relay  # the table's stream -> webhook deliveries
    parked_changes: ParkedChanges  # changes the relay failed on, for another try
    dispatcher: Dispatcher  # the webhooks queue -> subscribers
    imports: ImportService
    import_processor: ImportProcessor  # the imports queue


@dataclass
class _Adapters:
    """What `_wire` needs, the same for AWS and memory."""

    events: EventRepository
    users: UserRepository
    requests: RequestRepository
    queries: RegistrationQueries
    commands: CommandQueue
    lanes: Lanes
    holds: WaitHolds
    seats: SeatStore
    open_offers: OpenOffers
    dead_letters: DeadLetters
    subscriptions: SubscriptionRepository
    deliveries: DeliveryRepository
    delivery_queue: DeliveryQueue
    parked_changes: ParkedChanges
    resolver: Resolver
    sender: Sender
    directory: GroupDirectory
    imports: ImportRepository
    payloads: PayloadStore
    import_queue: ImportQueue
    feed: RegistrationFeed
    recent_events: EventRepository | None = None  # the registration routes' event reads


def _wire(
    config: Settings, adapters: _Adapters, clock: Clock, ids: IdGenerator, randomness: Randomness
) -> Services:
    events = EventService(adapters.events, clock, ids)
    recent = EventService(adapters.recent_events or adapters.events, clock, ids)
    submitter = RequestSubmitter(adapters.requests, adapters.commands, clock, ids, adapters.lanes)
    guard = UrlGuard(adapters.resolver, config.allow_loopback_webhooks, config.allow_http_webhooks)
    a = adapters
    return Services(
        settings=config,
        auth=TokenVerifier(jwks_keys(config.jwks), config.jwt_issuer, config.jwt_audience),
        events=events,
        users=UserService(a.users, clock, ids),
        registrations=RegistrationService(recent, a.users, a.requests, a.queries, submitter, a.holds),
        seat_changes=SeatChanges(events, a.events, submitter, ids),
        decisions=DecisionService(a.seats, clock),
        offer_sweep=OfferSweep(a.open_offers, a.commands, clock),
        commands=a.commands,
        dead_letters=a.dead_letters,
        webhooks=WebhookService(
            a.subscriptions, a.deliveries, a.delivery_queue, guard, clock, ids, randomness
        ),
        relay=Relay(a.subscriptions, a.deliveries, a.delivery_queue, clock),
        parked_changes=a.parked_changes,
        dispatcher=Dispatcher(
            a.subscriptions,
            a.deliveries,
            a.delivery_queue,
            guard,
            a.sender,
            clock,
            randomness,
            parse_schedule(config.webhook_retry_schedule),
            config.webhook_disable_after_failures,
            a.directory,
        ),
        imports=ImportService(a.imports, a.payloads, a.import_queue, events, clock, ids),
        import_processor=ImportProcessor(
            a.imports,
            a.payloads,
            a.import_queue,
            a.feed,
            a.requests,
            clock,
            ImportLimits(
                max_in_flight=config.import_max_in_flight,
                slice_seconds=config.import_slice_seconds,
                stall_seconds=config.import_stall_seconds,
            ),
        ),
    )


def build(config: Settings, clients: Callable[[str], Any] = client) -> Services:
    """The AWS-backed services (`clients` makes the boto3 clients; tests may pass their own)."""
    if on_aws():
        require_deployed_keys(config, serves_api=False)
    if config.cursor_secret_arn:
        config = replace(
            config, cursor_secret=secret_string(clients("secretsmanager"), config.cursor_secret_arn)
        )
    dynamodb, sqs, s3, table = clients("dynamodb"), clients("sqs"), clients("s3"), config.table_name
    clock = SystemClock()
    events = DynamoEventRepository(dynamodb, table)
    adapters = _Adapters(
        events=events,
        recent_events=RecentEvents(events),
        users=DynamoUserRepository(dynamodb, table),
        requests=DynamoRequestRepository(dynamodb, table),
        queries=DynamoRegistrationQueries(dynamodb, table),
        commands=SqsCommandQueue(sqs, config.registrations_queue_url),
        lanes=DynamoLanes(dynamodb, table),
        holds=DynamoWaitHolds(dynamodb, table),
        seats=DynamoSeatStore(dynamodb, table, hooks=(ImportProgress(table),)),
        open_offers=DynamoOpenOffers(dynamodb, table),
        dead_letters=SqsDeadLetters(sqs, config.registrations_dlq_url),
        subscriptions=DynamoSubscriptionRepository(
            dynamodb, table, sealer_for(config.webhook_secrets_key, lambda: clients("kms"))
        ),
        deliveries=DynamoDeliveryRepository(dynamodb, table, clock),
        delivery_queue=SqsDeliveryQueue(sqs, config.webhooks_queue_url, config.webhooks_dlq_url),
        parked_changes=SqsParkedChanges(sqs, config.webhook_relay_queue_url),
        resolver=SocketResolver(),
        sender=HttpSender(),
        directory=(
            CognitoGroupDirectory(clients("cognito-idp"), config.user_pool_id)
            if config.user_pool_id
            else MemoryGroupDirectory()
        ),
        imports=DynamoImportRepository(dynamodb, table),
        payloads=S3PayloadStore(s3, config.imports_bucket),
        import_queue=SqsImportQueue(sqs, config.imports_queue_url),
        feed=SqsRegistrationFeed(sqs, config.registrations_queue_url),
    )
    return _wire(config, adapters, clock, UuidGenerator(), SystemRandomness())


def in_memory(
    config: Settings,
    clock: Clock | None = None,
    ids: IdGenerator | None = None,
    randomness: Randomness | None = None,
    sender: Sender | None = None,
    resolver: Resolver | None = None,
) -> Services:
    """The same services on in-memory adapters (no network), for fast tests: one world, as the
    AWS adapters share one table. The seat store decides on the event repository's events and
    completes the request repository's records, the listings read its registrations, and its
    `changes` are what the table's stream would carry to the webhook relay."""
    events, requests = MemoryEventRepository(), MemoryRequestRepository()
    seats = MemorySeatStore(events, requests)
    adapters = _Adapters(
        events=events,
        users=MemoryUserRepository(),
        requests=requests,
        queries=MemoryRegistrationQueries(seats),
        commands=MemoryCommandQueue(),
        lanes=MemoryLanes(seats),
        holds=MemoryWaitHolds(),
        seats=seats,
        open_offers=seats,
        dead_letters=MemoryDeadLetters(),
        subscriptions=MemorySubscriptionRepository(),
        deliveries=MemoryDeliveryRepository(),
        delivery_queue=MemoryDeliveryQueue(),
        parked_changes=MemoryParkedChanges(),
        resolver=resolver or StaticResolver(),
        sender=sender or HttpSender(),
        directory=MemoryGroupDirectory(),
        imports=MemoryImports(),
        payloads=MemoryPayloads(),
        import_queue=MemoryImportQueue(),
        feed=MemoryFeed(),
    )
    return _wire(
        config, adapters, clock or SystemClock(), ids or UuidGenerator(), randomness or SystemRandomness()
    )


def caller_of(request: Any) -> Caller:
    """Who makes this HTTP request (anonymous without an Authorization header)."""
    return services().auth.caller(request.headers.get("authorization"))


_current: Services | None = None


def services() -> Services:
    global _current
    if _current is None:
        _current = build(settings())
    return _current


def reset() -> None:
    """Forget the settings, the cached boto3 clients and the services, to build them again from
    the environment as it is now (a process that restarts its emulators: the benchmarks)."""
    settings.cache_clear()
    client.cache_clear()
    use(None)


def use(replacement: Services | None) -> None:
    """Swap the services (tests); None rebuilds the AWS-backed ones on next use."""
    global _current
    _current = replacement

"""The composition root: the one place that wires services to their adapters.

`container()` builds the AWS-backed services once per process. Tests call `use(...)` to
substitute a container built on in-memory fakes.
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.adapters.aws import client
from chalicelib.adapters.dynamodb import DynamoEventRepository, DynamoUserRepository
from chalicelib.adapters.registrations import DynamoRegistrationQueries
from chalicelib.adapters.requests import DynamoRequestRepository
from chalicelib.adapters.seats import ConcurrentChange, DynamoSeatStore
from chalicelib.adapters.sqs import SqsCommandQueue, SqsDeadLetters
from chalicelib.config import Settings, settings
from chalicelib.services.decisions import DecisionService
from chalicelib.services.events import EventService
from chalicelib.services.registrations import RegistrationService, RequestSubmitter
from chalicelib.services.users import UserService
from chalicelib.system import SystemClock, UuidGenerator


@dataclass
class Container:
    settings: Settings
    events: EventService
    users: UserService
    registrations: RegistrationService


_current: Container | None = None


def build_aws(config: Settings) -> Container:
    dynamodb, table = client("dynamodb"), config.table_name
    clock, ids = SystemClock(), UuidGenerator()
    events, users = DynamoEventRepository(dynamodb, table), DynamoUserRepository(dynamodb, table)
    requests = DynamoRequestRepository(dynamodb, table)
    submitter = RequestSubmitter(
        requests, SqsCommandQueue(client("sqs"), config.registrations_queue_url), clock, ids
    )
    return Container(
        settings=config,
        events=EventService(events, clock, ids, submitter),
        users=UserService(users, clock, ids),
        registrations=RegistrationService(
            events, users, requests, DynamoRegistrationQueries(dynamodb, table), submitter
        ),
    )


def container() -> Container:
    global _current
    if _current is None:
        _current = build_aws(settings())
    return _current


def use(replacement: Container | None) -> None:
    """Swap the container (tests); None resets to the AWS-backed one on next use."""
    global _current
    _current = replacement


@dataclass
class WorkerContainer:
    settings: Settings
    decisions: DecisionService
    dead_letters: SqsDeadLetters


_worker: WorkerContainer | None = None


def build_worker(config: Settings) -> WorkerContainer:
    store = DynamoSeatStore(client("dynamodb"), config.table_name)
    return WorkerContainer(
        settings=config,
        decisions=DecisionService(store, SystemClock(), ConcurrentChange),
        dead_letters=SqsDeadLetters(client("sqs"), config.registrations_dlq_url),
    )


def worker_container() -> WorkerContainer:
    global _worker
    if _worker is None:
        _worker = build_worker(settings())
    return _worker


def use_worker(replacement: WorkerContainer | None) -> None:
    global _worker
    _worker = replacement

"""The composition root: the one place that wires services to their adapters.

`container()` builds the AWS-backed services once per process. Tests call `use(...)` to
substitute a container built on in-memory fakes.
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.adapters.aws import client
from chalicelib.adapters.dynamodb import DynamoEventRepository, DynamoUserRepository
from chalicelib.config import Settings, settings
from chalicelib.services.events import EventService
from chalicelib.services.users import UserService
from chalicelib.system import SystemClock, UuidGenerator


@dataclass
class Container:
    settings: Settings
    events: EventService
    users: UserService


_current: Container | None = None


def build_aws(config: Settings) -> Container:
    dynamodb = client("dynamodb")
    clock, ids = SystemClock(), UuidGenerator()
    return Container(
        settings=config,
        events=EventService(DynamoEventRepository(dynamodb, config.table_name), clock, ids),
        users=UserService(DynamoUserRepository(dynamodb, config.table_name), clock, ids),
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

"""The imports' composition root, built lazily once per process; tests swap it with `use()`."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib.config import Settings, settings
from chalicelib.imports.service import ImportLimits, ImportProcessor, ImportService
from chalicelib.system import SystemClock, UuidGenerator


@dataclass
class ImportsContainer:
    settings: Settings
    service: ImportService
    processor: ImportProcessor


def limits_from_environment() -> ImportLimits:
    defaults = ImportLimits()
    return ImportLimits(
        max_in_flight=int(os.environ.get("TURNSTILE_IMPORT_MAX_IN_FLIGHT", defaults.max_in_flight)),
        slice_seconds=float(os.environ.get("TURNSTILE_IMPORT_SLICE_SECONDS", defaults.slice_seconds)),
        stall_seconds=float(os.environ.get("TURNSTILE_IMPORT_STALL_SECONDS", defaults.stall_seconds)),
    )


def build_aws(config: Settings, clients: Callable[[str], Any] | None = None) -> ImportsContainer:
    from chalicelib.adapters.aws import client as cached_client
    from chalicelib.imports import adapters

    make = clients or cached_client
    dynamodb, sqs, s3, table = make("dynamodb"), make("sqs"), make("s3"), config.table_name
    clock = SystemClock()
    imports = adapters.DynamoImportRepository(dynamodb, table)
    payloads = adapters.S3PayloadStore(s3, config.imports_bucket)
    queue = adapters.SqsImportQueue(sqs, config.imports_queue_url)
    return ImportsContainer(
        settings=config,
        service=ImportService(
            imports, payloads, queue, adapters.DynamoEventLookup(dynamodb, table), clock, UuidGenerator()
        ),
        processor=ImportProcessor(
            imports,
            payloads,
            queue,
            adapters.SqsRegistrationFeed(sqs, config.registrations_queue_url),
            adapters.DynamoUserDirectory(dynamodb, table),
            adapters.DynamoRequestLookup(dynamodb, table),
            clock,
            limits_from_environment(),
        ),
    )


_current: ImportsContainer | None = None


def imports() -> ImportsContainer:
    global _current
    if _current is None:
        _current = build_aws(settings())
    return _current


def use(replacement: ImportsContainer | None) -> None:
    """Swap the container (tests); None rebuilds the AWS-backed one on next use."""
    global _current
    _current = replacement
